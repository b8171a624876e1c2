"""ChatCloudflareAIGateway on the OpenAI Responses API: a call's messages as one Responses request.

The model keeps one request builder for both APIs: a call's chat-shaped request (``_build_request``)
becomes a Responses request (:mod:`cfaig.integration.responses`) whose input items come from the
LangChain messages here, so reasoning items, message ids and function-call ids of earlier answers are
sent back as the API wants them (:mod:`langchain_cfaig._responses` reads the answers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from langchain_core.messages import AIMessage, BaseMessage

from cfaig.integration.responses import message_items, responses_request
from cfaig.integration.tools import tool_arguments_json
from cfaig.responses_types import ResponsesRequest
from langchain_cfaig import _convert

if TYPE_CHECKING:
    from langchain_cfaig.chat_models import ChatCloudflareAIGateway

__all__ = ["build"]

_REPLAYED_ITEMS: Final = frozenset(
    {
        "function_call",
        "web_search_call",
        "file_search_call",
        "computer_call",
        "code_interpreter_call",
        "mcp_call",
        "mcp_list_tools",
        "mcp_approval_request",
        "image_generation_call",
        "custom_tool_call",
    }
)


def _last_answer(messages: Sequence[BaseMessage]) -> tuple[Sequence[BaseMessage], str | None]:
    """The messages after the last Responses answer, and its id (all messages and ``None`` without one)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        response_id = message.response_metadata.get("id") if isinstance(message, AIMessage) else None
        if isinstance(response_id, str) and response_id.startswith("resp_"):
            return messages[index + 1 :], response_id
    return messages, None


def build(
    model: ChatCloudflareAIGateway,
    messages: list[BaseMessage],
    stop: list[str] | None,
    kwargs: dict[str, Any],
    *,
    stream: bool = False,
) -> tuple[ResponsesRequest, dict[str, Any]]:
    previous: str | None = None
    if model.use_previous_response_id and "previous_response_id" not in kwargs:
        sent, previous = _last_answer(messages)
        messages = list(sent)
    request, call = model._build_request(messages, stop, stream=stream, **kwargs)
    items = [item for message in messages for item in _message_input(message)]
    body = responses_request(
        request,
        items,
        reasoning=model.reasoning,
        include=model.include,
        store=model.store,
        truncation=model.truncation,
        previous_response_id=previous,
    )
    if body.get("store") is False:
        body["input"] = _stateless(body["input"])
    return body, {key: value for key, value in call.items() if key != "endpoint"}  # provider_keys too


def _stateless(items: Sequence[Any]) -> list[Any]:
    """Input items for ``store=False``: nothing the API would have to look up. OpenAI keeps no item of an
    unstored response, so an earlier message's ``msg_`` id and a reasoning item without its
    ``encrypted_content`` would be unknown references (langchain-openai drops both the same way)."""
    kept: list[Any] = []
    for item in items:
        if not isinstance(item, Mapping):
            kept.append(item)
        elif item.get("type") == "reasoning":
            if item.get("encrypted_content"):
                kept.append(item)
        elif item.get("type") == "message" and "id" in item:
            kept.append({key: value for key, value in item.items() if key != "id"})
        else:
            kept.append(item)
    return kept


def _message_input(message: BaseMessage) -> list[dict[str, Any]]:
    if isinstance(message, AIMessage):
        return _answer_input(message)
    return message_items(_convert.message_to_param(message))


def _answer_input(message: AIMessage) -> list[dict[str, Any]]:
    """An earlier answer as input items: its reasoning, message and function-call items, in order."""
    items: list[dict[str, Any]] = []
    legacy = message.additional_kwargs.get("reasoning")
    if isinstance(legacy, Mapping) and legacy.get("id"):
        items.append(_reasoning_item(legacy))
    blocks = message.content if isinstance(message.content, list) else []
    for raw in blocks:
        block = raw.get("value", raw) if isinstance(raw, dict) and raw.get("type") == "non_standard" else raw
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "reasoning" and block.get("id"):
            _add_reasoning(items, block)
        elif kind in ("text", "output_text", "refusal"):
            _add_output_part(items, block)
        elif kind in _REPLAYED_ITEMS:
            items.append({key: value for key, value in block.items() if key != "index"})
    if isinstance(message.content, str) and message.content:
        _add_output_part(items, {"type": "text", "text": message.content})
    answered = {item.get("call_id") for item in items if item.get("type") == "function_call"}
    calls: list[tuple[str | None, str, Any]] = [
        (call.get("id"), call["name"], call["args"]) for call in message.tool_calls
    ]
    calls += [(bad.get("id"), bad.get("name") or "", bad.get("args") or "") for bad in message.invalid_tool_calls]
    items.extend(_function_call(call_id or "", name, args) for call_id, name, args in calls if call_id not in answered)
    return items


def _function_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": tool_arguments_json(arguments)}


def _reasoning_item(block: Mapping[str, Any]) -> dict[str, Any]:
    """A reasoning block (``responses/v1``, v0's ``additional_kwargs["reasoning"]``, or LangChain's standard
    ``{"reasoning": text, "extras": {...}}``) as the reasoning item it came from."""
    item: dict[str, Any] = {"type": "reasoning", "id": block["id"], "summary": []}
    if isinstance(block.get("summary"), list):
        item["summary"] = [
            {"type": "summary_text", "text": part.get("text", "")}
            for part in block["summary"]
            if isinstance(part, Mapping)
        ]
    elif isinstance(block.get("reasoning"), str):
        item["summary"] = [{"type": "summary_text", "text": block["reasoning"]}]
    extras = block.get("extras")
    for source in (block, extras if isinstance(extras, Mapping) else {}):
        for key in ("encrypted_content", "content"):
            if source.get(key) is not None:
                item[key] = source[key]
    return item


def _add_reasoning(items: list[dict[str, Any]], block: Mapping[str, Any]) -> None:
    item = _reasoning_item(block)
    last = items[-1] if items else None
    if last is not None and last.get("type") == "reasoning" and last.get("id") == item["id"]:
        last["summary"].extend(item["summary"])  # LangChain's standard blocks split an item per paragraph
        for key in ("encrypted_content", "content"):
            if key in item:
                last[key] = item[key]
    else:
        items.append(item)


def _add_output_part(items: list[dict[str, Any]], block: Mapping[str, Any]) -> None:
    if block.get("type") == "refusal":
        part: dict[str, Any] = {"type": "refusal", "refusal": block.get("refusal", "")}
    else:
        annotations = [
            a for a in block.get("annotations") or () if isinstance(a, Mapping) and a.get("type") != "citation"
        ]
        part = {"type": "output_text", "text": block.get("text", ""), "annotations": annotations}
    item_id = block.get("id")
    last = items[-1] if items else None
    if last is not None and last.get("type") == "message" and last.get("id") == item_id:
        last["content"].append(part)
        return
    message: dict[str, Any] = {"type": "message", "role": "assistant", "content": [part]}
    if isinstance(item_id, str) and item_id.startswith("msg_"):
        message["id"] = item_id
    items.append(message)
