"""Pure conversions: LlamaIndex messages and tools <-> OpenAI wire dicts; no client involved."""

from __future__ import annotations

import base64
import json

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from cfaig.providers import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUT, embedding_batch_limits, model_size
from cfaig.types import AssistantMessage, FunctionCall, GatewayMeta, ToolCall, Usage
from llamaindex_cfaig._convert import (
    EXTRA_CONTENT_KEY,
    assistant_message,
    completion_message,
    force_single_tool_call,
    parse_tool_arguments,
    response_kwargs,
    to_openai_messages,
    tool_selections,
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def test_plain_history() -> None:
    messages = [
        ChatMessage(role="system", content="be brief"),
        ChatMessage(role="user", content="hi"),
        ChatMessage(role="assistant", content="hello"),
    ]
    assert to_openai_messages(messages) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]


def test_tool_loop_history_round_trips() -> None:
    call = ChatMessage(
        role="assistant",
        blocks=[ToolCallBlock(tool_call_id="call_1", tool_name="add", tool_kwargs={"a": 2, "b": 3})],
        additional_kwargs={EXTRA_CONTENT_KEY: {"call_1": {"google": {"thought_signature": "sig"}}}},
    )
    result = ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "call_1", "name": "add"})
    assistant, tool = to_openai_messages([call, result])
    assert assistant == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "add", "arguments": json.dumps({"a": 2, "b": 3})},
                "extra_content": {"google": {"thought_signature": "sig"}},
            }
        ],
    }
    assert tool == {"role": "tool", "content": "5", "tool_call_id": "call_1"}


def test_legacy_tool_calls_in_additional_kwargs() -> None:
    message = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]
        },
    )
    (converted,) = to_openai_messages([message])
    assert converted["tool_calls"] == [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
    ]
    assert [s.tool_name for s in tool_selections(message)] == ["f"]


def test_reasoning_is_replayed_only_with_tool_calls() -> None:
    thinking = ThinkingBlock(content="let me think")
    plain = ChatMessage(role="assistant", blocks=[thinking, TextBlock(text="ok")])
    tooling = ChatMessage(role="assistant", blocks=[thinking, ToolCallBlock(tool_call_id="c", tool_name="f")])
    first, second = to_openai_messages([plain, tooling])
    assert first == {"role": "assistant", "content": "ok"}
    assert second["reasoning_content"] == "let me think"


def test_images_become_image_url_parts(tmp_path: object) -> None:
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="what is this?"),
            ImageBlock(url="https://example.com/cat.png", detail="low"),
            ImageBlock(image=PNG, image_mimetype="image/png"),
        ],
    )
    (converted,) = to_openai_messages([message])
    parts = converted["content"]
    assert isinstance(parts, list)
    assert parts[0] == {"type": "text", "text": "what is this?"}
    assert parts[1] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}}
    assert parts[2]["image_url"]["url"].startswith("data:image/png;base64,")


def test_image_from_path(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "dot.png"
    path.write_bytes(PNG)
    (converted,) = to_openai_messages([ChatMessage(role="user", blocks=[ImageBlock(path=path)])])
    assert converted["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")  # type: ignore[index]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        # llama_index's parse_partial_json leaves an unfinished value as None
        ('{"a": 1, "b": "tw', {"a": 1, "b": None}),
        ('{"a": 1, "b', {"a": 1}),
        ('{"a": ', {"a": None}),
        ("", {}),
        ("[1, 2]", {}),
        ("not json", {}),
        ({"a": 1}, {"a": 1}),
        (None, {}),
    ],
)
def test_parse_tool_arguments(raw: object, expected: dict[str, object]) -> None:
    assert parse_tool_arguments(raw) == expected


def test_assistant_message_blocks() -> None:
    message = completion_message(
        AssistantMessage(
            content="sure",
            reasoning_content="hmm",
            tool_calls=[
                ToolCall(
                    id="c1",
                    function=FunctionCall(name="f", arguments='{"x": 1}'),
                    extra_content={"google": {"thought_signature": "s"}},
                )
            ],
        )
    )
    kinds = [type(block).__name__ for block in message.blocks]
    assert kinds == ["ThinkingBlock", "TextBlock", "ToolCallBlock"]
    assert message.additional_kwargs[EXTRA_CONTENT_KEY] == {"c1": {"google": {"thought_signature": "s"}}}
    assert message.additional_kwargs["reasoning_content"] == "hmm"
    assert message.content == "sure"


def test_final_tool_calls_get_an_id_partial_ones_do_not() -> None:
    call = ToolCall(id="", function=FunctionCall(name="f", arguments='{"x"'))
    partial = assistant_message(None, tool_calls=[call], final=False)
    (block,) = partial.blocks
    assert isinstance(block, ToolCallBlock)
    assert block.tool_call_id is None
    assert block.tool_kwargs == '{"x"'
    assert tool_selections(partial)[0].tool_id == ""
    final = assistant_message(None, tool_calls=[call], final=True)
    assert tool_selections(final)[0].tool_id.startswith("call_")


def test_force_single_tool_call() -> None:
    message = ChatMessage(
        role=MessageRole.ASSISTANT,
        blocks=[ToolCallBlock(tool_call_id=str(i), tool_name="f") for i in range(3)],
    )
    force_single_tool_call(message)
    assert [s.tool_id for s in tool_selections(message)] == ["0"]


def test_response_kwargs() -> None:
    meta = GatewayMeta(log_id="log", cache_status="MISS", step=1, served_by="openai/gpt-5-mini")
    kwargs = response_kwargs(
        meta, model="x/y", finish_reason="stop", usage=Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)
    )
    assert kwargs == {
        "model_name": "openai/gpt-5-mini",
        "finish_reason": "stop",
        "cf_aig_log_id": "log",
        "cf_aig_cache_status": "MISS",
        "cf_aig_step": 1,
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
    }


def test_response_kwargs_gateway_keys_as_langchains() -> None:
    """The event id is reported, and a header the gateway did not send is no key (not a None value)."""
    kwargs = response_kwargs(GatewayMeta(log_id="log", event_id="evt-1"), model="x/y", finish_reason=None, usage=None)
    assert kwargs == {"model_name": "x/y", "finish_reason": None, "cf_aig_log_id": "log", "cf_aig_event_id": "evt-1"}


def test_usage_total_falls_back_to_the_sum() -> None:
    kwargs = response_kwargs(
        GatewayMeta(), model="x/y", finish_reason="stop", usage=Usage(prompt_tokens=3, completion_tokens=4)
    )
    assert kwargs["total_tokens"] == 7


def test_tool_arguments_keep_non_ascii() -> None:
    call = ChatMessage(
        role="assistant", blocks=[ToolCallBlock(tool_call_id="c", tool_name="f", tool_kwargs={"q": "你好"})]
    )
    (converted,) = to_openai_messages([call])
    assert converted["tool_calls"][0]["function"]["arguments"] == '{"q": "你好"}'


def test_model_table() -> None:
    assert model_size("openai/gpt-4o-mini").context_window == 128_000
    assert model_size("@cf/meta/llama-3.1-8b-instruct").context_window == 7_968
    assert model_size("somebody/unknown") == (DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUT)
    assert embedding_batch_limits("openai/text-embedding-3-small") == (512, 2048)
    assert embedding_batch_limits("workers-ai/@cf/baai/bge-base-en-v1.5") == (100, 100)
