"""Pure converters between LangChain types and ``cfaig`` wire types. No I/O, no client, no state.

Message direction: LangChain ``BaseMessage`` -> ``cfaig.types.ChatMessageParam`` (OpenAI dicts).
Answer direction: ``cfaig.ChatCompletion`` / ``ChatCompletionChunk`` -> ``AIMessage`` / ``AIMessageChunk``,
``cfaig.GatewayMeta`` -> ``response_metadata``, ``cfaig.types.Usage`` -> ``usage_metadata``. What is not
LangChain's to decide (key names, gateway keys, token arithmetic, tool-call wire shape) is
:mod:`cfaig.integration`'s.
"""

from __future__ import annotations

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
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel

from cfaig.integration.answer import EXTRA_CONTENT_KEY, REASONING_KEY, gateway_fields, token_counts
from cfaig.integration.tools import tool_call_extras, tool_call_param
from cfaig.types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessageParam,
    ContentPartParam,
    Delta,
    GatewayMeta,
    ToolCall,
    ToolCallParam,
    Usage,
)

__all__ = [
    "EXTRA_CONTENT_KEY",
    "MODEL_PROVIDER",
    "REASONING_KEY",
    "chunk_to_generations",
    "combine_token_usage",
    "completion_to_result",
    "convert_content",
    "delta_to_chunk",
    "final_chunk",
    "message_to_param",
    "messages_to_params",
    "parse_answer",
    "parse_target",
    "response_metadata",
    "token_usage",
    "tool_call_to_param",
    "usage_to_metadata",
]

MODEL_PROVIDER = "cloudflare-ai-gateway"
"""``response_metadata["model_provider"]``: the integration (the wire format is OpenAI Chat Completions)."""

_ROLES: dict[type[BaseMessage], Literal["system", "user", "assistant", "tool"]] = {
    SystemMessage: "system",
    HumanMessage: "user",
    AIMessage: "assistant",
    AIMessageChunk: "assistant",
    ToolMessage: "tool",
}
_SKIPPED_BLOCKS = frozenset({"tool_use", "tool_call", "reasoning", "thinking", "redacted_thinking"})
_LANGCHAIN_BLOCK_KEYS = frozenset({"id", "index", "annotations"})
"""Keys LangChain keeps on a text block for itself (merging streamed chunks, output citations), not sent."""


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
        # as given (cache_control and any other provider key stay), minus LangChain's own bookkeeping
        part = {key: value for key, value in block.items() if key not in _LANGCHAIN_BLOCK_KEYS}
        part["text"] = str(block.get("text", ""))
        return cast("ContentPartParam", part)
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
    """A message's content as the wire expects it: a string as it is, a list as a list of OpenAI content
    parts (text parts keep their keys, such as Anthropic's ``cache_control``; LangChain's standard data
    blocks become OpenAI parts).

    ``text_only`` (assistant turns) joins the text parts into one string and drops the rest: a list there is
    the model's own answer in blocks (text, reasoning, tool calls carried by ``tool_calls``), and joined it
    is what the model wrote.
    """
    if isinstance(content, str):
        return content
    parts = [part for part in (_content_part(block) for block in content) if part is not None]
    if text_only:
        return "".join(part.get("text", "") for part in parts if part["type"] == "text")
    return parts


def tool_call_to_param(call: LCToolCall, extra: Mapping[str, Any] | None = None) -> ToolCallParam:
    """A LangChain tool call as an OpenAI ``tool_calls`` entry, with ``extra_content`` re-attached."""
    return tool_call_param(call.get("id") or "", call["name"], call["args"], extra)


def _assistant_param(message: AIMessage) -> ChatMessageParam:
    param: ChatMessageParam = {"role": "assistant"}
    content = convert_content(message.content, text_only=True)
    extras: Mapping[str, Any] = message.additional_kwargs.get(EXTRA_CONTENT_KEY) or {}
    calls: list[ToolCallParam] = [
        tool_call_to_param(call, extras.get(call.get("id") or "")) for call in message.tool_calls
    ]
    for invalid in message.invalid_tool_calls:  # sent back as the model wrote them
        call_id = invalid.get("id") or ""
        calls.append(
            tool_call_param(call_id, invalid.get("name") or "", invalid.get("args") or "", extras.get(call_id))
        )
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


# --------------------------------------------------------------------------------------------------
# cfaig -> LangChain
# --------------------------------------------------------------------------------------------------


def usage_to_metadata(usage: Usage | None) -> UsageMetadata | None:
    """Token counts with the cache, audio and reasoning details when the provider reported them."""
    if usage is None:
        return None
    counts = token_counts(usage)
    # a cast, not UsageMetadata(...): langchain-core releases for 3.11+ import NotRequired from typing, so a
    # type checker targeting 3.10 sees the optional details keys as required
    metadata = cast(
        "UsageMetadata",
        {"input_tokens": counts.input, "output_tokens": counts.output, "total_tokens": counts.total},
    )
    input_details = _details(
        cache_read=counts.cache_read, cache_creation=counts.cache_creation, audio=counts.input_audio
    )
    if input_details:
        metadata["input_token_details"] = cast("InputTokenDetails", input_details)
    output_details = _details(reasoning=counts.reasoning, audio=counts.output_audio)
    if output_details:
        metadata["output_token_details"] = cast("OutputTokenDetails", output_details)
    return metadata


def _details(**counts: int | None) -> dict[str, int]:
    return {name: count for name, count in counts.items() if count is not None}


def response_metadata(meta: GatewayMeta, *, model_name: str | None, finish_reason: str | None) -> dict[str, Any]:
    """``model_name`` (the model that answered), ``finish_reason`` and the gateway's ``cf_aig_*`` keys."""
    metadata: dict[str, Any] = {
        "model_name": meta.served_by or model_name,
        "model_provider": MODEL_PROVIDER,
    }
    if finish_reason is not None:
        metadata["finish_reason"] = finish_reason
    metadata.update(gateway_fields(meta))
    return metadata


def _parse_tool_calls(
    calls: Sequence[ToolCall],
) -> tuple[list[LCToolCall], list[InvalidToolCall], dict[str, dict[str, Any]]]:
    valid: list[LCToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in calls:
        raw = call.model_dump()
        if not call.function.arguments.strip():
            raw["function"]["arguments"] = "{}"  # a call without arguments
        try:
            parsed = parse_tool_call(raw, return_id=True)
        except OutputParserException as exc:
            invalid.append(make_invalid_tool_call(call.model_dump(), str(exc)))
            continue
        if parsed is not None:
            valid.append(cast("LCToolCall", parsed))
    return valid, invalid, tool_call_extras(calls)


def parse_target(kwargs: Mapping[str, Any]) -> type[BaseModel] | None:
    """The pydantic class a call's ``response_format=`` names: its answer is parsed into ``parsed``."""
    schema = kwargs.get("response_format")
    return schema if isinstance(schema, type) and is_basemodel_subclass(schema) else None


def parse_answer(text: str, schema: type[BaseModel]) -> BaseModel:
    """An answer requested with ``response_format=<pydantic class>``, as that class (ChatOpenAI's ``parsed``);
    an answer that does not fit is an ``OutputParserException`` carrying the text."""
    try:
        return schema.model_validate_json(text)
    except ValueError as exc:  # pydantic's ValidationError is one
        raise OutputParserException(
            f"the answer does not match {schema.__name__}: {' '.join(str(exc).split())[:300]}", llm_output=text
        ) from exc


def completion_to_result(
    completion: ChatCompletion, *, model_name: str | None, parse: type[BaseModel] | None = None
) -> ChatResult:
    """A whole answer as a ``ChatResult``: one generation per choice; ``parse`` puts each choice's answer
    into ``additional_kwargs["parsed"]`` as that class (a refusal or an empty answer has none)."""
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
        if parse is not None and message.content and not message.refusal:
            additional["parsed"] = parse_answer(message.content, parse)
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
    if completion.usage is not None:
        llm_output["token_usage"] = token_usage(completion.usage)
    return ChatResult(generations=generations, llm_output=llm_output)


def token_usage(usage: Usage) -> dict[str, Any]:
    """``llm_output["token_usage"]`` in OpenAI's shape, as ChatOpenAI reports it (older cost trackers and
    ``on_llm_end`` handlers read ``prompt_tokens`` / ``completion_tokens`` there): the provider's usage object
    with ``total_tokens`` filled in when it was not reported."""
    data = usage.model_dump(exclude_none=True)
    data["total_tokens"] = token_counts(usage).total
    return data


def combine_token_usage(total: dict[str, Any], more: Mapping[str, Any]) -> None:
    """Add ``more`` into ``total`` in place: numbers summed, nested details merged (``_combine_llm_outputs``)."""
    for key, value in more.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            combine_token_usage(total.setdefault(key, {}), value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value
        else:
            total.setdefault(key, value)


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


def chunk_to_generations(chunk: ChatCompletionChunk) -> list[ChatGenerationChunk]:
    """A streamed chunk's generation (the first choice's delta), or none when it carries nothing."""
    generations = []
    for choice in chunk.choices:
        if choice.index == 0:
            generation = delta_to_chunk(choice.delta, message_id=chunk.id or None)
            if generation is not None:
                generations.append(generation)
    return generations


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
    extras = tool_call_extras(tool_calls)
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
