"""``max_response_bytes``: an answer larger than the limit is a typed error, found while reading.

The limit counts decoded bytes, so a small gzip body that inflates past it fails too (a compression bomb), and a
stream counts its bytes in total. An error answer's body is only excerpted: it is cut at the limit and the
status error is raised as usual.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from typing import Any

import pytest

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.errors import ResponseTooLargeError, ServerError
from tests.faults._harness import MODEL
from tests.faults.wire._calls import fields, request
from tests.faults.wire._server import Conn, WireServer, completion, head, sse

LIMIT = 64 * 1024
BIG = "x" * (4 * LIMIT)
"""An answer four times the limit."""


def _serve(*, gzipped: bool = False, status: str = "200 OK") -> Callable[[Conn], None]:
    def behaviour(conn: Conn) -> None:
        while (req := conn.read_request()) is not None:
            body = sse(BIG, piece=4096) if req.stream else completion(BIG)
            content_type = "text/event-stream" if req.stream else "application/json"
            extra = ""
            if gzipped:
                body, extra = gzip.compress(body), "content-encoding: gzip\r\n"
            conn.send(head(status, content_type=content_type, length=len(body), extra=extra) + body)

    return behaviour


def _call(mode: str, base_url: str, **extra: Any) -> str:
    settings = fields(base_url, max_retries=1, **extra)
    if mode == "sync":
        with GatewayClient(**settings) as client:
            return client.chat(request("hi")).text  # type: ignore[arg-type]
    if mode == "stream":
        with GatewayClient(**settings) as client, client.stream_chat(request("hi")) as chunks:  # type: ignore[arg-type]
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    async def main() -> str:
        async with AsyncGatewayClient(**settings) as client:
            if mode == "async":
                return (await client.chat(request("hi"))).text  # type: ignore[arg-type]
            parts: list[str] = []
            async with await client.stream_chat(request("hi")) as chunks:  # type: ignore[arg-type]
                async for c in chunks:
                    parts.extend(choice.delta.content or "" for choice in c.choices)
            return "".join(parts)

    return asyncio.run(main())


MODES = ["sync", "async", "stream", "astream"]


@pytest.mark.parametrize("gzipped", [False, True], ids=["identity", "gzip"])
@pytest.mark.parametrize("mode", MODES)
def test_an_answer_over_the_limit_is_a_typed_error_and_not_retried(mode: str, gzipped: bool) -> None:
    with (
        WireServer(_serve(gzipped=gzipped)) as server,
        pytest.raises(ResponseTooLargeError, match="max_response_bytes"),
    ):
        _call(mode, server.base_url, max_response_bytes=LIMIT)
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", ["sync", "astream"])
def test_the_same_answer_within_the_default_limit_is_read(mode: str) -> None:
    with WireServer(_serve(gzipped=True)) as server:
        assert len(_call(mode, server.base_url)) >= len(BIG) - 2000


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_error_body_over_the_limit_is_cut_and_the_status_error_raised(mode: str) -> None:
    with WireServer(_serve(status="500 Internal Server Error")) as server, pytest.raises(ServerError) as caught:
        _call(mode, server.base_url, max_response_bytes=LIMIT)
    assert caught.value.status_code == 500
    assert len(server.requests) == 2, "a 500 is retried as always"


@pytest.mark.parametrize("layer", ["langchain", "llamaindex"])
def test_the_framework_field(layer: str) -> None:
    with WireServer(_serve(gzipped=True)) as server:
        settings = fields(server.base_url, max_response_bytes=LIMIT)
        with pytest.raises(ResponseTooLargeError):
            if layer == "langchain":
                from langchain_cfaig import ChatCloudflareAIGateway

                ChatCloudflareAIGateway(model=MODEL, **settings).invoke("hi")
            else:
                from llama_index.core.llms import ChatMessage

                from llamaindex_cfaig import CloudflareAIGatewayLLM

                CloudflareAIGatewayLLM(model=MODEL, **settings).chat([ChatMessage(role="user", content="hi")])
