"""A raw loopback TCP server for wire-level faults: every connection runs a scripted byte-level behaviour.

Unlike the emulator (which injects faults at the HTTP layer), a :class:`WireServer` writes bytes: status
lines, headers, bodies cut with an RST or a FIN, drips, stalls, corrupt framing. ``behaviour(conn)`` runs
in a thread per accepted connection; :class:`Conn` reads requests and writes what the script says.

Everything is bounded: sockets time out after :data:`IO_TIMEOUT`, a ``hold`` ends when the server stops,
and stopping the server closes every connection and joins its threads with a timeout.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

IO_TIMEOUT = 5.0
"""Longest a server socket waits for the client (a bound on every server-side loop)."""
MAX_HOLD = 10.0
"""Longest a behaviour keeps a connection open doing nothing (the server's stop ends it sooner)."""


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int
    """The server's number for the connection the request came on (1, 2, ...)."""

    @property
    def json(self) -> dict[str, object]:
        data = json.loads(self.body or b"{}")
        return data if isinstance(data, dict) else {}

    @property
    def stream(self) -> bool:
        return bool(self.json.get("stream"))

    @property
    def prompt(self) -> str:
        messages = self.json.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
            return str(messages[-1].get("content"))
        return ""


class Conn:
    """One accepted connection, as the behaviour sees it."""

    def __init__(self, server: WireServer, sock: socket.socket, number: int) -> None:
        self.server = server
        self.sock = sock
        self.number = number
        self._buffer = b""
        self.keep_open = False
        """Set by a behaviour to leave the connection open until the server stops."""

    def read_request(self, *, read_body: bool = True) -> Request | None:
        """The next request's head (and its Content-Length body unless ``read_body`` is false); ``None`` at EOF."""
        while b"\r\n\r\n" not in self._buffer:
            data = self._recv()
            if not data:
                return None
            self._buffer += data
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if read_body:
            length = int(headers.get("content-length", "0"))
            while len(self._buffer) < length:
                data = self._recv()
                if not data:
                    break
                self._buffer += data
            body, self._buffer = self._buffer[:length], self._buffer[length:]
        request = Request(method, path, headers, body, self.number)
        self.server.record(request)
        return request

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except OSError:
            return b""

    def send(self, data: bytes) -> bool:
        """Write ``data``; ``False`` once the client is gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def drip(self, data: bytes, *, interval: float, size: int = 1) -> bool:
        """Write ``data`` ``size`` bytes at a time, ``interval`` seconds apart, until done, the client
        leaves or the server stops."""
        for start in range(0, len(data), size):
            if self.server.stopping.wait(interval) or not self.send(data[start : start + size]):
                return False
        return True

    def hold(self, seconds: float = MAX_HOLD) -> None:
        """Keep the connection open, sending nothing, for ``seconds`` or until the server stops."""
        self.server.stopping.wait(min(seconds, MAX_HOLD))

    def reset(self) -> None:
        """Abort the connection: an RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def finish(self) -> None:
        """A clean FIN: no more bytes from the server (the client may still send)."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def drain(self, seconds: float = 1.0) -> None:
        """Read and drop what the client sends, for up to ``seconds`` (so a close sends no RST)."""
        end = time.monotonic() + seconds
        self.sock.settimeout(0.05)
        while time.monotonic() < end and not self.server.stopping.is_set():
            try:
                if not self.sock.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return


Behaviour = Callable[[Conn], None]


@dataclass
class WireServer:
    """A loopback server running ``behaviour`` on every connection; a context manager.

    ``backlog=0`` with ``accept=False`` gives a listen queue that fills at once (a full backlog).
    """

    behaviour: Behaviour
    backlog: int = 64
    accept: bool = True
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(self.backlog)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def __enter__(self) -> WireServer:
        if self.accept:
            thread = threading.Thread(target=self._accept_loop, name=f"wire-{self.port}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.stopping.set()
        self._listener.close()
        for sock in self._socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a behaviour blocked in recv
            except OSError:
                pass
        for thread in list(self._threads):
            thread.join(timeout=IO_TIMEOUT)
        for sock in self._socks:
            try:
                sock.close()
            except OSError:
                pass

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(IO_TIMEOUT)
            with self._lock:
                self.connections += 1
                number = self.connections
                self._socks.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock, number), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket, number: int) -> None:
        conn = Conn(self, sock, number)
        try:
            self.behaviour(conn)
        except OSError:
            pass  # the client went away mid-script
        finally:
            if conn.keep_open:
                conn.hold()
            try:
                sock.close()
            except OSError:
                pass


# --- answers ------------------------------------------------------------------------------------

TEXT = "hello"


def completion(text: str = TEXT) -> bytes:
    return json.dumps(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 1,
            "model": "openai/gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


def chunk_event(text: str, *, finish: str | None = None) -> bytes:
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "openai/gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def sse(text: str = TEXT, *, done: bool = True, piece: int = 1) -> bytes:
    """A whole stream: one chunk per ``piece`` characters, a finish chunk, then ``[DONE]``."""
    body = b"".join(chunk_event(text[i : i + piece]) for i in range(0, len(text), piece))
    body += chunk_event("", finish="stop")
    return body + (b"data: [DONE]\n\n" if done else b"")


def head(
    status: str = "200 OK",
    *,
    content_type: str = "application/json",
    length: int | None = None,
    extra: str = "",
    close: bool = False,
) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"content-type: {content_type}", "cf-aig-log-id: LOG1"]
    if length is not None:
        lines.append(f"content-length: {length}")
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")


def answer_for(request: Request, text: str = TEXT) -> tuple[bytes, bytes]:
    """(head, body) of a complete, well-framed answer to ``request``: SSE for a stream, JSON otherwise."""
    if request.stream:
        body = sse(text)
        return head(content_type="text/event-stream", length=len(body)), body
    body = completion(text)
    return head(length=len(body)), body
