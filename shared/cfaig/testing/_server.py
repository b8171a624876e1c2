"""A real HTTP/1.1 server for :class:`GatewayEmulator` (asyncio + h11, background thread).

Each connection is an :class:`asyncio.Protocol` driving an ``h11`` state machine.
Requests whose processing needs no I/O are answered synchronously inside
``data_received`` (the fast path); delays and upstream forwarding run as a task per
request so slow requests never block other connections.  Keep-alive, pipelining,
chunked SSE streaming (one HTTP chunk per event), dropped connections (FIN without the
final chunk) and resets (``SO_LINGER 0``) are supported.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import socket
import struct
import threading
from types import TracebackType
from typing import Final
from urllib.parse import unquote

import h11
import httpx

from ._gateway import GatewayEmulator
from ._pipeline import Action, Flow, Incoming, Reply, envelope_reply, run_async, step
from ._types import CODE_BAD_REQUEST
from ._upstream import AsyncUpstream, Forward, Forwarded, forward_async, ssl_context

logger = logging.getLogger("cfaig.testing")

_SERVER_HEADER: Final = (b"server", b"cfaig-emulator")
_MAX_HEADER_BYTES: Final = 256 * 1024
_SHUTDOWN_GRACE: Final = 2.0
_BACKLOG: Final = 2048
_REASONS: Final = {status.value: status.phrase.encode("ascii") for status in http.HTTPStatus}


def _internal_error() -> Reply:
    return envelope_reply("gateway", 500, CODE_BAD_REQUEST, "cfaig emulator internal error")


def _response_head(reply: Reply, *, with_length: bool) -> h11.Response:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.header_list()]
    headers.append(_SERVER_HEADER)
    if with_length:
        headers.append((b"content-length", str(len(reply.body)).encode()))
    return h11.Response(status_code=reply.status, headers=headers, reason=_REASONS.get(reply.status, b""))


class _Connection(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server
        self._emulator = server.emulator
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEADER_BYTES)
        self._transport: asyncio.Transport | None = None
        self._request: h11.Request | None = None
        self._head_only = False
        self._body: list[bytes] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._can_write = asyncio.Event()
        self._can_write.set()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # ----------------------------------------------------------------- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._server._connections.discard(self)
        self._can_write.set()
        if self._task is not None:
            self._task.cancel()
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def data_received(self, data: bytes) -> None:
        self._h11.receive_data(data)
        if self._task is None:
            self._process()

    def eof_received(self) -> bool:
        self._h11.receive_data(b"")
        if self._task is None:
            self._process()
        return self._task is not None

    # ----------------------------------------------------------------- request handling

    def _process(self) -> None:
        while self._task is None and not self._closing:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._protocol_error(exc.error_status_hint)
                return
            if event is h11.NEED_DATA:
                if self._h11.they_are_waiting_for_100_continue:
                    self._write(self._h11.send(h11.InformationalResponse(status_code=100, headers=[])))
                return
            if event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request = event
                self._body = []
            elif isinstance(event, h11.Data):
                self._body.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch()
            elif isinstance(event, h11.ConnectionClosed):
                self.close()
                return

    def _dispatch(self) -> None:
        request = self._request
        assert request is not None
        target = request.target.decode("latin-1")
        raw_path, _, query = target.partition("?")
        headers: dict[str, str] = {}
        for name, value in request.headers:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        host = headers.get("host") or f"{self._server.host}:{self._server.port}"
        incoming = Incoming(
            method=request.method.decode("ascii"),
            path=unquote(raw_path),
            query=query,
            url=f"http://{host}{target}",
            headers=headers,
            body=b"".join(self._body),
        )
        self._request = None
        self._body = []
        self._head_only = incoming.method == "HEAD"
        flow = self._emulator.process(incoming)
        try:
            outcome = step(flow, None)
        except Exception:
            logger.exception("emulator failed on %s %s", incoming.method, incoming.path)
            self._respond(_internal_error())
            return
        if isinstance(outcome, Reply):  # the fast path: nothing to wait for
            self._respond(outcome)
            return
        self._task = asyncio.get_running_loop().create_task(self._drive(flow, outcome))

    async def _drive(self, flow: Flow[Reply], action: Action) -> None:
        reply: Reply | None = None
        try:
            reply = await run_async(flow, self._server._forward, action)
            if isinstance(reply.upstream, AsyncUpstream):
                await self._stream_upstream(reply, reply.upstream)
            else:
                self._respond(reply)
        except asyncio.CancelledError:
            flow.close()
            if reply is not None and isinstance(reply.upstream, AsyncUpstream):
                await reply.upstream.aclose()
            raise
        except Exception:
            logger.exception("emulator failed while serving a request")
            flow.close()
            if self._h11.our_state is h11.SEND_RESPONSE:
                self._respond(_internal_error())
            else:
                self.close()
        finally:
            self._task = None
        if not self._closing:
            self._process()

    # ----------------------------------------------------------------- responses

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._closing:
            self._transport.write(data)

    def _respond(self, reply: Reply) -> None:
        if self._closing:
            return
        if reply.reset:
            self.reset()
            return
        send = self._h11.send
        if reply.events is None:
            head = _response_head(reply, with_length=True)
            with_body = reply.body and not self._head_only
            data = send(head) + (send(h11.Data(data=reply.body)) if with_body else b"")
            self._write(data + send(h11.EndOfMessage()))
            self._end_cycle()
            return
        parts = [send(_response_head(reply, with_length=False))]
        parts.extend(send(h11.Data(data=chunk)) for chunk in reply.chunks() if chunk)
        if reply.cut:
            self._write(b"".join(parts))
            self.close()
            return
        parts.append(send(h11.EndOfMessage()))
        self._write(b"".join(parts))
        self._end_cycle()

    async def _stream_upstream(self, reply: Reply, upstream: AsyncUpstream) -> None:
        send = self._h11.send
        self._write(send(_response_head(reply, with_length=False)))
        try:
            async for chunk in upstream:
                if self._closing:
                    return
                if chunk:
                    self._write(send(h11.Data(data=chunk)))
                    await self._can_write.wait()
        except httpx.HTTPError:
            self.close()
            return
        finally:
            await upstream.aclose()
        self._write(send(h11.EndOfMessage()))
        self._end_cycle()

    def _end_cycle(self) -> None:
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
        elif self._h11.our_state in (h11.MUST_CLOSE, h11.CLOSED) or self._h11.their_state in (
            h11.MUST_CLOSE,
            h11.CLOSED,
        ):
            self.close()

    def _protocol_error(self, status: int) -> None:
        with contextlib.suppress(h11.LocalProtocolError):
            headers = [(b"content-length", b"0"), (b"connection", b"close"), _SERVER_HEADER]
            self._write(self._h11.send(h11.Response(status_code=status, headers=headers)))
        self.close()

    # ----------------------------------------------------------------- teardown

    def close(self) -> None:
        """Close gracefully (buffered data is flushed, then FIN)."""
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    def reset(self) -> None:
        """Drop the connection with a TCP RST (``SO_LINGER`` 0)."""
        self._closing = True
        if self._transport is None:
            return
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._transport.abort()

    def shutdown(self) -> None:
        """Server shutdown: idle connections close, busy ones are aborted."""
        if self._task is not None:
            self._task.cancel()
            if self._transport is not None:
                self._closing = True
                self._transport.abort()
        else:
            self.close()


class EmulatorServer:
    """A :class:`GatewayEmulator` served over real HTTP/1.1 on a loopback socket.

    Created by :func:`serve`; the server starts on ``__enter__`` (or :meth:`start`) and
    stops, closing every socket, on ``__exit__`` (or :meth:`stop`).
    """

    def __init__(self, emulator: GatewayEmulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._connections: set[_Connection] = set()
        self._ready = threading.Event()
        self._startup_errors: list[BaseException] = []

    # ----------------------------------------------------------------- addresses

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._port is None:
            raise RuntimeError("the emulator server is not running")
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Gateway-host base URL (``http://host:port/v1``)."""
        return f"{self.url}/v1"

    @property
    def api_base_url(self) -> str:
        """Cloudflare API base URL (``http://host:port/client/v4``)."""
        return f"{self.url}/client/v4"

    def gateway_url(self, gateway_id: str = "default") -> str:
        """``{base_url}/{account_id}/{gateway_id}``."""
        return f"{self.base_url}/{self.emulator.account_id}/{gateway_id}"

    @property
    def rest_url(self) -> str:
        """``{api_base_url}/accounts/{account_id}``."""
        return f"{self.api_base_url}/accounts/{self.emulator.account_id}"

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> EmulatorServer:
        """Start serving in a background thread; returns once the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("the emulator server is already running")
        self._ready.clear()
        self._startup_errors.clear()
        self._thread = threading.Thread(target=self._run, name="cfaig-emulator-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_errors:
            self._thread.join()
            self._thread = None
            raise self._startup_errors[0]
        return self

    def stop(self) -> None:
        """Stop serving and close every socket (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                future.result(timeout=_SHUTDOWN_GRACE * 5)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._thread = None
        self._loop = None
        self._port = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._listen())
            except BaseException as exc:  # reported to the thread that called start()
                self._startup_errors.append(exc)
                return
            finally:
                self._ready.set()
            loop.run_forever()
        finally:
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            asyncio.set_event_loop(None)
            loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Connection(self), self.host, self._requested_port, backlog=_BACKLOG, reuse_address=True
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def _forward(self, action: Forward) -> Forwarded:
        if self._client is None:
            self._client = httpx.AsyncClient(verify=ssl_context(), trust_env=False)
        return await forward_async(action, self._client)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.shutdown()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        pending = [c.closed for c in connections if not c.closed.done()]
        if pending:
            _, still_open = await asyncio.wait(pending, timeout=_SHUTDOWN_GRACE)
            if still_open:
                for connection in connections:
                    if not connection.closed.done():
                        connection.reset()
                await asyncio.wait(still_open, timeout=_SHUTDOWN_GRACE)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def serve(emulator: GatewayEmulator | None = None, *, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
    """Serve a :class:`GatewayEmulator` on a real socket (default: a free loopback port).

    Use as a context manager::

        with serve() as server:
            client = httpx.Client(base_url=server.gateway_url())
            ...

    ``server.base_url`` / ``server.api_base_url`` / ``server.url`` / ``server.port`` and
    ``server.emulator`` describe the running server.
    """
    return EmulatorServer(emulator if emulator is not None else GatewayEmulator(), host=host, port=port)
