"""The wire tests' fixtures (the fault tests' own conftest clears the shared clients around each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.wire._calls import close_opened


@pytest.fixture(autouse=True)
def _close_askers() -> Iterator[None]:
    yield
    close_opened()
