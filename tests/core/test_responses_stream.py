"""Responses stream decoding without I/O: typed events, the accumulator, terminators, failures, replays."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfaig._error_mapping import map_transport_errors
from cfaig._responses_stream import ResponsesAccumulator, ResponsesDecoder, result_to_events
from cfaig.errors import (
    AuthenticationError,
    IncompleteStreamError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from cfaig.responses_types import OutputTextDeltaEvent, ResponseCompletedEvent, ResponsesEvent, ResponsesResult
from cfaig.types import GatewayMeta

FINAL = {
    "id": "resp_1",
    "object": "response",
    "status": "completed",
    "model": "gpt-5",
    "output": [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Think."}, {"type": "summary_text", "text": "Then act."}],
            "encrypted_content": "opaque",
        },
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hi there"}],
        },
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get", "arguments": '{"city":"Paris"}'},
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
    ],
    "usage": {
        "input_tokens": 5,
        "output_tokens": 9,
        "total_tokens": 14,
        "input_tokens_details": {"cached_tokens": 2},
        "output_tokens_details": {"reasoning_tokens": 4},
    },
}


def event(kind: str, named: bool = True, **data: Any) -> bytes:
    payload = json.dumps({"type": kind, **data})
    return (f"event: {kind}\n" if named else "").encode() + f"data: {payload}\n\n".encode()


def stream_bytes(*, named: bool = True, completed: bool = True) -> bytes:
    rs, msg, fc = FINAL["output"][0], FINAL["output"][1], FINAL["output"][2]  # type: ignore[index]
    parts = [
        event("response.created", named, response={"id": "resp_1", "status": "in_progress", "model": "gpt-5"}),
        event("response.in_progress", named, response={"id": "resp_1"}),
        event(
            "response.output_item.added", named, output_index=0, item={"type": "reasoning", "id": "rs_1", "summary": []}
        ),
        event("response.reasoning_summary_part.added", named, item_id="rs_1", output_index=0, summary_index=0),
        event(
            "response.reasoning_summary_text.delta",
            named,
            item_id="rs_1",
            output_index=0,
            summary_index=0,
            delta="Think.",
        ),
        event(
            "response.reasoning_summary_text.delta",
            named,
            item_id="rs_1",
            output_index=0,
            summary_index=1,
            delta="Then ",
        ),
        event(
            "response.reasoning_summary_text.delta",
            named,
            item_id="rs_1",
            output_index=0,
            summary_index=1,
            delta="act.",
        ),
        event("response.output_item.done", named, output_index=0, item=rs),
        event("response.output_item.added", named, output_index=1, item={**msg, "content": []}),
        event("response.output_text.delta", named, item_id="msg_1", output_index=1, content_index=0, delta="Hi "),
        event("response.output_text.delta", named, item_id="msg_1", output_index=1, content_index=0, delta="there"),
        event("response.output_item.done", named, output_index=1, item=msg),
        event("response.output_item.added", named, output_index=2, item={**fc, "arguments": ""}),
        event("response.function_call_arguments.delta", named, item_id="fc_1", output_index=2, delta='{"city":'),
        event("response.function_call_arguments.delta", named, item_id="fc_1", output_index=2, delta='"Paris"}'),
        event("response.output_item.done", named, output_index=2, item=fc),
        event("response.web_search_call.completed", named, item_id="ws_1", output_index=3),
    ]
    if completed:
        parts.append(event("response.completed", named, response=FINAL))
    return b"".join(parts)


def decode(*pieces: bytes) -> tuple[list[ResponsesEvent], ResponsesDecoder]:
    """Decode as the stream does: inside the boundary that types and scrubs its errors."""
    decoder = ResponsesDecoder(GatewayMeta(log_id="L", status_code=200), provider="openai", secrets=("sk-secret",))
    out: list[ResponsesEvent] = []
    with map_transport_errors(provider=decoder.provider, secrets=decoder.secrets):
        for piece in pieces:
            out.extend(decoder.feed(piece))
        out.extend(decoder.finish())
    return out, decoder


@pytest.mark.parametrize("named", [True, False])
def test_a_stream_decodes_to_typed_events_and_the_final_response(named: bool) -> None:
    events, decoder = decode(stream_bytes(named=named))
    assert len(events) == 18
    assert isinstance(events[-1], ResponseCompletedEvent)
    passed = [e for e in events if type(e) is ResponsesEvent]
    assert [e.type for e in passed] == [
        "response.in_progress",
        "response.reasoning_summary_part.added",
        "response.web_search_call.completed",
    ]
    assert (passed[-1].model_extra or {})["item_id"] == "ws_1"  # the rest of the event is kept
    assert decoder.accumulator.snapshot() == ResponsesResult.model_validate(FINAL)
    final = decoder.accumulator.snapshot(GatewayMeta(log_id="L"))
    assert final.gateway.log_id == "L"
    assert final.reasoning == "Think.\n\nThen act."
    assert final.reasoning_items[0].encrypted_content == "opaque"
    assert [item.type for item in final.output] == ["reasoning", "message", "function_call", "web_search_call"]
    usage = final.usage.as_usage()  # type: ignore[union-attr]
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 9, 14)
    assert usage.prompt_tokens_details.cached_tokens == 2  # type: ignore[union-attr]
    assert usage.completion_tokens_details.reasoning_tokens == 4  # type: ignore[union-attr]


@given(st.lists(st.integers(min_value=1, max_value=len(stream_bytes()) - 1), max_size=12))
def test_how_the_bytes_are_split_changes_nothing(cuts: list[int]) -> None:
    data = stream_bytes()
    bounds = [0, *sorted(set(cuts)), len(data)]
    events, decoder = decode(*(data[a:b] for a, b in itertools.pairwise(bounds)))
    assert len(events) == 18
    assert decoder.accumulator.snapshot() == ResponsesResult.model_validate(FINAL)


def test_the_accumulator_reads_the_answer_while_it_streams() -> None:
    decoder = ResponsesDecoder(GatewayMeta())
    data = stream_bytes(completed=False)
    cut = data.index(b'"delta": "there"')
    decoder.feed(data[:cut])
    acc = decoder.accumulator
    assert acc.id == "resp_1"
    assert acc.status == "in_progress"
    assert acc.text == "Hi "
    assert acc.reasoning == "Think.\n\nThen act."
    assert acc.usage is None
    decoder.feed(data[cut:])
    assert acc.text == "Hi there"
    [call] = acc.function_calls()
    assert (call.call_id, call.arguments) == ("call_1", '{"city":"Paris"}')
    assert not decoder.done


def test_deltas_without_their_item_still_accumulate() -> None:
    acc = ResponsesAccumulator()
    acc.add(OutputTextDeltaEvent(type="response.output_text.delta", item_id="m", output_index=0, delta="a"))
    acc.add(OutputTextDeltaEvent(type="response.output_text.delta", item_id="m", output_index=0, delta="b"))
    assert acc.text == "ab"
    assert acc.snapshot().output_text == "ab"


def test_a_terminal_event_without_output_keeps_the_streamed_items() -> None:
    data = stream_bytes(completed=False) + event("response.completed", response={**FINAL, "output": []})
    _, decoder = decode(data)
    assert decoder.accumulator.snapshot().output_text == "Hi there"
    assert decoder.accumulator.usage is not None


def test_a_stream_without_response_completed_is_incomplete() -> None:
    with pytest.raises(IncompleteStreamError, match=r"17 events without response.completed") as info:
        decode(stream_bytes(completed=False))
    assert info.value.log_id == "L"
    with pytest.raises(IncompleteStreamError):
        decode(stream_bytes(completed=False) + b"data: [DONE]\n\n")  # an OpenAI-style marker is no terminator here


def test_events_after_completion_are_ignored() -> None:
    events, _ = decode(stream_bytes() + b"data: [DONE]\n\n" + event("response.output_text.delta", delta="late"))
    assert len(events) == 18


@pytest.mark.parametrize(
    ("payload", "error", "code"),
    [
        (
            {"type": "error", "code": "rate_limit_exceeded", "message": "slow down"},
            RateLimitError,
            "rate_limit_exceeded",
        ),
        ({"type": "error", "code": "invalid_api_key", "message": "sk-secret is wrong"}, AuthenticationError, None),
        ({"type": "error", "code": "image_too_large", "message": "big"}, None, "image_too_large"),
        ({"type": "error", "code": None, "message": "???"}, ServerError, None),
        (
            {
                "type": "response.failed",
                "response": {"status": "failed", "error": {"code": "server_error", "message": "x"}},
            },
            ServerError,
            "server_error",
        ),
        (
            {"type": "response.failed", "response": {"status": "failed", "error": {"code": 429, "message": "x"}}},
            RateLimitError,
            429,
        ),
        (
            {"error": {"code": "previous_response_not_found", "message": "gone"}},
            NotFoundError,
            "previous_response_not_found",
        ),
    ],
)
def test_failures_are_typed_errors(payload: dict[str, Any], error: type | None, code: Any) -> None:
    data = event("response.created", response={"id": "resp_1"}) + b"data: " + json.dumps(payload).encode() + b"\n\n"
    with pytest.raises(Exception) as info:
        decode(data)
    raised = info.value
    if error is not None:
        assert type(raised) is error
    if code is not None:
        assert raised.code == code  # type: ignore[attr-defined]
    assert raised.log_id == "L"  # type: ignore[attr-defined]
    assert "sk-secret" not in str(raised)


def test_an_event_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="not a Responses API event"):
        decode(event("response.created", response={"id": "r"}) + b"data: {not json\n\n")
    with pytest.raises(MalformedResponseError):
        decode(b"data: [1, 2]\n\n")
    with pytest.raises(MalformedResponseError):  # nested deeper than any parser goes
        decode(b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n")


def test_a_whole_response_replays_as_its_stream() -> None:
    result = ResponsesResult.model_validate(FINAL)
    events = result_to_events(result)
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    acc = ResponsesAccumulator()
    for item in events[:-1]:
        acc.add(item)
    partial = acc.snapshot()  # from the replayed deltas and items alone
    assert partial.output_text == "Hi there"
    assert partial.reasoning == result.reasoning
    acc.add(events[-1])
    assert acc.snapshot() == result
    incomplete = result.model_copy(update={"status": "incomplete"})
    assert result_to_events(incomplete)[-1].type == "response.incomplete"


def test_whole_body_on_the_decoder() -> None:
    decoder = ResponsesDecoder(GatewayMeta())
    events = decoder.whole_body(json.dumps(FINAL).encode(), "application/json")
    assert decoder.done
    assert events[-1].type == "response.completed"
    assert decoder.accumulator.snapshot() == ResponsesResult.model_validate(FINAL)
    failed = {**FINAL, "status": "failed", "error": {"code": "server_error", "message": "down"}}
    with pytest.raises(ServerError, match="down"):
        ResponsesDecoder(GatewayMeta()).whole_body(json.dumps(failed).encode(), "application/json")


def test_result_reading_helpers() -> None:
    result = ResponsesResult.model_validate(FINAL)
    assert result.output_text == "Hi there"
    assert result.finish_reason == "tool_calls"
    assert result.refusal is None
    refused = ResponsesResult.model_validate(
        {"status": "completed", "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "no"}]}]}
    )
    assert refused.refusal == "no"
    assert refused.output_text == ""
    assert refused.finish_reason == "stop"
    filtered = ResponsesResult(status="incomplete", incomplete_details={"reason": "content_filter"})
    assert filtered.finish_reason == "content_filter"
    assert ResponsesResult(status="in_progress").finish_reason is None
