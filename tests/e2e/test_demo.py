"""The README's first command runs the demo; this keeps every step of it working (emulator mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_every_step_against_the_emulator() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_AIG_", "CFAIG_"))}
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(ROOT / "demo.py")], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert out.splitlines()[0].startswith("cfaig demo — running against the local gateway emulator")
    assert "10 of 10 steps ran" in out
    for fragment in (
        "tool result: 42",
        "call 1: cache MISS",
        "call 2: cache HIT",
        "served by anthropic/claude-sonnet-4-5 (cf-aig-step 1)",
        "source: caching.md",
        "tool call: get_weather({'city': 'Lisbon'})",
        "answer: [cfaig emulator · openai/gpt-5-mini] Based on the tool result: sunny and 24C in Lisbon",
        "BadRequestError: status 400, gateway code 2001",
    ):
        assert fragment in out, fragment
