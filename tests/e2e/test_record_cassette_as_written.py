"""examples/record_cassette.py runs as written: the first run records, the next replays without a request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cfaig.testing import EmulatorServer, GatewayEmulator, serve
from tests.e2e.test_examples import run_example


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with serve(GatewayEmulator()) as running:
        yield running


def test_the_first_run_records_and_the_second_replays(server: EmulatorServer, tmp_path: Path) -> None:
    cassette = tmp_path / "cassettes" / "chat.yaml"
    recorded = run_example("record_cassette.py", server, CFAIG_CASSETTE=str(cassette))  # no CFAIG_RECORD
    assert "(recorded)" in recorded
    assert cassette.exists()
    sent = len(server.emulator.requests)
    replayed = run_example("record_cassette.py", server, CFAIG_CASSETTE=str(cassette))
    assert "(replayed)" in replayed
    assert len(server.emulator.requests) == sent  # the answer came from the cassette alone
    assert recorded.splitlines()[0] == replayed.splitlines()[0]
