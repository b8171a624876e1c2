"""Issue 12, defect 7: streams end at their terminator, a cut-off event is an incomplete stream, and a
stream still parses when a proxy rewrote its content type or padded ``[DONE]``.

A raw loopback server sends exact bytes; each case runs through the core, LangChain and LlamaIndex
streams, sync and async.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig._sse import SSEDecoder
from cfaig.errors import IncompleteStreamError, MalformedResponseError
from tests.core._raw_server import ACCOUNT, CHAT_OK, RawServer, chunk_event, http, sse
from tests.faults._harness import LAYERS, CallSettings, Layer, Mode, run_call

pytestmark = pytest.mark.usefixtures("fresh_shared_clients")

STREAM_MODES: tuple[Mode, ...] = ("stream", "astream")
USAGE = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],'
    b'"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n'
)
ANSWER = chunk_event("hel") + chunk_event("lo") + USAGE
REQUEST: Any = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
SETTINGS = CallSettings(max_retries=0, timeout=2)


# --- [DONE], then a connection that stays open -------------------------------------------------------


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("layer", LAYERS)
def test_done_ends_the_stream_even_if_the_connection_stays_open(layer: Layer, mode: Mode) -> None:
    with RawServer(sse(ANSWER + b"data: [DONE]\n\n"), hold=True) as server:
        result = run_call(layer, mode, server.base_url, SETTINGS)
    assert result.error is None, repr(result.error)
    assert result.text == "hello"


def test_done_then_open_keeps_the_final_usage_chunk() -> None:
    with (
        RawServer(sse(ANSWER + b"data: [DONE]\n\n"), hold=True) as server,
        GatewayClient(account_id=ACCOUNT, base_url=server.base_url, timeout=2, max_retries=0) as client,
        client.stream_chat(REQUEST) as stream,
    ):
        chunks = list(stream)
        assert chunks[-1].usage is not None
        completion = stream.get_final_completion()
    assert completion.text == "hello"
    assert completion.usage is not None and completion.usage.total_tokens == 3


def _responses_events() -> bytes:
    result = {"id": "r1", "object": "response", "created_at": 1, "status": "completed", "model": "m", "output": []}
    created = {"type": "response.created", "response": {**result, "status": "in_progress"}}
    delta = {
        "type": "response.output_text.delta",
        "item_id": "m1",
        "output_index": 0,
        "content_index": 0,
        "delta": "hi",
    }
    completed = {"type": "response.completed", "response": result}
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in (created, delta, completed)
    )


def test_a_responses_stream_ends_at_response_completed_even_if_the_connection_stays_open() -> None:
    request: Any = {"model": "openai/gpt-4o-mini", "input": "hi"}
    with RawServer(sse(_responses_events()), hold=True) as server:
        with (
            GatewayClient(account_id=ACCOUNT, base_url=server.base_url, timeout=2, max_retries=0) as client,
            client.stream_responses(request) as stream,
        ):
            assert len(list(stream)) == 3
            assert stream.get_final_response().output_text == "hi"

        async def run() -> str:
            async with (
                AsyncGatewayClient(account_id=ACCOUNT, base_url=server.base_url, timeout=2, max_retries=0) as client,
                await client.stream_responses(request) as stream,
            ):
                async for _ in stream:
                    pass
                return stream.get_final_response().output_text

        assert asyncio.run(run()) == "hi"


# --- an event cut off at the end of the body -----------------------------------------------------


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("layer", LAYERS)
def test_an_event_cut_off_at_eof_is_an_incomplete_stream(layer: Layer, mode: Mode) -> None:
    with RawServer(sse(chunk_event("hel") + b'data: {"id":"c1","cho')) as server:
        result = run_call(layer, mode, server.base_url, SETTINGS)
    assert isinstance(result.error, IncompleteStreamError), repr(result.error)


def test_the_sse_decoder_discards_an_unterminated_event_at_eof() -> None:
    decoder = SSEDecoder()
    assert [event.data for event in decoder.feed(b"data: a\n\ndata: b")] == [b"a"]
    assert decoder.flush() == []
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.flush() == []  # a complete line, but no blank line dispatched the event


@pytest.mark.parametrize("mode", STREAM_MODES)
def test_done_without_its_blank_line_at_eof_still_ends_the_stream(mode: Mode) -> None:
    with RawServer(sse(ANSWER + b"data: [DONE]\n")) as server:
        result = run_call("core", mode, server.base_url, SETTINGS)
    assert result.error is None, repr(result.error)
    assert result.text == "hello"


# --- what openai-python accepts ------------------------------------------------------------------


@pytest.mark.parametrize("done", [b"data: [DONE] \n\n", b"data: [DONE]\t\n\n", b"data: [DONE]\r\n\r\n"])
@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("layer", LAYERS)
def test_done_with_trailing_whitespace_ends_the_stream(layer: Layer, mode: Mode, done: bytes) -> None:
    with RawServer(sse(ANSWER + done)) as server:
        result = run_call(layer, mode, server.base_url, SETTINGS)
    assert result.error is None, repr(result.error)
    assert result.text == "hello"


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8", "application/octet-stream", ""])
@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("layer", LAYERS)
def test_a_stream_whose_content_type_a_proxy_rewrote_still_parses(layer: Layer, mode: Mode, content_type: str) -> None:
    with RawServer(sse(ANSWER + b"data: [DONE]\n\n", content_type=content_type)) as server:
        result = run_call(layer, mode, server.base_url, SETTINGS)
    assert result.error is None, repr(result.error)
    assert result.text == "hello"


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", ""])
@pytest.mark.parametrize("mode", STREAM_MODES)
def test_a_buffered_json_answer_under_a_rewritten_content_type_still_parses(mode: Mode, content_type: str) -> None:
    with RawServer(http(b"\n  " + CHAT_OK, content_type=content_type)) as server:
        result = run_call("core", mode, server.base_url, SETTINGS)
    assert result.error is None, repr(result.error)
    assert result.text == "hello"


@pytest.mark.parametrize("mode", STREAM_MODES)
def test_a_captive_portal_page_on_a_stream_is_still_malformed(mode: Mode) -> None:
    page = b"<html><body>Please log in to the hotel wifi</body></html>"
    with RawServer(http(page, content_type="text/html")) as server:
        result = run_call("core", mode, server.base_url, SETTINGS)
    assert isinstance(result.error, MalformedResponseError), repr(result.error)
    assert "text/html" in str(result.error)
