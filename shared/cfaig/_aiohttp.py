"""The async transport that scales: one aiohttp session per event loop, behind httpx-shaped responses.

Measured on 2 cores at concurrency 100 (benchmarks/): httpx's own async pool spends ~9 ms of CPU per
call scanning its connections and serves ~180 calls/s; httpx over ``httpx_aiohttp.AiohttpTransport``
~1,100-1,900; the core's requests sent on a plain aiohttp session ~4,000 (0.76x bare aiohttp). So the
async client sends on aiohttp unless you give it an httpx client or transport. Requests are built,
retried, parsed and mapped to errors by the same code as on the httpx path; this module only sends.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from cfaig import _constants as c
from cfaig.config import GatewayConfig

if TYPE_CHECKING:
    import aiohttp
    from multidict import CIMultiDictProxy

__all__ = ["AiohttpResponse", "available", "new_session", "send"]


def available() -> bool:
    """Whether aiohttp can be imported (it is a dependency; a broken install falls back to httpx)."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:  # pragma: no cover - aiohttp is a declared dependency
        return False
    return True


def new_session(config: GatewayConfig, ssl_context: ssl.SSLContext) -> aiohttp.ClientSession:
    """A pooled session for the running loop: verified TLS, no cookies, the client's timeouts."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=c.MAX_CONNECTIONS, limit_per_host=0, ssl=ssl_context, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=min(config.timeout, c.DEFAULT_CONNECT_TIMEOUT), sock_read=config.timeout
    )
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True
    )


class AiohttpResponse:
    """The part of ``httpx.Response`` the client and streams use, over an aiohttp response."""

    __slots__ = ("_response", "headers", "status_code")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: CIMultiDictProxy[str] = response.headers

    async def aread(self) -> bytes:
        try:
            return await self._response.read()
        finally:
            self._response.release()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        async for data in self._response.content.iter_any():
            yield data

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()  # back to the pool
        else:
            self._response.close()  # abandoned mid-body: the connection cannot be reused


async def send(
    session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], body: bytes
) -> AiohttpResponse:
    """Send and return once the status line and headers are in; the body is read on demand."""
    response = await session.request(method, url, data=body, headers=headers, allow_redirects=False)
    return AiohttpResponse(response)
