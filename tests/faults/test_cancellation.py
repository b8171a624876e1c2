"""Cancelled calls and abandoned streams give their connection back; shared clients are concurrency-safe.

Evidence of a closed connection comes from the served emulator: its count of open connections
(``EmulatorServer._connections``) must settle at the number of connections the client's pool still
keeps, a new request must still work, and no ``ResourceWarning`` ("unclosed ...") may be emitted.

The emulator keeps a half-closed connection until its delayed answer is due (it answers pipelined
requests after a client's FIN), so cancellation tests delay by ``_DELAY`` only: had the client kept the
connection, the answer would arrive and the keep-alive connection would stay open on the server.
"""

from __future__ import annotations

import asyncio
import gc
import time
import warnings
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import pytest

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.testing import EMULATOR_ACCOUNT_ID, EmulatorServer, Fault, GatewayEmulator
from tests.faults._harness import EXPECTED_TEXT, MODEL, PROMPT, close_shared_async

AsyncLayer = Literal["core", "langchain", "llamaindex"]
ASYNC_LAYERS: tuple[AsyncLayer, ...] = ("core", "langchain", "llamaindex")
Call = Literal["ainvoke", "astream"]


_DELAY = 0.6
"""Seconds the emulator waits before answering a request that the test cancels."""


def _request(prompt: str = PROMPT) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}


def _open_connections(server: EmulatorServer) -> int:
    return len(server._connections)


def _pool_size(http: Any) -> int:
    """Connections the client's pool holds: an httpx client's, or the async client's aiohttp session's."""
    if isinstance(http, AsyncGatewayClient):
        if http.backend == "httpx":
            return _pool_size(http.http_client)
        pool: Any = http._pools.current()
        connector: Any = pool.session.connector
        return sum(len(idle) for idle in connector._conns.values()) + len(connector._acquired)
    transport: Any = http._transport
    return len(transport._pool.connections)


def _all_idle(http: Any) -> bool:
    """No pooled connection is still busy with a response nobody reads."""
    if isinstance(http, AsyncGatewayClient):
        if http.backend == "httpx":
            return _all_idle(http.http_client)
        pool: Any = http._pools.current()
        connector: Any = pool.session.connector
        return not connector._acquired
    transport: Any = http._transport
    return all(connection.is_idle() for connection in transport._pool.connections)


async def _settles(server: EmulatorServer, expected: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _open_connections(server) == expected:
            return True
        await asyncio.sleep(0.01)
    return _open_connections(server) == expected


def _settles_sync(server: EmulatorServer, expected: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _open_connections(server) == expected:
            return True
        time.sleep(0.01)
    return _open_connections(server) == expected


def _assert_no_resource_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaked, leaked


@pytest.fixture
def emulator(cfaig_gateway: EmulatorServer) -> GatewayEmulator:
    """The loopback emulator (reset by ``cfaig_gateway``), once no connection is left open on it."""
    assert _settles_sync(cfaig_gateway, 0)
    return cfaig_gateway.emulator


@pytest.fixture
def server(cfaig_gateway: EmulatorServer) -> EmulatorServer:
    return cfaig_gateway


class _AsyncTarget:
    """One async layer, with the pooled httpx client behind it."""

    def __init__(self, layer: AsyncLayer, base_url: str) -> None:
        self.layer = layer
        fields: dict[str, Any] = {
            "model": MODEL,
            "account_id": EMULATOR_ACCOUNT_ID,
            "base_url": base_url,
            "max_retries": 0,
        }
        self.core: AsyncGatewayClient
        if layer == "core":
            self.core = AsyncGatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=base_url, max_retries=0)
        elif layer == "langchain":
            from langchain_cfaig import ChatCloudflareAIGateway

            self.model = ChatCloudflareAIGateway(**fields)
            self.core = self.model.async_client
        else:
            from llamaindex_cfaig import CloudflareAIGatewayLLM

            self.llm = CloudflareAIGatewayLLM(**fields)
            self.core = self.llm.async_client

    @property
    def pool(self) -> int:
        return _pool_size(self.core)

    async def invoke(self, prompt: str = PROMPT) -> str:
        if self.layer == "core":
            return (await self.core.chat(_request(prompt))).text  # type: ignore[arg-type]
        if self.layer == "langchain":
            return str((await self.model.ainvoke(prompt)).content)
        from llama_index.core.llms import ChatMessage

        response = await self.llm.achat([ChatMessage(role="user", content=prompt)])
        return response.message.content or ""

    async def stream(self, prompt: str = PROMPT) -> AsyncGenerator[str, None]:
        if self.layer == "core":
            async with await self.core.stream_chat(_request(prompt)) as stream:  # type: ignore[arg-type]
                async for chunk in stream:
                    yield "".join(choice.delta.content or "" for choice in chunk.choices)
        elif self.layer == "langchain":
            async for message in self.model.astream(prompt):
                yield str(message.content)
        else:
            from llama_index.core.llms import ChatMessage

            async for response in await self.llm.astream_chat([ChatMessage(role="user", content=prompt)]):
                yield response.delta or ""

    async def answer(self, call: Call) -> str:
        """The whole answer, from one ``ainvoke`` or from the chunks of one ``astream``."""
        if call == "ainvoke":
            return await self.invoke()
        return "".join([part async for part in self.stream()])

    async def aclose(self) -> None:
        await self.core.aclose()
        await close_shared_async()


async def _wait_for_requests(emu: GatewayEmulator, count: int) -> None:
    for _ in range(300):
        if len(emu.requests) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the request never reached the emulator")


@pytest.mark.parametrize("layer", ASYNC_LAYERS)
@pytest.mark.parametrize("call", ["ainvoke", "astream"])
async def test_cancelling_a_call_before_its_answer_closes_its_connection(
    call: Call, layer: AsyncLayer, server: EmulatorServer, emulator: GatewayEmulator
) -> None:
    """A delayed ``ainvoke``, or an ``astream`` cancelled before its first chunk."""
    target = _AsyncTarget(layer, server.base_url)
    try:
        emulator.inject(Fault(status=200, delay=_DELAY))
        task = asyncio.create_task(target.answer(call))
        await _wait_for_requests(emulator, 1)
        assert _open_connections(server) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert target.pool == 0, "the cancelled request's connection went back to the pool"
        await asyncio.sleep(_DELAY)
        assert await _settles(server, 0), "the cancelled request's connection stayed open"
        assert EXPECTED_TEXT in await target.answer(call)  # the client still works
    finally:
        await target.aclose()
    assert await _settles(server, 0)
    _assert_no_resource_warnings()


@pytest.mark.parametrize("layer", ASYNC_LAYERS)
async def test_breaking_out_of_an_async_for_releases_the_connection(
    layer: AsyncLayer, server: EmulatorServer, emulator: GatewayEmulator
) -> None:
    target = _AsyncTarget(layer, server.base_url)
    try:
        async for _ in target.stream("a long enough prompt to stream in several chunks " * 20):
            break  # no explicit aclose(): the event loop's async-generator finaliser must close it
        gc.collect()
        await asyncio.sleep(0.05)
        assert _all_idle(target.core), "the abandoned stream still holds its connection"
        assert await _settles(server, target.pool)
        assert EXPECTED_TEXT in await target.invoke()
        assert await _settles(server, target.pool)
    finally:
        await target.aclose()
    assert await _settles(server, 0)
    _assert_no_resource_warnings()


@pytest.mark.parametrize("layer", ["core", "langchain", "llamaindex"])
def test_breaking_out_of_a_sync_stream_releases_the_connection(
    layer: str, server: EmulatorServer, emulator: GatewayEmulator
) -> None:
    prompt = "a long enough prompt to stream in several chunks " * 20
    client = GatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=server.base_url, max_retries=0)
    try:
        if layer == "core":
            with client.stream_chat(_request(prompt)) as stream:  # type: ignore[arg-type]
                for _ in stream:
                    break
        elif layer == "langchain":
            from langchain_cfaig import ChatCloudflareAIGateway

            model = ChatCloudflareAIGateway(model=MODEL, gateway_client=client)
            for _ in model.stream(prompt):
                break
        else:
            from llama_index.core.llms import ChatMessage

            from llamaindex_cfaig import CloudflareAIGatewayLLM

            llm = CloudflareAIGatewayLLM(model=MODEL, gateway_client=client)
            for _ in llm.stream_chat([ChatMessage(role="user", content=prompt)]):
                break
        gc.collect()
        assert _all_idle(client.http_client), "the abandoned stream still holds its connection"
        assert _settles_sync(server, _pool_size(client.http_client))
        assert EXPECTED_TEXT in client.chat(_request()).text  # type: ignore[arg-type]
    finally:
        client.close()
    assert _settles_sync(server, 0)
    _assert_no_resource_warnings()


def test_one_sync_client_shared_by_8_threads(server: EmulatorServer, emulator: GatewayEmulator) -> None:
    with GatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=server.base_url) as client:

        def call(index: int) -> tuple[int, str]:
            prompt = f"thread question {index}"
            if index % 4 == 0:
                with client.stream_chat(_request(prompt)) as stream:  # type: ignore[arg-type]
                    for _ in stream:
                        pass
                    return index, stream.get_final_completion().text
            return index, client.chat(_request(prompt)).text  # type: ignore[arg-type]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(call, range(64)))
    assert len(results) == 64
    for index, text in results:
        assert text.endswith(f"You said: thread question {index}")
    assert len(emulator.requests) == 64
    assert _settles_sync(server, 0)


async def test_one_async_client_shared_by_50_tasks(server: EmulatorServer, emulator: GatewayEmulator) -> None:
    async with AsyncGatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=server.base_url) as client:

        async def call(index: int) -> tuple[int, str]:
            prompt = f"task question {index}"
            if index % 4 == 0:
                async with await client.stream_chat(_request(prompt)) as stream:  # type: ignore[arg-type]
                    async for _ in stream:
                        pass
                    return index, stream.get_final_completion().text
            return index, (await client.chat(_request(prompt))).text  # type: ignore[arg-type]

        results = await asyncio.gather(*(call(index) for index in range(50)))
    for index, text in results:
        assert text.endswith(f"You said: task question {index}")
    assert len(emulator.requests) == 50
    assert await _settles(server, 0)
    _assert_no_resource_warnings()
