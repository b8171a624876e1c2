"""What the wire dialects share: request fields (tools, tool choice, response format, limits, stops), SSE framing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic_core import to_json

from ..fake.providers import check_quirks
from ..fake.types import ModelError, ParsedChat, ToolChoice, ToolSpec

JSON_TYPE: Final = "application/json"
SSE_TYPE: Final = "text/event-stream"
SSE_DONE: Final = b"data: [DONE]\n\n"
"""The OpenAI-style end-of-stream marker."""

ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def sse_event(payload: Any, event: str | None = None) -> bytes:
    """One server-sent event: ``data: <json>`` (after ``event: <name>`` when named)."""
    data = b"data: " + to_json(payload) + b"\n\n"
    return f"event: {event}\n".encode() + data if event else data


def tools_from_openai(raw: Any, *, flat: bool = False) -> list[ToolSpec]:
    """Function tools of a request (``flat``: Responses/Anthropic items without a ``function`` wrapper)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ModelError("'tools' must be an array", param="tools")
    tools: list[ToolSpec] = []
    for item in raw:
        if not isinstance(item, dict):
            raise ModelError("each tool must be an object", param="tools")
        function = item if flat or "function" not in item else item.get("function")
        if item.get("type", "function") != "function" or not isinstance(function, dict):
            continue
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise ModelError("each function tool needs a 'name'", param="tools")
        params = function.get("parameters", function.get("input_schema"))
        tools.append(
            ToolSpec(
                name=name,
                description=str(function.get("description") or ""),
                parameters=dict(params)
                if isinstance(params, dict) and params
                else {"type": "object", "properties": {}},
            )
        )
    return tools


def tool_choice(raw: Any, tools: Sequence[ToolSpec]) -> tuple[ToolChoice, str | None]:
    """The tool choice and the forced tool's name (validated against ``tools``)."""
    if raw is None or raw == "auto":
        return ("auto" if tools else "none"), None
    if raw == "none":
        return "none", None
    if raw in ("required", "any"):
        return "required", None
    if isinstance(raw, dict):
        function = raw.get("function")
        name = function.get("name") if isinstance(function, dict) else raw.get("name")
        if isinstance(name, str):
            if name not in {t.name for t in tools}:
                raise ModelError(f"tool_choice names unknown function '{name}'", param="tool_choice")
            return "function", name
    raise ModelError("invalid 'tool_choice'", param="tool_choice")


def response_format(raw: Any) -> dict[str, Any] | None:
    """An OpenAI ``response_format`` as ``{"type": "json_object"}`` or ``{"type": "json_schema", …}``."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ModelError("'response_format' must be an object", param="response_format")
    kind = raw.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        spec = raw.get("json_schema", raw)
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ModelError("response_format.json_schema.schema must be an object", param="response_format")
        return {"type": "json_schema", "schema": schema, "strict": bool(spec.get("strict", False))}
    raise ModelError(f"unsupported response_format type {kind!r}", param="response_format")


def positive_int(body: Mapping[str, Any], *names: str, maximum: int | None = None) -> int | None:
    """The first of ``names`` present in ``body``, which must be a positive integer (at most ``maximum``)."""
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ModelError(f"'{name}' must be a positive integer", param=name)
        if maximum is not None and value > maximum:
            raise ModelError(f"'{name}' must be at most {maximum}", param=name)
        return value
    return None


def stops(raw: Any) -> tuple[str, ...]:
    """Stop sequences from a string or an array of strings (empty ones dropped)."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,) if raw else ()
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return tuple(s for s in raw if s)
    raise ModelError("'stop' must be a string or an array of strings", param="stop")


@dataclass(frozen=True, slots=True)
class ToolUse:
    """The tool fields of an OpenAI-family body: the tools, the choice, the forced tool, parallel calls."""

    tools: list[ToolSpec]
    choice: ToolChoice
    forced: str | None
    parallel: bool


def openai_tool_use(body: Mapping[str, Any], *, flat: bool) -> ToolUse:
    """Validate ``tools``, ``tool_choice`` and ``parallel_tool_calls`` (Chat and Responses name them alike)."""
    tools = tools_from_openai(body.get("tools"), flat=flat)
    choice, forced = tool_choice(body.get("tool_choice"), tools)
    return ToolUse(tools, choice, forced, body.get("parallel_tool_calls") is not False)


def openai_style_chat(
    body: Mapping[str, Any],
    tool_use: ToolUse,
    messages: list[dict[str, Any]],
    *,
    provider: str,
    model: str,
    response_format: dict[str, Any] | None,
    max_tokens: int | None,
    reasoning: bool,
    stop: tuple[str, ...] = (),
    n: int = 1,
) -> ParsedChat:
    """A :class:`ParsedChat` from an OpenAI-family body, with the provider's quirks checked."""
    request = ParsedChat(
        provider=provider,
        model=model,
        messages=messages,
        tools=tool_use.tools,
        tool_choice=tool_use.choice,
        forced_tool=tool_use.forced,
        parallel_tool_calls=tool_use.parallel,
        response_format=response_format,
        max_tokens=max_tokens,
        stop=stop,
        n=n,
        reasoning=reasoning,
    )
    check_quirks(request, body)
    return request
