"""A fast loopback server for the cfaig benchmarks: OpenAI-shaped answers, precomputed bodies.

Raw asyncio HTTP/1.1 (``asyncio.Protocol``) with keep-alive and pipelining; no framework on the hot
path, so it is never the bottleneck (``run.py`` measures and prints its capacity and its CPU use).

Routes (any prefix):
  POST .../chat/completions   JSON completion; SSE stream of K content chunks when ``"stream": true``.
                              K comes from the header ``x-bench-chunks: K`` or from a message containing
                              ``__stream_chunks__ K`` (default 20). The stream ends with a usage chunk
                              (choices [], usage {...}) and ``data: [DONE]``.
  POST .../embeddings         one vector per input (float JSON; base64 float32 when
                              ``"encoding_format": "base64"``); dimension set by ``--dim``.
  GET  /__stats               {"requests": n, "cpu": process CPU seconds}: lets the runner see how busy
                              the server was during a workload.
Every answer carries ``cf-aig-log-id`` and ``cf-aig-cache-status`` headers.

    python benchmarks/server.py --port 0      # prints "PORT <n>" on stdout once listening
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import signal
import struct
import sys
import time

CREATED = 1_700_000_000
_STREAM_RE = re.compile(rb'"stream"\s*:\s*true')
_CHUNKS_RE = re.compile(rb"__stream_chunks__\s+(\d+)")
_B64_RE = re.compile(rb'"encoding_format"\s*:\s*"base64"')
DEFAULT_STREAM_CHUNKS = 20


def _headers(status: str, content_type: bytes, length: int, close: bool) -> bytes:
    return (
        b"HTTP/1.1 " + status.encode() + b"\r\n"
        b"content-type: " + content_type + b"\r\n"
        b"content-length: " + str(length).encode() + b"\r\n"
        b"cf-aig-log-id: 01JBENCHLOGID0000000000000\r\n"
        b"cf-aig-cache-status: MISS\r\n"
        + (b"connection: close\r\n" if close else b"connection: keep-alive\r\n")
        + b"\r\n"
    )


class Bodies:
    """Every body the server sends, built once (streams and embedding items built once per size)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        completion = {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": CREATED,
            "model": "gpt-5-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello from the benchmark server.", "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
            "system_fingerprint": None,
        }
        body = json.dumps(completion).encode()
        self.chat = _headers("200 OK", b"application/json", len(body), False) + body
        self._streams: dict[int, bytes] = {}
        vector = [((i * 37) % 101) / 101.0 - 0.5 for i in range(dim)]
        self._float_vec = json.dumps(vector).encode()
        self._b64_vec = b'"' + base64.b64encode(struct.pack(f"<{dim}f", *vector)) + b'"'
        self._items: dict[bool, list[bytes]] = {False: [], True: []}
        self.not_found = _headers("404 Not Found", b"application/json", 21, False) + b'{"error":"not found"}'

    def stream(self, k: int) -> bytes:
        cached = self._streams.get(k)
        if cached is not None:
            return cached
        head = b'{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":%d,"model":"gpt-5-mini",' % CREATED
        parts = [
            b"data: " + head + b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},'
            b'"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
        ]
        for i in range(k):
            parts.append(
                b"data: "
                + head
                + b'"choices":[{"index":0,"delta":{"content":"tok%d "},' % (i % 1000)
                + b'"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
            )
        parts.append(
            b"data: " + head + b'"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],'
            b'"usage":null}\n\n'
        )
        parts.append(
            b"data: " + head + b'"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":%d,'
            b'"total_tokens":%d}}\n\n' % (k, k + 12)
        )
        parts.append(b"data: [DONE]\n\n")
        body = b"".join(parts)
        out = _headers("200 OK", b"text/event-stream; charset=utf-8", len(body), False) + body
        if len(self._streams) < 64:
            self._streams[k] = out
        return out

    def embeddings(self, n: int, b64: bool) -> bytes:
        items = self._items[b64]
        vec = self._b64_vec if b64 else self._float_vec
        while len(items) < n:
            i = len(items)
            items.append(b'{"object":"embedding","index":%d,"embedding":' % i + vec + b"}")
        body = (
            b'{"object":"list","data":['
            + b",".join(items[:n])
            + b'],"model":"text-embedding-3-small","usage":{"prompt_tokens":%d,"total_tokens":%d}}' % (n, n)
        )
        return _headers("200 OK", b"application/json", len(body), False) + body


STATS = {"requests": 0}


class HTTPProtocol(asyncio.Protocol):
    __slots__ = ("bodies", "buf", "transport")

    def __init__(self, bodies: Bodies) -> None:
        self.bodies = bodies
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        out = []
        close = False
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            length = 0
            chunks_header = None
            lower = head.lower()
            i = lower.find(b"\r\ncontent-length:")
            if i >= 0:
                j = lower.find(b"\r\n", i + 2)
                length = int(lower[i + 17 : j if j >= 0 else len(lower)].strip())
            i = lower.find(b"\r\nx-bench-chunks:")
            if i >= 0:
                j = lower.find(b"\r\n", i + 2)
                chunks_header = int(lower[i + 17 : j if j >= 0 else len(lower)].strip())
            if b"\r\nconnection: close" in lower:
                close = True
            total = end + 4 + length
            if len(buf) < total:
                break
            body = buf[end + 4 : total]
            buf = buf[total:]
            line_end = head.find(b"\r\n")
            request_line = head[: line_end if line_end >= 0 else len(head)]
            path = request_line.split(b" ", 2)[1].split(b"?", 1)[0]
            STATS["requests"] += 1
            out.append(self.answer(path, body, chunks_header))
        self.buf = buf
        if out:
            assert self.transport is not None
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
            if close:
                self.transport.close()

    def answer(self, path: bytes, body: bytes, chunks_header: int | None) -> bytes:
        bodies = self.bodies
        if path.endswith(b"/chat/completions"):
            if _STREAM_RE.search(body):
                k = chunks_header
                if k is None:
                    m = _CHUNKS_RE.search(body)
                    k = int(m.group(1)) if m else DEFAULT_STREAM_CHUNKS
                return bodies.stream(k)
            return bodies.chat
        if path.endswith(b"/embeddings"):
            payload = json.loads(body)
            texts = payload.get("input")
            n = 1 if isinstance(texts, str) or (texts and isinstance(texts[0], int)) else len(texts or ())
            return bodies.embeddings(n, payload.get("encoding_format") == "base64")
        if path == b"/__stats":
            stats = json.dumps({"requests": STATS["requests"], "cpu": time.process_time(), "pid": os.getpid()})
            data = stats.encode()
            return _headers("200 OK", b"application/json", len(data), False) + data
        return bodies.not_found


async def main_async(host: str, port: int, dim: int) -> None:
    loop = asyncio.get_running_loop()
    bodies = Bodies(dim)
    bodies.stream(5000)
    server = await loop.create_server(lambda: HTTPProtocol(bodies), host, port, backlog=2048, reuse_address=True)
    actual = server.sockets[0].getsockname()[1]
    print(f"PORT {actual}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dim", type=int, default=64, help="embedding dimension (default 64)")
    args = parser.parse_args()
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(args.host, args.port, args.dim))
    sys.exit(0)


if __name__ == "__main__":
    main()
