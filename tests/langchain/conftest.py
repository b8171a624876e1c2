"""Fixtures for the LangChain integration tests: the gateway emulator, in-process and on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.testing import EMULATOR_ACCOUNT_ID, GatewayEmulator, GatewaySettings, ScriptedReply, serve

_SERVER: dict[str, Any] = {}


def make_emulator() -> GatewayEmulator:
    return GatewayEmulator(
        account_id=EMULATOR_ACCOUNT_ID,
        gateways={"default": GatewaySettings(authentication=False, cache_ttl=0)},
        tokens=("test-cf-aig-token",),
    )


@pytest.fixture(scope="session")
def gateway_server() -> Iterator[Any]:
    """The emulator served on 127.0.0.1 for the whole session (standard integration suites, e2e)."""
    emulator = make_emulator()
    with serve(emulator) as server:
        _SERVER["server"] = server
        _SERVER["emulator"] = emulator
        yield server
        _SERVER.clear()


def served_emulator() -> GatewayEmulator:
    emulator: GatewayEmulator = _SERVER["emulator"]
    return emulator


@pytest.fixture
def emu() -> GatewayEmulator:
    """A fresh in-process emulator (no socket): pair with :func:`clients`."""
    return make_emulator()


@pytest.fixture
def clients(emu: GatewayEmulator) -> Iterator[dict[str, Any]]:
    """Core clients wired to ``emu``'s transport, as injection kwargs for the LangChain classes."""
    sync = GatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, transport=emu.transport())
    async_ = AsyncGatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, transport=emu.transport())
    yield {"gateway_client": sync, "async_gateway_client": async_}
    sync.close()


def _unicode_customer_replies() -> list[ScriptedReply]:
    return [
        ScriptedReply(
            tool_calls=[{"name": "unicode_customer", "arguments": {"customer_name": name, "description": what}}]
        )
        for name, what in (("你好啊集团", "technology company"), ("こんにちは株式会社", "Japanese company"))
    ]


_JOKE = ScriptedReply(
    content=json.dumps({"setup": "Why did the cat sit on the computer?", "punchline": "To keep an eye on the mouse."})
)

# Replies a real model would give after reading the prompt, recorded here as a cassette would be: the
# emulator synthesises tool arguments and JSON from the request's schema, but cannot read the prompt.
_SCRIPTS: dict[str, Any] = {
    # The model must copy the Chinese / Japanese company names from the prompt into the tool arguments.
    "test_unicode_tool_call_integration": _unicode_customer_replies,
    # JSON mode has no schema in the request: the keys (setup, punchline) are only named in the prompt.
    "test_json_mode": lambda: [ScriptedReply(content=_JOKE.content, times=4)],
}


@pytest.fixture(autouse=True)
def _scripted_replies(request: pytest.FixtureRequest) -> Iterator[None]:
    """Script the loopback emulator's replies for the tests that need a model's judgment."""
    factory = _SCRIPTS.get(getattr(request.node, "originalname", request.node.name))
    if factory is None or not _SERVER:
        yield
        return
    emulator = served_emulator()
    for reply in factory():
        emulator.script(reply)
    yield
    emulator.reset()  # unconsumed replies must not leak into the next test
