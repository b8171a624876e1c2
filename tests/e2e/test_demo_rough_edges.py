"""The demo says what is emulated and what a real gateway needs; unreachable, it stops once, clearly."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from cfaig.testing import EMULATOR_ACCOUNT_ID

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "http://127.0.0.1:9/v1"  # the discard port: nothing listens on loopback


def _demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cfaig_demo_script", ROOT / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the module's annotations through it
    spec.loader.exec_module(module)
    return module


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_AIG_", "CFAIG_"))}
    env.update(extra)
    return env


def test_with_credentials_but_no_network_it_stops_at_once_with_one_message() -> None:
    env = _clean_env(CLOUDFLARE_ACCOUNT_ID=EMULATOR_ACCOUNT_ID, CF_AIG_TOKEN="dummy", CF_AIG_BASE_URL=UNREACHABLE)
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(ROOT / "demo.py")], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert out.count("the gateway cannot be reached") == 1
    assert out.count("Connection refused") == 1
    assert "[1/9]" not in out  # no step ran into the same wall
    assert "cfaig doctor" in out
    assert "Traceback" not in out
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cfaig demo — running against your Cloudflare AI Gateway")
    assert "CF_AIG_PROVIDER_API_KEY" in lines[1]


def test_the_emulator_run_says_what_is_emulated_and_what_a_real_gateway_needs() -> None:
    demo = _demo_module()
    for needed in ("CLOUDFLARE_ACCOUNT_ID", "CF_AIG_TOKEN", "BYOK", "Unified Billing", "CF_AIG_PROVIDER_API_KEY"):
        assert needed in demo.EMULATED
    assert "\n" not in demo.EMULATED  # one line


def test_a_step_that_loses_the_gateway_stops_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    demo = _demo_module()
    monkeypatch.setenv("CF_AIG_BASE_URL", UNREACHABLE)
    setup = demo.Setup(
        where="nowhere",
        note="",
        fields={"account_id": EMULATOR_ACCOUNT_ID, "max_retries": 0},
        model="openai/gpt-5-mini",
        alt_model="anthropic/claude-sonnet-4-5",
        embed_model="workers-ai/@cf/baai/bge-base-en-v1.5",
    )
    run = demo.Demo(setup)
    with pytest.raises(demo.GatewayUnreachableError):
        run.steps_in_order()
    assert run.results == []  # stopped on the first step, not recorded as nine failures


def test_every_step_stands_on_its_own() -> None:
    """Step 2 used to need step 1's prompt (AttributeError '_chain' when step 1 had failed)."""
    demo = _demo_module()
    with demo.gateway() as setup:
        assert demo.Demo(setup).switch_provider() == f"answered by {setup.alt_model}"
