"""An I/O-free, incremental server-sent-events decoder (WHATWG rules): bytes in, events out.

Lines end in LF, CR or CRLF, even when a CRLF is split across two chunks; ``:`` lines are comments;
several ``data:`` lines join with a newline; a blank line dispatches the event. It never blocks and
never reads: both the sync and the async stream feed it whatever the socket gave them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: bytes
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class SSEDecoder:
    """Feed it chunks of bytes; it returns the events they complete."""

    __slots__ = ("_buffer", "_data", "_event", "_first_line", "_id", "_retry", "_skip_lf")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._skip_lf = False
        self._first_line = True

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._skip_lf:  # the previous chunk ended in CR: an LF opening this one completes a CRLF
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if self._buffer:
            chunk = self._buffer + chunk
        if b"\r" in chunk:
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        self._buffer = lines.pop()
        return self._lines(lines) if lines else []

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        if self._first_line:
            self._first_line = False
            if lines[0].startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark may open the stream
                lines[0] = lines[0][3:]
        events: list[ServerSentEvent] = []
        for line in lines:
            if line:
                self._field(line)
            elif self._data or self._event is not None:
                events.append(self._dispatch())
        return events

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
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)

    def _dispatch(self) -> ServerSentEvent:
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        event = ServerSentEvent(data=data, event=self._event, id=self._id, retry=self._retry)
        self._data = []
        self._event = None
        return event

    def flush(self) -> list[ServerSentEvent]:
        """At end of stream: the last line and event even without their terminating newlines."""
        events: list[ServerSentEvent] = []
        if self._buffer:
            self._lines([self._buffer])
            self._buffer = b""
        if self._data or self._event is not None:
            events.append(self._dispatch())
        return events
