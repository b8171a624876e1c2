"""A 3xx to another origin: never followed, never a success, and the credentials never leave.

The gateway answers ``30x`` with a ``Location`` on another loopback port and, as a trap, a body that is a
valid chat completion. Each client set-up (the library's pools, and a user's ``httpx`` client with
``follow_redirects=True`` given as ``http_client``) must raise :class:`UnexpectedRedirectError` naming the
status and the location, after one request, with nothing sent to the other origin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.errors import UnexpectedRedirectError
from tests.faults.wire._calls import fields, request
from tests.faults.wire._server import Conn, WireServer, answer_for, completion, head

TOKEN = "cfaig-redirect-token-0123456789"
KEY = "sk-redirect-key-0123456789"
STATUSES = ("301 Moved Permanently", "302 Found", "307 Temporary Redirect", "308 Permanent Redirect")


def _answer(conn: Conn) -> None:
    while (req := conn.read_request()) is not None:
        h, body = answer_for(req, "from the other origin")
        conn.send(h + body)


@pytest.fixture
def other() -> Iterator[WireServer]:
    with WireServer(_answer) as server:
        yield server


def _redirecting(status: str, location: str) -> Callable[[Conn], None]:
    def behaviour(conn: Conn) -> None:
        while conn.read_request() is not None:
            body = completion("served by the redirect")
            conn.send(head(status, length=len(body), extra=f"location: {location}\r\n") + body)

    return behaviour


def _core_sync(base_url: str, client: httpx.Client | None, stream: bool) -> str:
    with GatewayClient(**fields(base_url, cf_aig_token=TOKEN, api_key=KEY), http_client=client) as gateway:
        if stream:
            with gateway.stream_chat(request("hi")) as chunks:  # type: ignore[arg-type]
                return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        return gateway.chat(request("hi")).text  # type: ignore[arg-type]


async def _core_async(base_url: str, client: httpx.AsyncClient | None, stream: bool) -> str:
    async with AsyncGatewayClient(**fields(base_url, cf_aig_token=TOKEN, api_key=KEY), http_client=client) as gateway:
        if stream:
            parts: list[str] = []
            async with await gateway.stream_chat(request("hi")) as chunks:  # type: ignore[arg-type]
                async for c in chunks:
                    parts.extend(choice.delta.content or "" for choice in c.choices)
            return "".join(parts)
        return (await gateway.chat(request("hi"))).text  # type: ignore[arg-type]


def _framework(layer: str, base_url: str, client: httpx.Client | None) -> str:
    gateway = GatewayClient(**fields(base_url, cf_aig_token=TOKEN, api_key=KEY), http_client=client)
    try:
        if layer == "langchain":
            from langchain_cfaig import ChatCloudflareAIGateway

            return str(ChatCloudflareAIGateway(model="openai/gpt-4o-mini", gateway_client=gateway).invoke("hi").content)
        from llama_index.core.llms import ChatMessage

        from llamaindex_cfaig import CloudflareAIGatewayLLM

        llm = CloudflareAIGatewayLLM(model="openai/gpt-4o-mini", gateway_client=gateway)
        return str(llm.chat([ChatMessage(role="user", content="hi")]).message.content)
    finally:
        gateway.close()


def _run(setup: str, base_url: str) -> str:
    """One call in ``setup``: ``<layer>-<mode>-<pool>``, pool ``ours`` or ``following`` (the user's client)."""
    layer, mode, pool = setup.split("-")
    if mode in ("sync", "stream"):
        client = httpx.Client(follow_redirects=True) if pool == "following" else None
        try:
            if layer == "core":
                return _core_sync(base_url, client, mode == "stream")
            return _framework(layer, base_url, client)
        finally:
            if client is not None:
                client.close()

    async def main() -> str:
        aclient = httpx.AsyncClient(follow_redirects=True) if pool == "following" else None
        try:
            return await _core_async(base_url, aclient, mode == "astream")
        finally:
            if aclient is not None:
                await aclient.aclose()

    return asyncio.run(main())


SETUPS = [
    *(f"core-{mode}-{pool}" for mode in ("sync", "stream", "async", "astream") for pool in ("ours", "following")),
    *(f"{layer}-sync-{pool}" for layer in ("langchain", "llamaindex") for pool in ("ours", "following")),
]


def _cases() -> list[Any]:
    """Every status with a user's following client (where a credential could leave); 302 with our pools."""
    return [
        pytest.param(status, setup, id=f"{status.split()[0]}-{setup}")
        for setup in SETUPS
        for status in (STATUSES if setup.endswith("following") else STATUSES[1:2])
    ]


@pytest.mark.parametrize(("status", "setup"), _cases())
def test_a_redirect_is_a_typed_error_and_is_never_followed(status: str, setup: str, other: WireServer) -> None:
    location = f"{other.origin}/v1/elsewhere"
    with WireServer(_redirecting(status, location)) as gateway, pytest.raises(UnexpectedRedirectError) as caught:
        _run(setup, gateway.base_url)
    error = caught.value
    code = int(status.split()[0])
    assert error.status_code == code
    assert error.location == location
    assert f"HTTP {code}" in str(error) and location in str(error)
    assert TOKEN not in str(error) and KEY not in str(error)
    assert len(gateway.requests) == 1, "a redirect is not retried"
    assert other.requests == [], "nothing, and so no credential, reached the other origin"
