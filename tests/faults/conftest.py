"""Fixtures of the fault tests: the emulator on loopback, and clean process-wide client caches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cfaig.testing import EmulatorServer, GatewayEmulator, serve
from tests.faults._harness import RetryRecorder, clear_shared, fast_retries, make_emulator


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorServer, GatewayEmulator]]:
    """One emulator served on 127.0.0.1 per test module."""
    emulator = make_emulator()
    with serve(emulator) as server:
        yield server, emulator


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
