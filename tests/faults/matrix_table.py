"""Print the fault matrix as a markdown table, from an actual run against the loopback emulator.

    .venv/bin/python -m tests.faults.matrix_table            # from the repository root
    .venv/bin/python -m tests.faults.matrix_table --by-mode  # one column per mode when all layers agree

Each cell is ``outcome · attempts`` (attempts as counted by the core; the emulator's count agrees except
for a refused connection, which it never sees). A ``✗`` marks a cell that differs from the expectation
in ``_matrix.py``.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from cfaig.testing import serve
from tests.faults._harness import LAYERS, MODES, Layer, Mode, clear_shared
from tests.faults._matrix import CASES, run_cell


def _matches(expected: type[BaseException] | None, error: BaseException | None) -> bool:
    return error is None if expected is None else type(error) is expected


def _collapse(cells: list[str]) -> list[str]:
    """One cell per mode: the shared outcome, or every layer's when they differ."""
    merged = []
    for start in range(0, len(cells), len(LAYERS)):
        group = cells[start : start + len(LAYERS)]
        if len(set(group)) == 1:
            merged.append(group[0])
        else:
            merged.append("<br>".join(f"{layer}: {cell}" for layer, cell in zip(LAYERS, group, strict=True)))
    return merged


def table_start(description: str, argv: list[str] | None) -> tuple[bool, list[tuple[Mode, Layer]], list[str]]:
    """What a fault table's ``main`` starts with: ``--by-mode``, the (mode, layer) columns, the header lines."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--by-mode", action="store_true", help="merge the layers of a mode when they agree")
    by_mode: bool = parser.parse_args(argv).by_mode
    warnings.simplefilter("ignore", ResourceWarning)
    columns = [(mode, layer) for mode in MODES for layer in LAYERS]
    titles = [f"{mode} (all layers)" for mode in MODES] if by_mode else [f"{m} / {layer}" for m, layer in columns]
    return by_mode, columns, ["| fault | " + " | ".join(titles) + " |", "|" + "---|" * (len(titles) + 1)]


def main(argv: list[str] | None = None) -> int:
    by_mode, columns, lines = table_start("Print the fault matrix from a run.", argv)
    mismatches = 0
    with serve() as server:
        for case in CASES:
            cells = []
            for mode, layer in columns:
                clear_shared()
                expect = case.expect(mode)
                cell = run_cell(case, layer, mode, server)
                ok = _matches(expect.error, cell.call.error) and cell.call.attempts == expect.attempts
                mismatches += not ok
                cells.append(f"{cell.call.outcome} · {cell.call.attempts}{'' if ok else ' ✗'}")
            lines.append(f"| {case.name} | " + " | ".join(_collapse(cells) if by_mode else cells) + " |")
    print("\n".join(lines))
    for case in CASES:
        if case.nonstream is not None:
            print(f"\n* {case.name}: {case.nonstream.note}")
    print(f"\n{mismatches} cell(s) differ from the expectation.")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
