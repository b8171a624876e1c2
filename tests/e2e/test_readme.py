"""The README's Python examples run as written against the emulator, with the environment it tells you to set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cfaig.testing import EMULATOR_ACCOUNT_ID, EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)


@pytest.fixture
def server(cfaig_gateway: EmulatorServer) -> EmulatorServer:
    """The plugin's loopback emulator, reset for each script."""
    return cfaig_gateway


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, server: EmulatorServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_AIG_", "CFAIG_"))}
    env.update(
        CLOUDFLARE_ACCOUNT_ID=EMULATOR_ACCOUNT_ID,
        CF_AIG_BASE_URL=server.base_url,
        CF_AIG_API_BASE_URL=server.api_base_url,
        CF_AIG_TOKEN="test-cf-aig-token",
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter running the README's code
        [sys.executable, "-c", BLOCKS[index]],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()
