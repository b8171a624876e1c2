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
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, cast

from pydantic import ValidationError

from cfaig._error_mapping import make_status_error
from cfaig._redact import excerpt
from cfaig._response import _check_json, _validate
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
    ResponsesUsage,
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


# --- the accumulator ------------------------------------------------------------------------------


@dataclass
class _Item:
    """One output item as streamed so far: its last full form, plus the text pieces since."""

    data: dict[str, Any]
    done: bool = False
    text: dict[int, list[str]] = field(default_factory=dict)
    """Per content index: ``output_text`` pieces of a message, ``reasoning_text`` pieces of a reasoning item."""
    summary: dict[int, list[str]] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)

    def build(self) -> dict[str, Any]:
        if self.done:
            return self.data
        item = dict(self.data)
        kind = item.get("type")
        if kind == "message" and self.text:
            item["content"] = [
                {"type": "output_text", "text": "".join(self.text[index]), "annotations": []}
                for index in sorted(self.text)
            ]
        elif kind == "function_call" and self.arguments:
            item["arguments"] = "".join(self.arguments)
        elif kind == "reasoning":
            if self.summary:
                item["summary"] = [
                    {"type": "summary_text", "text": "".join(self.summary[index])} for index in sorted(self.summary)
                ]
            if self.text:
                item["content"] = [
                    {"type": "reasoning_text", "text": "".join(self.text[index])} for index in sorted(self.text)
                ]
        return item


class ResponsesAccumulator:
    """Folds stream events into the response so far: text, function calls, reasoning items, usage.

    ``response.output_item.done`` and ``response.completed`` carry the authoritative items; the deltas
    before them make the partial answer readable while the stream runs.
    """

    def __init__(self) -> None:
        self._items: dict[int, _Item] = {}
        self._final: ResponsesResult | None = None
        self.id = ""
        self.model = ""
        self.created_at: int | float = 0
        self.events = 0

    @property
    def usage(self) -> ResponsesUsage | None:
        """Token usage, known once ``response.completed`` arrived."""
        return self._final.usage if self._final is not None else None

    @property
    def status(self) -> str | None:
        return self._final.status if self._final is not None else ("in_progress" if self.id else None)

    def add(self, event: ResponsesEvent) -> None:
        self.events += 1
        if isinstance(event, OutputTextDeltaEvent):
            self._item(event.output_index, "message", event.item_id).text.setdefault(event.content_index, []).append(
                event.delta
            )
        elif isinstance(event, FunctionCallArgumentsDeltaEvent):
            self._item(event.output_index, "function_call", event.item_id).arguments.append(event.delta)
        elif isinstance(event, ReasoningSummaryTextDeltaEvent):
            item = self._item(event.output_index, "reasoning", event.item_id)
            item.summary.setdefault(event.summary_index, []).append(event.delta)
        elif isinstance(event, ReasoningTextDeltaEvent):
            item = self._item(event.output_index, "reasoning", event.item_id)
            item.text.setdefault(event.content_index, []).append(event.delta)
        elif isinstance(event, OutputItemEvent):
            data = event.item.model_dump(exclude_none=True)
            if event.type == "response.output_item.done":
                self._items[event.output_index] = _Item(data, done=True)
            else:
                self._items[event.output_index] = _Item(data)
        elif isinstance(event, ResponseCompletedEvent):
            self._final = event.response
            self._started(event.response)
        elif isinstance(event, ResponseCreatedEvent):
            self._started(event.response)

    def _started(self, response: ResponsesResult) -> None:
        self.id = self.id or response.id
        self.model = self.model or response.model
        self.created_at = self.created_at or response.created_at

    def _item(self, index: int, kind: str, item_id: str) -> _Item:
        item = self._items.get(index)
        if item is None:  # a delta without its output_item.added: start the item from it
            item = self._items[index] = _Item({"type": kind, "id": item_id})
        return item

    def _output(self) -> list[dict[str, Any]]:
        return [self._items[index].build() for index in sorted(self._items)]

    def snapshot(self, meta: GatewayMeta | None = None) -> ResponsesResult:
        """The response so far (the final one once ``response.completed`` arrived)."""
        if self._final is not None:
            result = self._final
            if not result.output and self._items:  # a terminal event that does not repeat the output
                result = result.model_copy(update={"output": ResponsesResult(output=self._output()).output})
        else:
            result = ResponsesResult.model_validate(
                {
                    "id": self.id,
                    "model": self.model,
                    "created_at": self.created_at,
                    "status": self.status,
                    "output": self._output(),
                }
            )
        if meta is not None:
            result = result.model_copy()
            result.gateway = meta
        return result

    @property
    def text(self) -> str:
        """The output text so far."""
        if self._final is not None:
            return self.snapshot().output_text
        return "".join(
            "".join(piece for index in sorted(item.text) for piece in item.text[index])
            if not item.done
            else _parts_text(item.data.get("content"), "output_text")
            for item in self._ordered("message")
        )

    @property
    def reasoning(self) -> str | None:
        """The reasoning shown so far (summaries, else raw reasoning text), or ``None``."""
        if self._final is not None:
            return self.snapshot().reasoning
        texts = []
        for item in self._ordered("reasoning"):
            if item.done:
                texts.append(ResponseReasoningItem.model_validate(item.data).text)
            else:
                pieces = item.summary or item.text
                texts.append("\n\n".join("".join(pieces[index]) for index in sorted(pieces)))
        return "\n\n".join(text for text in texts if text) or None

    def function_calls(self) -> list[ResponseFunctionCall]:
        """Function calls so far; ``arguments`` may still be partial JSON while the stream runs."""
        if self._final is not None:
            return self.snapshot().function_calls
        return [ResponseFunctionCall.model_validate(item.build()) for item in self._ordered("function_call")]

    def _ordered(self, kind: str) -> list[_Item]:
        return [self._items[index] for index in sorted(self._items) if self._items[index].data.get("type") == kind]


def _parts_text(parts: Any, kind: str) -> str:
    return "".join(
        str(part.get("text", "")) for part in parts or () if isinstance(part, Mapping) and part.get("type") == kind
    )


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
