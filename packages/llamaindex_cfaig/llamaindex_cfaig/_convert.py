"""Pure conversions between LlamaIndex types and the OpenAI-format wire types of :mod:`cfaig`.

Nothing here does I/O or holds state; everything is tested without a client.
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

from cfaig.types import (
    AssistantMessage,
    ChatMessageParam,
    ContentPartParam,
    GatewayMeta,
    ToolCall,
    ToolCallParam,
    ToolChoiceParam,
    Usage,
)

__all__ = [
    "EXTRA_CONTENT_KEY",
    "REASONING_KEY",
    "assistant_message",
    "force_single_tool_call",
    "parse_tool_arguments",
    "response_kwargs",
    "to_openai_messages",
    "to_tool_choice",
    "tool_selections",
]

EXTRA_CONTENT_KEY = "tool_call_extra_content"
"""``ChatMessage.additional_kwargs`` key holding ``{tool_call_id: extra_content}``: provider fields of
each tool call (Gemini's thought signatures) that must be sent back with the history."""
REASONING_KEY = "reasoning_content"
"""``ChatMessage.additional_kwargs`` key holding the model's reasoning text."""

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
_TOOL_CHOICES = ("auto", "none", "required")


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


def _arguments_json(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments if arguments is not None else {})


def _legacy_tool_call(raw: Any) -> ToolCallParam | None:
    data = raw.model_dump() if hasattr(raw, "model_dump") else raw
    if not isinstance(data, Mapping):
        return None
    function = data.get("function") or {}
    if not isinstance(function, Mapping) or not function.get("name"):
        return None
    call: ToolCallParam = {
        "id": str(data.get("id") or ""),
        "type": "function",
        "function": {"name": str(function["name"]), "arguments": _arguments_json(function.get("arguments"))},
    }
    if isinstance(data.get("extra_content"), Mapping):
        call["extra_content"] = dict(data["extra_content"])
    return call


def _tool_calls(message: ChatMessage) -> list[ToolCallParam]:
    extras = message.additional_kwargs.get(EXTRA_CONTENT_KEY) or {}
    calls: list[ToolCallParam] = [
        {
            "id": block.tool_call_id or "",
            "type": "function",
            "function": {"name": block.tool_name, "arguments": _arguments_json(block.tool_kwargs)},
        }
        for block in message.blocks
        if isinstance(block, ToolCallBlock)
    ]
    if not calls:
        for raw in message.additional_kwargs.get("tool_calls") or ():
            call = _legacy_tool_call(raw)
            if call is not None:
                calls.append(call)
    for call in calls:
        extra = extras.get(call["id"]) if isinstance(extras, Mapping) else None
        if isinstance(extra, Mapping) and "extra_content" not in call:
            call["extra_content"] = dict(extra)
    return calls


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


def to_tool_choice(tool_choice: str | Mapping[str, Any] | None, tool_required: bool) -> ToolChoiceParam | None:
    """The ``tool_choice`` to send, or ``None`` to send none (the provider default, "auto").

    A bare tool name (as ``FunctionAgent(initial_tool_choice=...)`` passes) names that function.
    """
    if tool_choice is None:
        return "required" if tool_required else None
    if isinstance(tool_choice, Mapping):
        return cast(ToolChoiceParam, dict(tool_choice))
    if tool_choice in _TOOL_CHOICES:
        return cast(ToolChoiceParam, tool_choice)
    return {"type": "function", "function": {"name": tool_choice}}


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
        extra = (call.model_extra or {}).get("extra_content")
        if isinstance(extra, Mapping) and call_id:
            extras[call_id] = dict(extra)
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
    result: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens is not None:
        result["cached_tokens"] = usage.prompt_tokens_details.cached_tokens
    if usage.completion_tokens_details and usage.completion_tokens_details.reasoning_tokens is not None:
        result["reasoning_tokens"] = usage.completion_tokens_details.reasoning_tokens
    return result


def response_kwargs(meta: GatewayMeta, *, model: str, finish_reason: str | None, usage: Usage | None) -> dict[str, Any]:
    """``ChatResponse.additional_kwargs``: who answered, why it stopped, gateway headers, usage."""
    return {
        "model_name": meta.served_by or model,
        "finish_reason": finish_reason,
        "cf_aig_log_id": meta.log_id,
        "cf_aig_cache_status": meta.cache_status,
        "cf_aig_step": meta.step,
        **usage_kwargs(usage),
    }


def _legacy_selection(raw: Any) -> ToolSelection | None:
    data = raw.model_dump() if hasattr(raw, "model_dump") else raw
    if not isinstance(data, Mapping):
        return None
    function = data.get("function") or {}
    if not isinstance(function, Mapping) or not function.get("name"):
        return None
    return ToolSelection(
        tool_id=str(data.get("id") or ""),
        tool_name=str(function["name"]),
        tool_kwargs=parse_tool_arguments(function.get("arguments")),
    )


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
    legacy = (_legacy_selection(raw) for raw in message.additional_kwargs.get("tool_calls") or ())
    return [selection for selection in legacy if selection is not None]


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
