"""Pure conversions between LangChain messages and cfaig wire types."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from cfaig import ChatCompletion, ChatCompletionChunk, GatewayMeta
from cfaig.types import Usage
from langchain_cfaig import _convert


def test_roles_and_names() -> None:
    params = _convert.messages_to_params(
        [
            SystemMessage("be brief"),
            HumanMessage("hi", name="ana"),
            ChatMessage(role="developer", content="dev note"),
        ]
    )
    assert params == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi", "name": "ana"},
        {"role": "developer", "content": "dev note"},
    ]


def test_function_message_is_rejected() -> None:
    with pytest.raises(TypeError):
        _convert.message_to_param(FunctionMessage(name="f", content="x"))


def test_list_content_is_sent_as_parts() -> None:
    message = HumanMessage(content=[{"type": "text", "text": "a"}, "b"])
    assert _convert.message_to_param(message)["content"] == [
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b"},
    ]


def test_image_blocks_standard_and_openai() -> None:
    message = HumanMessage(
        content=[
            {"type": "text", "text": "what is this?"},
            {"type": "image", "base64": "AAAA", "mime_type": "image/png"},
            {"type": "image", "source_type": "url", "url": "https://example.com/a.png"},
            {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}},
            {"type": "image_url", "image_url": "https://example.com/c.png"},
        ]
    )
    content = _convert.message_to_param(message)["content"]
    assert content == [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/c.png"}},
    ]


def test_assistant_tool_calls_and_extra_content_replayed() -> None:
    signature = {"google": {"thought_signature": "sig"}}
    message = AIMessage(
        content=[{"type": "text", "text": "calling"}, {"type": "tool_use", "id": "c1", "name": "f", "input": {}}],
        tool_calls=[{"id": "c1", "name": "f", "args": {"q": "你好"}}],
        additional_kwargs={_convert.EXTRA_CONTENT_KEY: {"c1": signature}},
    )
    param = _convert.message_to_param(message)
    assert param["content"] == "calling"
    call = param["tool_calls"][0]
    assert call["function"] == {"name": "f", "arguments": json.dumps({"q": "你好"}, ensure_ascii=False)}
    assert call["extra_content"] == signature


def test_assistant_without_text_sends_null_content_with_tool_calls() -> None:
    message = AIMessage(content="", tool_calls=[{"id": "c1", "name": "f", "args": {}}])
    assert _convert.message_to_param(message)["content"] is None


def test_invalid_tool_calls_are_sent_back_raw() -> None:
    message = AIMessage(
        content="",
        invalid_tool_calls=[{"type": "invalid_tool_call", "id": "c2", "name": "f", "args": "{bad", "error": "x"}],
    )
    assert _convert.message_to_param(message)["tool_calls"][0]["function"]["arguments"] == "{bad"


def test_tool_message() -> None:
    param = _convert.message_to_param(ToolMessage("42", tool_call_id="c1"))
    assert param == {"role": "tool", "tool_call_id": "c1", "content": "42"}
    listed = _convert.message_to_param(ToolMessage([{"type": "text", "text": "4"}, "2"], tool_call_id="c1"))
    assert listed["content"] == [{"type": "text", "text": "4"}, {"type": "text", "text": "2"}]


def test_usage_details() -> None:
    usage = Usage.model_validate(
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        }
    )
    metadata = _convert.usage_to_metadata(usage)
    assert metadata == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 2},
    }
    assert _convert.usage_to_metadata(None) is None


def _completion(message: dict[str, object], meta: GatewayMeta | None = None) -> ChatCompletion:
    completion = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "model": "openai/gpt-5-mini",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
    )
    if meta is not None:
        completion.gateway = meta
    return completion


def test_completion_to_result() -> None:
    meta = GatewayMeta(log_id="log-1", cache_status="MISS", step=1, served_by="anthropic/claude-x")
    completion = _completion(
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "thinking",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a": 1}'},
                    "extra_content": {"google": {"thought_signature": "s"}},
                },
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{oops"}},
                {"id": "c3", "type": "function", "function": {"name": "h", "arguments": ""}},
            ],
        },
        meta,
    )
    result = _convert.completion_to_result(completion, model_name="openai/gpt-5-mini")
    message = result.generations[0].message
    assert isinstance(message, AIMessage)
    assert message.content == ""
    assert message.tool_calls == [
        {"id": "c1", "name": "f", "args": {"a": 1}, "type": "tool_call"},
        {"id": "c3", "name": "h", "args": {}, "type": "tool_call"},
    ]
    assert message.invalid_tool_calls[0]["id"] == "c2"
    assert message.additional_kwargs["reasoning_content"] == "thinking"
    assert message.additional_kwargs[_convert.EXTRA_CONTENT_KEY] == {"c1": {"google": {"thought_signature": "s"}}}
    assert message.response_metadata == {
        "model_name": "anthropic/claude-x",
        "model_provider": "cloudflare-ai-gateway",
        "finish_reason": "tool_calls",
        "cf_aig_log_id": "log-1",
        "cf_aig_cache_status": "MISS",
        "cf_aig_step": 1,
    }
    assert message.usage_metadata == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}


def test_delta_and_final_chunks_merge() -> None:
    first = ChatCompletionChunk.model_validate(
        {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "content": "hi",
                        "tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}],
                    },
                }
            ],
        }
    )
    second = ChatCompletionChunk.model_validate(
        {
            "id": "x",
            "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}}],
        }
    )
    chunks = [chunk for c in (first, second) if (chunk := _convert.delta_to_chunk(c.choices[0].delta)) is not None]
    assert len(chunks) == 2
    assert (
        _convert.delta_to_chunk(ChatCompletionChunk.model_validate({"choices": [{"delta": {}}]}).choices[0].delta)
        is None
    )
    final = _convert.final_chunk(
        meta=GatewayMeta(log_id="l", served_by="openai/gpt-5-mini"),
        model_name="openai/gpt-5-mini",
        finish_reason="tool_calls",
        usage=Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2),
        tool_calls=[],
    )
    merged = chunks[0].message + chunks[1].message + final.message
    assert isinstance(merged, AIMessageChunk)
    assert merged.tool_calls == [{"id": "c1", "name": "f", "args": {"a": 1}, "type": "tool_call"}]
    assert merged.content == "hi"
    assert merged.usage_metadata == {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    assert merged.response_metadata["model_name"] == "openai/gpt-5-mini"
    assert merged.response_metadata["cf_aig_log_id"] == "l"
