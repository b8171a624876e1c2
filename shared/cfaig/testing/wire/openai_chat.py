"""OpenAI Chat Completions on the wire: parse a request body, render ``chat.completion`` and its stream chunks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..fake.providers import is_reasoning_model
from ..fake.text import split_arguments, word_chunks
from ..fake.types import FakeToolCall, ModelError, ParsedChat, Turn
from .common import ROLES, openai_style_chat, openai_tool_use, positive_int, response_format, stops


def parse_openai_chat(body: Mapping[str, Any], *, provider: str, model: str) -> ParsedChat:
    """Validate an OpenAI Chat Completions body (raising :class:`ModelError`)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ModelError("'messages' must be a non-empty array", param="messages", bad_format=True)
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ModelError("each message needs a valid 'role'", param="messages", bad_format=True)
    tool_use = openai_tool_use(body, flat=False)
    effort = body.get("reasoning_effort")
    return openai_style_chat(
        body,
        tool_use,
        messages,
        provider=provider,
        model=model,
        response_format=response_format(body.get("response_format")),
        max_tokens=positive_int(body, "max_completion_tokens", "max_tokens"),
        stop=stops(body.get("stop")),
        n=positive_int(body, "n", maximum=128) or 1,
        reasoning=(effort is not None and effort != "none") or is_reasoning_model(model),
    )


def openai_usage(turns: Sequence[Turn]) -> dict[str, Any]:
    """OpenAI ``usage`` for a set of choices (prompt counted once)."""
    prompt = turns[0].prompt_tokens
    completion = sum(t.completion_tokens for t in turns)
    reasoning = sum(t.reasoning_tokens for t in turns)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    override = turns[0].usage_override
    if override:
        usage.update(override)
        if "total_tokens" not in override:
            usage["total_tokens"] = int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
    return usage


def _openai_tool_call(call: FakeToolCall) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if call.thought_signature is not None:
        rendered["extra_content"] = {"google": {"thought_signature": call.thought_signature}}
    return rendered


def openai_chat_completion(turns: Sequence[Turn], *, completion_id: str, created: int, model: str) -> dict[str, Any]:
    """A ``chat.completion`` object."""
    choices = []
    for index, turn in enumerate(turns):
        message: dict[str, Any] = {"role": "assistant", "content": turn.content}
        if turn.reasoning is not None:
            message["reasoning_content"] = turn.reasoning
        if turn.tool_calls:
            message["tool_calls"] = [_openai_tool_call(c) for c in turn.tool_calls]
        choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": turn.finish_reason})
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": openai_usage(turns),
    }


def openai_chat_chunks(
    turns: Sequence[Turn], *, completion_id: str, created: int, model: str, include_usage: bool
) -> list[dict[str, Any]]:
    """``chat.completion.chunk`` objects for a stream (without the ``[DONE]`` marker)."""
    chunks: list[dict[str, Any]] = []

    def emit(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
        chunks.append(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )

    for index, turn in enumerate(turns):
        first = len(chunks)
        if turn.reasoning:
            for piece in word_chunks(turn.reasoning):
                emit(index, {"reasoning_content": piece})
        if turn.content:
            for piece in word_chunks(turn.content):
                emit(index, {"content": piece})
        for k, call in enumerate(turn.tool_calls):
            head: dict[str, Any] = {
                "index": k,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            if call.thought_signature is not None:
                head["extra_content"] = {"google": {"thought_signature": call.thought_signature}}
            emit(index, {"tool_calls": [head]})
            for fragment in split_arguments(call.arguments):
                emit(index, {"tool_calls": [{"index": k, "function": {"arguments": fragment}}]})
        if len(chunks) == first:
            emit(index, {"content": ""})
        first_delta = chunks[first]["choices"][0]["delta"]
        chunks[first]["choices"][0]["delta"] = {"role": "assistant", **first_delta}
        emit(index, {}, turn.finish_reason)
    if include_usage:
        chunks.append(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": openai_usage(turns),
            }
        )
    return chunks
