"""ChatCloudflareAIGateway on the OpenAI Responses API: the request, the answer and its stream.

Loaded on a model's first Responses call (:mod:`langchain_cfaig._responses_fields` holds the fields and
the choice of API), so a chat-only program never builds the Responses types.

The model keeps one request builder for both APIs: a call's chat-shaped request (``_build_request``)
becomes a Responses request (:mod:`cfaig.integration.responses`) whose input items come from the
LangChain messages here, so reasoning items, message ids and function-call ids of earlier answers are
sent back as the API wants them.

Answers take langchain-openai's shapes, chosen by ``output_version``:

- ``"responses/v1"`` (the default here, as in langchain-openai 1.x): ``content`` is the list of output
  blocks in order: ``{"type": "reasoning", "id", "summary": [{"type": "summary_text", "text"}],
  "encrypted_content"}``, ``{"type": "text", "text", "annotations", "id"}``, ``{"type": "function_call",
  ...}``; ``AIMessage.id`` and ``response_metadata["id"]`` are the response id;
- ``"v0"``: ``content`` is the text, the last reasoning item is ``additional_kwargs["reasoning"]``;
- ``"v1"``: LangChain's standard blocks (``content_blocks``), derived by langchain-core from the
  ``responses/v1`` blocks with its OpenAI translator, registered here for this integration's messages.

In every version ``additional_kwargs["reasoning_content"]`` holds the reasoning text, as in chat mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import BaseModel

from cfaig.integration.answer import REASONING_KEY
from cfaig.integration.responses import chat_tool_calls, message_items, responses_request
from cfaig.integration.tools import tool_arguments_json
from cfaig.responses_types import (
    FunctionCallArgumentsDeltaEvent,
    OutputItemEvent,
    OutputTextDeltaEvent,
    ReasoningSummaryTextDeltaEvent,
    ReasoningTextDeltaEvent,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFunctionCall,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponsesEvent,
    ResponsesRequest,
    ResponsesResult,
)
from cfaig.types import GatewayMeta
from langchain_cfaig import _convert

if TYPE_CHECKING:
    from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun

    from cfaig import AsyncResponsesStream, ResponsesStream
    from langchain_cfaig.chat_models import ChatCloudflareAIGateway

__all__ = ["agenerate", "astream", "generate", "result_to_chat_result", "stream"]

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


# --- the request ------------------------------------------------------------------------------------


def _last_answer(messages: Sequence[BaseMessage]) -> tuple[Sequence[BaseMessage], str | None]:
    """The messages after the last Responses answer, and its id (all messages and ``None`` without one)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        response_id = message.response_metadata.get("id") if isinstance(message, AIMessage) else None
        if isinstance(response_id, str) and response_id.startswith("resp_"):
            return messages[index + 1 :], response_id
    return messages, None


def _build(
    model: ChatCloudflareAIGateway, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
) -> tuple[ResponsesRequest, dict[str, Any]]:
    previous: str | None = None
    if model.use_previous_response_id and "previous_response_id" not in kwargs:
        sent, previous = _last_answer(messages)
        messages = list(sent)
    request, call = model._build_request(messages, stop, **kwargs)
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
    return body, {key: value for key, value in call.items() if key != "endpoint"}


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


# --- the answer -------------------------------------------------------------------------------------


def _metadata(result: ResponsesResult, meta: GatewayMeta, model_name: str) -> dict[str, Any]:
    metadata = _convert.response_metadata(
        meta, model_name=result.model or model_name, finish_reason=result.finish_reason
    )
    metadata["id"] = result.id
    for key in ("status", "created_at", "incomplete_details", "previous_response_id"):
        value = getattr(result, key)
        if value is not None:
            metadata[key] = value
    return metadata


def _blocks(result: ResponsesResult) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for item in result.output:
        if isinstance(item, ResponseOutputMessage):
            for part in item.content:
                if part.type == "output_text":
                    blocks.append(
                        {"type": "text", "text": part.text, "annotations": list(part.annotations), "id": item.id}
                    )
                elif part.type == "refusal":
                    blocks.append(
                        {"type": "refusal", "refusal": (part.model_extra or {}).get("refusal", ""), "id": item.id}
                    )
        else:
            blocks.append(item.model_dump(exclude_none=True, mode="json"))
    return blocks


def result_to_chat_result(
    result: ResponsesResult, *, model_name: str, output_version: str | None, parse: type[BaseModel] | None = None
) -> ChatResult:
    """A whole Responses answer as a ``ChatResult``, in the ``output_version``'s shape; with ``parse``
    (``response_format=<pydantic class>``), the answer parsed into ``additional_kwargs["parsed"]`` as in chat."""
    valid, invalid, _ = _convert._parse_tool_calls(chat_tool_calls(result.function_calls))
    additional: dict[str, Any] = {}
    if parse is not None and result.output_text:
        additional["parsed"] = _convert.parse_answer(result.output_text, parse)
    if result.reasoning:
        additional[REASONING_KEY] = result.reasoning
    content: str | list[str | dict[str, Any]]
    if output_version == "v0":
        content = result.output_text
        if result.reasoning_items:
            additional["reasoning"] = result.reasoning_items[-1].model_dump(exclude_none=True, mode="json")
        if result.refusal:
            additional["refusal"] = result.refusal
    else:
        content = list(_blocks(result))
    usage = _convert.usage_to_metadata(result.usage.as_usage()) if result.usage is not None else None
    message = AIMessage(
        content=content,
        additional_kwargs=additional,
        tool_calls=valid,
        invalid_tool_calls=invalid,
        usage_metadata=usage,
        response_metadata=_metadata(result, result.gateway, model_name),
        id=result.id or None,
    )
    generation_info = {"finish_reason": result.finish_reason} if result.finish_reason else None
    llm_output: dict[str, Any] = {"model_name": result.gateway.served_by or result.model or model_name}
    if result.usage is not None:
        llm_output["token_usage"] = _convert.token_usage(result.usage.as_usage())  # OpenAI's shape, as in chat
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=generation_info)], llm_output=llm_output
    )


class _StreamConverter:
    """Stream events as chunks that LangChain's chunk addition folds into :func:`result_to_chat_result`'s message.

    Content blocks carry an ``index`` per output item (and per content part of a message), as
    langchain-openai's do, so fragments of one block merge and blocks stay in output order.
    """

    def __init__(
        self,
        meta: GatewayMeta,
        *,
        model_name: str,
        output_version: str | None,
        usage: bool,
        parse: type[BaseModel] | None = None,
    ) -> None:
        self.meta = meta
        self.parse = parse
        self.model_name = model_name
        self.v0 = output_version == "v0"
        self.usage = usage
        self.response_id: str | None = None
        self._index = -1
        self._output = -1
        self._part = -1
        self._parts: dict[tuple[int, int], int] = {}
        self._reasoning_shown: dict[int, int] = {}

    def _advance(self, output_index: int, part: int | None = None) -> int:
        if part is None:
            if output_index != self._output:
                self._index += 1
        else:
            if output_index != self._output or part != self._part:
                self._index += 1
            self._part = part
            self._parts[output_index, part] = self._index
        self._output = output_index
        return self._index

    def convert(self, event: ResponsesEvent) -> ChatGenerationChunk | None:
        if isinstance(event, ResponseCreatedEvent):
            self.response_id = event.response.id or None
            return None
        if isinstance(event, ResponseCompletedEvent):
            return self._final(event.response)
        content: list[dict[str, Any]] = []
        calls: list[Any] = []
        additional: dict[str, Any] = {}
        if isinstance(event, OutputTextDeltaEvent):
            index = self._advance(event.output_index, event.content_index)
            if self.v0:
                return self._chunk(event.delta, calls, additional)
            content.append({"type": "text", "text": event.delta, "index": index})
        elif isinstance(event, FunctionCallArgumentsDeltaEvent):
            index = self._advance(event.output_index)
            calls.append(tool_call_chunk(args=event.delta, index=event.output_index if self.v0 else index))
            content.append({"type": "function_call", "arguments": event.delta, "index": index})
        elif isinstance(event, (ReasoningSummaryTextDeltaEvent, ReasoningTextDeltaEvent)):
            index = self._advance(event.output_index)
            additional[REASONING_KEY] = self._reasoning_delta(event)
            if isinstance(event, ReasoningSummaryTextDeltaEvent):
                part = {"index": event.summary_index, "type": "summary_text", "text": event.delta}
                content.append({"type": "reasoning", "summary": [part], "index": index})
            else:
                part = {"index": event.content_index, "type": "reasoning_text", "text": event.delta}
                content.append({"type": "reasoning", "content": [part], "index": index})
        elif isinstance(event, OutputItemEvent):
            self._item(event, content, calls, additional)
        else:
            return None
        if self.v0:
            content = []  # v0 content is the text alone
        if not content and not calls and not additional:
            return None
        return self._chunk("" if self.v0 else content, calls, additional)

    def _reasoning_delta(self, event: ReasoningSummaryTextDeltaEvent | ReasoningTextDeltaEvent) -> str:
        """The reasoning text's next piece, with a blank line between summary paragraphs and items."""
        part = event.summary_index if isinstance(event, ReasoningSummaryTextDeltaEvent) else event.content_index
        seen = self._reasoning_shown.get(event.output_index)
        self._reasoning_shown[event.output_index] = part
        starts_paragraph = seen != part and (seen is not None or len(self._reasoning_shown) > 1)
        return ("\n\n" if starts_paragraph else "") + event.delta

    def _item(
        self, event: OutputItemEvent, content: list[dict[str, Any]], calls: list[Any], additional: dict[str, Any]
    ) -> None:
        item = event.item
        added = event.type == "response.output_item.added"
        if isinstance(item, ResponseFunctionCall) and added:
            index = self._advance(event.output_index)
            calls.append(
                tool_call_chunk(
                    name=item.name, args=item.arguments, id=item.call_id, index=event.output_index if self.v0 else index
                )
            )
            content.append({**item.model_dump(exclude_none=True), "index": index})
        elif isinstance(item, ResponseReasoningItem):
            if added:
                index = self._advance(event.output_index)
                self._part = 0
                content.append({**item.model_dump(exclude_none=True, exclude={"content"}), "index": index})
            else:
                if self.v0:
                    additional["reasoning"] = item.model_dump(exclude_none=True, mode="json")
                if item.encrypted_content is not None:
                    index = self._advance(event.output_index)
                    content.append({"type": "reasoning", "encrypted_content": item.encrypted_content, "index": index})
        elif isinstance(item, ResponseOutputMessage) and not added:
            for number, part in enumerate(item.content):
                part_index = self._parts.get((event.output_index, number))
                if part_index is None:
                    continue
                block: dict[str, Any] = {"type": "text", "id": item.id, "index": part_index}
                if part.annotations:
                    block["annotations"] = list(part.annotations)
                content.append(block)
        elif not isinstance(item, (ResponseFunctionCall, ResponseOutputMessage)) and not added:
            index = self._advance(event.output_index)
            content.append({**item.model_dump(exclude_none=True, mode="json"), "index": index})

    def _chunk(
        self, content: str | list[dict[str, Any]], calls: list[Any], additional: dict[str, Any]
    ) -> ChatGenerationChunk:
        message = AIMessageChunk(
            content=cast("Any", content),
            tool_call_chunks=calls,
            additional_kwargs=additional,
            response_metadata={"model_provider": _convert.MODEL_PROVIDER},
            id=self.response_id,
        )
        return ChatGenerationChunk(message=message)

    def _final(self, result: ResponsesResult) -> ChatGenerationChunk:
        usage = _convert.usage_to_metadata(result.usage.as_usage()) if self.usage and result.usage is not None else None
        additional: dict[str, Any] = {}
        if self.parse is not None and result.output_text:
            additional["parsed"] = _convert.parse_answer(result.output_text, self.parse)
        message = AIMessageChunk(
            content="" if self.v0 else [],
            additional_kwargs=additional,
            usage_metadata=usage,
            response_metadata=_metadata(result, self.meta, self.model_name),
            chunk_position="last",
            id=self.response_id or result.id or None,
        )
        info = {"finish_reason": result.finish_reason} if result.finish_reason else None
        return ChatGenerationChunk(message=message, generation_info=info)


# --- the four paths (called by ChatCloudflareAIGateway when it uses the Responses API) -------------------


def generate(
    model: ChatCloudflareAIGateway, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
) -> ChatResult:
    request, call = _build(model, messages, stop, kwargs)
    result = model.client.responses(request, **call)
    return result_to_chat_result(
        result, model_name=request["model"], output_version=model.output_version, parse=_convert.parse_target(kwargs)
    )


async def agenerate(
    model: ChatCloudflareAIGateway, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
) -> ChatResult:
    request, call = _build(model, messages, stop, kwargs)
    result = await model.async_client.responses(request, **call)
    return result_to_chat_result(
        result, model_name=request["model"], output_version=model.output_version, parse=_convert.parse_target(kwargs)
    )


def _converter(
    model: ChatCloudflareAIGateway,
    stream_: ResponsesStream | AsyncResponsesStream,
    request: ResponsesRequest,
    usage: bool,
    parse: type[BaseModel] | None,
) -> _StreamConverter:
    return _StreamConverter(
        stream_.meta, model_name=request["model"], output_version=model.output_version, usage=usage, parse=parse
    )


def stream(
    model: ChatCloudflareAIGateway,
    messages: list[BaseMessage],
    stop: list[str] | None,
    run_manager: CallbackManagerForLLMRun | None,
    kwargs: dict[str, Any],
) -> Iterator[ChatGenerationChunk]:
    usage = model._wants_usage(kwargs)
    request, call = _build(model, messages, stop, kwargs)
    with model.client.stream_responses(request, **call) as events:
        converter = _converter(model, events, request, usage, _convert.parse_target(kwargs))
        for event in events:
            chunk = converter.convert(event)
            if chunk is not None:
                if run_manager is not None:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk


async def astream(
    model: ChatCloudflareAIGateway,
    messages: list[BaseMessage],
    stop: list[str] | None,
    run_manager: AsyncCallbackManagerForLLMRun | None,
    kwargs: dict[str, Any],
) -> AsyncIterator[ChatGenerationChunk]:
    usage = model._wants_usage(kwargs)
    request, call = _build(model, messages, stop, kwargs)
    async with await model.async_client.stream_responses(request, **call) as events:
        converter = _converter(model, events, request, usage, _convert.parse_target(kwargs))
        async for event in events:
            chunk = converter.convert(event)
            if chunk is not None:
                if run_manager is not None:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
