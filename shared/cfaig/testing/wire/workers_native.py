"""Workers AI's native run API on the wire: parse a text-generation body, render its ``result`` and stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..fake.providers import is_reasoning_model
from ..fake.text import json_object, word_chunks
from ..fake.types import ModelError, ParsedChat, Turn
from .common import ROLES, positive_int, tools_from_openai


def parse_workers_chat(body: Mapping[str, Any], *, model: str) -> ParsedChat:
    """Validate a Workers AI native text-generation body (``messages`` or ``prompt``)."""
    messages = body.get("messages")
    prompt = body.get("prompt")
    if isinstance(messages, list) and messages:
        converted = [dict(m) for m in messages if isinstance(m, dict) and m.get("role") in ROLES]
    elif isinstance(prompt, str):
        converted = [{"role": "user", "content": prompt}]
    else:
        raise ModelError("Error: required properties at '/' are 'messages' or 'prompt'", style="cloudflare")
    tools = tools_from_openai(body.get("tools"))
    return ParsedChat(
        provider="workers-ai",
        model=model,
        messages=converted,
        tools=tools,
        tool_choice="auto" if tools else "none",
        max_tokens=positive_int(body, "max_tokens"),
        reasoning=is_reasoning_model(model),
    )


def _workers_usage(turn: Turn) -> dict[str, int]:
    return {
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": turn.completion_tokens,
        "total_tokens": turn.prompt_tokens + turn.completion_tokens,
    }


def _workers_tool_calls(turn: Turn) -> list[dict[str, Any]]:
    return [{"name": c.name, "arguments": json_object(c.arguments)} for c in turn.tool_calls]


def workers_result(turn: Turn) -> dict[str, Any]:
    """The ``result`` of a Workers AI native text-generation call."""
    result: dict[str, Any] = {"response": turn.content if not turn.tool_calls else None}
    if turn.tool_calls:
        result["tool_calls"] = _workers_tool_calls(turn)
    result["usage"] = _workers_usage(turn)
    return result


def workers_stream_events(turn: Turn) -> list[dict[str, Any]]:
    """``data:`` payloads of a Workers AI native stream (without ``[DONE]``)."""
    events: list[dict[str, Any]] = [
        {"response": piece, "p": "abcdefghijklmnopqrstuvwxyz"[: 1 + len(piece) % 26]}
        for piece in word_chunks(turn.content or "")
    ]
    if turn.tool_calls:
        events.append({"tool_calls": _workers_tool_calls(turn)})
    events.append({"response": "", "usage": _workers_usage(turn)})
    return events
