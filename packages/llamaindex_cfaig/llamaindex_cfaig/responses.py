"""CloudflareAIGatewayResponses: LlamaIndex's function-calling LLM on the OpenAI Responses API through the gateway."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    MessageRole,
    ThinkingBlock,
)
from pydantic import Field, PrivateAttr

from cfaig import AsyncResponsesStream, ResponsesStream
from cfaig.integration.answer import REASONING_KEY
from cfaig.integration.responses import chat_tool_calls, message_items, responses_request
from cfaig.responses_types import (
    ReasoningSummaryTextDeltaEvent,
    ReasoningTextDeltaEvent,
    ResponseReasoningItem,
    ResponsesEvent,
    ResponsesRequest,
    ResponsesResult,
)
from llamaindex_cfaig._convert import assistant_message, response_kwargs, to_openai_message
from llamaindex_cfaig.llms import CloudflareAIGatewayLLM

__all__ = ["CloudflareAIGatewayResponses"]

RESPONSE_ID_KEY = "response_id"
"""``additional_kwargs`` key of an answer (and of its message) holding the Responses API response id."""
REASONING_ITEM_KEY = "reasoning"
"""``ThinkingBlock.additional_information`` key of the reasoning item a block came from (id, encrypted content)."""


class CloudflareAIGatewayResponses(CloudflareAIGatewayLLM):
    """OpenAI's Responses API through Cloudflare AI Gateway, as a LlamaIndex function-calling LLM.

    The gateway host serves it for ``openai/...`` models (``{gateway}/openai/responses``); the REST surface
    (``surface="rest"``) serves ``/ai/v1/responses`` for its catalog, e.g.
    ``workers-ai/@cf/openai/gpt-oss-120b``. Everything else is :class:`CloudflareAIGatewayLLM`'s: gateway
    options, fallbacks, retries, typed errors, tools (``FunctionAgent``), structured prediction.

    Reasoning models answer with a ``ThinkingBlock`` per reasoning item first: its ``content`` is the summary
    (ask for one with ``reasoning={"summary": "auto"}``) or a gpt-oss model's raw reasoning, and its
    ``additional_information["reasoning"]`` the item itself (id, ``encrypted_content`` with
    ``include=["reasoning.encrypted_content"]``), sent back with the history. Streams report reasoning as
    ``additional_kwargs["thinking_delta"]``, as agents expect. ``track_previous_responses=True`` continues
    the conversation on OpenAI's side with ``previous_response_id``, sending only the new messages.

    >>> llm = CloudflareAIGatewayResponses(model="openai/gpt-5-mini", reasoning={"summary": "auto"})  # doctest: +SKIP
    """

    model: str = Field(default="openai/gpt-5-mini", description="Gateway model string, e.g. openai/gpt-5-mini.")
    reasoning: dict[str, Any] | None = Field(
        default=None, description='Reasoning options, e.g. {"effort": "low", "summary": "auto"}.'
    )
    include: list[str] | None = Field(
        default=None, description='Extra output, e.g. ["reasoning.encrypted_content"] for stateless conversations.'
    )
    store: bool | None = Field(default=None, description="Whether OpenAI keeps the response (its default: yes).")
    instructions: str | None = Field(default=None, description="System-level instructions for every call.")
    truncation: str | None = Field(default=None, description='"auto" lets the API drop input to fit the context.')
    track_previous_responses: bool = Field(
        default=False,
        description="Continue with previous_response_id, sending only the messages after the last answer.",
    )

    _previous_response_id: str | None = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareAIGatewayResponses"

    # --- request ------------------------------------------------------------------------------

    def _responses_request(
        self, messages: Sequence[ChatMessage], kwargs: Mapping[str, Any], *, stream: bool = False
    ) -> tuple[ResponsesRequest, dict[str, Any]]:
        previous = self._previous_response_id if self.track_previous_responses else None
        if previous is not None:
            messages, previous = _after_answer(messages, previous)
        request, call = self._request(messages, kwargs, stream=stream)
        items = [item for message in messages for item in _message_input(message)]
        body = responses_request(
            request,
            items,
            reasoning=self.reasoning,
            include=self.include,
            store=self.store,
            instructions=self.instructions,
            truncation=self.truncation,
            previous_response_id=previous,
        )
        call.pop("endpoint", None)
        return body, call

    def _known(self, stream: ResponsesStream | AsyncResponsesStream) -> dict[str, Any]:
        """What every streamed response reports before the end (from the response headers: worked out once)."""
        return response_kwargs(stream.meta, model=self.model, finish_reason=None, usage=None)

    def _answered(self, result: ResponsesResult) -> ChatResponse:
        if self.track_previous_responses and result.id:
            self._previous_response_id = result.id
        return _chat_response(result, model=self.model)

    # --- chat ---------------------------------------------------------------------------------

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request, call = self._responses_request(messages, kwargs)
        return self._answered(self.client.responses(request, **call))

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request, call = self._responses_request(messages, kwargs)
        return self._answered(await self.async_client.responses(request, **call))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request, call = self._responses_request(messages, kwargs, stream=True)
        stream = self.client.stream_responses(request, **call)  # opened now: HTTP errors raise here

        def gen() -> Generator[ChatResponse, None, None]:
            with stream:
                known = self._known(stream)
                yield from filter(None, (_stream_response(stream, event, known) for event in stream))
                yield self._answered(stream.get_final_response())

        return gen()

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        request, call = self._responses_request(messages, kwargs, stream=True)
        stream = await self.async_client.stream_responses(request, **call)

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            async with stream:
                known = self._known(stream)
                async for event in stream:
                    if (response := _stream_response(stream, event, known)) is not None:
                        yield response
                yield self._answered(stream.get_final_response())

        return gen()


# --- history -> input items -----------------------------------------------------------------------


def _after_answer(messages: Sequence[ChatMessage], response_id: str) -> tuple[Sequence[ChatMessage], str | None]:
    """The messages after the answer ``response_id`` (and that id); all messages (and ``None``) when the history
    does not hold that answer, so the conversation starts afresh rather than twice."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].additional_kwargs.get(RESPONSE_ID_KEY) == response_id:
            return messages[index + 1 :], response_id
    return messages, None


def _message_input(message: ChatMessage) -> list[dict[str, Any]]:
    """One message as input items; an earlier answer's reasoning items come first, as they were produced."""
    items: list[dict[str, Any]] = []
    if message.role == MessageRole.ASSISTANT:
        for block in message.blocks:
            item = block.additional_information.get(REASONING_ITEM_KEY) if isinstance(block, ThinkingBlock) else None
            if isinstance(item, Mapping) and item.get("id"):
                items.append(dict(item))
    return items + message_items(to_openai_message(message))


# --- answers ----------------------------------------------------------------------------------------


def _answer_message(result: ResponsesResult) -> ChatMessage:
    """The assistant message of a response: a ``ThinkingBlock`` per reasoning item, the text, the tool calls."""
    message = assistant_message(result.output_text or None, tool_calls=chat_tool_calls(result.function_calls))
    thinking = [_thinking_block(item) for item in result.reasoning_items]
    message.blocks = [*thinking, *message.blocks]
    if result.reasoning:
        message.additional_kwargs[REASONING_KEY] = result.reasoning
    if result.id:
        message.additional_kwargs[RESPONSE_ID_KEY] = result.id
    return message


def _thinking_block(item: ResponseReasoningItem) -> ThinkingBlock:
    return ThinkingBlock(
        content=item.text or None,
        additional_information={REASONING_ITEM_KEY: item.model_dump(exclude_none=True, mode="json")},
    )


def _chat_response(result: ResponsesResult, *, model: str) -> ChatResponse:
    kwargs = response_kwargs(
        result.gateway,
        model=model,
        finish_reason=result.finish_reason,
        usage=result.usage.as_usage() if result.usage is not None else None,
    )
    kwargs[RESPONSE_ID_KEY] = result.id
    return ChatResponse(message=_answer_message(result), raw=result.model_dump(), additional_kwargs=kwargs)


def _stream_response(
    stream: ResponsesStream | AsyncResponsesStream, event: ResponsesEvent, known: dict[str, Any]
) -> ChatResponse | None:
    """The cumulative response after ``event``, or ``None`` when the event adds no text, reasoning or call."""
    delta = getattr(event, "delta", None)
    if not isinstance(delta, str) or not delta:
        return None
    kwargs = dict(known)
    text_delta = ""
    if isinstance(event, (ReasoningSummaryTextDeltaEvent, ReasoningTextDeltaEvent)):
        kwargs["thinking_delta"] = delta
    elif event.type == "response.output_text.delta":
        text_delta = delta
    so_far = stream.accumulator
    message = assistant_message(
        so_far.text or None,
        reasoning=so_far.reasoning,
        tool_calls=chat_tool_calls(so_far.function_calls()),
        final=False,
    )
    return ChatResponse(
        message=message,
        delta=text_delta,
        raw=event.model_dump(),
        additional_kwargs=kwargs,
    )
