"""A tiny raw HTTP/1.1 server on 127.0.0.1 for wire-level tests: it answers every request with fixed bytes.

``RawServer(reply)`` accepts connections on a daemon thread, reads one request (headers and a
``Content-Length`` body), records it, writes ``reply`` verbatim and then closes the connection, or with
``hold=True`` keeps it open (no EOF) until the server is closed. Everything is bounded: sockets time
out after a few seconds and the server stops on ``close()``.
"""

from __future__ import annotations

import json
import socket
import threading
from types import TracebackType

ACCOUNT = "0123456789abcdef0123456789abcdef"
CHUNK = (
    b'{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"%s"}}]}'
)

CHAT_OK = json.dumps(
    {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
    }
).encode()
"""A whole chat completion whose text is ``hello``."""


def http(body: bytes, status: str = "200 OK", *, content_type: str = "application/json", extra: str = "") -> bytes:
    """A whole HTTP/1.1 response with ``Content-Length`` (no ``content-type`` header when it is empty)."""
    head = f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n"
    if content_type:
        head += f"content-type: {content_type}\r\n"
    return (head + extra + "\r\n").encode() + body


def sse(body: bytes, *, content_type: str = "text/event-stream", extra: str = "") -> bytes:
    """A streamed response without a length: the body ends when the server closes (or never, with hold)."""
    head = "HTTP/1.1 200 OK\r\n"
    if content_type:
        head += f"content-type: {content_type}\r\n"
    return (head + extra + "connection: close\r\n\r\n").encode() + body


def chunk_event(text: str) -> bytes:
    return b"data: " + CHUNK % text.encode() + b"\n\n"


class RawServer:
    def __init__(self, reply: bytes, *, hold: bool = False, max_connections: int = 20) -> None:
        self.reply = reply
        self.hold = hold
        self.requests: list[bytes] = []
        self._max = max_connections
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        served = 0
        while not self._stop.is_set() and served < self._max:
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            served += 1
            conn.settimeout(5)
            try:
                self.requests.append(self._read_request(conn))
                conn.sendall(self.reply)
            except OSError:
                conn.close()
                continue
            if self.hold:
                self._held.append(conn)
            else:
                conn.close()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            piece = conn.recv(65536)
            if not piece:
                return data
            data += piece
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            piece = conn.recv(65536)
            if not piece:
                break
            body += piece
        return head + b"\r\n\r\n" + body

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._sock.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
