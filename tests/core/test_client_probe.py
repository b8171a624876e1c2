"""The two public helpers cfaig doctor is built on: describe_chat (no I/O) and probe (one free request)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import httpx
import pytest

from cfaig import AsyncGatewayClient, GatewayClient, GatewayMeta, RequestPreview
from cfaig.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    GatewayConnectionError,
    ServerError,
)
from cfaig.testing import EMULATOR_ACCOUNT_ID, Fault, GatewayEmulator, GatewaySettings, serve
from tests.core.conftest import Driver, user

TOKEN = "probe-secret-token-1234"


def _closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize("cls", [GatewayClient, AsyncGatewayClient])
def test_describe_chat_masks_credentials_and_sends_nothing(cls: type[GatewayClient | AsyncGatewayClient]) -> None:
    emu = GatewayEmulator()
    client = cls(account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, cf_aig_token=TOKEN, api_key="sk-provider-123")
    preview = client.describe_chat({"model": "openai/gpt-5-mini", "messages": user()}, options={"cache_ttl": 60})
    assert isinstance(preview, RequestPreview)
    assert preview.method == "POST"
    assert preview.url == f"{emu.base_url}/{EMULATOR_ACCOUNT_ID}/default/compat/chat/completions"
    assert preview.headers["cf-aig-authorization"] == "**********"
    assert preview.headers["Authorization"] == "**********"
    assert preview.headers["cf-aig-cache-ttl"] == "60"
    assert TOKEN not in repr(preview) and "sk-provider-123" not in repr(preview)
    assert emu.requests == []
    with pytest.raises(ConfigurationError):
        client.describe_chat({"model": "nonsense", "messages": user()})


def test_probe_sends_one_empty_body_and_returns_the_refusal(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver()
    answer = driver.call("probe", "openai/gpt-5-mini")
    assert isinstance(answer, BadRequestError)
    assert answer.status_code == 400
    [request] = driver.emu.requests
    assert request.body == b"{}"


def test_probe_reports_an_authenticated_gateway(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(cf_aig_token=None)
    driver.emu.gateways["default"] = GatewaySettings(authentication=True)
    answer = driver.call("probe", "openai/gpt-5-mini")
    assert isinstance(answer, AuthenticationError)
    assert answer.code == 2009


def test_probe_never_retries(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver()
    driver.emu.inject(Fault(status=503))
    answer = driver.call("probe", "openai/gpt-5-mini")
    assert isinstance(answer, ServerError)
    assert answer.status_code == 503
    assert len(driver.emu.requests) == 1


def test_probe_raises_when_nothing_answers() -> None:
    url = _closed_port_url()
    with GatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=url) as client, pytest.raises(GatewayConnectionError):
        client.probe("openai/gpt-5-mini")

    async def run() -> None:
        async with AsyncGatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=url) as client:
            assert client.backend == "aiohttp"
            with pytest.raises(GatewayConnectionError):
                await client.probe("openai/gpt-5-mini")

    asyncio.run(run())


def test_probe_on_aiohttp_against_a_loopback_gateway() -> None:
    emulator = GatewayEmulator(gateways={"default": GatewaySettings(authentication=True)})

    async def run() -> object:
        async with AsyncGatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=server.base_url) as client:
            return await client.probe("openai/gpt-5-mini")

    with serve(emulator) as server:
        answer = asyncio.run(run())
    assert isinstance(answer, AuthenticationError)
    assert answer.code == 2009


def test_probe_accepted_returns_the_metadata() -> None:
    def accept(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={}, headers={"cf-aig-log-id": "LOG1"})

    with GatewayClient(account_id=EMULATOR_ACCOUNT_ID, transport=httpx.MockTransport(accept)) as client:
        answer = client.probe("openai/gpt-5-mini")
    assert isinstance(answer, GatewayMeta)
    assert (answer.status_code, answer.log_id) == (200, "LOG1")
