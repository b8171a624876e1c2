"""A framework call on the Responses API: its chat-shaped request as a Responses request, messages as input items.

Both integrations build a :class:`cfaig.ChatRequest` from a call (:mod:`cfaig.integration.requests`) and
convert framework messages to OpenAI chat messages; here both become what the Responses API takes. The
differences are fixed by OpenAI's API reference (https://platform.openai.com/docs/api-reference/responses):
function tools are flat (``{"type": "function", "name": ...}``), ``response_format`` is ``text.format``,
``max_tokens`` is ``max_output_tokens``, ``reasoning_effort`` is ``reasoning.effort``, tool results are
``function_call_output`` items, and images are ``input_image`` parts. Chat Completions parameters the
Responses API has no counterpart for (``stop``, ``n``, ``seed``, the penalties, ``logprobs``) are refused
before any request rather than dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from cfaig.errors import ConfigurationError
from cfaig.integration.tools import tool_arguments_json
from cfaig.responses_types import ResponseFunctionCall, ResponsesRequest
from cfaig.types import ChatMessageParam, ChatRequest, FunctionCall, ToolCall

__all__ = [
    "UNSUPPORTED_PARAMETERS",
    "chat_tool_calls",
    "input_content",
    "message_items",
    "responses_request",
    "responses_tool",
    "responses_tool_choice",
    "text_format",
]

UNSUPPORTED_PARAMETERS: Final = frozenset({"stop", "n", "seed", "frequency_penalty", "presence_penalty", "logprobs"})
"""Chat Completions parameters the Responses API does not take."""
_NOT_SENT: Final = frozenset({"model", "messages", "extra_body", "stream_options"})


def responses_request(
    request: ChatRequest,
    items: Sequence[Mapping[str, Any]],
    *,
    reasoning: Mapping[str, Any] | None = None,
    **fields: Any,
) -> ResponsesRequest:
    """The Responses request for a chat-shaped ``request`` whose messages are already ``items``.

    ``reasoning`` (``{"effort", "summary"}``) is merged over ``reasoning_effort``; ``fields`` (``include``,
    ``store``, ``previous_response_id``, ``instructions``, ...) are sent when not ``None``. Raises
    :class:`ConfigurationError` for a parameter the Responses API does not take.
    """
    body: dict[str, Any] = {"model": request["model"], "input": list(items)}
    wanted_reasoning: dict[str, Any] = {}
    for key, value in request.items():
        if key in _NOT_SENT or value is None:
            continue
        if key in UNSUPPORTED_PARAMETERS:
            raise ConfigurationError(
                f"{key} is a Chat Completions parameter the Responses API does not take; "
                "leave it unset, or use the Chat Completions API"
            )
        if key == "tools":
            body["tools"] = [responses_tool(tool) for tool in cast("Sequence[Mapping[str, Any]]", value)]
        elif key == "tool_choice":
            body["tool_choice"] = responses_tool_choice(value)
        elif key == "response_format":
            body["text"] = {"format": text_format(cast("Mapping[str, Any]", value))}
        elif key in ("max_tokens", "max_completion_tokens"):
            body["max_output_tokens"] = value
        elif key == "reasoning_effort":
            wanted_reasoning["effort"] = value
        else:
            body[key] = value
    wanted_reasoning.update({key: value for key, value in (reasoning or {}).items() if value is not None})
    if wanted_reasoning:
        body["reasoning"] = wanted_reasoning
    body.update({key: value for key, value in fields.items() if value is not None})
    extra = request.get("extra_body")
    if extra:
        body["extra_body"] = dict(extra)
    return cast(ResponsesRequest, body)


def responses_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A Chat Completions tool as the Responses API's: a function tool is flat; built-in tools pass as they are."""
    function = tool.get("function")
    if tool.get("type") == "function" and isinstance(function, Mapping):
        return {"type": "function", **function}
    return dict(tool)


def responses_tool_choice(choice: Any) -> Any:
    """``{"type": "function", "function": {"name": n}}`` is ``{"type": "function", "name": n}`` here."""
    if isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        return {"type": "function", "name": choice["function"].get("name")}
    return choice


def text_format(response_format: Mapping[str, Any]) -> dict[str, Any]:
    """A Chat Completions ``response_format`` as the Responses API's ``text.format``."""
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema")
        return {"type": "json_schema", **(dict(spec) if isinstance(spec, Mapping) else {})}
    return dict(response_format)


def input_content(content: Any, *, role: str = "user") -> Any:
    """A chat message's content as Responses content: text and images as ``input_text`` / ``input_image``
    parts (``output_text`` for an assistant), files as ``input_file``; a string stays a string."""
    if not isinstance(content, Sequence) or isinstance(content, str):
        return content
    text_type = "output_text" if role == "assistant" else "input_text"
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            parts.append({"type": text_type, "text": part.get("text", "")})
        elif kind == "image_url":
            image = part.get("image_url")
            url, detail = (image.get("url"), image.get("detail")) if isinstance(image, Mapping) else (image, None)
            parts.append({"type": "input_image", "image_url": url, **({"detail": detail} if detail else {})})
        elif kind == "file" and isinstance(part.get("file"), Mapping):
            parts.append({"type": "input_file", **part["file"]})
        elif kind == "input_audio":
            raise ConfigurationError("the Responses API takes no audio input; use the Chat Completions API for audio")
        elif isinstance(part, Mapping):
            parts.append(dict(part))  # already a Responses part (input_text, input_image, input_file, ...)
    return parts


def message_items(message: ChatMessageParam) -> list[dict[str, Any]]:
    """One OpenAI chat message as Responses input items.

    A tool result is a ``function_call_output``; an assistant turn is an output message and one
    ``function_call`` per tool call. The Responses API has no per-message ``name``, so a name is not sent.
    """
    role = message["role"]
    content = message.get("content")
    if role == "tool":
        output = input_content(content, role="tool")
        return [{"type": "function_call_output", "call_id": message.get("tool_call_id", ""), "output": output or ""}]
    if role != "assistant":
        return [{"type": "message", "role": role, "content": input_content(content, role=role)}]
    items: list[dict[str, Any]] = []
    text = content if isinstance(content, str) else None
    if isinstance(content, list):
        text = "".join(str(part.get("text", "")) for part in content if part.get("type") == "text")
    if text:
        items.append(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        )
    for call in message.get("tool_calls") or ():
        function = call["function"]
        items.append(
            {
                "type": "function_call",
                "call_id": call["id"],
                "name": function["name"],
                "arguments": tool_arguments_json(function["arguments"]),
            }
        )
    return items


def chat_tool_calls(calls: Sequence[ResponseFunctionCall]) -> list[ToolCall]:
    """An answer's function calls in the Chat Completions shape (``id`` is the ``call_id``), so the
    frameworks read them with the code that reads chat tool calls."""
    return [
        ToolCall(id=call.call_id, function=FunctionCall(name=call.name, arguments=call.arguments)) for call in calls
    ]
