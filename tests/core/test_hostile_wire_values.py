"""Issue 12, defect 6: hostile bytes on the wire and bad input never escape as raw exceptions.

Corrupt ``Content-Encoding`` bodies, a ``cf-aig-step`` header no ``int()`` can read, JSON nested past the
parser's limit: each is a typed cfaig error (or is ignored, for a header that only adds metadata). Inputs
the transport could not use (``timeout=inf``, control characters or a bad port in ``base_url``, option
values with surrounding spaces, a log id with a trailing newline) are a ``ConfigurationError`` before any
request, instead of a raw ``OverflowError``/``InvalidURL`` or a "connection failed" that is retried.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cfaig import AsyncGatewayClient, GatewayClient, GatewayConfig
from cfaig.errors import (
    ConfigurationError,
    GatewayConnectionError,
    MalformedResponseError,
    ServerError,
)
from tests.core._raw_server import ACCOUNT, CHAT_OK, RawServer, chunk_event, http, sse
from tests.faults._harness import LAYERS, MODES, CallSettings, Layer, Mode, run_call

pytestmark = pytest.mark.usefixtures("fresh_shared_clients")

OK = CHAT_OK
STREAM = chunk_event("hel") + chunk_event("lo") + b"data: [DONE]\n\n"
EMBEDDINGS = json.dumps({"object": "list", "data": [{"index": 0, "embedding": [0.5, 0.25]}]}).encode()
REQUEST: Any = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
NO_RETRY = CallSettings(max_retries=0, timeout=5)


def _corrupt(data: bytes, encoding: str) -> bytes:
    packed = bytearray(gzip.compress(data) if encoding == "gzip" else zlib.compress(data))
    packed[12:20] = b"\xff" * 8
    return bytes(packed)


# --- corrupt gzip / deflate -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layer", LAYERS)
def test_a_corrupt_compressed_body_is_a_connection_error(layer: Layer, mode: Mode, encoding: str) -> None:
    extra = f"content-encoding: {encoding}\r\n"
    if mode in ("stream", "astream"):
        reply = sse(_corrupt(STREAM * 20, encoding), extra=extra)
    else:
        reply = http(_corrupt(OK, encoding), extra=extra)
    with RawServer(reply) as server:
        result = run_call(layer, mode, server.base_url, NO_RETRY)
    assert isinstance(result.error, GatewayConnectionError), repr(result.error)
    assert "decod" in str(result.error)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_corrupt_compressed_body_on_a_users_async_httpx_client(encoding: str) -> None:
    reply = http(_corrupt(OK, encoding), extra=f"content-encoding: {encoding}\r\n")

    async def run() -> None:
        async with httpx.AsyncClient() as http_client:
            client = AsyncGatewayClient(
                account_id=ACCOUNT, base_url=server.base_url, max_retries=0, http_client=http_client
            )
            with pytest.raises(GatewayConnectionError, match="decod"):
                await client.chat(REQUEST)
            with pytest.raises(GatewayConnectionError, match="decod"):
                async for _ in await client.stream_chat(REQUEST):
                    pass

    with RawServer(reply) as server:
        asyncio.run(run())


def _embed_sync(base_url: str) -> object:
    with GatewayClient(account_id=ACCOUNT, base_url=base_url, max_retries=0) as client:
        return client.embed({"model": "openai/text-embedding-3-small", "input": "a"})


def _embed_async(base_url: str) -> object:
    async def run() -> object:
        async with AsyncGatewayClient(account_id=ACCOUNT, base_url=base_url, max_retries=0) as client:
            return await client.embed({"model": "openai/text-embedding-3-small", "input": "a"})

    return asyncio.run(run())


def _embed_langchain(base_url: str) -> object:
    from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings

    return CloudflareAIGatewayEmbeddings(
        model="openai/text-embedding-3-small", account_id=ACCOUNT, base_url=base_url, max_retries=0
    ).embed_documents(["a"])


def _embed_llamaindex(base_url: str) -> object:
    from llamaindex_cfaig import CloudflareAIGatewayEmbedding

    return CloudflareAIGatewayEmbedding(
        model_name="openai/text-embedding-3-small", account_id=ACCOUNT, base_url=base_url, max_retries=0
    ).get_text_embedding_batch(["a"])


EMBED_CALLS: dict[str, Callable[[str], object]] = {
    "core-sync": _embed_sync,
    "core-async": _embed_async,
    "langchain-sync": _embed_langchain,
    "llamaindex-sync": _embed_llamaindex,
}


@pytest.mark.parametrize("call", EMBED_CALLS)
def test_a_corrupt_compressed_embeddings_body_is_a_connection_error(call: str) -> None:
    reply = http(_corrupt(EMBEDDINGS, "gzip"), extra="content-encoding: gzip\r\n")
    with RawServer(reply) as server, pytest.raises(GatewayConnectionError, match="decod"):
        EMBED_CALLS[call](server.base_url)


# --- a hostile cf-aig-step header -------------------------------------------------------------------

_STEPS: dict[str, bytes] = {
    "superscript two (latin-1)": b"\xb2",
    "superscript two (utf-8)": "\u00b2".encode(),
    "arabic-indic digit": "\u0663".encode(),
    "5000 digits": b"1" * 5000,
}


def _with_step(reply: bytes, step: bytes) -> bytes:
    head, _, body = reply.partition(b"\r\n\r\n")
    return head + b"\r\ncf-aig-step: " + step + b"\r\n\r\n" + body


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("step", _STEPS)
def test_a_hostile_step_header_on_a_success_is_ignored(step: str, mode: Mode) -> None:
    reply = sse(STREAM) if mode in ("stream", "astream") else http(OK)
    with RawServer(_with_step(reply, _STEPS[step])) as server:
        result = run_call("core", mode, server.base_url, NO_RETRY)
    assert result.error is None, repr(result.error)
    assert result.text == "hello"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("step", _STEPS)
def test_a_hostile_step_header_on_an_error_is_ignored(step: str, mode: Mode) -> None:
    body = json.dumps({"error": {"message": "boom", "code": "\u00b2"}}).encode()
    with RawServer(_with_step(http(body, "500 Internal Server Error"), _STEPS[step])) as server:
        result = run_call("core", mode, server.base_url, NO_RETRY)
    assert isinstance(result.error, ServerError), repr(result.error)
    assert result.error.step is None


def test_a_hostile_step_header_through_langchain() -> None:
    with RawServer(_with_step(http(OK), _STEPS["5000 digits"])) as server:
        result = run_call("langchain", "sync", server.base_url, NO_RETRY)
    assert result.error is None, repr(result.error)


# --- JSON nested past the parser's limit ------------------------------------------------------------

_DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize(
    "event",
    [b"event: error\ndata: " + _DEEP + b"\n\n", b'data: {"error": ' + _DEEP + b"}\n\n"],
    ids=["error event", "error data object"],
)
def test_a_deeply_nested_stream_error_event_is_malformed(mode: Mode, event: bytes) -> None:
    with RawServer(sse(chunk_event("hi") + event + b"data: [DONE]\n\n")) as server:
        result = run_call("core", mode, server.base_url, NO_RETRY)
    assert isinstance(result.error, MalformedResponseError), repr(result.error)


@pytest.mark.parametrize("call", ["core-sync", "core-async"])
def test_a_deeply_nested_embeddings_body_is_malformed(call: str) -> None:
    with RawServer(http(_DEEP)) as server, pytest.raises(MalformedResponseError):
        EMBED_CALLS[call](server.base_url)


# --- values the transport cannot use: refused before any request -----------------------------------


def _constructors() -> dict[str, Callable[..., object]]:
    from langchain_cfaig import ChatCloudflareAIGateway
    from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings
    from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

    return {
        "config": GatewayConfig,
        "core": GatewayClient,
        "core-async": AsyncGatewayClient,
        "langchain-chat": lambda **f: ChatCloudflareAIGateway(model="openai/gpt-4o-mini", **f),
        "langchain-embeddings": lambda **f: CloudflareAIGatewayEmbeddings(model="openai/text-embedding-3-small", **f),
        "llamaindex-llm": lambda **f: CloudflareAIGatewayLLM(model="openai/gpt-4o-mini", **f),
        "llamaindex-embedding": lambda **f: CloudflareAIGatewayEmbedding(
            model_name="openai/text-embedding-3-small", **f
        ),
    }


KINDS = list(_constructors())
BAD_FIELDS: dict[str, dict[str, Any]] = {
    "timeout=inf": {"timeout": float("inf")},
    "timeout=nan": {"timeout": float("nan")},
    "timeout=1e12": {"timeout": 1e12},
    "base_url with CRLF": {"base_url": "http://127.0.0.1:8787/v1\r\nX-Injected: 1"},
    "base_url with LF": {"base_url": "http://127.0.0.1:8787/v\n1"},
    "base_url with TAB": {"base_url": "http://127.0.0.1:8787/v\t1"},
    "base_url with a space": {"base_url": "http://127.0.0.1:8787/v 1"},
    "base_url with DEL": {"base_url": "http://127.0.0.1:8787/v\x7f1"},
    "base_url host with CR": {"base_url": "http://127.0.0\r.1:8787/v1"},
    "api_base_url with CRLF": {"api_base_url": "https://api.cloudflare.com/client/v4\r\nX: 1"},
    "port 99999": {"base_url": "http://127.0.0.1:99999/v1"},
    "port 0": {"base_url": "http://127.0.0.1:0/v1"},
    "port not a number": {"base_url": "http://127.0.0.1:80a/v1"},
    "gateway_url port 99999": {"gateway_url": "https://ai.example.com:99999"},
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", BAD_FIELDS)
def test_unusable_settings_are_refused_at_construction(bad: str, kind: str) -> None:
    with pytest.raises(ConfigurationError):
        _constructors()[kind](account_id=ACCOUNT, **BAD_FIELDS[bad])


def test_a_trailing_newline_around_base_url_is_still_trimmed() -> None:
    config = GatewayConfig(account_id=ACCOUNT, base_url="  http://127.0.0.1:8787/v1/\n")
    assert config.base_url == "http://127.0.0.1:8787/v1"


@pytest.mark.parametrize(
    "options",
    [
        {"cache_key": " "},
        {"cache_key": "key "},
        {"cache_key": " key"},
        {"event_id": " x"},
        {"event_id": "x\t"},
        {"byok_alias": "alias "},
    ],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_option_values_with_surrounding_spaces_are_refused_before_any_request(
    options: dict[str, str], mode: str
) -> None:
    with RawServer(http(OK)) as server:
        if mode == "sync":
            with (
                GatewayClient(account_id=ACCOUNT, base_url=server.base_url) as client,
                pytest.raises(ConfigurationError),
            ):
                client.chat(REQUEST, options=options)
        else:

            async def run() -> None:
                async with AsyncGatewayClient(account_id=ACCOUNT, base_url=server.base_url) as client:
                    with pytest.raises(ConfigurationError):
                        await client.chat(REQUEST, options=options)

            asyncio.run(run())
        assert server.requests == []
    with pytest.raises(ConfigurationError):
        GatewayClient(account_id=ACCOUNT, options=options)


@pytest.mark.parametrize("log_id", ["abc\n", "abc\r\n", "\nabc", "a\nb", "abc "])
def test_a_log_id_with_control_characters_is_refused(log_id: str) -> None:
    with RawServer(http(b"{}")) as server:
        client = GatewayClient(account_id=ACCOUNT, api_base_url=server.base_url, cf_aig_token="tok-123456")
        with pytest.raises(ConfigurationError, match="log_id"):
            client.feedback(log_id, feedback=1)

        async def run() -> None:
            async with AsyncGatewayClient(
                account_id=ACCOUNT, api_base_url=server.base_url, cf_aig_token="tok-123456"
            ) as aclient:
                with pytest.raises(ConfigurationError, match="log_id"):
                    await aclient.feedback(log_id, feedback=1)

        asyncio.run(run())
        assert server.requests == []


@pytest.mark.parametrize("field", ["account_id", "gateway_id"])
def test_ids_match_whole_strings(field: str) -> None:
    assert getattr(GatewayConfig(**{"account_id": ACCOUNT, field: "abc\n"}), field) == "abc"  # trimmed
    with pytest.raises(ConfigurationError):
        GatewayConfig(**{"account_id": ACCOUNT, field: "ab\ncd"})
