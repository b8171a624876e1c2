"""Tools, structured-output schemas and the model profile of :class:`~langchain_cfaig.ChatCloudflareAIGateway`:
what the model builds from its arguments and the provider table, with no state of its own."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, cast

from langchain_core.language_models import ModelProfile
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.base import OutputParserLike
from langchain_core.utils.function_calling import convert_to_openai_tool

from cfaig.errors import ConfigurationError
from cfaig.providers import capabilities, known_model_size

__all__ = ["json_parser", "model_profile", "openai_tool", "response_format_param", "table_profile"]


def response_format_param(schema: Mapping[str, Any] | type, strict: bool | None = None) -> dict[str, Any]:
    """A ``response_format`` JSON schema from a pydantic class, a TypedDict, a JSON schema, or OpenAI's
    ``{"name": ..., "schema": ...}`` (what ChatOpenAI's ``_convert_to_openai_response_format`` accepts)."""
    if isinstance(schema, Mapping) and "name" in schema and "schema" in schema:
        return {"type": "json_schema", "json_schema": dict(schema)}
    function = convert_to_openai_tool(schema, strict=strict)["function"]
    json_schema: dict[str, Any] = {"name": function["name"], "schema": function["parameters"]}
    if function.get("description"):
        json_schema["description"] = function["description"]
    if strict is not None:
        json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}


def openai_tool(tool: Any, index: int, strict: bool | None) -> dict[str, Any]:
    """One bound tool in OpenAI's format, or a :class:`ConfigurationError` naming the entry that is not one."""
    try:
        formatted = convert_to_openai_tool(tool, strict=strict)
    except (ValueError, TypeError, KeyError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigurationError(f"tools[{index}] cannot be bound: {reason}") from None
    if isinstance(formatted.get("type"), str) and formatted["type"] != "function" and "function" not in formatted:
        return formatted  # one of OpenAI's built-in tools, passed through as langchain-core does
    function = formatted.get("function")
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str) or not function["name"]:
        raise ConfigurationError(
            f"tools[{index}] cannot be bound: an OpenAI tool dict needs function.name, "
            'e.g. {"type": "function", "function": {"name": "get_weather", "parameters": {...}}}'
        )
    return formatted


def model_profile(model: str) -> ModelProfile:
    """What the provider table (:mod:`cfaig.providers`) knows about ``model``, as LangChain's model profile.

    ``max_input_tokens`` / ``max_output_tokens`` only for a model the table sizes (no guess: LangChain's
    middleware then asks for a profile rather than trimming to a made-up window); tool calling, forced tool
    choice and native structured output (``response_format`` JSON schema) from the provider's capabilities.
    Each call returns a dict of its own.
    """
    return cast("ModelProfile", dict(table_profile(model)))


@functools.lru_cache(maxsize=256)
def table_profile(model: str) -> ModelProfile:
    """:func:`model_profile`, worked out once per model string (never handed out: it is shared)."""
    caps = capabilities(model)
    profile = ModelProfile(
        text_inputs=True,
        text_outputs=True,
        tool_calling=caps.tool_calling,
        tool_choice=caps.tool_calling and caps.tool_choice_required,
        tool_call_streaming=caps.tool_calling,
        structured_output=caps.json_schema,
    )
    size = known_model_size(model)
    if size is not None:
        profile["max_input_tokens"] = size.context_window
        profile["max_output_tokens"] = size.num_output
    # only the keys this langchain-core's ModelProfile declares (tool_call_streaming arrived after 1.4)
    declared = ModelProfile.__required_keys__ | ModelProfile.__optional_keys__
    return cast("ModelProfile", {key: value for key, value in profile.items() if key in declared})


def json_parser(schema: dict[str, Any] | type | None, is_pydantic: bool) -> OutputParserLike[Any]:
    if is_pydantic:
        return PydanticOutputParser(pydantic_object=cast("Any", schema))
    return JsonOutputParser()
