"""benchmarks/run.py writes the committed results only with --save, and its import targets compare like with like."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cfaig_bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_run_writes_to_an_untracked_folder_unless_saved(bench: ModuleType) -> None:
    assert bench.output_dir(bench.parse_arguments([])) == ROOT / "build" / "bench"
    assert bench.output_dir(bench.parse_arguments(["--quick", "--only", "import"])) == ROOT / "build" / "bench"
    assert bench.output_dir(bench.parse_arguments(["--save"])) == ROOT / "benchmarks" / "results"
    assert bench.output_dir(bench.parse_arguments(["--out", "/tmp/x"])) == Path("/tmp/x")


@pytest.mark.parametrize("partial", [["--quick"], ["--only", "import"], ["--rounds", "1"], ["--out", "/tmp/x"]])
def test_save_refuses_a_partial_run(bench: ModuleType, partial: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        bench.parse_arguments(["--save", *partial])
    assert info.value.code == 2
    assert "full run" in capsys.readouterr().err


def test_the_import_targets_compare_a_class_with_the_peers_class(bench: ModuleType) -> None:
    for ours, peer in bench.CLASS_IMPORTS.values():
        assert bench.IMPORTS[ours].startswith("from ") and " import " in bench.IMPORTS[ours]
        assert bench.IMPORTS[peer].startswith("from ") and " import " in bench.IMPORTS[peer]
    lazy = [name for name, statement in bench.IMPORTS.items() if statement in ("langchain_cfaig", "llamaindex_cfaig")]
    assert lazy and all("lazy" in name for name in lazy)  # a lazy package import is labelled as one
