"""Tool calls between the frameworks and the wire: arguments JSON, ``tool_calls`` entries, provider extras, tool_choice.

Both frameworks send a tool call back with the history and read it from an answer; the wire shape, the
JSON encoding of the arguments, the provider extras to replay and the spellings of ``tool_choice`` are
the same for both, so they are written here once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

from cfaig.types import ToolCall, ToolCallParam, ToolChoiceParam

__all__ = [
    "ToolCallParts",
    "normalise_tool_choice",
    "read_tool_call",
    "tool_arguments_json",
    "tool_call_extra",
    "tool_call_extras",
    "tool_call_param",
]

_TOOL_CHOICES = frozenset({"auto", "none", "required"})


def tool_arguments_json(arguments: Any) -> str:
    """Tool arguments as the wire's JSON string.

    A string is sent as it is (it already is JSON, or the partial text a model wrote); anything else is
    encoded with non-ASCII characters kept as they are, the way models write them (``None`` is ``{}``).
    """
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)


def tool_call_param(call_id: str, name: str, arguments: Any, extra: Mapping[str, Any] | None = None) -> ToolCallParam:
    """One OpenAI ``tool_calls`` entry, with the provider's ``extra_content`` re-attached when there is one."""
    param: ToolCallParam = {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": tool_arguments_json(arguments)},
    }
    if extra:
        param["extra_content"] = dict(extra)
    return param


class ToolCallParts(NamedTuple):
    """The parts of an OpenAI-shaped tool call."""

    id: str
    name: str
    arguments: Any
    """The JSON text, or already-parsed arguments."""
    extra: dict[str, Any] | None
    """The call's ``extra_content``, if it carries one."""


def read_tool_call(raw: Any) -> ToolCallParts | None:
    """An OpenAI-shaped tool call (a dict or a pydantic object, as frameworks keep them in
    ``additional_kwargs["tool_calls"]``), or ``None`` when it is not one or names no function."""
    data = raw.model_dump() if hasattr(raw, "model_dump") else raw
    if not isinstance(data, Mapping):
        return None
    function = data.get("function") or {}
    if not isinstance(function, Mapping) or not function.get("name"):
        return None
    extra = data.get("extra_content")
    return ToolCallParts(
        id=str(data.get("id") or ""),
        name=str(function["name"]),
        arguments=function.get("arguments"),
        extra=dict(extra) if isinstance(extra, Mapping) else None,
    )


def tool_call_extra(call: ToolCall) -> dict[str, Any] | None:
    """The provider fields of an answered tool call that must be sent back with it (``extra_content``:
    Gemini's thought signatures), or ``None``."""
    extra = (call.model_extra or {}).get("extra_content")
    return dict(extra) if isinstance(extra, Mapping) else None


def tool_call_extras(calls: Iterable[ToolCall]) -> dict[str, dict[str, Any]]:
    """``{call id: extra_content}`` for the calls that carry extras (a call without an id cannot be matched)."""
    return {call.id: extra for call in calls if call.id and (extra := tool_call_extra(call)) is not None}


def normalise_tool_choice(
    choice: str | bool | Mapping[str, Any] | None,
    tool_names: Sequence[str] = (),
    *,
    required: bool = False,
) -> ToolChoiceParam | None:
    """A framework's ``tool_choice`` as the OpenAI value, or ``None`` to send none (the provider's "auto").

    ``"auto"``, ``"none"`` and ``"required"`` pass as they are; ``"any"`` (LangChain's word) is
    ``"required"``; ``True`` is the only tool when ``tool_names`` holds one, else ``"required"``; any other
    string names that function (LlamaIndex's ``FunctionAgent(initial_tool_choice=...)`` passes a bare
    name); a mapping is sent as it is. Without a choice, ``required`` (LlamaIndex's ``tool_required``)
    asks for ``"required"``.
    """
    if choice is None or choice is False:
        return "required" if required else None
    if choice is True:
        if len(tool_names) == 1:
            return {"type": "function", "function": {"name": tool_names[0]}}
        return "required"
    if isinstance(choice, Mapping):
        return cast("ToolChoiceParam", dict(choice))
    if choice in _TOOL_CHOICES:
        return cast("ToolChoiceParam", choice)
    if choice == "any":
        return "required"
    return {"type": "function", "function": {"name": choice}}
