"""The wire-level fault table: each fault's server script and its expected outcome per mode.

Used by ``test_wire_faults.py`` (assertions) and ``table.py`` (a markdown table from a live run). Every fault
runs with ``timeout=0.3`` (0.2 where it ends in a timeout) and ``max_retries=1`` (2 attempts at most), retries
sleeping milliseconds. The sync modes (``sync``, ``stream``) send on httpx, the async ones on aiohttp; where the
two stacks differ the expected outcome says so per mode.
"""

from __future__ import annotations

import gc
import gzip
import socket
import sys
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cfaig import errors
from tests.faults._harness import MODES, STREAM_MODES, CallResult, CallSettings, Layer, Mode, fast_retries, run_call
from tests.faults.wire._server import TEXT, Conn, Request, WireServer, answer_for, completion, head, sse

TIMEOUT = 0.3
SETTINGS = CallSettings(max_retries=1, timeout=TIMEOUT)
SHORT = CallSettings(max_retries=1, timeout=0.2)
"""For the rows that end in a timeout (each attempt waits the whole of it)."""
DRIP = 0.02
UPLOAD = "u" * (16 * 1024 * 1024)
"""A prompt larger than the loopback socket buffers, so an upload nobody reads blocks."""


@dataclass(frozen=True)
class Expect:
    error: type[errors.CfaigError] | None
    """The exact class (``None``: the answer's text)."""
    attempts: int


@dataclass(frozen=True)
class Fault:
    name: str
    behaviour: Callable[[Conn], None]
    expect: dict[Mode, Expect]
    settings: CallSettings = SETTINGS
    backlog_full: bool = False
    """No server accepts; the listen queue is filled before the call (nothing is ever recorded)."""
    unflushed_upload: bool = False
    """The async cells leave an asyncio transport "closing" with unsent bytes when their loop ends (aiohttp
    closes, never aborts, a cancelled connection; asyncio flushes before it closes): collected here, in the
    cell, and its ResourceWarning dropped, so it is not reported against a later test."""
    note: str = ""


def _all(expect: Expect) -> dict[Mode, Expect]:
    return dict.fromkeys(MODES, expect)


def _split(nonstream: Expect, stream: Expect) -> dict[Mode, Expect]:
    return {mode: stream if mode in STREAM_MODES else nonstream for mode in MODES}


def _each(answer: Callable[[Conn, Request], None]) -> Callable[[Conn], None]:
    """A behaviour answering every request on the connection with ``answer``."""

    def behaviour(conn: Conn) -> None:
        while (request := conn.read_request()) is not None:
            answer(conn, request)
            if conn.sock.fileno() == -1:  # reset or closed by the answer
                return

    return behaviour


def _framed(request: Request) -> tuple[bytes, bytes, str]:
    """(head, body, content type) of the whole, correct answer."""
    h, body = answer_for(request)
    return h, body, "text/event-stream" if request.stream else "application/json"


def _cut(body: bytes, request: Request) -> bytes:
    """The body up to the middle of its second event (a stream) or its middle (JSON)."""
    if request.stream:
        second = body.index(b"data: ", 1)
        return body[: second + 20]
    return body[: len(body) // 2]


# --- the scripts -------------------------------------------------------------------------------


def _rst_mid(conn: Conn, request: Request) -> None:
    h, body, _ = _framed(request)
    conn.send(h + _cut(body, request))
    conn.reset()


def _fin_mid(conn: Conn, request: Request) -> None:
    h, body, _ = _framed(request)
    conn.send(h + _cut(body, request))
    conn.finish()
    conn.drain(0.5)
    conn.sock.close()


def _close_delimited(request: Request) -> tuple[bytes, bytes]:
    """Head without a length (the body ends with the connection), and the body."""
    _, body, content_type = _framed(request)
    return head(content_type=content_type, close=True), body


def _fin_mid_close_delimited(conn: Conn, request: Request) -> None:
    h, body = _close_delimited(request)
    conn.send(h + _cut(body, request))
    conn.finish()
    conn.drain(0.5)
    conn.sock.close()


def _rst_mid_close_delimited(conn: Conn, request: Request) -> None:
    h, body = _close_delimited(request)
    conn.send(h + _cut(body, request))
    conn.reset()


def _headers_then_stall(conn: Conn, request: Request) -> None:
    h, _, _ = _framed(request)
    conn.send(h)
    conn.hold()


def _drip(conn: Conn, request: Request) -> None:
    """Headers at once; the body a byte every 20 ms (JSON: behind 2,000 bytes of whitespace; a stream: 2,000
    events): far longer than ``timeout`` (and than the stream's ``stream_timeout``)."""
    if request.stream:
        body = sse("x" * 2000)
        h = head(content_type="text/event-stream", length=len(body))
    else:
        body = b" " * 2000 + completion()
        h = head(length=len(body))
    conn.send(h)
    conn.drip(body, interval=DRIP, size=1 if not request.stream else 40)


def _done_then_open(conn: Conn, request: Request) -> None:
    if request.stream:
        conn.send(head(content_type="text/event-stream") + sse())  # no length, no close: the body never ends
    else:
        h, body = answer_for(request)
        conn.send(h + body)
    conn.hold()


def _encoded(encoding: str) -> Callable[[Conn, Request], None]:
    def answer(conn: Conn, request: Request) -> None:
        _, body, content_type = _framed(request)
        packed = bytearray(gzip.compress(body) if encoding == "gzip" else zlib.compress(body))
        packed[12:20] = b"\xff" * 8  # corrupt the compressed data after its header
        extra = f"content-encoding: {encoding}\r\n"
        conn.send(head(content_type=content_type, length=len(packed), extra=extra) + bytes(packed))

    return answer


def _bad_chunked(conn: Conn, request: Request) -> None:
    _, body, content_type = _framed(request)
    conn.send(head(content_type=content_type, extra="transfer-encoding: chunked\r\n") + b"zz\r\n" + body + b"\r\n")
    conn.finish()
    conn.drain(0.5)
    conn.sock.close()


def _length_too_long(conn: Conn, request: Request) -> None:
    """Content-Length 100 bytes beyond the body (a stream's body without its [DONE]), then a FIN."""
    _, body, content_type = _framed(request)
    if request.stream:
        body = body[: body.index(b"data: [DONE]")]
    conn.send(head(content_type=content_type, length=len(body) + 100) + body)
    conn.finish()
    conn.drain(0.5)
    conn.sock.close()


def _length_too_short(conn: Conn, request: Request) -> None:
    """Content-Length 30 bytes short of the body, all of which is sent."""
    _, body, content_type = _framed(request)
    conn.send(head(content_type=content_type, length=len(body) - 30) + body)
    conn.finish()
    conn.drain(0.5)
    conn.sock.close()


def _duplicate_length(conn: Conn, request: Request) -> None:
    _, body, content_type = _framed(request)
    extra = f"content-length: {len(body) + 7}\r\n"
    conn.send(head(content_type=content_type, length=len(body), extra=extra) + body)


def _informational(conn: Conn, request: Request) -> None:
    h, body = answer_for(request)
    conn.send(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n")
    conn.send(h + body)


def _huge_headers(conn: Conn, request: Request) -> None:
    h, body = answer_for(request)
    filler = "x-filler: " + "f" * (200 * 1024) + "\r\n"
    conn.send(h[:-2] + filler.encode() + b"\r\n" + body)


def _not_http(conn: Conn, request: Request) -> None:
    conn.send(b"SSH-2.0-OpenSSH_9.0\r\n")
    conn.finish()
    conn.drain(0.5)
    conn.sock.close()


def _never_reads_upload(conn: Conn) -> None:
    """Reads the head of the request, never its body, and never answers."""
    if conn.read_request(read_body=False) is not None:
        conn.hold()


def _early_413(conn: Conn) -> None:
    """Answers 413 as soon as the head is in, then reads (and drops) the upload, so closing sends no RST."""
    if conn.read_request(read_body=False) is None:
        return
    body = b'{"error": {"message": "payload too large", "code": 413}}'
    conn.send(head("413 Payload Too Large", length=len(body), close=True) + body)
    conn.finish()
    conn.drain(3.0)
    conn.sock.close()


def _redirect(conn: Conn, request: Request) -> None:
    body = completion("served by the redirect")
    conn.send(head("302 Found", length=len(body), extra="location: http://127.0.0.1:9/elsewhere\r\n") + body)


CONN = errors.GatewayConnectionError
TIMEOUT_ERROR = errors.GatewayTimeoutError
INCOMPLETE = errors.IncompleteStreamError
MALFORMED = errors.MalformedResponseError

FAULTS: tuple[Fault, ...] = (
    Fault(
        "RST mid-body / mid-event",
        _each(_rst_mid),
        _split(Expect(CONN, 2), Expect(CONN, 1)),
        note="Content-Length framing; a cut JSON body is retried, a stream that yielded output never is",
    ),
    Fault(
        "FIN mid-body / mid-event",
        _each(_fin_mid),
        _split(Expect(CONN, 2), Expect(CONN, 1)),
        note="Content-Length framing: a short body is a framing error on both stacks",
    ),
    Fault(
        "FIN mid-event, close-delimited",
        _each(_fin_mid_close_delimited),
        _split(Expect(MALFORMED, 1), Expect(INCOMPLETE, 1)),
        note="no length: the cut JSON is malformed; the cut event is discarded and the stream incomplete",
    ),
    Fault(
        "RST mid-event, close-delimited",
        _each(_rst_mid_close_delimited),
        {
            "sync": Expect(CONN, 2),
            "async": Expect(MALFORMED, 1),
            "stream": Expect(CONN, 1),
            "astream": Expect(INCOMPLETE, 1),
        },
        note="aiohttp reads an RST on a close-delimited body as its end (so: malformed JSON, incomplete stream)",
    ),
    Fault(
        "headers, then stall",
        _each(_headers_then_stall),
        _split(Expect(TIMEOUT_ERROR, 2), Expect(TIMEOUT_ERROR, 1)),
        settings=SHORT,
    ),
    Fault(
        "slow drip (1 B / 20 ms)",
        _each(_drip),
        _split(Expect(TIMEOUT_ERROR, 2), Expect(TIMEOUT_ERROR, 1)),
        settings=CallSettings(max_retries=1, timeout=0.2, stream_timeout=0.4),
        note="timeout=0.2 bounds the whole request; the stream's total is stream_timeout=0.4",
    ),
    Fault(
        "[DONE], then the connection stays open",
        _each(_done_then_open),
        _split(Expect(None, 1), Expect(None, 1)),
    ),
    Fault(
        "corrupt gzip",
        _each(_encoded("gzip")),
        {
            "sync": Expect(CONN, 2),
            "async": Expect(CONN, 2),
            "stream": Expect(CONN, 1),
            "astream": Expect(CONN, 1),
        },
    ),
    Fault(
        "corrupt deflate",
        _each(_encoded("deflate")),
        {
            "sync": Expect(CONN, 2),
            "async": Expect(CONN, 2),
            "stream": Expect(CONN, 1),
            "astream": Expect(CONN, 1),
        },
    ),
    Fault(
        "bad chunked framing",
        _each(_bad_chunked),
        {"sync": Expect(CONN, 2), "async": Expect(CONN, 2), "stream": Expect(CONN, 1), "astream": Expect(CONN, 2)},
        note="aiohttp reads the first chunk header with the response head: that stream fails before it opens (retried)",
    ),
    Fault("Content-Length too long", _each(_length_too_long), _split(Expect(CONN, 2), Expect(CONN, 1))),
    Fault(
        "Content-Length too short",
        _each(_length_too_short),
        {
            "sync": Expect(MALFORMED, 1),
            "async": Expect(CONN, 2),
            "stream": Expect(INCOMPLETE, 1),
            "astream": Expect(CONN, 2),
        },
        note="httpx stops where the length says (cut JSON: malformed, a cut stream incomplete); aiohttp rejects the "
        "stray bytes after it, before the stream opens (retried)",
    ),
    Fault("two different Content-Lengths", _each(_duplicate_length), _all(Expect(CONN, 2))),
    Fault("100 and 103 before the answer", _each(_informational), _all(Expect(None, 1))),
    Fault("200 KB of response headers", _each(_huge_headers), _all(Expect(CONN, 2))),
    Fault("a non-HTTP reply", _each(_not_http), _all(Expect(CONN, 2))),
    Fault(
        "full listen backlog",
        _never_reads_upload,
        _all(Expect(TIMEOUT_ERROR, 2)),
        settings=SHORT,
        backlog_full=True,
        note="the connect timeout",
    ),
    Fault(
        "16 MB upload the server never reads",
        _never_reads_upload,
        _all(Expect(TIMEOUT_ERROR, 2)),
        settings=CallSettings(max_retries=1, timeout=0.2, prompt=UPLOAD),
        unflushed_upload=True,
        note="a write timeout (httpx) or the whole-request deadline (aiohttp, which has no write timeout)",
    ),
    Fault(
        "413 before the upload is read",
        _early_413,
        _all(Expect(errors.RequestTooLargeError, 1)),
        settings=CallSettings(max_retries=1, timeout=2.0, prompt=UPLOAD),
        unflushed_upload=True,
        note="the answer arrives while the upload is still being written; never retried",
    ),
    Fault("302 to another origin", _each(_redirect), _all(Expect(errors.UnexpectedRedirectError, 1))),
)


@dataclass
class Cell:
    call: CallResult
    recorded: int
    """Requests the server received (0 when it never accepts)."""
    planned: list[float] = field(default_factory=list)


@contextmanager
def _full_backlog(server: WireServer) -> Iterator[None]:
    """Fill the listen queue of a server that never accepts: further connects wait for a SYN-ACK."""
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", server.port))
            fillers.append(filler)
        yield
    finally:
        for filler in fillers:
            filler.close()


def run_cell(fault: Fault, layer: Layer, mode: Mode) -> Cell:
    """One call of ``layer`` in ``mode`` against a fresh server running ``fault``'s script."""
    server = WireServer(fault.behaviour, backlog=0 if fault.backlog_full else 64, accept=not fault.backlog_full)
    with server, fast_retries() as recorder:
        if fault.backlog_full:
            with _full_backlog(server):
                call = run_call(layer, mode, server.base_url, fault.settings)
        else:
            call = run_call(layer, mode, server.base_url, fault.settings)
        if fault.unflushed_upload and mode in ("async", "astream"):
            _collect_unflushed_transports()
    return Cell(call, len(server.requests), recorder.planned)


def _collect_unflushed_transports() -> None:
    """Collect the transports a cancelled upload left behind, without their "unclosed" ResourceWarnings."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, ResourceWarning):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    finally:
        sys.unraisablehook = previous


def matches(fault: Fault, expect: Expect, cell: Cell) -> bool:
    """The exact outcome, and the attempts: counted by the core, and by the server where it accepts."""
    if expect.error is None:
        outcome = cell.call.error is None and cell.call.text == TEXT
    else:
        outcome = type(cell.call.error) is expect.error
    recorded = 0 if fault.backlog_full else expect.attempts
    return outcome and cell.call.attempts == expect.attempts and cell.recorded == recorded


def describe(cell: Cell) -> str:
    """``outcome · attempts`` for the table."""
    return f"{'ok' if cell.call.error is None else type(cell.call.error).__name__} · {cell.call.attempts}"
