"""docs/protocol.md, the conformance table: every test a row names exists (file and function).

Each section's table is ``behaviour | Cloudflare page | code | test``; the test column holds one or more
``tests/...py::test_name`` node ids, separated by commas. A row without one, or naming a test that was
renamed or removed, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "protocol.md"
_NODE_ID = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def _rows() -> list[tuple[str, str]]:
    """``(section, test cell)`` of every table row below a header row."""
    rows: list[tuple[str, str]] = []
    section = ""
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 4 or cells[0] == "behaviour" or set(cells[0]) <= {"-"}:
            continue
        rows.append((section, cells[-1]))
    return rows


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_the_table_has_rows() -> None:
    sections = {section for section, _ in _rows()}
    assert {"Credentials", "Errors"} <= sections


@pytest.mark.parametrize(("section", "cell"), _rows())
def test_every_test_the_table_names_exists(section: str, cell: str) -> None:
    node_ids = _NODE_ID.findall(cell)
    assert node_ids, f"{section}: a row names no test ({cell!r})"
    for file, function in node_ids:
        path = ROOT / file
        assert path.is_file(), f"{section}: {file} does not exist"
        assert function in _functions(path), f"{section}: {file} has no {function}"
