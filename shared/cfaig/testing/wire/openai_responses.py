"""OpenAI Responses API on the wire: parse a request body, render the ``response`` object and its stream events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..fake.providers import is_reasoning_model
from ..fake.text import content_text, split_arguments, word_chunks
from ..fake.types import ModelError, ParsedChat, Turn
from .common import ROLES, openai_style_chat, openai_tool_use, positive_int, response_format


def parse_responses_request(body: Mapping[str, Any], *, provider: str, model: str) -> ParsedChat:
    """Validate an OpenAI Responses API body and convert it to OpenAI-shaped messages."""
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        messages.append({"role": "user", "content": raw_input})
    elif isinstance(raw_input, list):
        for item in raw_input:
            _add_input_item(messages, item)
    if not any(m["role"] != "system" for m in messages):
        raise ModelError("'input' must be a string or a non-empty array of items", param="input")
    tool_use = openai_tool_use(body, flat=True)
    return openai_style_chat(
        body,
        tool_use,
        messages,
        provider=provider,
        model=model,
        response_format=_text_format(body.get("text")),
        max_tokens=positive_int(body, "max_output_tokens"),
        reasoning=isinstance(body.get("reasoning"), dict) or is_reasoning_model(model),
    )


def _add_input_item(messages: list[dict[str, Any]], item: Any) -> None:
    """Append one ``input`` item (message, function call or function call output) as OpenAI-shaped messages."""
    if not isinstance(item, dict):
        raise ModelError("input items must be objects", param="input")
    kind = item.get("type", "message")
    if kind == "message" and item.get("role") in ROLES:
        messages.append({"role": item["role"], "content": item.get("content")})
    elif kind == "function_call":
        call = {
            "id": str(item.get("call_id", "")),
            "type": "function",
            "function": {"name": str(item.get("name", "")), "arguments": str(item.get("arguments", "{}"))},
        }
        last = messages[-1] if messages else None
        if last is not None and last.get("role") == "assistant" and "tool_calls" in last:
            last["tool_calls"].append(call)
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        messages.append(
            {
                "role": "tool",
                "tool_call_id": str(item.get("call_id", "")),
                "content": output if isinstance(output, str) else content_text(output)[0],
            }
        )


def _text_format(text: Any) -> dict[str, Any] | None:
    """``text.format`` as a response format (a flat ``json_schema`` item is Chat's nested one)."""
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema":
        return response_format({"type": "json_schema", "json_schema": fmt})
    return response_format(fmt)


def _responses_usage(turn: Turn) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": turn.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": turn.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
        "total_tokens": turn.prompt_tokens + turn.completion_tokens,
    }
    if turn.usage_override:
        usage.update(turn.usage_override)
    return usage


def _responses_output(turn: Turn, response_id: str) -> list[dict[str, Any]]:
    suffix = response_id.removeprefix("resp_")
    output: list[dict[str, Any]] = []
    if turn.reasoning is not None:
        output.append(
            {"type": "reasoning", "id": f"rs_{suffix}", "summary": [{"type": "summary_text", "text": turn.reasoning}]}
        )
    if turn.content is not None:
        output.append(
            {
                "type": "message",
                "id": f"msg_{suffix}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": turn.content, "annotations": []}],
            }
        )
    for k, call in enumerate(turn.tool_calls):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{suffix}_{k}",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
        )
    return output


def responses_object(turn: Turn, *, response_id: str, created: int, model: str) -> dict[str, Any]:
    """An OpenAI Responses API ``response`` object."""
    incomplete = turn.finish_reason == "length"
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "error": None,
        "model": model,
        "output": _responses_output(turn, response_id),
        "usage": _responses_usage(turn),
    }


def _item_events(index: int, item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The events that stream one output item, from ``output_item.added`` to ``output_item.done``."""
    kind = item["type"]
    events: list[tuple[str, dict[str, Any]]] = []
    if kind == "message":
        text = item["content"][0]["text"]
        added = {**item, "status": "in_progress", "content": []}
        events.append(("response.output_item.added", {"output_index": index, "item": added}))
        part = {"type": "output_text", "text": "", "annotations": []}
        base = {"item_id": item["id"], "output_index": index, "content_index": 0}
        events.append(("response.content_part.added", {**base, "part": part}))
        events.extend(("response.output_text.delta", {**base, "delta": piece}) for piece in word_chunks(text))
        events.append(("response.output_text.done", {**base, "text": text}))
        events.append(("response.content_part.done", {**base, "part": item["content"][0]}))
    elif kind == "function_call":
        added = {**item, "status": "in_progress", "arguments": ""}
        events.append(("response.output_item.added", {"output_index": index, "item": added}))
        base = {"item_id": item["id"], "output_index": index}
        events.extend(
            ("response.function_call_arguments.delta", {**base, "delta": piece})
            for piece in split_arguments(item["arguments"])
        )
        events.append(("response.function_call_arguments.done", {**base, "arguments": item["arguments"]}))
    else:
        events.append(("response.output_item.added", {"output_index": index, "item": item}))
    events.append(("response.output_item.done", {"output_index": index, "item": item}))
    return events


def responses_stream_events(
    turn: Turn, *, response_id: str, created: int, model: str
) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` pairs of a Responses API stream."""
    final = responses_object(turn, response_id=response_id, created=created, model=model)
    pending = {**final, "status": "in_progress", "incomplete_details": None, "output": [], "usage": None}
    events: list[tuple[str, dict[str, Any]]] = [("response.created", {"response": pending})]
    for index, item in enumerate(final["output"]):
        events.extend(_item_events(index, item))
    done = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    events.append((done, {"response": final}))
    return [(name, {"type": name, "sequence_number": seq, **data}) for seq, (name, data) in enumerate(events)]
