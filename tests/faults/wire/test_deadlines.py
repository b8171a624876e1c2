"""``timeout`` bounds a whole non-streaming request; ``stream_timeout`` optionally bounds a whole stream.

A server that sends its headers at once and then drips the body one byte at a time, each byte well inside the
read timeout, resets a per-read timeout forever. Every non-streaming call (chat, embeddings, Responses, in
every layer, sync and async) must fail with :class:`GatewayTimeoutError` instead, and be retried like any
timeout. The drips below last far longer than the timeout (tens of seconds against 0.3 s): the assertions are
about the outcome, never a measured time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.errors import GatewayTimeoutError
from tests.faults._harness import MODEL, RetryRecorder
from tests.faults.wire._calls import fields, request
from tests.faults.wire._server import Conn, Request, WireServer, chunk_event, completion, head

TIMEOUT = 0.3
DRIP = 0.02
"""Seconds between two bytes: far inside the read timeout."""
PAD = 2000
"""Bytes of JSON whitespace dripped before the answer: ``PAD * DRIP`` = 40 s, more than 100 timeouts."""
EMBED_MODEL = "openai/text-embedding-3-small"

EMBEDDINGS = json.dumps(
    {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}], "model": "m"}
).encode()
RESPONSE = json.dumps(
    {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "model": "gpt-5",
        "output": [
            {"type": "message", "id": "m1", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}
        ],
    }
).encode()


def _body_for(request: Request) -> bytes:
    if request.path.endswith("/embeddings"):
        return EMBEDDINGS
    if request.path.endswith("/responses"):
        return RESPONSE
    return completion()


def _drip_body(conn: Conn) -> None:
    """Headers at once, then the (padded) body one byte every ``DRIP`` seconds."""
    while (req := conn.read_request()) is not None:
        body = b" " * PAD + _body_for(req)
        conn.send(head(length=len(body)))
        if not conn.drip(body, interval=DRIP):
            return


@pytest.fixture
def drip() -> Iterator[WireServer]:
    with WireServer(_drip_body) as server:
        yield server


def _core(method: str, base_url: str) -> Callable[[], Any]:
    settings = fields(base_url, timeout=TIMEOUT, max_retries=1)
    if method == "chat":
        return lambda: _with(GatewayClient(**settings), lambda c: c.chat(request("hi")))  # type: ignore[arg-type]
    if method == "embed":
        return lambda: _with(GatewayClient(**settings), lambda c: c.embed({"model": EMBED_MODEL, "input": ["a"]}))
    return lambda: _with(GatewayClient(**settings), lambda c: c.responses({"model": "openai/gpt-5", "input": "hi"}))


def _with(client: GatewayClient, call: Callable[[GatewayClient], Any]) -> Any:
    with client:
        return call(client)


async def _acore(method: str, base_url: str) -> Any:
    async with AsyncGatewayClient(**fields(base_url, timeout=TIMEOUT, max_retries=1)) as client:
        if method == "chat":
            return await client.chat(request("hi"))  # type: ignore[arg-type]
        if method == "embed":
            return await client.embed({"model": EMBED_MODEL, "input": ["a"]})
        return await client.responses({"model": "openai/gpt-5", "input": "hi"})


def _framework(call: str, base_url: str) -> Any:
    settings = fields(base_url, timeout=TIMEOUT, max_retries=1)
    if call.startswith("langchain-embed"):
        from langchain_cfaig import CloudflareAIGatewayEmbeddings

        embeddings = CloudflareAIGatewayEmbeddings(model=EMBED_MODEL, **settings)
        if call.endswith("async"):
            return asyncio.run(embeddings.aembed_documents(["a"]))
        return embeddings.embed_documents(["a"])
    if call.startswith("langchain"):
        from langchain_cfaig import ChatCloudflareAIGateway

        chat = ChatCloudflareAIGateway(model=MODEL, **settings)
        return asyncio.run(chat.ainvoke("hi")) if call.endswith("async") else chat.invoke("hi")
    if call.startswith("llamaindex-embed"):
        from llamaindex_cfaig import CloudflareAIGatewayEmbedding

        embedding = CloudflareAIGatewayEmbedding(model_name=EMBED_MODEL, **settings)
        if call.endswith("async"):
            return asyncio.run(embedding.aget_text_embedding("a"))
        return embedding.get_text_embedding("a")
    from llama_index.core.llms import ChatMessage

    from llamaindex_cfaig import CloudflareAIGatewayLLM

    llm = CloudflareAIGatewayLLM(model=MODEL, **settings)
    if call == "llamaindex-complete":
        return llm.complete("hi")
    if call == "llamaindex-async":
        return asyncio.run(llm.achat([ChatMessage(role="user", content="hi")]))
    return llm.chat([ChatMessage(role="user", content="hi")])


NON_STREAM_CALLS = [
    "core-embed",
    "core-responses",
    "core-embed-async",
    "core-responses-async",
    "langchain-embed-sync",
    "langchain-embed-async",
    "llamaindex-complete",
    "llamaindex-embed-sync",
    "llamaindex-embed-async",
]


def _call(name: str, base_url: str) -> Any:
    if name.startswith("core"):
        method = name.split("-")[1]
        if name.endswith("async"):
            return asyncio.run(_acore(method, base_url))
        return _core(method, base_url)()
    return _framework(name, base_url)


# chat in every layer and mode is the "slow drip" row of the wire fault table (test_wire_faults.py)
@pytest.mark.parametrize("call", NON_STREAM_CALLS)
def test_a_dripped_answer_fails_with_the_timeout_error(call: str, drip: WireServer, retries: RetryRecorder) -> None:
    """A timeout is retried like any other; each attempt fails on its own deadline."""
    with pytest.raises(GatewayTimeoutError):
        _call(call, drip.base_url)
    assert len(drip.requests) == 2, "timeout=0.3 each attempt, max_retries=1"


# --- streams: between bytes by default, a total when stream_timeout is set -------------------------


def _drip_stream(events: int) -> Callable[[Conn], None]:
    def behaviour(conn: Conn) -> None:
        if conn.read_request() is None:
            return
        body = b"".join(chunk_event("x") for _ in range(events)) + chunk_event("", finish="stop") + b"data: [DONE]\n\n"
        conn.send(head(content_type="text/event-stream", length=len(body)))
        conn.drip(body, interval=DRIP, size=40)

    return behaviour


def _stream_text(base_url: str, mode: str, settings: dict[str, Any], per_call: dict[str, Any]) -> str:
    if mode == "stream":
        with GatewayClient(**settings) as client, client.stream_chat(request("hi"), **per_call) as chunks:  # type: ignore[arg-type]
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    async def main() -> str:
        parts: list[str] = []
        async with (
            AsyncGatewayClient(**settings) as client,
            await client.stream_chat(request("hi"), **per_call) as chunks,  # type: ignore[arg-type]
        ):
            async for c in chunks:
                parts.extend(choice.delta.content or "" for choice in c.choices)
        return "".join(parts)

    return asyncio.run(main())


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_a_stream_is_timed_between_bytes_without_stream_timeout(mode: str) -> None:
    """10 events, 40 bytes every 20 ms: about 6 timeouts long in total, every gap far inside one."""
    with WireServer(_drip_stream(10)) as server:
        text = _stream_text(server.base_url, mode, fields(server.base_url, timeout=TIMEOUT), {})
    assert text == "x" * 10


@pytest.mark.parametrize("where", ["config", "call"])
@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_stream_timeout_bounds_a_whole_stream(mode: str, where: str) -> None:
    """2,000 events dripped (minutes long) against stream_timeout=0.5: the timeout error, after one request."""
    settings = fields("http://127.0.0.1:1/v1", timeout=TIMEOUT)
    per_call: dict[str, Any] = {}
    if where == "config":
        settings["stream_timeout"] = 0.5
    else:
        per_call["stream_timeout"] = 0.5
    with WireServer(_drip_stream(2000)) as server:
        settings["base_url"] = server.base_url
        with pytest.raises(GatewayTimeoutError, match="stream_timeout"):
            _stream_text(server.base_url, mode, settings, per_call)
    assert len(server.requests) == 1, "a stream that produced output is never retried"


@pytest.mark.parametrize("layer", ["langchain", "llamaindex"])
@pytest.mark.parametrize("where", ["field", "call"])
def test_stream_timeout_in_the_frameworks(layer: str, where: str) -> None:
    with WireServer(_drip_stream(2000)) as server:
        settings = fields(server.base_url, timeout=TIMEOUT)
        per_call: dict[str, Any] = {"stream_timeout": 0.5}
        if where == "field":
            settings.update(per_call)
            per_call = {}
        with pytest.raises(GatewayTimeoutError, match="stream_timeout"):
            if layer == "langchain":
                from langchain_cfaig import ChatCloudflareAIGateway

                for _ in ChatCloudflareAIGateway(model=MODEL, **settings).stream("hi", **per_call):
                    pass
            else:
                from llama_index.core.llms import ChatMessage

                from llamaindex_cfaig import CloudflareAIGatewayLLM

                llm = CloudflareAIGatewayLLM(model=MODEL, **settings)
                for _ in llm.stream_chat([ChatMessage(role="user", content="hi")], **per_call):
                    pass
    assert len(server.requests) == 1
    assert "stream_timeout" not in server.requests[0].json, "a client setting, never sent to the provider"


def _comments_forever(conn: Conn) -> None:
    """An SSE stream of comment lines only (ignored by every decoder), a few bytes every 20 ms."""
    if conn.read_request() is None:
        return
    conn.send(head(content_type="text/event-stream"))
    conn.drip(b": keep-alive\n" * 4000, interval=DRIP, size=13)


RESPONSES_STREAMS = ["core-sync", "core-async", "langchain", "llamaindex"]


@pytest.mark.parametrize("caller", RESPONSES_STREAMS)
def test_stream_timeout_per_call_on_responses_streams(caller: str) -> None:
    with WireServer(_comments_forever) as server:
        settings = fields(server.base_url, timeout=TIMEOUT)
        body = {"model": "openai/gpt-5", "input": "hi"}
        with pytest.raises(GatewayTimeoutError, match="stream_timeout"):
            if caller == "core-sync":
                with GatewayClient(**settings) as client, client.stream_responses(body, stream_timeout=0.4) as events:
                    list(events)
            elif caller == "core-async":

                async def main() -> None:
                    async with (
                        AsyncGatewayClient(**settings) as client,
                        await client.stream_responses(body, stream_timeout=0.4) as events,
                    ):
                        async for _ in events:
                            pass

                asyncio.run(main())
            elif caller == "langchain":
                from langchain_cfaig import ChatCloudflareAIGateway

                chat = ChatCloudflareAIGateway(model="openai/gpt-5", use_responses_api=True, **settings)
                list(chat.stream("hi", stream_timeout=0.4))
            else:
                from llama_index.core.llms import ChatMessage

                from llamaindex_cfaig import CloudflareAIGatewayResponses

                llm = CloudflareAIGatewayResponses(model="openai/gpt-5", **settings)
                list(llm.stream_chat([ChatMessage(role="user", content="hi")], stream_timeout=0.4))
    assert len(server.requests) == 1
    assert "stream_timeout" not in server.requests[0].json
