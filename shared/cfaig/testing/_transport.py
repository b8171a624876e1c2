"""The in-process httpx transport: httpx requests into the pipeline, its replies back as httpx responses."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Final, cast

import httpx

from ._pipeline import Incoming, Reply

if TYPE_CHECKING:
    from ._gateway import GatewayEmulator

_IN_ASYNC_TRANSPORT: Final = contextvars.ContextVar("cfaig_emulator_async_transport", default=False)


class _EventStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """SSE chunks for in-process responses; optionally ends with a dropped connection."""

    def __init__(self, chunks: list[bytes], *, cut: bool, request: httpx.Request) -> None:
        self._chunks = chunks
        self._cut = cut
        self._request = request

    def _dropped(self) -> httpx.RemoteProtocolError:
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body (incomplete chunked read)",
            request=self._request,
        )

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks
        if self._cut:
            raise self._dropped()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
            await asyncio.sleep(0)
        if self._cut:
            raise self._dropped()


def incoming_from_httpx(request: httpx.Request, body: bytes) -> Incoming:
    """An httpx request as the pipeline's :class:`Incoming` (repeated headers joined with ``, ``)."""
    headers: dict[str, str] = {}
    for key, value in request.headers.multi_items():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return Incoming(
        method=request.method,
        path=request.url.path,
        query=request.url.query.decode("ascii", "replace"),
        url=str(request.url),
        headers=headers,
        body=body,
    )


def httpx_response(reply: Reply, request: httpx.Request) -> httpx.Response:
    """The pipeline's reply as an httpx response (a reset raises :class:`httpx.ReadError`)."""
    if reply.reset:
        raise httpx.ReadError("connection reset by peer (cfaig emulator fault)", request=request)
    headers = reply.header_list()
    if reply.upstream is not None:
        return httpx.Response(reply.status, headers=headers, stream=reply.upstream, request=request)
    if reply.events is not None:
        stream = _EventStream(reply.chunks(), cut=reply.cut, request=request)
        return httpx.Response(reply.status, headers=headers, stream=stream, request=request)
    return httpx.Response(reply.status, headers=headers, content=reply.body, request=request)


class EmulatorTransport(httpx.MockTransport):
    """httpx transport that serves a :class:`GatewayEmulator` in-process.

    Works for both ``httpx.Client`` (:meth:`GatewayEmulator.handler`) and
    ``httpx.AsyncClient`` (:meth:`GatewayEmulator.async_handler`).  Both paths go through
    :class:`httpx.MockTransport`'s own methods, so tools that patch it (vcrpy) see them.
    """

    def __init__(self, emulator: GatewayEmulator) -> None:
        super().__init__(cast("Callable[[httpx.Request], httpx.Response]", self._dispatch))
        self.emulator = emulator

    def _dispatch(self, request: httpx.Request) -> httpx.Response | Coroutine[None, None, httpx.Response]:
        if _IN_ASYNC_TRANSPORT.get():
            return self.emulator.async_handler(request)
        return self.emulator.handler(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve an ``httpx.AsyncClient`` request without blocking the event loop."""
        token = _IN_ASYNC_TRANSPORT.set(True)
        try:
            return await super().handle_async_request(request)
        finally:
            _IN_ASYNC_TRANSPORT.reset(token)
