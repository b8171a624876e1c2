"""Chat streams: bytes -> SSE events -> typed chunks, with a running accumulator.

:class:`StreamDecoder` and :class:`ChatAccumulator` do no I/O; :class:`ChatStream` and
:class:`AsyncChatStream` only read bytes and close the response. A stream that ends without
``[DONE]`` raises :class:`~cfaig.errors.IncompleteStreamError`: it never passes for a short answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from pydantic import ValidationError

from cfaig._error_mapping import error_from_stream_event, map_transport_errors
from cfaig._redact import excerpt
from cfaig._response import parse_chat
from cfaig._sse import ServerSentEvent, SSEDecoder
from cfaig.errors import IncompleteStreamError, MalformedResponseError
from cfaig.types import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    FunctionCall,
    FunctionCallDelta,
    GatewayMeta,
    ToolCall,
    ToolCallDelta,
    Usage,
)

__all__ = ["AsyncChatStream", "ChatAccumulator", "ChatStream", "StreamDecoder", "completion_to_chunks"]

_DONE = b"[DONE]"


@dataclass
class _ToolSlot:
    id: str = ""
    name: str = ""
    arguments: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _ChoiceState:
    role: str = "assistant"
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tools: list[_ToolSlot] = field(default_factory=list)
    by_index: dict[int, int] = field(default_factory=dict)
    finish_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ChatAccumulator:
    """Folds chunks into the answer so far: text, reasoning, tool calls, usage and finish reason.

    It also repairs tool-call deltas in place: providers that omit ``index``, or reuse one index for
    several calls, get a stable per-call ``index`` so consumers can merge deltas safely.
    """

    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceState] = {}
        self.usage: Usage | None = None
        self.id = ""
        self.model = ""
        self.created = 0
        self.chunks = 0

    def add(self, chunk: ChatCompletionChunk) -> None:
        # called once per streamed chunk: each attribute is read once, into a local
        self.chunks += 1
        if not self.id and chunk.id:
            self.id, self.model, self.created = chunk.id, chunk.model, chunk.created
        usage = chunk.usage
        if usage is not None:
            self.usage = usage  # cumulative on some providers, final-only on others: last wins
        for choice in chunk.choices:
            state = self._choices.get(choice.index)
            if state is None:
                state = self._choices[choice.index] = _ChoiceState()
            delta = choice.delta
            role = delta.role
            if role:
                state.role = role
            content = delta.content
            if content:
                state.content.append(content)
            # ``Delta.reasoning`` inlined: ``reasoning_content``, else an extra ``reasoning`` field
            reasoning = delta.reasoning_content
            if not reasoning and delta.__pydantic_extra__:
                reasoning = delta.reasoning
            if reasoning:
                state.reasoning.append(reasoning)
            tool_calls = delta.tool_calls
            if tool_calls:
                for call in tool_calls:
                    self._add_tool_delta(state, call)
            finish_reason = choice.finish_reason
            if finish_reason:
                state.finish_reason = finish_reason

    @staticmethod
    def _add_tool_delta(state: _ChoiceState, call: ToolCallDelta) -> None:
        slot_number: int | None = None
        if call.id:
            slot_number = next((i for i, slot in enumerate(state.tools) if slot.id == call.id), None)
            if slot_number is None and call.index is not None and call.index in state.by_index:
                mapped = state.by_index[call.index]
                if not state.tools[mapped].id:
                    slot_number = mapped  # the id arrives after the first fragment of this index
        elif call.index is not None:
            slot_number = state.by_index.get(call.index)
        elif state.tools:
            slot_number = len(state.tools) - 1  # no id, no index: a continuation of the last call
        if slot_number is None:
            state.tools.append(_ToolSlot())
            slot_number = len(state.tools) - 1
        if call.index is not None:
            state.by_index[call.index] = slot_number
        slot = state.tools[slot_number]
        if call.id:
            slot.id = call.id
        if call.function is not None:
            if call.function.name:
                slot.name = slot.name + call.function.name if slot.name and not slot.arguments else call.function.name
            if call.function.arguments:
                slot.arguments += call.function.arguments
        if call.model_extra:
            slot.extra.update(call.model_extra)
        call.index = slot_number

    @property
    def text(self) -> str:
        state = self._choices.get(0)
        return "".join(state.content) if state else ""

    @property
    def reasoning(self) -> str:
        state = self._choices.get(0)
        return "".join(state.reasoning) if state else ""

    @property
    def finish_reason(self) -> str | None:
        state = self._choices.get(0)
        return state.finish_reason if state else None

    def tool_calls(self, choice: int = 0) -> list[ToolCall]:
        """Tool calls so far; ``arguments`` may still be partial JSON while the stream runs."""
        state = self._choices.get(choice)
        if state is None:
            return []
        return [
            ToolCall(
                id=slot.id,
                type="function",
                function=FunctionCall(name=slot.name, arguments=slot.arguments),
                **slot.extra,
            )
            for slot in state.tools
        ]

    def snapshot(self, meta: GatewayMeta | None = None) -> ChatCompletion:
        """The answer so far as a :class:`ChatCompletion`."""
        choices = []
        for index in sorted(self._choices) or [0]:
            state = self._choices.get(index, _ChoiceState())
            message = AssistantMessage(
                role=state.role,
                content="".join(state.content) if state.content or not state.tools else None,
                reasoning_content="".join(state.reasoning) or None,
                tool_calls=self.tool_calls(index) or None,
            )
            choices.append(Choice(index=index, message=message, finish_reason=state.finish_reason))
        completion = ChatCompletion(
            id=self.id, created=self.created, model=self.model, choices=choices, usage=self.usage
        )
        if meta is not None:
            completion.gateway = meta
        return completion


def completion_to_chunks(completion: ChatCompletion) -> list[ChatCompletionChunk]:
    """A whole completion replayed as chunks: what a gateway that buffers a stream (guardrails, DLP) sends."""
    chunks = []
    for choice in completion.choices:
        message = choice.message
        tool_calls = [
            ToolCallDelta(
                index=i,
                id=call.id,
                type="function",
                function=FunctionCallDelta(name=call.function.name, arguments=call.function.arguments),
                **(call.model_extra or {}),
            )
            for i, call in enumerate(message.tool_calls or ())
        ]
        delta = Delta(
            role="assistant",
            content=message.content,
            reasoning_content=message.reasoning,
            tool_calls=tool_calls or None,
        )
        chunks.append(
            ChatCompletionChunk(
                id=completion.id,
                created=completion.created,
                model=completion.model,
                choices=[ChunkChoice(index=choice.index, delta=delta, finish_reason=choice.finish_reason)],
            )
        )
    if completion.usage is not None:
        chunks.append(
            ChatCompletionChunk(
                id=completion.id,
                created=completion.created,
                model=completion.model,
                choices=[],
                usage=completion.usage,
            )
        )
    return chunks


class StreamDecoder:
    """Turns the bytes of a chat stream into chunks and keeps the accumulator; no I/O."""

    def __init__(self, meta: GatewayMeta, *, provider: str | None = None, secrets: tuple[str, ...] = ()) -> None:
        self.meta = meta
        self.provider = provider
        self.secrets = secrets
        """The client's credentials, scrubbed from every error the stream raises."""
        self.accumulator = ChatAccumulator()
        self.done = False
        self._sse = SSEDecoder()

    def feed(self, data: bytes) -> list[ChatCompletionChunk]:
        return list(self.iter_feed(data))

    def iter_feed(self, data: bytes) -> Iterator[ChatCompletionChunk]:
        """Like :meth:`feed`, one chunk at a time: the first is out before the rest of ``data`` is decoded.

        Exhaust it before feeding more. A stream error raises when its event is reached, after the
        chunks before it.
        """
        return self._chunks(self._sse.iter_payloads(data))

    def finish(self) -> list[ChatCompletionChunk]:
        """Call at end of body: raises if ``[DONE]`` never came.

        An event the body ended in is discarded (WHATWG), so a cut inside an event is an incomplete
        stream, not a malformed one; only a ``data: [DONE]`` line that lacks its blank line still counts.
        """
        chunks: list[ChatCompletionChunk] = list(self._chunks(self._sse.flush()))
        if not self.done and _is_done_line(self._sse.discarded):
            self.done = True
        if not self.done:
            raise IncompleteStreamError(
                f"the stream ended after {self.accumulator.chunks} chunks without its [DONE] terminator; "
                "the answer is incomplete",
                status_code=self.meta.status_code,
                log_id=self.meta.log_id,
                provider=self.provider,
            )
        return chunks

    def whole_body(self, body: bytes, content_type: str) -> list[ChatCompletionChunk]:
        """A ``stream: true`` request answered with one JSON body (a buffering gateway): replay it."""
        completion = parse_chat(body, content_type, self.meta)
        chunks = completion_to_chunks(completion)
        for chunk in chunks:
            self.accumulator.add(chunk)
        self.done = True
        return chunks

    def _chunks(self, events: Iterable[bytes | ServerSentEvent]) -> Iterator[ChatCompletionChunk]:
        validate = ChatCompletionChunk.__pydantic_validator__.validate_json  # model_validate_json, minus a call
        add = self.accumulator.add
        for event in events:
            if self.done:
                continue
            if isinstance(event, bytes):  # a plain ``data:`` event: the hot path
                data = event
                named = None
            else:
                data = event.data
                named = event.event
            if data[:6] == _DONE:  # openai-python: startswith("[DONE]"), so "[DONE] " ends a stream too
                self.done = True
                continue
            if (named == "error" and data.strip()) or data.startswith(b'{"error"'):
                raise self._stream_error(data)
            try:
                chunk = validate(data)
            except ValidationError:
                if not data.strip():  # a blank event carries nothing
                    continue
                raise self._malformed("the stream carried an event that is not a JSON chat chunk", data) from None
            if chunk.__pydantic_extra__ and "error" in chunk.__pydantic_extra__ and not chunk.choices:
                raise self._stream_error(data)
            add(chunk)
            yield chunk

    def _malformed(self, message: str, data: bytes) -> MalformedResponseError:
        return MalformedResponseError(
            message,
            status_code=self.meta.status_code,
            log_id=self.meta.log_id,
            provider=self.provider,
            body_excerpt=excerpt(data.decode("utf-8", errors="replace")),
        )

    def _stream_error(self, data: bytes) -> Exception:
        try:
            payload = json.loads(data)
        except RecursionError:  # nested deeper than the parser goes: no error a server means to send
            return self._malformed("the stream carried an error event nested too deeply to read", data)
        except ValueError:
            payload = {"error": {"message": data.decode("utf-8", errors="replace")}}
        if not isinstance(payload, dict):
            payload = {"error": {"message": str(payload)}}
        error = error_from_stream_event(payload, provider=self.provider)
        error.log_id = self.meta.log_id
        return error  # raised through the stream's map_transport_errors, which scrubs it


def _is_done_line(text: bytes) -> bool:
    """Whether ``text`` (an unterminated event) is one ``data: [DONE]`` line."""
    line = text.strip()
    return line[:5] == b"data:" and b"\n" not in line and line[5:].lstrip()[:6] == _DONE


def _sniff_json(head: bytes) -> bool:
    """Whether a body whose content type says neither SSE nor JSON starts as a JSON document."""
    return head.lstrip()[:1] in (b"{", b"[")


class _StreamBase:
    def __init__(self, response: httpx.Response, decoder: StreamDecoder) -> None:
        self.response = response
        self._decoder = decoder
        content_type = response.headers.get("content-type", "")
        self._content_type = content_type
        self._buffered = "text/event-stream" not in content_type and any(
            kind in content_type for kind in ("json", "html", "xml")
        )
        # A proxy may rewrite an SSE body's type (text/plain, application/octet-stream) or drop it: as in
        # openai-python it is read as a stream, unless its first bytes are a JSON document (a buffered answer).
        self._sniff = not self._buffered and "text/event-stream" not in content_type

    @property
    def meta(self) -> GatewayMeta:
        """What the gateway said about this request (log id, cache status, step), known at once."""
        return self._decoder.meta

    @property
    def accumulator(self) -> ChatAccumulator:
        """The answer so far; complete once the iteration has ended."""
        return self._decoder.accumulator

    @property
    def completed(self) -> bool:
        return self._decoder.done

    def get_final_completion(self) -> ChatCompletion:
        """The whole answer; only after the stream was read to its end."""
        if not self._decoder.done:
            raise IncompleteStreamError("the stream has not been read to its end", log_id=self.meta.log_id)
        return self._decoder.accumulator.snapshot(self.meta)


class ChatStream(_StreamBase):
    """An iterator of :class:`ChatCompletionChunk`; also a context manager that closes the connection."""

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        decoder = self._decoder
        try:
            with map_transport_errors(provider=decoder.provider, secrets=decoder.secrets):
                if self._buffered:
                    yield from decoder.whole_body(self.response.read(), self._content_type)
                    return
                body = self.response.iter_bytes()
                if self._sniff:
                    head = b""
                    for data in body:
                        head += data
                        if head.strip():
                            break
                    if _sniff_json(head):
                        yield from decoder.whole_body(head + b"".join(body), self._content_type)
                        return
                    yield from decoder.iter_feed(head)
                if not self.completed:  # the sniffed head may have held the whole stream
                    for data in body:
                        yield from decoder.iter_feed(data)
                        if decoder.done:  # the terminator: stop reading, even if the connection stays open
                            break
                yield from decoder.finish()
        finally:
            self.response.close()

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncChatStream(_StreamBase):
    """The async twin of :class:`ChatStream`."""

    async def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        decoder = self._decoder
        body = self.response.aiter_bytes()
        try:
            with map_transport_errors(provider=decoder.provider, secrets=decoder.secrets):
                if self._buffered:
                    for chunk in decoder.whole_body(await self.response.aread(), self._content_type):
                        yield chunk
                    return
                if self._sniff:
                    head = b""
                    async for data in body:
                        head += data
                        if head.strip():
                            break
                    if _sniff_json(head):
                        rest = [data async for data in body]
                        for chunk in decoder.whole_body(head + b"".join(rest), self._content_type):
                            yield chunk
                        return
                    for chunk in decoder.iter_feed(head):
                        yield chunk
                if not self.completed:  # the sniffed head may have held the whole stream
                    async for data in body:
                        for chunk in decoder.iter_feed(data):
                            yield chunk
                        if decoder.done:  # the terminator: stop reading, even if the connection stays open
                            break
                for chunk in decoder.finish():
                    yield chunk
        finally:
            closing = getattr(body, "aclose", None)
            if closing is not None:
                await closing()
            await self.response.aclose()

    async def close(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
