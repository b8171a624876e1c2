"""Wire-level faults x {sync, async, stream, astream} x {core, LangChain, LlamaIndex}: the exact outcome and the
attempt count, against raw loopback servers (the table is in ``_faults.py``; ``python -m
tests.faults.wire.table`` prints it from a live run).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults._harness import LAYERS, MODES, Layer, Mode
from tests.faults.wire._faults import FAULTS, Fault, describe, matches, run_cell


def _cells() -> list[Any]:
    return [
        pytest.param(fault, mode, layer, id=f"{fault.name}-{mode}-{layer}")
        for fault in FAULTS
        for mode in MODES
        for layer in LAYERS
    ]


@pytest.mark.parametrize(("fault", "mode", "layer"), _cells())
def test_wire_fault(fault: Fault, mode: Mode, layer: Layer) -> None:
    expect = fault.expect[mode]
    cell = run_cell(fault, layer, mode)
    wanted = "ok" if expect.error is None else expect.error.__name__
    assert matches(fault, expect, cell), (
        f"expected {wanted} · {expect.attempts}, got {describe(cell)} (server saw {cell.recorded}): {cell.call.error!r}"
    )
