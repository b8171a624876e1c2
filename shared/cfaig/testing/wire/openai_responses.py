"""OpenAI Responses API on the wire: parse a request body, render the ``response`` object and its stream events.

Reasoning follows OpenAI's reasoning guide (https://platform.openai.com/docs/guides/reasoning): a reasoning
model's output starts with a ``reasoning`` item whose ``summary`` is empty unless ``reasoning.summary`` asks
for one; ``include: ["reasoning.encrypted_content"]`` adds the opaque ``encrypted_content`` a stateless
conversation sends back; open-weight gpt-oss models also return their raw reasoning as ``reasoning_text``
content. Models that do not reason refuse the ``reasoning`` parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..fake.providers import reasons_on_responses, shows_raw_reasoning
from ..fake.text import content_text, split_arguments, word_chunks
from ..fake.types import ModelError, ParsedChat, Turn
from .common import ROLES, openai_style_chat, openai_tool_use, positive_int, response_format

_ENCRYPTED_PREFIX: Final = "cfaig-emulator-reasoning:"
_ENCRYPTED_INCLUDE: Final = "reasoning.encrypted_content"


@dataclass(frozen=True, slots=True)
class ReasoningDisplay:
    """What a response shows of its reasoning item: a summary, the raw text, the encrypted content."""

    summary: bool = False
    raw: bool = False
    encrypted: bool = False


def reasoning_display(body: Mapping[str, Any], model: str) -> ReasoningDisplay:
    """The reasoning a request asked to see (``reasoning.summary``, ``include``) and the model shows."""
    reasoning = body.get("reasoning")
    include = body.get("include")
    return ReasoningDisplay(
        summary=isinstance(reasoning, dict) and reasoning.get("summary") is not None,
        raw=shows_raw_reasoning(model),
        encrypted=isinstance(include, list) and _ENCRYPTED_INCLUDE in include,
    )


def parse_responses_request(
    body: Mapping[str, Any], *, provider: str, model: str, history: Sequence[Mapping[str, Any]] = ()
) -> ParsedChat:
    """Validate an OpenAI Responses API body and convert it to OpenAI-shaped messages.

    ``history`` is the conversation of the ``previous_response_id`` (it follows the instructions, which do
    not carry over from the previous response).
    """
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    messages.extend(dict(message) for message in history)
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
        reasoning=_reasons(body, model),
    )


def _reasons(body: Mapping[str, Any], model: str) -> bool:
    """Whether the model reasons for this request; a ``reasoning`` parameter for a model that cannot is refused."""
    reasoning = body.get("reasoning")
    if reasoning is None:
        return reasons_on_responses(model)
    if not isinstance(reasoning, dict):
        raise ModelError("'reasoning' must be an object", param="reasoning")
    if not reasons_on_responses(model):
        name = next((key for key in ("effort", "summary") if reasoning.get(key) is not None), None)
        if name is not None:
            raise ModelError(
                f"Unsupported parameter: 'reasoning.{name}' is not supported with this model.",
                param=f"reasoning.{name}",
            )
        return False
    return reasoning.get("effort") != "none"


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


def reasoning_inputs(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``reasoning`` items a request sends back (each must be stored, or carry its encrypted content)."""
    raw_input = body.get("input")
    if not isinstance(raw_input, list):
        return []
    return [item for item in raw_input if isinstance(item, dict) and item.get("type") == "reasoning"]


def encrypt_reasoning(item_id: str, text: str) -> str:
    """The emulator's stand-in for OpenAI's opaque ``encrypted_content``: a token it can verify later."""
    payload = json.dumps({"id": item_id, "text": text}, ensure_ascii=False).encode()
    return _ENCRYPTED_PREFIX + base64.b64encode(payload).decode()


def verify_encrypted_reasoning(token: Any) -> bool:
    """Whether ``token`` is encrypted content this emulator issued."""
    if not isinstance(token, str) or not token.startswith(_ENCRYPTED_PREFIX):
        return False
    try:
        payload = json.loads(base64.b64decode(token[len(_ENCRYPTED_PREFIX) :], validate=True))
    except (binascii.Error, ValueError):
        return False
    return isinstance(payload, dict) and isinstance(payload.get("id"), str)


def _text_format(text: Any) -> dict[str, Any] | None:
    """``text.format`` as a response format (a flat ``json_schema`` item is Chat's nested one)."""
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema":
        return response_format({"type": "json_schema", "json_schema": fmt})
    return response_format(fmt)


def responses_usage(turn: Turn, *, cached_tokens: int = 0) -> dict[str, Any]:
    """Responses ``usage``; ``cached_tokens`` are the input tokens of a stored conversation being continued."""
    usage: dict[str, Any] = {
        "input_tokens": turn.prompt_tokens,
        "input_tokens_details": {"cached_tokens": min(cached_tokens, turn.prompt_tokens)},
        "output_tokens": turn.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
        "total_tokens": turn.prompt_tokens + turn.completion_tokens,
    }
    if turn.usage_override:
        usage.update(turn.usage_override)
    return usage


def _reasoning_item(turn: Turn, item_id: str, display: ReasoningDisplay) -> dict[str, Any]:
    text = turn.reasoning or ""
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": item_id,
        "summary": [{"type": "summary_text", "text": text}] if display.summary and text else [],
    }
    if display.raw and text:
        item["content"] = [{"type": "reasoning_text", "text": text}]
    if display.encrypted:
        item["encrypted_content"] = encrypt_reasoning(item_id, text)
    return item


def responses_output(turn: Turn, response_id: str, display: ReasoningDisplay) -> list[dict[str, Any]]:
    """The ``output`` items of a response: reasoning (for a reasoning turn), the message, the function calls."""
    suffix = response_id.removeprefix("resp_")
    output: list[dict[str, Any]] = []
    if turn.reasoning is not None:
        output.append(_reasoning_item(turn, f"rs_{suffix}", display))
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


def responses_object(
    turn: Turn,
    *,
    response_id: str,
    created: int,
    model: str,
    display: ReasoningDisplay | None = None,
    cached_tokens: int = 0,
    previous_response_id: str | None = None,
) -> dict[str, Any]:
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
        "previous_response_id": previous_response_id,
        "output": responses_output(turn, response_id, display or ReasoningDisplay()),
        "usage": responses_usage(turn, cached_tokens=cached_tokens),
    }


def conversation_after(request: ParsedChat, body: Mapping[str, Any], turn: Turn) -> list[dict[str, Any]]:
    """What a later ``previous_response_id`` continues: the messages without the instructions, then the answer."""
    instructions = body.get("instructions")
    messages = request.messages[1:] if isinstance(instructions, str) and instructions else list(request.messages)
    answer: dict[str, Any] = {"role": "assistant", "content": turn.content}
    if turn.tool_calls:
        answer["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in turn.tool_calls
        ]
    return [*messages, answer]


def _reasoning_events(index: int, item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The summary parts and raw text of a reasoning item, streamed (between its added and done events)."""
    events: list[tuple[str, dict[str, Any]]] = []
    base = {"item_id": item["id"], "output_index": index}
    for s, part in enumerate(item["summary"]):
        at = {**base, "summary_index": s}
        events.append(("response.reasoning_summary_part.added", {**at, "part": {"type": "summary_text", "text": ""}}))
        events.extend(
            ("response.reasoning_summary_text.delta", {**at, "delta": piece}) for piece in word_chunks(part["text"])
        )
        events.append(("response.reasoning_summary_text.done", {**at, "text": part["text"]}))
        events.append(("response.reasoning_summary_part.done", {**at, "part": part}))
    for c, part in enumerate(item.get("content") or ()):
        at = {**base, "content_index": c}
        events.extend(("response.reasoning_text.delta", {**at, "delta": piece}) for piece in word_chunks(part["text"]))
        events.append(("response.reasoning_text.done", {**at, "text": part["text"]}))
    return events


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
    elif kind == "reasoning":
        added = {key: value for key, value in item.items() if key not in ("content", "encrypted_content")}
        events.append(("response.output_item.added", {"output_index": index, "item": {**added, "summary": []}}))
        events.extend(_reasoning_events(index, item))
    else:
        events.append(("response.output_item.added", {"output_index": index, "item": item}))
    events.append(("response.output_item.done", {"output_index": index, "item": item}))
    return events


def responses_stream_events(final: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` pairs of the stream of a ``response`` object (:func:`responses_object`)."""
    pending = {**final, "status": "in_progress", "incomplete_details": None, "output": [], "usage": None}
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": pending}),
        ("response.in_progress", {"response": pending}),
    ]
    for index, item in enumerate(final["output"]):
        events.extend(_item_events(index, item))
    done = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    events.append((done, {"response": dict(final)}))
    return [(name, {"type": name, "sequence_number": seq, **data}) for seq, (name, data) in enumerate(events)]
