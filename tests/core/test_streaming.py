"""Parts 6-7: stream decoding, tool-call delta assembly, usage, terminators and buffered answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfaig._streaming import ChatAccumulator, StreamDecoder, completion_to_chunks
from cfaig.errors import CfaigError, IncompleteStreamError, MalformedResponseError, RateLimitError
from cfaig.types import ChatCompletion, ChatCompletionChunk, GatewayMeta


def sse(*payloads: Any, done: bool = True) -> bytes:
    body = b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in payloads)
    return body + (b"data: [DONE]\n\n" if done else b"")


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices, **extra}


STREAM = sse(
    chunk({"role": "assistant", "content": ""}),
    chunk({"reasoning_content": "think "}),
    chunk({"content": "Hello"}),
    chunk({"content": " world"}),
    chunk(
        {"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get", "arguments": ""}}]}
    ),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
    chunk({}, finish="tool_calls"),
    chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}),
)


def run(data: list[bytes]) -> tuple[list[ChatCompletionChunk], StreamDecoder]:
    decoder = StreamDecoder(GatewayMeta(log_id="L"), provider="openai")
    out: list[ChatCompletionChunk] = []
    for piece in data:
        out.extend(decoder.feed(piece))
    out.extend(decoder.finish())
    return out, decoder


def test_stream_accumulates_everything() -> None:
    chunks, decoder = run([STREAM])
    acc = decoder.accumulator
    assert len(chunks) == 9
    assert acc.text == "Hello world"
    assert acc.reasoning == "think "
    assert acc.finish_reason == "tool_calls"
    calls = acc.tool_calls()
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_a", "get", {"city": "Paris"})
    ]
    assert acc.usage is not None
    assert acc.usage.total_tokens == 12
    final = acc.snapshot(decoder.meta)
    assert final.gateway.log_id == "L"
    assert final.message.reasoning_content == "think "


def snapshot_json(decoder: StreamDecoder) -> str:
    return decoder.accumulator.snapshot().model_dump_json()


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=10))
def test_any_byte_split_gives_the_same_result(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    chunks, decoder = run(pieces)
    whole_chunks, whole = run([STREAM])
    assert [c.model_dump() for c in chunks] == [c.model_dump() for c in whole_chunks]
    assert snapshot_json(decoder) == snapshot_json(whole)


def test_missing_done_is_an_error_not_a_short_answer() -> None:
    with pytest.raises(IncompleteStreamError) as info:
        run([sse(chunk({"content": "partial"}), done=False)])
    assert "without its [DONE]" in str(info.value)


def test_malformed_event_is_a_typed_error() -> None:
    with pytest.raises(MalformedResponseError):
        run([sse(chunk({"content": "a"}), done=False) + b"data: {not json\n\n" + b"data: [DONE]\n\n"])


def test_error_event_inside_stream_is_mapped() -> None:
    body = sse(chunk({"content": "a"}), {"error": {"message": "rate limited", "code": 429}})
    with pytest.raises(RateLimitError):
        run([body])


def test_missing_index_and_reused_index_are_repaired() -> None:
    body = sse(
        chunk({"tool_calls": [{"id": "a", "function": {"name": "one", "arguments": '{"x":'}}]}),
        chunk({"tool_calls": [{"function": {"arguments": "1}"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "b", "function": {"name": "two", "arguments": "{}"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "three", "arguments": "{}"}}]}),
    )
    chunks, decoder = run([body])
    calls = decoder.accumulator.tool_calls()
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("a", "one", '{"x":1}'),
        ("b", "two", "{}"),
        ("c", "three", "{}"),
    ]
    indices = [tc.index for c in chunks for tc in c.choices[0].delta.tool_calls or []]
    assert indices == [0, 0, 1, 2]


def test_parallel_calls_by_index() -> None:
    body = sse(
        chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"q":1}'}}]}),
    )
    _, decoder = run([body])
    assert [(c.function.name, c.function.arguments) for c in decoder.accumulator.tool_calls()] == [
        ("f", '{"q":1}'),
        ("g", "{}"),
    ]


def test_extra_content_on_tool_calls_is_kept() -> None:
    sig = {"google": {"thought_signature": "c2ln"}}
    body = sse(
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}, "extra_content": sig}
                ]
            }
        )
    )
    _, decoder = run([body])
    call = decoder.accumulator.tool_calls()[0]
    assert call.model_extra == {"extra_content": sig}


def test_usage_on_every_chunk_keeps_the_last() -> None:
    body = sse(
        chunk({"content": "a"}, usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, "neurons": 0.5}),
        chunk({"content": "b"}, usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "neurons": 0.9}),
        chunk(None, usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}),
    )
    _, decoder = run([body])
    assert decoder.accumulator.usage is not None
    assert decoder.accumulator.usage.completion_tokens == 2


def test_buffered_json_answer_is_replayed_as_chunks() -> None:
    completion = {
        "id": "x",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "whole",
                    "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    decoder = StreamDecoder(GatewayMeta())
    chunks = decoder.whole_body(json.dumps(completion).encode(), "application/json")
    assert decoder.done
    assert decoder.accumulator.text == "whole"
    assert decoder.accumulator.tool_calls()[0].function.name == "f"
    assert chunks[-1].usage is not None


def test_completion_to_chunks_round_trip() -> None:
    completion = ChatCompletion.model_validate(
        {"choices": [{"index": 0, "message": {"content": "hi", "reasoning_content": "r"}, "finish_reason": "stop"}]}
    )
    acc = ChatAccumulator()
    for c in completion_to_chunks(completion):
        acc.add(c)
    assert acc.text == "hi"
    assert acc.reasoning == "r"


@given(st.binary(max_size=500))
def test_arbitrary_bytes_give_chunks_or_a_typed_error(data: bytes) -> None:
    try:
        run([data])
    except CfaigError:
        pass
