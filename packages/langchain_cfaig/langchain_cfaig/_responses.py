"""ChatCloudflareAIGateway on the OpenAI Responses API: its answers and their streams.

Loaded on a model's first Responses call (:mod:`langchain_cfaig._responses_fields` holds the fields and
the choice of API), so a chat-only program never builds the Responses types.

The request (the input items of a call's messages) is :mod:`langchain_cfaig._responses_input`'s.

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

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, cast

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import BaseModel

from cfaig.integration.answer import REASONING_KEY
from cfaig.integration.responses import chat_tool_calls
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
from langchain_cfaig._responses_input import build

if TYPE_CHECKING:
    from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun

    from cfaig import AsyncResponsesStream, ResponsesStream
    from langchain_cfaig.chat_models import ChatCloudflareAIGateway

__all__ = ["agenerate", "astream", "generate", "result_to_chat_result", "stream"]

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
    request, call = build(model, messages, stop, kwargs)
    result = model.client.responses(request, **call)
    return result_to_chat_result(
        result, model_name=request["model"], output_version=model.output_version, parse=_convert.parse_target(kwargs)
    )


async def agenerate(
    model: ChatCloudflareAIGateway, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
) -> ChatResult:
    request, call = build(model, messages, stop, kwargs)
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
    request, call = build(model, messages, stop, kwargs)
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
    request, call = build(model, messages, stop, kwargs)
    async with await model.async_client.stream_responses(request, **call) as events:
        converter = _converter(model, events, request, usage, _convert.parse_target(kwargs))
        async for event in events:
            chunk = converter.convert(event)
            if chunk is not None:
                if run_manager is not None:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
