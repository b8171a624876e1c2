"""Recorded interactions: a committed cassette replays with no gateway and no network.

The cassette was recorded through ``cfaig.testing.vcr_config()`` (credentials stripped, account id
replaced), exactly as a user records one against the real gateway. Regenerate it with
``CFAIG_RECORD=1 python -m pytest tests/core/test_cassettes.py`` (it then records from the in-process
emulator behind the real gateway URL).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.testing import GatewayEmulator, vcr_config

CASSETTE = Path(__file__).parent / "cassettes" / "gateway_chat.yaml"
ACCOUNT = "4f0e9c1d2b3a45968778695a4b3c2d1e"  # real-looking, 32 hex: it must not reach the cassette
TOKEN = "cfaig-cassette-token-XYZ987"
RECORDING = bool(os.environ.get("CFAIG_RECORD"))


@pytest.fixture
def transport_kwargs() -> Iterator[dict[str, Any]]:
    """Recording: the emulator answers behind the real URL. Replaying: nothing at all answers."""
    if RECORDING:
        emulator = GatewayEmulator(account_id=ACCOUNT)
        yield {"transport": emulator.transport()}
    else:
        yield {}


def _request(text: str) -> dict[str, Any]:
    return {"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": text}]}


def test_replay_chat_stream_and_embeddings(transport_kwargs: dict[str, Any]) -> None:
    recorder = vcr.VCR(**vcr_config())
    with (
        recorder.use_cassette(str(CASSETTE)),
        GatewayClient(account_id=ACCOUNT, cf_aig_token=TOKEN, **transport_kwargs) as client,
    ):
        completion = client.chat(_request("Hello from a cassette"), options={"cache_ttl": 60})  # type: ignore[arg-type]
        with client.stream_chat(_request("Stream from a cassette")) as stream:  # type: ignore[arg-type]
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        vectors = client.embed({"model": "workers-ai/@cf/baai/bge-small-en-v1.5", "input": ["a", "b"]}).vectors
    assert completion.text.endswith("You said: Hello from a cassette")
    assert completion.gateway.log_id
    assert completion.gateway.cache_status == "MISS"
    assert text.endswith("You said: Stream from a cassette")
    assert len(vectors) == 2
    assert len(vectors[0]) == 384


def test_replay_async(transport_kwargs: dict[str, Any]) -> None:
    async def run() -> str:
        recorder = vcr.VCR(**vcr_config())
        with recorder.use_cassette(str(CASSETTE).replace(".yaml", "_async.yaml")):
            async with AsyncGatewayClient(account_id=ACCOUNT, cf_aig_token=TOKEN, **transport_kwargs) as client:
                return (await client.chat(_request("Async hello"))).text  # type: ignore[arg-type]

    assert asyncio.run(run()).endswith("You said: Async hello")


def test_cassettes_hold_no_secrets() -> None:
    for path in CASSETTE.parent.glob("*.yaml"):
        text = path.read_text()
        assert ACCOUNT not in text
        assert TOKEN not in text
        assert "ACCOUNT_ID" in text


def test_every_credential_header_the_core_knows_is_filtered() -> None:
    from cfaig._redact import SENSITIVE_HEADERS

    filtered = {name for name, _ in vcr_config()["filter_headers"]}
    assert filtered == set(SENSITIVE_HEADERS)
    assert "proxy-authorization" in filtered
