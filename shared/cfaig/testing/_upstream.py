"""Upstream forwarding: POST to the configured OpenAI-compatible upstream, sync or async, streams passed through."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Final

import httpx

from .wire.common import SSE_TYPE

_FORWARD_TIMEOUT: Final = 300.0


@dataclass(slots=True)
class Forward:
    """The pipeline's request to its driver: send this to the upstream and hand back a :class:`Forwarded`."""

    url: str
    headers: dict[str, str]
    body: bytes
    stream: bool
    provider: str
    model: str
    extra_headers: list[tuple[str, str]]
    timeout: float | None = None


@dataclass(slots=True)
class Forwarded:
    """What the upstream answered: a body, a stream to pass through, a transport error, or a timeout."""

    status: int = 502
    content_type: str | None = None
    body: bytes = b""
    stream: SyncUpstream | AsyncUpstream | None = None
    error: str | None = None
    timed_out: bool = False


class SyncUpstream(httpx.SyncByteStream):
    """A streamed upstream response passed through to a synchronous client."""

    def __init__(self, response: httpx.Response, client: httpx.Client) -> None:
        self._response = response
        self._client = client

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_bytes()

    def close(self) -> None:
        self._response.close()
        self._client.close()


class AsyncUpstream(httpx.AsyncByteStream):
    """A streamed upstream response passed through to an asynchronous consumer."""

    def __init__(self, response: httpx.Response, client: httpx.AsyncClient | None) -> None:
        self._response = response
        self._client = client

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_bytes():
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()
        if self._client is not None:
            await self._client.aclose()


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One SSL context for every upstream client (building one is slow)."""
    return httpx.create_ssl_context()


def _forward_timeout(forward: Forward) -> httpx.Timeout:
    seconds = forward.timeout if forward.timeout is not None else _FORWARD_TIMEOUT
    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


def _passes_through(forward: Forward, response: httpx.Response) -> bool:
    return forward.stream and response.status_code < 400 and SSE_TYPE in (response.headers.get("content-type") or "")


def forward_sync(forward: Forward) -> Forwarded:
    """POST a request to the upstream with a short-lived synchronous client."""
    client = httpx.Client(verify=ssl_context(), trust_env=False)
    try:
        request = client.build_request(
            "POST", forward.url, headers=forward.headers, content=forward.body, timeout=_forward_timeout(forward)
        )
        response = client.send(request, stream=True)
        content_type = response.headers.get("content-type")
        if _passes_through(forward, response):
            return Forwarded(response.status_code, content_type, stream=SyncUpstream(response, client))
        try:
            body = response.read()
        finally:
            response.close()
    except httpx.TimeoutException:
        client.close()
        return Forwarded(timed_out=True)
    except httpx.HTTPError as exc:
        client.close()
        return Forwarded(error=f"{type(exc).__name__}: {exc}")
    client.close()
    return Forwarded(response.status_code, content_type, body)


async def forward_async(forward: Forward, client: httpx.AsyncClient | None = None) -> Forwarded:
    """POST a request to the upstream; uses ``client`` or a short-lived one."""
    owned = client is None
    active = client if client is not None else httpx.AsyncClient(verify=ssl_context(), trust_env=False)
    try:
        request = active.build_request(
            "POST", forward.url, headers=forward.headers, content=forward.body, timeout=_forward_timeout(forward)
        )
        response = await active.send(request, stream=True)
        content_type = response.headers.get("content-type")
        if _passes_through(forward, response):
            return Forwarded(
                response.status_code, content_type, stream=AsyncUpstream(response, active if owned else None)
            )
        try:
            body = await response.aread()
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        if owned:
            await active.aclose()
        return Forwarded(timed_out=True)
    except httpx.HTTPError as exc:
        if owned:
            await active.aclose()
        return Forwarded(error=f"{type(exc).__name__}: {exc}")
    if owned:
        await active.aclose()
    return Forwarded(response.status_code, content_type, body)
