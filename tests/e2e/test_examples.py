"""Every script in examples/ runs against the emulator served on loopback, so none of them rots."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfaig.testing import EMULATOR_ACCOUNT_ID, EmulatorServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def server(cfaig_gateway: EmulatorServer) -> EmulatorServer:
    """The plugin's loopback emulator, reset for each script."""
    return cfaig_gateway


def run_example(name: str, server: EmulatorServer, **env: str) -> str:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("CLOUDFLARE_", "CF_AIG_", "CFAIG_"))
    }
    environment.update(
        CLOUDFLARE_ACCOUNT_ID=EMULATOR_ACCOUNT_ID,
        CF_AIG_BASE_URL=server.base_url,
        CF_AIG_API_BASE_URL=server.api_base_url,
        CF_AIG_TOKEN="test-cf-aig-token",
        CLOUDFLARE_API_TOKEN="test-cf-aig-token",
        **env,
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and example
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=EXAMPLES.parent,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "langchain_chain.py",
            ["openai/gpt-5-mini:", "anthropic/claude-sonnet-4-5:", "runtime switch: [cfaig emulator · anthropic"],
        ),
        ("langchain_agent.py", ["tool call: get_order_status({'order_id': 1042})", "shipped on Monday"]),
        ("structured_output.py", ["langchain: Ticket(", "llamaindex: Ticket("]),
        (
            "fallbacks.py",
            [
                "langchain: served by anthropic/claude-sonnet-4-5 (step 1)",
                "llamaindex: served by anthropic/claude-sonnet-4-5 (step 1)",
            ],
        ),
        ("caching.py", ["call 1: cache MISS", "call 2: cache HIT", "skip_cache: cache", "feedback sent for log"]),
        (
            "workers_ai.py",
            [
                "unified endpoint: [cfaig emulator · workers-ai/",
                "provider endpoint:",
                "embeddings: 2 x 768",
                "REST API:",
            ],
        ),
        ("llamaindex_rag.py", ["source: authentication.md"]),
        ("llamaindex_agent.py", ["tool call: multiply({'a': 6, 'b': 7}) -> 42", "answer:"]),
        (
            "responses.py",
            [
                "core reasoning summary: The user asked",
                'core tool call: get_weather({"city":"Lisbon"})',
                "core answer: [cfaig emulator · openai/gpt-5-mini] Based on the tool result: sunny and 24C in Lisbon",
                "reasoning)",
                "langchain reasoning: The user asked",
                "langchain answer: [cfaig emulator · openai/gpt-5-mini] Based on the tool result: sunny and 24C",
                "llamaindex answer: [cfaig emulator · openai/gpt-5-mini] Based on the tool result: sunny and 24C",
            ],
        ),
    ],
)
def test_example(name: str, expected: list[str], server: EmulatorServer) -> None:
    out = run_example(name, server)
    for fragment in expected:
        assert fragment in out, out


def test_record_then_replay_cassette(server: EmulatorServer, tmp_path: Path) -> None:
    cassette = tmp_path / "chat.yaml"
    recorded = run_example("record_cassette.py", server, CFAIG_RECORD="1", CFAIG_CASSETTE=str(cassette))
    assert "recorded" in recorded
    text = cassette.read_text()
    assert EMULATOR_ACCOUNT_ID not in text
    # replay with the server's address unreachable: the answer comes from the cassette alone
    replayed = run_example("record_cassette.py", server, CFAIG_CASSETTE=str(cassette))
    assert "replayed" in replayed
    assert recorded.splitlines()[0] == replayed.splitlines()[0]
