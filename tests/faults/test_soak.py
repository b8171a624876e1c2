"""A CI-sized soak: 1,000 async requests per layer at concurrency 200, a quarter of them streamed.

The runner is ``benchmarks/soak.py``'s :func:`run_soak` (loaded by path: ``benchmarks`` is not a package).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_FD_SLACK = 10


def _load_soak() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"
    spec = importlib.util.spec_from_file_location("cfaig_benchmarks_soak", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


soak = _load_soak()


@pytest.mark.slow
def test_soak_every_layer_without_failures_or_descriptor_growth() -> None:
    report = soak.run_soak(requests=1_000, concurrency=200, stream_share=0.25, layers=soak.LAYERS, fd_slack=_FD_SLACK)
    print(report.render())
    assert [layer.layer for layer in report.layers] == list(soak.LAYERS)
    for layer in report.layers:
        assert layer.failures == 0, (layer.layer, dict(layer.errors))
        assert layer.streams > 0
    assert report.fds_after - report.fds_before <= _FD_SLACK


def test_soak_rejects_unknown_layers() -> None:
    with pytest.raises(ValueError, match="unknown layers"):
        soak.run_soak(requests=1, layers=["nope"])
