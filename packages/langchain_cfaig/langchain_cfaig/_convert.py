"""Pure converters between LangChain types and ``cfaig`` wire types. No I/O, no client, no state.

Message direction: LangChain ``BaseMessage`` -> ``cfaig.types.ChatMessageParam`` (OpenAI dicts).
Answer direction: ``cfaig.ChatCompletion`` / ``ChatCompletionChunk`` -> ``AIMessage`` / ``AIMessageChunk``,
``cfaig.GatewayMeta`` -> ``response_metadata``, ``cfaig.types.Usage`` -> ``usage_metadata``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCallChunk,
    ToolMessage,
    convert_to_openai_data_block,
    is_data_content_block,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import ToolCall as LCToolCall
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from cfaig.types import (
    ChatCompletion,
    ChatMessageParam,
    ContentPartParam,
    Delta,
    GatewayMeta,
    ToolCall,
    ToolCallParam,
    ToolChoiceParam,
    Usage,
)

__all__ = [
    "EXTRA_CONTENT_KEY",
    "MODEL_PROVIDER",
    "REASONING_KEY",
    "completion_to_result",
    "convert_content",
    "delta_to_chunk",
    "final_chunk",
    "message_to_param",
    "messages_to_params",
    "response_metadata",
    "tool_call_to_param",
    "tool_choice_to_param",
    "usage_to_metadata",
]

MODEL_PROVIDER = "cloudflare-ai-gateway"
"""``response_metadata["model_provider"]``: the integration (the wire format is OpenAI Chat Completions)."""
REASONING_KEY = "reasoning_content"
"""``additional_kwargs`` key holding the model's reasoning text."""
EXTRA_CONTENT_KEY = "tool_call_extra_content"
"""``additional_kwargs`` key holding ``{tool_call_id: extra_content}`` to replay (Gemini thought signatures)."""

_ROLES: dict[type[BaseMessage], Literal["system", "user", "assistant", "tool"]] = {
    SystemMessage: "system",
    HumanMessage: "user",
    AIMessage: "assistant",
    AIMessageChunk: "assistant",
    ToolMessage: "tool",
}
_SKIPPED_BLOCKS = frozenset({"tool_use", "tool_call", "reasoning", "thinking", "redacted_thinking"})


# --------------------------------------------------------------------------------------------------
# LangChain -> cfaig
# --------------------------------------------------------------------------------------------------


def _content_part(block: Any) -> ContentPartParam | None:
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, Mapping):
        raise TypeError(f"unsupported content block of type {type(block).__name__}")
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind in _SKIPPED_BLOCKS:
        return None  # carried by tool_calls / additional_kwargs, not by the content
    if kind == "image_url":
        image_url = block.get("image_url")
        if isinstance(image_url, str):
            return {"type": "image_url", "image_url": {"url": image_url}}
        return cast("ContentPartParam", dict(block))
    if is_data_content_block(dict(block)):
        return cast("ContentPartParam", convert_to_openai_data_block(dict(block)))
    return cast("ContentPartParam", dict(block))


def convert_content(
    content: str | list[str | dict[str, Any]], *, text_only: bool = False
) -> str | list[ContentPartParam]:
    """A message's content as the wire expects it: a string, or a list of OpenAI content parts.

    ``text_only`` (assistant turns) joins the text parts into one string and drops the rest.
    """
    if isinstance(content, str):
        return content
    parts = [part for part in (_content_part(block) for block in content) if part is not None]
    if text_only or all(part["type"] == "text" for part in parts):
        return "".join(part.get("text", "") for part in parts if part["type"] == "text")
    return parts


def tool_call_to_param(call: LCToolCall, extra: Mapping[str, Any] | None = None) -> ToolCallParam:
    """A LangChain tool call as an OpenAI ``tool_calls`` entry, with ``extra_content`` re-attached."""
    param: ToolCallParam = {
        "id": call.get("id") or "",
        "type": "function",
        "function": {"name": call["name"], "arguments": json.dumps(call["args"], ensure_ascii=False)},
    }
    if extra:
        param["extra_content"] = dict(extra)
    return param


def _assistant_param(message: AIMessage) -> ChatMessageParam:
    param: ChatMessageParam = {"role": "assistant"}
    content = convert_content(message.content, text_only=True)
    extras: Mapping[str, Any] = message.additional_kwargs.get(EXTRA_CONTENT_KEY) or {}
    calls: list[ToolCallParam] = [
        tool_call_to_param(call, extras.get(call.get("id") or "")) for call in message.tool_calls
    ]
    for invalid in message.invalid_tool_calls:
        call_id = invalid.get("id") or ""
        invalid_param: ToolCallParam = {
            "id": call_id,
            "type": "function",
            "function": {"name": invalid.get("name") or "", "arguments": invalid.get("args") or ""},
        }
        if extras.get(call_id):
            invalid_param["extra_content"] = dict(extras[call_id])
        calls.append(invalid_param)
    if calls:
        param["tool_calls"] = calls
        param["content"] = content or None
    else:
        param["content"] = content
    if message.name:
        param["name"] = message.name
    return param


def message_to_param(message: BaseMessage) -> ChatMessageParam:
    """One LangChain message as an OpenAI chat message dict."""
    if isinstance(message, AIMessage):
        return _assistant_param(message)
    if isinstance(message, ToolMessage):
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": convert_content(message.content),
        }
    if isinstance(message, ChatMessage):
        role = cast("Literal['system', 'developer', 'user', 'assistant', 'tool']", message.role)
        param: ChatMessageParam = {"role": role, "content": convert_content(message.content)}
    elif isinstance(message, FunctionMessage):
        raise TypeError("FunctionMessage is the legacy function-calling API; use ToolMessage")
    else:
        known = _ROLES.get(type(message)) or next(
            (role for cls, role in _ROLES.items() if isinstance(message, cls)), None
        )
        if known is None:
            raise TypeError(f"unsupported message type {type(message).__name__}")
        param = {"role": known, "content": convert_content(message.content)}
    if message.name:
        param["name"] = message.name
    return param


def messages_to_params(messages: Sequence[BaseMessage]) -> list[ChatMessageParam]:
    return [message_to_param(message) for message in messages]


def tool_choice_to_param(
    choice: str | bool | Mapping[str, Any] | None, tool_names: Sequence[str]
) -> ToolChoiceParam | None:
    """LangChain's tool_choice spellings as the OpenAI value (``any``/``True`` -> ``required``)."""
    if choice is None or choice is False:
        return None
    if choice is True:
        if len(tool_names) == 1:
            return {"type": "function", "function": {"name": tool_names[0]}}
        return "required"
    if isinstance(choice, Mapping):
        return cast("ToolChoiceParam", dict(choice))
    if choice in ("auto", "none", "required"):
        return cast("ToolChoiceParam", choice)
    if choice == "any":
        return "required"
    return {"type": "function", "function": {"name": choice}}


# --------------------------------------------------------------------------------------------------
# cfaig -> LangChain
# --------------------------------------------------------------------------------------------------


def usage_to_metadata(usage: Usage | None) -> UsageMetadata | None:
    """Token counts with the cache-read and reasoning details when the provider reported them."""
    if usage is None:
        return None
    # a cast, not UsageMetadata(...): langchain-core releases for 3.11+ import NotRequired from typing, so a
    # type checker targeting 3.10 sees the optional details keys as required
    metadata = cast(
        "UsageMetadata",
        {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
        },
    )
    prompt_details = usage.prompt_tokens_details
    if prompt_details is not None:
        input_details = InputTokenDetails()
        if prompt_details.cached_tokens is not None:
            input_details["cache_read"] = prompt_details.cached_tokens
        if prompt_details.cache_creation_tokens is not None:
            input_details["cache_creation"] = prompt_details.cache_creation_tokens
        if prompt_details.audio_tokens is not None:
            input_details["audio"] = prompt_details.audio_tokens
        if input_details:
            metadata["input_token_details"] = input_details
    completion_details = usage.completion_tokens_details
    if completion_details is not None:
        output_details = OutputTokenDetails()
        if completion_details.reasoning_tokens is not None:
            output_details["reasoning"] = completion_details.reasoning_tokens
        if completion_details.audio_tokens is not None:
            output_details["audio"] = completion_details.audio_tokens
        if output_details:
            metadata["output_token_details"] = output_details
    return metadata


def response_metadata(meta: GatewayMeta, *, model_name: str | None, finish_reason: str | None) -> dict[str, Any]:
    """``model_name`` (the model that answered), ``finish_reason`` and the gateway's ``cf_aig_*`` headers."""
    metadata: dict[str, Any] = {
        "model_name": meta.served_by or model_name,
        "model_provider": MODEL_PROVIDER,
    }
    if finish_reason is not None:
        metadata["finish_reason"] = finish_reason
    if meta.log_id is not None:
        metadata["cf_aig_log_id"] = meta.log_id
    if meta.cache_status is not None:
        metadata["cf_aig_cache_status"] = meta.cache_status
    if meta.step is not None:
        metadata["cf_aig_step"] = meta.step
    if meta.event_id is not None:
        metadata["cf_aig_event_id"] = meta.event_id
    return metadata


def _parse_tool_calls(
    calls: Sequence[ToolCall],
) -> tuple[list[LCToolCall], list[InvalidToolCall], dict[str, dict[str, Any]]]:
    valid: list[LCToolCall] = []
    invalid: list[InvalidToolCall] = []
    extras: dict[str, dict[str, Any]] = {}
    for call in calls:
        raw = call.model_dump()
        extra = (call.model_extra or {}).get("extra_content")
        if isinstance(extra, dict) and call.id:
            extras[call.id] = extra
        if not call.function.arguments.strip():
            raw["function"]["arguments"] = "{}"  # a call without arguments
        try:
            parsed = parse_tool_call(raw, return_id=True)
        except OutputParserException as exc:
            invalid.append(make_invalid_tool_call(call.model_dump(), str(exc)))
            continue
        if parsed is not None:
            valid.append(cast("LCToolCall", parsed))
    return valid, invalid, extras


def completion_to_result(completion: ChatCompletion, *, model_name: str | None) -> ChatResult:
    """A whole answer as a ``ChatResult``: one generation per choice."""
    usage = usage_to_metadata(completion.usage)
    generations = []
    for choice in completion.choices:
        message = choice.message
        additional: dict[str, Any] = {}
        if message.reasoning:
            additional[REASONING_KEY] = message.reasoning
        if message.refusal:
            additional["refusal"] = message.refusal
        valid, invalid, extras = _parse_tool_calls(message.tool_calls or [])
        if extras:
            additional[EXTRA_CONTENT_KEY] = extras
        metadata = response_metadata(
            completion.gateway, model_name=completion.model or model_name, finish_reason=choice.finish_reason
        )
        ai_message = AIMessage(
            content=message.content or "",
            additional_kwargs=additional,
            tool_calls=valid,
            invalid_tool_calls=invalid,
            usage_metadata=usage,
            response_metadata=metadata,
            id=completion.id or None,
        )
        generation_info = {"finish_reason": choice.finish_reason} if choice.finish_reason else None
        generations.append(ChatGeneration(message=ai_message, generation_info=generation_info))
    llm_output: dict[str, Any] = {"model_name": completion.gateway.served_by or completion.model or model_name}
    if usage is not None:
        llm_output["token_usage"] = dict(usage)
    return ChatResult(generations=generations, llm_output=llm_output)


def delta_to_chunk(delta: Delta, *, message_id: str | None = None) -> ChatGenerationChunk | None:
    """One streamed delta as a generation chunk, or ``None`` when it carries nothing.

    Tool-call deltas keep the ``index`` the core repaired, so LangChain merges fragments by slot.
    """
    additional: dict[str, Any] = {}
    reasoning = delta.reasoning
    if reasoning:
        additional[REASONING_KEY] = reasoning
    calls: list[ToolCallChunk] = []
    for call in delta.tool_calls or ():
        function = call.function
        calls.append(
            tool_call_chunk(
                name=function.name if function is not None else None,
                args=function.arguments if function is not None else None,
                id=call.id,
                index=call.index,
            )
        )
    if not delta.content and not additional and not calls:
        return None
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content=delta.content or "",
            additional_kwargs=additional,
            tool_call_chunks=calls,
            id=message_id,
        )
    )


def final_chunk(
    *,
    meta: GatewayMeta,
    model_name: str | None,
    finish_reason: str | None,
    usage: Usage | None,
    tool_calls: Sequence[ToolCall],
    message_id: str | None = None,
) -> ChatGenerationChunk:
    """The closing chunk: response metadata, usage (exactly once) and tool-call extras to replay."""
    additional: dict[str, Any] = {}
    extras = {
        call.id: extra
        for call in tool_calls
        if call.id and isinstance(extra := (call.model_extra or {}).get("extra_content"), dict)
    }
    if extras:
        additional[EXTRA_CONTENT_KEY] = extras
    message = AIMessageChunk(
        content="",
        additional_kwargs=additional,
        usage_metadata=usage_to_metadata(usage),
        response_metadata=response_metadata(meta, model_name=model_name, finish_reason=finish_reason),
        chunk_position="last",
        id=message_id,
    )
    generation_info = {"finish_reason": finish_reason} if finish_reason else None
    return ChatGenerationChunk(message=message, generation_info=generation_info)
