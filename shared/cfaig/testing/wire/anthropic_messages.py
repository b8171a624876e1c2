"""Anthropic Messages on the wire: parse a request body, render the ``message`` object and its stream events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

from ..fake.text import content_text, dumps, json_object, short_hash, split_arguments, word_chunks
from ..fake.types import FakeToolCall, ModelError, ParsedChat, Turn
from .common import positive_int, stops, tool_choice, tools_from_openai

_ANTHROPIC_STOP: Final[Mapping[str, str]] = MappingProxyType(
    {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
)


def parse_anthropic_messages(body: Mapping[str, Any], *, model: str) -> ParsedChat:
    """Validate an Anthropic Messages body and convert it to OpenAI-shaped messages."""
    if positive_int(body, "max_tokens") is None:
        raise ModelError("max_tokens: Field required", param="max_tokens")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise ModelError("messages: at least one message is required", param="messages")
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": content_text(system)[0]})
    for message in raw_messages:
        messages.extend(_openai_messages(message))
    tools = tools_from_openai(
        [t for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t], flat=True
    )
    choice_value, parallel = _choice_and_parallel(body.get("tool_choice"))
    choice, forced = tool_choice(choice_value, tools)
    thinking = body.get("thinking")
    return ParsedChat(
        provider="anthropic",
        model=model,
        messages=messages,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        parallel_tool_calls=parallel,
        max_tokens=positive_int(body, "max_tokens"),
        stop=stops(body.get("stop_sequences")),
        reasoning=isinstance(thinking, dict) and thinking.get("type") == "enabled",
    )


def _openai_messages(message: Any) -> list[dict[str, Any]]:
    """One Anthropic message as OpenAI-shaped messages: tool results first, then the text, images and tool uses."""
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        raise ModelError("messages: roles must be 'user' or 'assistant'", param="messages")
    content = message.get("content")
    if isinstance(content, str):
        return [{"role": message["role"], "content": content}]
    if not isinstance(content, list):
        raise ModelError("messages: content must be a string or an array", param="messages")
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind in ("image", "document"):
            parts.append({"type": "image_url", "image_url": {"url": "anthropic-source"}})
        elif kind == "tool_use":
            calls.append(_tool_use_call(block))
        elif kind == "tool_result":
            out.append(_tool_result_message(block))
    if parts or calls:
        entry: dict[str, Any] = {"role": message["role"], "content": parts or None}
        if calls:
            entry["tool_calls"] = calls
        out.append(entry)
    return out


def _tool_use_call(block: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(block.get("id", "")),
        "type": "function",
        "function": {"name": str(block.get("name", "")), "arguments": dumps(block.get("input", {}))},
    }


def _tool_result_message(block: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "role": "tool",
        "tool_call_id": str(block.get("tool_use_id", "")),
        "content": content_text(block.get("content"))[0],
    }


def _choice_and_parallel(raw: Any) -> tuple[Any, bool]:
    """Anthropic's ``tool_choice`` in OpenAI's terms, and whether parallel tool use is allowed."""
    if not isinstance(raw, dict):
        return None, True
    kind = raw.get("type")
    choice = {"name": raw.get("name")} if kind == "tool" else kind
    return choice, not raw.get("disable_parallel_tool_use", False)


def _anthropic_tool_id(call: FakeToolCall) -> str:
    return "toolu_" + call.id.removeprefix("call_") if call.id.startswith("call_") else call.id


def _anthropic_stop_reason(turn: Turn) -> str:
    if turn.stop_sequence is not None:
        return "stop_sequence"
    return _ANTHROPIC_STOP.get(turn.finish_reason, "end_turn")


def anthropic_message(turn: Turn, *, message_id: str, model: str) -> dict[str, Any]:
    """An Anthropic ``message`` object."""
    content: list[dict[str, Any]] = []
    if turn.reasoning is not None:
        content.append({"type": "thinking", "thinking": turn.reasoning, "signature": short_hash(message_id, length=32)})
    if turn.content:
        content.append({"type": "text", "text": turn.content})
    content.extend(
        {"type": "tool_use", "id": _anthropic_tool_id(call), "name": call.name, "input": json_object(call.arguments)}
        for call in turn.tool_calls
    )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _anthropic_stop_reason(turn),
        "stop_sequence": turn.stop_sequence,
        "usage": {"input_tokens": turn.prompt_tokens, "output_tokens": turn.completion_tokens},
    }


def anthropic_stream_events(turn: Turn, *, message_id: str, model: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` pairs of an Anthropic Messages stream."""
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": turn.prompt_tokens, "output_tokens": 1},
                },
            },
        )
    ]
    index = 0

    def block(start: dict[str, Any], deltas: Iterable[dict[str, Any]]) -> None:
        nonlocal index
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
        events.extend(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}) for delta in deltas
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1

    if turn.reasoning is not None:
        block(
            {"type": "thinking", "thinking": "", "signature": ""},
            [
                *({"type": "thinking_delta", "thinking": p} for p in word_chunks(turn.reasoning)),
                {"type": "signature_delta", "signature": short_hash(message_id, length=32)},
            ],
        )
    if turn.content:
        block({"type": "text", "text": ""}, ({"type": "text_delta", "text": p} for p in word_chunks(turn.content)))
    for call in turn.tool_calls:
        block(
            {"type": "tool_use", "id": _anthropic_tool_id(call), "name": call.name, "input": {}},
            ({"type": "input_json_delta", "partial_json": p} for p in split_arguments(call.arguments)),
        )
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _anthropic_stop_reason(turn), "stop_sequence": turn.stop_sequence},
                "usage": {"output_tokens": turn.completion_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events
