"""An I/O-free, incremental server-sent-events decoder (WHATWG rules): bytes in, events out.

Lines end in LF, CR or CRLF, even when a CRLF is split across two chunks; ``:`` lines are comments;
several ``data:`` lines join with a newline; a blank line dispatches the event. It never blocks and
never reads: both the sync and the async stream feed it whatever the socket gave them.

How it is fast: line endings are normalised to LF first, so an event is the text between two
``\\n\\n``. Everything after the last ``\\n\\n`` stays buffered as text; a complete block that is a
single ``data: ...`` line (what chat streams send) becomes an event with one slice, and any other block
goes through the general field parser. No field state outlives a block, so a stream decodes the same
however its bytes were split.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: bytes
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


# A frozen dataclass's __init__ sets each field through object.__setattr__; the decoder builds one
# event per chunk, so it fills the slots through their descriptors (same object, equality and hash).
_new = object.__new__
_set_data = vars(ServerSentEvent)["data"].__set__
_set_event = vars(ServerSentEvent)["event"].__set__
_set_id = vars(ServerSentEvent)["id"].__set__
_set_retry = vars(ServerSentEvent)["retry"].__set__


def _event(data: bytes, event: str | None, id_: str | None, retry: int | None) -> ServerSentEvent:
    sse: ServerSentEvent = _new(ServerSentEvent)
    _set_data(sse, data)
    _set_event(sse, event)
    _set_id(sse, id_)
    _set_retry(sse, retry)
    return sse


class SSEDecoder:
    """Feed it chunks of bytes; it returns the events they complete.

    :meth:`feed` returns a list; :meth:`iter_feed` yields each event as soon as it is decoded (exhaust
    it before the next call). Call :meth:`flush` at end of stream: it discards an unterminated event.
    """

    __slots__ = ("_buffer", "_data", "_event", "_first_line", "_id", "_retry", "_skip_lf", "discarded")

    def __init__(self) -> None:
        self._buffer = b""  # text after the last blank line, line endings already normalised to LF
        self._data: list[bytes] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._skip_lf = False
        self._first_line = True
        self.discarded = b""
        """What :meth:`flush` dropped: the text of an event the stream ended in (line endings as LF)."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        return list(self.iter_feed(chunk))

    def iter_feed(self, chunk: bytes) -> Iterator[ServerSentEvent]:
        """The events ``chunk`` completes, one at a time (the decoder's own state is updated at once)."""
        blocks = self._blocks(chunk)
        return self._events(blocks) if blocks else iter(())

    def iter_payloads(self, chunk: bytes) -> Iterator[bytes | ServerSentEvent]:
        """Like :meth:`iter_feed`, but a plain event (only ``data``, no ``event`` name) comes as its bytes."""
        blocks = self._blocks(chunk)
        return self._payloads(blocks) if blocks else iter(())

    def _blocks(self, chunk: bytes) -> list[bytes]:
        """Takes in ``chunk``; returns the complete blocks (events without their blank line)."""
        if self._skip_lf:  # the previous chunk ended in CR: an LF opening this one completes a CRLF
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._buffer:
            chunk = self._buffer + chunk
        if self._first_line:
            if b"\n" not in chunk:  # the first line (and a possible byte-order mark) is not complete yet
                self._buffer = chunk
                return []
            self._first_line = False
            if chunk.startswith(_BOM):  # a UTF-8 byte-order mark may open the stream
                chunk = chunk[3:]
        blocks = chunk.split(b"\n\n")
        self._buffer = blocks.pop()
        return blocks

    def _events(self, blocks: list[bytes]) -> Iterator[ServerSentEvent]:
        for block in blocks:
            if block[:6] == b"data: " and b"\n" not in block:  # the common case: one data line
                yield _event(block[6:], None, self._id, self._retry)
            else:
                event = self._block(block)
                if event is not None:
                    yield event

    def _payloads(self, blocks: list[bytes]) -> Iterator[bytes | ServerSentEvent]:
        for block in blocks:
            if block[:6] == b"data: " and b"\n" not in block:
                yield block[6:]
            else:
                event = self._block(block)
                if event is not None:
                    yield event.data if event.event is None else event

    def _block(self, block: bytes) -> ServerSentEvent | None:
        """The lines of one event (without its blank line). Only a leading line can be blank."""
        for line in block.split(b"\n"):
            if line:
                self._field(line)
        if self._data or self._event is not None:
            return self._dispatch()
        return None

    def _field(self, line: bytes) -> None:
        if line[0] == 0x3A:  # ":" comment / keep-alive
            return
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", errors="replace")
        elif name == b"id":
            if b"\x00" not in value:
                self._id = value.decode("utf-8", errors="replace")
        elif name == b"retry" and value.isdigit() and len(value) <= 9:  # int() refuses 4,300+ digits
            self._retry = int(value)

    def _dispatch(self) -> ServerSentEvent:
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        event = _event(data, self._event, self._id, self._retry)
        self._data = []
        self._event = None
        return event

    def flush(self) -> list[ServerSentEvent]:
        """At end of stream: no event. An event without its terminating blank line was cut off, and per
        WHATWG ("if the file ends in the middle of an event ... the incomplete event is not dispatched")
        it is discarded, never half-parsed; its text stays in :attr:`discarded`.

        https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
        """
        buffer, self._buffer = self._buffer, b""
        if self._first_line:
            self._first_line = False
            if buffer.startswith(_BOM):
                buffer = buffer[3:]
        self.discarded = buffer
        self._data = []
        self._event = None
        return []
