"""Fixtures of the fault tests: clean process-wide client caches, and recorded fast retries.

The emulator on loopback is the plugin's ``cfaig_gateway`` (reset for every test).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults._harness import RetryRecorder, clear_shared, fast_retries


@pytest.fixture(autouse=True)
def _clean_shared_clients() -> Iterator[None]:
    clear_shared()
    yield
    clear_shared()


@pytest.fixture
def retries() -> Iterator[RetryRecorder]:
    """Millisecond retries whose chosen delays are recorded."""
    with fast_retries() as recorder:
        yield recorder
