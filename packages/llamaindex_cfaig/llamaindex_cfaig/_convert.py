"""Pure conversions between LlamaIndex types and the OpenAI-format wire types of :mod:`cfaig`.

Nothing here does I/O or holds state; everything is tested without a client. What is not LlamaIndex's to
decide (key names, gateway keys, token arithmetic, tool-call wire shape, tool_choice spellings) is
:mod:`cfaig.integration`'s.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from cfaig.integration.answer import EXTRA_CONTENT_KEY, REASONING_KEY, gateway_fields, token_counts
from cfaig.integration.tools import read_tool_call, tool_call_extra, tool_call_param
from cfaig.types import (
    AssistantMessage,
    ChatMessageParam,
    ContentPartParam,
    GatewayMeta,
    ToolCall,
    ToolCallParam,
    Usage,
)

__all__ = [
    "EXTRA_CONTENT_KEY",
    "REASONING_KEY",
    "assistant_message",
    "completion_message",
    "force_single_tool_call",
    "parse_tool_arguments",
    "response_kwargs",
    "to_openai_message",
    "to_openai_messages",
    "tool_selections",
    "usage_kwargs",
]

_ROLES: dict[str, str] = {
    MessageRole.SYSTEM.value: "system",
    MessageRole.DEVELOPER.value: "developer",
    MessageRole.USER.value: "user",
    MessageRole.ASSISTANT.value: "assistant",
    MessageRole.TOOL.value: "tool",
    MessageRole.FUNCTION.value: "tool",
    MessageRole.CHATBOT.value: "assistant",
    MessageRole.MODEL.value: "assistant",
}


# --- LlamaIndex -> OpenAI -------------------------------------------------------------------------


def _image_part(block: ImageBlock) -> ContentPartParam:
    url = str(block.url) if block.url is not None and block.image is None else block.inline_url()
    image_url: dict[str, Any] = {"url": url}
    if block.detail:
        image_url["detail"] = block.detail
    return cast(ContentPartParam, {"type": "image_url", "image_url": image_url})


def _audio_part(block: AudioBlock) -> ContentPartParam:
    data = block.resolve_audio(as_base64=True).read().decode("ascii")
    return {"type": "input_audio", "input_audio": {"data": data, "format": block.format or "wav"}}


def _document_part(block: DocumentBlock) -> ContentPartParam:
    file: dict[str, Any] = {"file_data": block.inline_url()}
    if block.title:
        file["filename"] = block.title
    return {"type": "file", "file": file}


def _content_parts(blocks: Sequence[Any]) -> list[ContentPartParam]:
    parts: list[ContentPartParam] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
        elif isinstance(block, AudioBlock):
            parts.append(_audio_part(block))
        elif isinstance(block, DocumentBlock):
            parts.append(_document_part(block))
        elif isinstance(block, (CitableBlock, CitationBlock)):
            parts.extend(_content_parts(block.nested_blocks))
        elif isinstance(block, (ThinkingBlock, ToolCallBlock, CachePoint)):
            continue  # handled by the caller, or nothing to send
        else:
            raise ValueError(f"{type(block).__name__} cannot be sent through the gateway's chat endpoint")
    return parts


def _content(parts: list[ContentPartParam]) -> str | list[ContentPartParam] | None:
    if not parts:
        return None
    if all(part["type"] == "text" for part in parts):
        return "\n".join(part.get("text", "") for part in parts)
    return parts


def _tool_calls(message: ChatMessage) -> list[ToolCallParam]:
    """An assistant message's tool calls: its ``ToolCallBlock``s, else the legacy
    ``additional_kwargs["tool_calls"]``; each with its ``extra_content``, carried or stored by call id."""
    stored = message.additional_kwargs.get(EXTRA_CONTENT_KEY)
    extras: Mapping[str, Any] = stored if isinstance(stored, Mapping) else {}

    def extra(call_id: str) -> Mapping[str, Any] | None:
        value = extras.get(call_id)
        return value if isinstance(value, Mapping) else None

    calls = [
        tool_call_param(block.tool_call_id or "", block.tool_name, block.tool_kwargs, extra(block.tool_call_id or ""))
        for block in message.blocks
        if isinstance(block, ToolCallBlock)
    ]
    if calls:
        return calls
    legacy = (read_tool_call(raw) for raw in message.additional_kwargs.get("tool_calls") or ())
    return [
        tool_call_param(parts.id, parts.name, parts.arguments, parts.extra or extra(parts.id))
        for parts in legacy
        if parts is not None
    ]


def _reasoning(message: ChatMessage) -> str | None:
    thinking = [b.content for b in message.blocks if isinstance(b, ThinkingBlock) and b.content]
    if thinking:
        return "".join(thinking)
    stored = message.additional_kwargs.get(REASONING_KEY)
    return stored if isinstance(stored, str) and stored else None


def to_openai_message(message: ChatMessage) -> ChatMessageParam:
    """One LlamaIndex message as an OpenAI chat message.

    Assistant messages carry their ``ToolCallBlock``s (or legacy ``additional_kwargs["tool_calls"]``)
    as ``tool_calls``, with each call's stored ``extra_content`` re-attached; when they call tools,
    their reasoning text is replayed as ``reasoning_content`` (thinking models need it mid tool loop).
    Tool results (``role="tool"``) carry ``additional_kwargs["tool_call_id"]`` and text content.
    """
    role = _ROLES.get(message.role.value, message.role.value)
    parts = _content_parts(message.blocks)
    if role == "tool":
        text = "\n".join(part.get("text", "") for part in parts if part["type"] == "text")
        result: ChatMessageParam = {"role": "tool", "content": text}
        tool_call_id = message.additional_kwargs.get("tool_call_id")
        if tool_call_id is not None:
            result["tool_call_id"] = str(tool_call_id)
        return result
    result = {"role": cast(Any, role), "content": _content(parts)}
    if role == "assistant":
        calls = _tool_calls(message)
        if calls:
            result["tool_calls"] = calls
            reasoning = _reasoning(message)
            if reasoning:
                result["reasoning_content"] = reasoning
    elif result["content"] is None:
        result["content"] = ""
    name = message.additional_kwargs.get("name")
    if isinstance(name, str) and name and role in ("user", "assistant", "system"):
        result["name"] = name
    return result


def to_openai_messages(messages: Sequence[ChatMessage]) -> list[ChatMessageParam]:
    """LlamaIndex chat history as OpenAI chat messages (see :func:`to_openai_message`)."""
    return [to_openai_message(message) for message in messages]


# --- OpenAI -> LlamaIndex -------------------------------------------------------------------------


def parse_tool_arguments(arguments: Any) -> dict[str, Any]:
    """Tool arguments as a dict: JSON, possibly partial while streaming; anything unusable is ``{}``."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        try:
            value = parse_partial_json(arguments)
        except (ValueError, TypeError, IndexError, KeyError):
            return {}
    return value if isinstance(value, dict) else {}


def _block_arguments(arguments: str) -> dict[str, Any] | str:
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return arguments  # still streaming: keep the partial text, parse it on demand
    return value if isinstance(value, dict) else arguments


def assistant_message(
    content: str | None,
    *,
    reasoning: str | None = None,
    tool_calls: Sequence[ToolCall] = (),
    final: bool = True,
) -> ChatMessage:
    """An assistant ``ChatMessage`` from an answer (or the part of it streamed so far).

    Blocks: a ``ThinkingBlock`` for reasoning, a ``TextBlock`` for text, one ``ToolCallBlock`` per
    tool call. The tool calls are also kept in OpenAI form in ``additional_kwargs["tool_calls"]``,
    which ``llama_index.core.program.utils.process_streaming_objects`` requires. ``final`` answers
    give tool calls without an id a fresh one, so the tool results that follow can refer to them.
    """
    blocks: list[Any] = []
    additional: dict[str, Any] = {}
    if reasoning:
        blocks.append(ThinkingBlock(content=reasoning))
        additional[REASONING_KEY] = reasoning
    if content or not tool_calls:
        blocks.append(TextBlock(text=content or ""))
    extras: dict[str, dict[str, Any]] = {}
    legacy: list[dict[str, Any]] = []
    for call in tool_calls:
        call_id = call.id or (f"call_{uuid.uuid4().hex[:24]}" if final else "")
        legacy.append(
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
        )
        blocks.append(
            ToolCallBlock(
                tool_call_id=call_id or None,
                tool_name=call.function.name,
                tool_kwargs=_block_arguments(call.function.arguments),
            )
        )
        extra = tool_call_extra(call)
        if extra is not None and call_id:
            extras[call_id] = extra
    if legacy:
        # the legacy spelling, still read by LlamaIndex's streaming structured-output parser
        additional["tool_calls"] = legacy
    if extras:
        additional[EXTRA_CONTENT_KEY] = extras
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=additional)


def completion_message(message: AssistantMessage, *, final: bool = True) -> ChatMessage:
    """:func:`assistant_message` for a :class:`cfaig.types.AssistantMessage`."""
    return assistant_message(
        message.content, reasoning=message.reasoning, tool_calls=message.tool_calls or (), final=final
    )


def usage_kwargs(usage: Usage | None) -> dict[str, Any]:
    """Token counts the way LlamaIndex's OpenAI integration reports them."""
    if usage is None:
        return {}
    counts = token_counts(usage)
    details = {"cached_tokens": counts.cache_read, "reasoning_tokens": counts.reasoning}
    return {
        "prompt_tokens": counts.input,
        "completion_tokens": counts.output,
        "total_tokens": counts.total,
        **{name: count for name, count in details.items() if count is not None},
    }


def response_kwargs(meta: GatewayMeta, *, model: str, finish_reason: str | None, usage: Usage | None) -> dict[str, Any]:
    """``ChatResponse.additional_kwargs``: who answered, why it stopped, the gateway's ``cf_aig_*`` keys, usage."""
    return {
        "model_name": meta.served_by or model,
        "finish_reason": finish_reason,
        **gateway_fields(meta),
        **usage_kwargs(usage),
    }


def tool_selections(message: ChatMessage) -> list[ToolSelection]:
    """The tool calls in ``message``: its ``ToolCallBlock``s, else legacy ``additional_kwargs["tool_calls"]``."""
    selections = [
        ToolSelection(
            tool_id=block.tool_call_id or "",
            tool_name=block.tool_name,
            tool_kwargs=parse_tool_arguments(block.tool_kwargs),
        )
        for block in message.blocks
        if isinstance(block, ToolCallBlock) and block.tool_name
    ]
    if selections:
        return selections
    legacy = (read_tool_call(raw) for raw in message.additional_kwargs.get("tool_calls") or ())
    return [
        ToolSelection(tool_id=parts.id, tool_name=parts.name, tool_kwargs=parse_tool_arguments(parts.arguments))
        for parts in legacy
        if parts is not None
    ]


def force_single_tool_call(message: ChatMessage) -> None:
    """Keep only the first tool call of ``message`` (in place)."""
    seen = False
    kept: list[Any] = []
    for block in message.blocks:
        if isinstance(block, ToolCallBlock):
            if seen:
                continue
            seen = True
        kept.append(block)
    message.blocks = kept
    legacy = message.additional_kwargs.get("tool_calls")
    if isinstance(legacy, list) and len(legacy) > 1:
        message.additional_kwargs["tool_calls"] = legacy[:1]
