"""Print the wire-level fault table as markdown, from a live run against raw loopback servers.

    .venv/bin/python -m tests.faults.wire.table            # from the repository root
    .venv/bin/python -m tests.faults.wire.table --by-mode  # one column per mode when all layers agree

Each cell is ``outcome · attempts`` (attempts counted by the core; the server's count is checked too). A ``✗``
marks a cell that differs from the expectation in ``_faults.py``. The last row forks after a warm-up
(``test_fork.py``): ``own answer`` when parent and child each got their own answer on their own connection.
"""

from __future__ import annotations

import asyncio
import os
import sys

from tests.faults._harness import Layer, clear_shared
from tests.faults.matrix_table import _collapse, table_start
from tests.faults.wire._faults import FAULTS, describe, matches, run_cell


def _fork_cell(layer: Layer, mode: str) -> str:
    from tests.faults.wire._calls import async_asker, close_opened, on_loop, sync_asker
    from tests.faults.wire._server import WireServer
    from tests.faults.wire.test_fork import _HoldChild, _swap_test

    script = _HoldChild()
    with WireServer(script) as server:
        try:
            if mode == "sync":
                ask = sync_asker(layer, server.base_url)
                answers = _swap_test(server, script, ask, ask)
            else:
                achat = async_asker(layer, server.base_url)
                loop = asyncio.new_event_loop()
                try:
                    answers = _swap_test(server, script, on_loop(loop, achat), lambda p: asyncio.run(achat(p)))
                finally:
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.close()
        finally:
            close_opened()
            clear_shared()
        by_prompt = {request.prompt: request.connection for request in server.requests}
    own = answers == ("answer to parent", "answer to child") and by_prompt["child"] != by_prompt["warm-up"]
    return "own answer · new connection" if own else f"✗ {answers}"


def main(argv: list[str] | None = None) -> int:
    by_mode, columns, lines = table_start("Print the wire fault table from a live run.", argv)
    mismatches = 0
    for fault in FAULTS:
        cells = []
        for mode, layer in columns:
            clear_shared()
            expect = fault.expect[mode]
            cell = run_cell(fault, layer, mode)
            ok = matches(fault, expect, cell)
            mismatches += not ok
            cells.append(describe(cell) + ("" if ok else " ✗"))
        lines.append(f"| {fault.name} | " + " | ".join(_collapse(cells) if by_mode else cells) + " |")
    if sys.platform.startswith("linux") and hasattr(os, "fork"):
        cells = [_fork_cell(layer, mode) if mode in ("sync", "async") else "—" for mode, layer in columns]
        mismatches += sum(cell.startswith("✗") for cell in cells)
        lines.append("| fork after warm-up | " + " | ".join(_collapse(cells) if by_mode else cells) + " |")
    print("\n".join(lines))
    print()
    for fault in FAULTS:
        if fault.note:
            print(f"* {fault.name}: {fault.note}")
    print(f"\n{mismatches} cell(s) differ from the expectation.")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
