"""Responses API answers and streams: events decoded, accumulated into the response, failures typed.

:class:`ResponsesDecoder` and :class:`ResponsesAccumulator` do no I/O. The streams read bytes with the
chat stream's own loop (:class:`~cfaig._streaming.ChatStream`: transport errors, buffered answers,
closing), running this decoder instead of the chat one: both speak ``iter_feed`` / ``finish`` /
``whole_body``. A Responses stream has no ``[DONE]``: it ends with ``response.completed`` (or
``response.incomplete``), and one that ends before it raises :class:`~cfaig.errors.IncompleteStreamError`.
``response.failed`` and ``error`` events raise the typed error their code maps to, through the same
status table as HTTP errors.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, cast

from pydantic import ValidationError

from cfaig._error_mapping import make_status_error
from cfaig._redact import excerpt
from cfaig._response import _check_json, _validate
from cfaig._responses_accumulator import ResponsesAccumulator
from cfaig._sse import ServerSentEvent, SSEDecoder
from cfaig._streaming import AsyncChatStream, ChatStream, StreamDecoder
from cfaig._transports._limits import Budget
from cfaig.errors import GatewayError, IncompleteStreamError, MalformedResponseError
from cfaig.responses_types import (
    RESPONSES_EVENT_TYPES,
    FunctionCallArgumentsDeltaEvent,
    OutputItemEvent,
    OutputTextDeltaEvent,
    ReasoningSummaryTextDeltaEvent,
    ReasoningTextDeltaEvent,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFunctionCall,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponsesEvent,
    ResponsesResult,
)
from cfaig.types import GatewayMeta

if TYPE_CHECKING:
    import httpx

    from cfaig._base_client import BaseClient
    from cfaig._request import PreparedRequest

__all__ = [
    "AsyncResponsesStream",
    "ResponsesAccumulator",
    "ResponsesDecoder",
    "ResponsesStream",
    "open_decoder",
    "parse_responses",
    "read_result",
    "responses_error",
    "result_to_events",
]

_ERROR_STATUS: Final[Mapping[str, int]] = {
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "vector_store_timeout": 504,
    "invalid_api_key": 401,
    "model_not_found": 404,
    "previous_response_not_found": 404,
    "context_length_exceeded": 400,
    "invalid_prompt": 400,
}
"""OpenAI's error codes in ``response.failed`` / ``error`` events, as the HTTP status that means the same
(``invalid_*`` and ``image_*`` codes are 400s; anything else unknown is a 500)."""


def parse_responses(body: bytes, content_type: str, meta: GatewayMeta) -> ResponsesResult:
    """A whole Responses answer, with the gateway's metadata (a body that is not one is malformed)."""
    _check_json(content_type, body, meta)
    result = _validate(ResponsesResult, body, meta, "responses")
    result.gateway = meta
    return result


def responses_error(
    error: Mapping[str, Any] | None,
    *,
    meta: GatewayMeta,
    provider: str | None,
) -> GatewayError:
    """A failed response's ``error`` (``{code, message}``) as the typed error of its status.

    Raised through the client's or the stream's ``map_transport_errors``, which scrubs the credentials."""
    error = dict(error or {})
    code = error.get("code")
    if isinstance(code, int) and 400 <= code < 600:
        status = code
    elif isinstance(code, str):
        status = _ERROR_STATUS.get(code) or (400 if code.startswith(("invalid_", "image_")) else 500)
    else:
        status = 500
    mapped = make_status_error(status, json.dumps({"error": error}), provider=provider)
    mapped.log_id = meta.log_id
    return mapped


# --- a whole response replayed as events ----------------------------------------------------------


def _item_events(index: int, item: Any) -> list[ResponsesEvent]:
    """``output_item.added``, the deltas of its text, ``output_item.done``."""
    events: list[ResponsesEvent] = []
    item_id = getattr(item, "id", None) or ""
    start: Any
    if isinstance(item, ResponseOutputMessage):
        start = item.model_copy(update={"content": []})
        deltas: list[ResponsesEvent] = [
            OutputTextDeltaEvent(
                type="response.output_text.delta", item_id=item_id, output_index=index, content_index=i, delta=part.text
            )
            for i, part in enumerate(item.content)
            if part.type == "output_text" and part.text
        ]
    elif isinstance(item, ResponseFunctionCall):
        start = item.model_copy(update={"arguments": ""})
        deltas = [
            FunctionCallArgumentsDeltaEvent(
                type="response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=item.arguments
            )
        ]
    elif isinstance(item, ResponseReasoningItem):
        start = item.model_copy(update={"summary": [], "content": None, "encrypted_content": None})
        deltas = [
            ReasoningSummaryTextDeltaEvent(
                type="response.reasoning_summary_text.delta",
                item_id=item_id,
                output_index=index,
                summary_index=i,
                delta=part.text,
            )
            for i, part in enumerate(item.summary)
        ]
        deltas += [
            ReasoningTextDeltaEvent(
                type="response.reasoning_text.delta",
                item_id=item_id,
                output_index=index,
                content_index=i,
                delta=part.text,
            )
            for i, part in enumerate(item.content or ())
        ]
    else:
        start, deltas = item, []
    events.append(OutputItemEvent(type="response.output_item.added", output_index=index, item=start))
    events.extend(deltas)
    events.append(OutputItemEvent(type="response.output_item.done", output_index=index, item=item))
    return events


def result_to_events(result: ResponsesResult) -> list[ResponsesEvent]:
    """A whole response replayed as the events of its stream: what a gateway that buffers a stream
    (guardrails, DLP) sends as one JSON body."""
    created = result.model_copy(update={"status": "in_progress", "output": [], "usage": None})
    events: list[ResponsesEvent] = [ResponseCreatedEvent(type="response.created", response=created)]
    for index, item in enumerate(result.output):
        events.extend(_item_events(index, item))
    terminal = "response.incomplete" if result.status == "incomplete" else "response.completed"
    events.append(ResponseCompletedEvent(type=terminal, response=result))
    return events


# --- the decoder ----------------------------------------------------------------------------------


class ResponsesDecoder:
    """Turns the bytes of a Responses stream into typed events and keeps the accumulator; no I/O."""

    def __init__(self, meta: GatewayMeta, *, provider: str | None = None, secrets: tuple[str, ...] = ()) -> None:
        self.meta = meta
        self.provider = provider
        self.secrets = secrets
        """The client's credentials, scrubbed from every error the stream raises."""
        self.accumulator = ResponsesAccumulator()
        self.done = False
        self._sse = SSEDecoder()

    def feed(self, data: bytes) -> list[ResponsesEvent]:
        return list(self.iter_feed(data))

    def iter_feed(self, data: bytes) -> Iterator[ResponsesEvent]:
        """The events ``data`` completes, one at a time (exhaust it before feeding more)."""
        return self._events(self._sse.iter_feed(data))

    def finish(self) -> list[ResponsesEvent]:
        """Call at end of body: raises if ``response.completed`` never came (an event the body ended in is
        discarded, per WHATWG: a cut inside an event is an incomplete stream)."""
        events = list(self._events(self._sse.flush()))
        if not self.done:
            raise IncompleteStreamError(
                f"the Responses stream ended after {self.accumulator.events} events without response.completed; "
                "the answer is incomplete",
                status_code=self.meta.status_code,
                log_id=self.meta.log_id,
                provider=self.provider,
            )
        return events

    def whole_body(self, body: bytes, content_type: str) -> list[ResponsesEvent]:
        """A ``stream: true`` request answered with one JSON body (a buffering gateway): replay it."""
        result = parse_responses(body, content_type, self.meta)
        if result.status == "failed":
            raise self._failure(result.error.model_dump() if result.error else None)
        events = result_to_events(result)
        for event in events:
            self.accumulator.add(event)
        self.done = True
        return events

    def _events(self, events: Iterable[ServerSentEvent]) -> Iterator[ResponsesEvent]:
        add = self.accumulator.add
        for sse in events:
            if self.done:
                continue
            data = sse.data
            if data == b"[DONE]" or not data.strip():  # a stray OpenAI-style marker is not a terminator here
                continue
            event = self._parse(sse.event, data)
            if isinstance(event, ResponseErrorEvent):
                raise self._failure({"code": event.code, "message": event.message, "param": event.param})
            if isinstance(event, ResponseFailedEvent):
                raise self._failure(event.response.error.model_dump() if event.response.error else None)
            add(event)
            if isinstance(event, ResponseCompletedEvent):
                self.done = True
            yield event

    def _parse(self, name: str | None, data: bytes) -> ResponsesEvent:
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            payload = None
        if isinstance(payload, dict) and "type" not in payload and isinstance(payload.get("error"), Mapping):
            raise self._failure(payload["error"])  # a gateway-style {"error": {...}} inside the stream
        kind = (payload.get("type") or name) if isinstance(payload, dict) else None
        if isinstance(payload, dict) and isinstance(kind, str):
            payload["type"] = kind
            try:
                return RESPONSES_EVENT_TYPES.get(kind, ResponsesEvent).model_validate(payload)
            except ValidationError:
                pass
        raise MalformedResponseError(
            "the stream carried an event that is not a Responses API event",
            status_code=self.meta.status_code,
            log_id=self.meta.log_id,
            provider=self.provider,
            body_excerpt=excerpt(data.decode("utf-8", errors="replace")),
        )

    def _failure(self, error: Mapping[str, Any] | None) -> GatewayError:
        return responses_error(error, meta=self.meta, provider=self.provider)


# --- the streams ----------------------------------------------------------------------------------


class _ResponsesStreamBase:
    def __init__(self, response: httpx.Response, decoder: ResponsesDecoder) -> None:
        self.response = response
        self._decoder = decoder

    @property
    def meta(self) -> GatewayMeta:
        """What the gateway said about this request (log id, cache status, step), known at once."""
        return self._decoder.meta

    @property
    def accumulator(self) -> ResponsesAccumulator:
        """The response so far; complete once the iteration has ended."""
        return self._decoder.accumulator

    @property
    def completed(self) -> bool:
        return self._decoder.done

    def get_final_response(self) -> ResponsesResult:
        """The whole response; only after the stream was read to its end."""
        if not self._decoder.done:
            raise IncompleteStreamError("the stream has not been read to its end", log_id=self.meta.log_id)
        return self._decoder.accumulator.snapshot(self.meta)


def _chat_loop_decoder(decoder: ResponsesDecoder) -> StreamDecoder:
    """``decoder`` for the chat stream's byte loop, which calls only what both decoders have."""
    return cast("StreamDecoder", decoder)


class ResponsesStream(_ResponsesStreamBase):
    """An iterator of :class:`~cfaig.types.ResponsesEvent`; also a context manager that closes the connection."""

    def __init__(self, response: httpx.Response, decoder: ResponsesDecoder, budget: Budget | None = None) -> None:
        super().__init__(response, decoder)
        self._bytes = ChatStream(response, _chat_loop_decoder(decoder), budget)

    def __iter__(self) -> Iterator[ResponsesEvent]:
        return cast("Iterator[ResponsesEvent]", iter(self._bytes))

    def close(self) -> None:
        self._bytes.close()

    def __enter__(self) -> ResponsesStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncResponsesStream(_ResponsesStreamBase):
    """The async twin of :class:`ResponsesStream`."""

    def __init__(self, response: httpx.Response, decoder: ResponsesDecoder, budget: Budget | None = None) -> None:
        super().__init__(response, decoder)
        self._bytes = AsyncChatStream(response, _chat_loop_decoder(decoder), budget)

    def __aiter__(self) -> AsyncIterator[ResponsesEvent]:
        return cast("AsyncIterator[ResponsesEvent]", self._bytes.__aiter__())

    async def close(self) -> None:
        await self._bytes.close()

    async def __aenter__(self) -> AsyncResponsesStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


# --- what the clients call ------------------------------------------------------------------------


def read_result(
    client: BaseClient, body: bytes, response: httpx.Response, prepared: PreparedRequest, step: int
) -> ResponsesResult:
    """A whole answer: parsed with the gateway's metadata; a ``failed`` response raises its typed error."""
    provider = prepared.targets[step].provider

    def parse(raw: bytes, content_type: str, meta: GatewayMeta) -> ResponsesResult:
        result = parse_responses(raw, content_type, meta)
        if result.status == "failed":
            raise responses_error(result.error.model_dump() if result.error else None, meta=meta, provider=provider)
        return result

    return client._parse(parse, body, response, prepared, step)  # its boundary scrubs the call's keys too


def open_decoder(
    client: BaseClient, response: httpx.Response, prepared: PreparedRequest, step: int
) -> ResponsesDecoder:
    """The decoder for a stream that just opened (the gateway's metadata is in its headers)."""
    meta, _ = client._meta(response, prepared, step)
    return ResponsesDecoder(meta, provider=prepared.targets[step].provider, secrets=client.secrets_for(prepared))
