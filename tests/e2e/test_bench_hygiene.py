"""benchmarks/run.py writes the committed results only with --save, and its import targets compare like with like."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
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


@pytest.fixture(scope="module")
def sweeps(bench: ModuleType) -> Iterator[ModuleType]:
    added = sys.modules.setdefault("run", bench) is bench  # sweeps.py imports its sibling as ``run``
    spec = importlib.util.spec_from_file_location("cfaig_bench_sweeps", ROOT / "benchmarks" / "sweeps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    if added:
        del sys.modules["run"]


def test_the_limit_is_bare_plus_floor_and_the_ratio_a_median_of_rounds(bench: ModuleType) -> None:
    rows = {
        name: bench.Row("w", name, "µs", False, cpu_us=values)
        for name, values in {
            "ours": [130.0, 300.0, 150.0],  # the second round hit a burst of outside load: so did the others
            "bare": [60.0, 150.0, 70.0],
            "floor": [40.0, 90.0, 50.0],
        }.items()
    }
    mine, limit, ratio = bench.limit_ratio(rows, "ours", "bare", "floor")
    assert (mine, limit) == (150.0, 70.0 + 50.0)
    assert ratio == pytest.approx(1.25)  # median of 1.3, 1.25, 1.25: the burst does not skew it
    assert bench.limit_ratio(rows, "ours", "bare", None)[2] == pytest.approx(150 / 70)
    assert bench.limit_ratio(rows, "ours", "bare", "missing") is None


def test_every_class_of_ours_has_a_floor_and_a_peer(bench: ModuleType) -> None:
    for path in bench.LIMIT_PATHS:
        for ours in bench.PEER_OF:
            assert bench.FRAMEWORK_OF[ours] in path.floors
    assert set(bench.CHAT_FLOORS.values()) <= set(bench.sync_clients())
    assert set(bench.CHAT_FLOORS.values()) <= set(bench.stream_clients())


def test_sweeps_flag_linear_quadratic_and_load_growth(sweeps: ModuleType) -> None:
    xs = [10, 100, 1000, 10_000]
    linear = sweeps.Sweep("k", "t", "K", "µs", "work", xs, {"a": [50 + 3.0 * x for x in xs]})
    quadratic = sweeps.Sweep("k", "t", "K", "µs", "work", xs, {"a": [50 + 3.0 * x + 0.01 * x * x for x in xs]})
    flat = sweeps.Sweep("c", "t", "C", "µs", "load", [1, 10, 100], {"a": [200.0, 190.0, 210.0]})
    growing = sweeps.Sweep("c", "t", "C", "µs", "load", [1, 10, 100], {"a": [200.0, 300.0, 500.0]})
    assert sweeps.analyse(linear)["a"]["slope"] == pytest.approx(3.0)
    assert sweeps.analyse(linear)["a"]["exponent"] == pytest.approx(1.0, abs=0.01)
    assert sweeps.analyse(linear)["a"]["flag"] == ""
    assert sweeps.analyse(quadratic)["a"]["exponent"] > 1.8
    assert sweeps.analyse(quadratic)["a"]["flag"] == "SUPER-LINEAR"
    assert sweeps.analyse(flat)["a"]["flag"] == ""
    assert sweeps.analyse(growing)["a"]["flag"] == "GROWS WITH LOAD"
    noisy = sweeps.Sweep("k", "t", "K", "µs", "work", [0, 8, 32], {"a": [1000.0, 1010.0, 1100.0]})
    assert sweeps.analyse(noisy)["a"]["exponent"] is None  # growth within the noise: no exponent claimed


def test_sweeps_write_where_a_run_writes(bench: ModuleType) -> None:
    assert bench.parse_arguments(["--sweeps", "--quick"]).sweeps
    assert bench.output_dir(bench.parse_arguments(["--sweeps", "--quick"])) == ROOT / "build" / "bench"
    assert bench.output_dir(bench.parse_arguments(["--sweeps", "--save"])) == ROOT / "benchmarks" / "results"
    with pytest.raises(SystemExit):
        bench.parse_arguments(["--sweeps", "--quick", "--save"])
