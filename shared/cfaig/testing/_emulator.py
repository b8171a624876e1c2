"""The Cloudflare AI Gateway emulator: routing, gateway features, faults and transports.

The request pipeline is written once, as a generator (:meth:`GatewayEmulator._flow`) that
yields the only two things that need I/O -- "sleep" and "forward to the upstream" -- and
returns the final reply.  Three drivers run it: the synchronous :meth:`handler`, the
asynchronous :meth:`async_handler` and the loopback HTTP server in ``_server.py``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import http
import json
import os
import random
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, Literal, TypeVar, cast

import httpx
from pydantic_core import from_json, to_json

from ._models import (
    ErrorStyle,
    ModelError,
    ScriptedReply,
    Turn,
    anthropic_message,
    anthropic_stream_events,
    check_model_available,
    generate,
    is_embedding_model,
    openai_chat_chunks,
    openai_chat_completion,
    openai_embeddings,
    parse_anthropic_messages,
    parse_openai_chat,
    parse_responses,
    parse_workers_chat,
    provider_error_body,
    responses_object,
    responses_stream_events,
    workers_embeddings,
    workers_result,
    workers_stream_events,
)

EMULATOR_ACCOUNT_ID: Final = "0123456789abcdef0123456789abcdef"
"""Account id the emulator answers for unless told otherwise."""

DEFAULT_TOKEN: Final = "test-cf-aig-token"  # noqa: S105 - a well-known test token, not a secret

COMPAT_PROVIDERS: Final = frozenset(
    {
        "openai",
        "anthropic",
        "google-ai-studio",
        "google-vertex-ai",
        "workers-ai",
        "groq",
        "mistral",
        "cohere",
        "perplexity",
        "grok",
        "deepseek",
        "cerebras",
        "baseten",
        "parallel",
        "aws-bedrock",
    }
)
"""Model prefixes the compat endpoint accepts (plus ``custom-*`` and ``dynamic``)."""

DYNAMIC_ROUTE_TARGET: Final = ("openai", "gpt-4o-mini")

# Gateway error codes (documented or observed, see the protocol notes) ...
CODE_GATEWAY_NOT_FOUND: Final = 2001
CODE_RATE_LIMITED: Final = 2003
CODE_UNAUTHORIZED: Final = 2009
CODE_TIMEOUT: Final = 2015
CODE_BAD_CHAT_FORMAT: Final = 2019
CODE_AUTHENTICATION: Final = 10000
CODE_COULD_NOT_ROUTE: Final = 7003
# ... and emulator-specific ones for situations Cloudflare does not document.
CODE_BAD_REQUEST: Final = 2000
CODE_ROUTE_NOT_FOUND: Final = 2002
CODE_API_NOT_FOUND: Final = 1002
CODE_API_INVALID: Final = 1004

_NO_GATEWAY: Final = "Please configure AI Gateway in the Cloudflare dashboard"
_GATEWAY_STATUS_ERRORS: Final[Mapping[int, tuple[int, str]]] = {
    401: (CODE_UNAUTHORIZED, "Unauthorized"),
    402: (2021, "Insufficient balance; add money to your gateway or use BYOK"),
    424: (2016, "Prompt blocked due to security configurations"),
    429: (CODE_RATE_LIMITED, "Rate limited"),
    504: (CODE_TIMEOUT, "Request timed out"),
}
_JSON: Final = "application/json"
_SSE: Final = "text/event-stream"
_DONE: Final = b"data: [DONE]\n\n"
_MALFORMED_EVENT: Final = b"data: {not json\n\n"
_MAX_GATEWAY_ID: Final = 64
_MAX_CACHE_ENTRIES: Final = 4096
_DEFAULT_KEY_TTL: Final = 300
_FORWARD_TIMEOUT: Final = 300.0
_AUTH_HEADERS: Final = ("authorization", "x-api-key", "x-goog-api-key", "api-key")
_MODEL_KINDS: Final = frozenset({"chat", "embeddings", "responses", "messages", "native"})
_OPENAI_COMPATIBLE: Final = frozenset(
    {
        "openai",
        "groq",
        "mistral",
        "deepseek",
        "perplexity-ai",
        "grok",
        "cerebras",
        "openrouter",
        "baseten",
        "workers-ai",
    }
)
_EMBEDDING_SLUGS: Final = frozenset({"openai", "mistral", "openrouter", "workers-ai"})
_IN_ASYNC_TRANSPORT: Final = contextvars.ContextVar("cfaig_emulator_async_transport", default=False)

T = TypeVar("T")


# --------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------


@dataclass
class GatewaySettings:
    """Per-gateway settings, like the dashboard's.

    ``cache_ttl`` is in seconds (0: caching is off unless a request sets
    ``cf-aig-cache-ttl`` or ``cf-aig-cache-key``).  ``rate_limit`` allows that many
    requests per ``rate_limit_interval`` seconds (sliding window); more answer 429 / 2003.
    """

    authentication: bool = False
    cache_ttl: int = 0
    collect_logs: bool = True
    rate_limit: int | None = None
    rate_limit_interval: float = 60.0


@dataclass
class Fault:
    """A failure to inject with :meth:`GatewayEmulator.inject`.

    Faults are consumed in injection order by matching requests; each answers ``times``
    requests.  A fault *replaces* the response when ``status >= 400``, a ``body`` is given
    or ``content_type`` is HTML; otherwise (e.g. ``Fault(status=200, delay=1)``) the normal
    response is served, delayed, with the fault's status, content type and headers.

    * ``body`` None: a realistic body for the status (gateway envelope for 401/402/424/429/
      504, else the provider's error format); ``retry_after`` adds ``Retry-After`` verbatim.
    * ``delay``: seconds to wait first; when a request's ``cf-aig-request-timeout`` (or a
      Universal step's ``requestTimeout``) is shorter, the emulator waits that long and
      answers 504 / 2015 instead.
    * ``reset``: drop the connection without a response (server: RST via ``SO_LINGER 0``;
      in-process: :class:`httpx.ReadError`).  On a Universal step it fails that step; the
      client's connection drops only if it was the last step.
    * ``cut_after`` / ``end_after`` / ``malformed_after``: only match streaming requests;
      send N SSE events then drop the connection / end cleanly without ``[DONE]`` / insert
      a ``data: {not json`` line and continue (emulated streams only; streams passed
      through from ``upstream`` are not altered).
    * ``match``: only requests whose path (or Universal step path ``…/{provider}/{endpoint}``)
      contains this substring.
    * ``step``: only that Universal step; a fault with neither ``step`` nor ``match`` fails
      a Universal request as a whole before any step runs.
    """

    status: int = 500
    body: bytes | str | dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: str | None = None
    delay: float = 0.0
    times: int = 1
    match: str | None = None
    reset: bool = False
    cut_after: int | None = None
    end_after: int | None = None
    malformed_after: int | None = None
    content_type: str | None = None
    step: int | None = None

    def __post_init__(self) -> None:
        if self.times < 1:
            raise ValueError("Fault.times must be at least 1")
        if self.delay < 0:
            raise ValueError("Fault.delay must not be negative")

    @property
    def affects_stream(self) -> bool:
        """Whether this fault alters SSE streams (and so only matches streaming requests)."""
        return self.cut_after is not None or self.end_after is not None or self.malformed_after is not None

    @property
    def replaces_response(self) -> bool:
        """Whether this fault answers instead of the model (see the class docstring)."""
        if self.affects_stream or self.reset:
            return False
        html = self.content_type is not None and "html" in self.content_type.lower()
        return self.status >= 400 or self.body is not None or html


@dataclass
class RecordedRequest:
    """A request the emulator received (see :attr:`GatewayEmulator.requests`).

    ``headers`` has lower-cased names; ``json`` is the parsed body (None when absent or not
    JSON); ``response_status`` is 0 while in flight and for dropped connections.
    """

    method: str
    path: str
    url: str
    headers: dict[str, str]
    body: bytes
    json: Any
    gateway_id: str | None
    surface: Literal["gateway", "rest"]
    route: str
    response_status: int = 0


# --------------------------------------------------------------------------------------
# Internal types
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Incoming:
    method: str
    path: str
    query: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class _Sleep:
    seconds: float


@dataclass(slots=True)
class _Forward:
    url: str
    headers: dict[str, str]
    body: bytes
    stream: bool
    provider: str
    model: str
    extra_headers: list[tuple[str, str]]
    timeout: float | None = None


@dataclass(slots=True)
class _Forwarded:
    status: int = 502
    content_type: str | None = None
    body: bytes = b""
    stream: _SyncUpstream | _AsyncUpstream | None = None
    error: str | None = None
    timed_out: bool = False


_Action = _Sleep | _Forward
_Flow = Generator[_Action, "_Forwarded | None", T]


@dataclass(slots=True)
class _Reply:
    status: int = 200
    content_type: str | None = _JSON
    body: bytes = b""
    events: list[bytes] | None = None
    terminator: bytes | None = None
    cut: bool = False
    reset: bool = False
    upstream: _SyncUpstream | _AsyncUpstream | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    cache_status: str | None = None
    step: int = 0
    provider: str | None = None
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None

    def header_list(self) -> list[tuple[str, str]]:
        """All response headers, content type first."""
        if self.content_type is None:
            return list(self.headers)
        return [("content-type", self.content_type), *self.headers]

    def chunks(self) -> list[bytes]:
        """The SSE byte chunks to send (events plus terminator)."""
        events = list(self.events or [])
        if self.terminator is not None and not self.cut:
            events.append(self.terminator)
        return events


@dataclass(frozen=True, slots=True)
class _Route:
    label: str
    kind: Literal["chat", "embeddings", "responses", "messages", "native", "universal", "feedback", "unknown"]
    naming: Literal["compat", "provider", "rest", "native", "none"] = "none"
    provider: str | None = None
    native_model: str | None = None
    style: ErrorStyle = "openai"
    methods: tuple[str, ...] = ("POST",)


_UNKNOWN_ROUTE: Final = _Route("unknown", "unknown", methods=())


@dataclass(slots=True)
class _Ctx:
    inc: _Incoming
    record: RecordedRequest
    surface: Literal["gateway", "rest"]
    gateway_id: str | None
    settings: GatewaySettings | None
    proxied: bool
    started: float
    params: tuple[str, ...] = ()


@dataclass(slots=True)
class _CacheEntry:
    expires: float
    status: int
    content_type: str | None
    body: bytes
    headers: tuple[tuple[str, str], ...]
    provider: str | None
    model: str | None
    tokens_in: int | None
    tokens_out: int | None


class _GatewayError(Exception):
    """An error the gateway itself answers (rendered per surface)."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# --------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------


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


class _SyncUpstream(httpx.SyncByteStream):
    """A streamed upstream response passed through to a synchronous client."""

    def __init__(self, response: httpx.Response, client: httpx.Client) -> None:
        self._response = response
        self._client = client

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_bytes()

    def close(self) -> None:
        self._response.close()
        self._client.close()


class _AsyncUpstream(httpx.AsyncByteStream):
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
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _forward_timeout(forward: _Forward) -> httpx.Timeout:
    seconds = forward.timeout if forward.timeout is not None else _FORWARD_TIMEOUT
    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


def forward_sync(forward: _Forward) -> _Forwarded:
    """POST a request to the upstream with a short-lived synchronous client."""
    client = httpx.Client(verify=_ssl_context(), trust_env=False)
    try:
        request = client.build_request(
            "POST", forward.url, headers=forward.headers, content=forward.body, timeout=_forward_timeout(forward)
        )
        response = client.send(request, stream=True)
        content_type = response.headers.get("content-type")
        if forward.stream and response.status_code < 400 and _SSE in (content_type or ""):
            return _Forwarded(response.status_code, content_type, stream=_SyncUpstream(response, client))
        try:
            body = response.read()
        finally:
            response.close()
    except httpx.TimeoutException:
        client.close()
        return _Forwarded(timed_out=True)
    except httpx.HTTPError as exc:
        client.close()
        return _Forwarded(error=f"{type(exc).__name__}: {exc}")
    client.close()
    return _Forwarded(response.status_code, content_type, body)


async def forward_async(forward: _Forward, client: httpx.AsyncClient | None = None) -> _Forwarded:
    """POST a request to the upstream; uses ``client`` or a short-lived one."""
    owned = client is None
    active = client if client is not None else httpx.AsyncClient(verify=_ssl_context(), trust_env=False)
    try:
        request = active.build_request(
            "POST", forward.url, headers=forward.headers, content=forward.body, timeout=_forward_timeout(forward)
        )
        response = await active.send(request, stream=True)
        content_type = response.headers.get("content-type")
        if forward.stream and response.status_code < 400 and _SSE in (content_type or ""):
            return _Forwarded(
                response.status_code, content_type, stream=_AsyncUpstream(response, active if owned else None)
            )
        try:
            body = await response.aread()
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        if owned:
            await active.aclose()
        return _Forwarded(timed_out=True)
    except httpx.HTTPError as exc:
        if owned:
            await active.aclose()
        return _Forwarded(error=f"{type(exc).__name__}: {exc}")
    if owned:
        await active.aclose()
    return _Forwarded(response.status_code, content_type, body)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _sleep(seconds: float) -> _Flow[None]:
    if seconds > 0:
        yield _Sleep(seconds)


def _forward(forward: _Forward) -> _Flow[_Forwarded]:
    result = yield forward
    if not isinstance(result, _Forwarded):
        raise TypeError("driver must answer a forward action with a _Forwarded result")
    return result


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return from_json(body)
    except ValueError:
        return None


_ids = random.Random(os.urandom(16))  # ids need uniqueness, not secrecy; no syscall per request


def _uuid7() -> str:
    millis = time.time_ns() // 1_000_000
    rand = _ids.getrandbits(74)
    value = (
        (millis & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | ((rand >> 62) & 0xFFF) << 64
        | 0b10 << 62
        | (rand & ((1 << 62) - 1))
    )
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _random_id(prefix: str) -> str:
    return f"{prefix}{_ids.getrandbits(96):024x}"


def _gateway_envelope(status: int, code: int, message: str) -> bytes:
    return to_json(
        {
            "success": False,
            "error": [{"code": code, "message": message}],
            "name": "AiGatewayError",
            "httpCode": status,
            "internalCode": code,
        }
    )


def _api_envelope(code: int, message: str) -> bytes:
    return to_json({"result": None, "success": False, "errors": [{"code": code, "message": message}], "messages": []})


def _api_success(result: Any) -> bytes:
    return to_json({"result": result, "success": True, "errors": [], "messages": []})


def _envelope_reply(surface: str, status: int, code: int, message: str) -> _Reply:
    body = _gateway_envelope(status, code, message) if surface == "gateway" else _api_envelope(code, message)
    return _Reply(status=status, body=body)


def _html_page(status: int) -> bytes:
    if status < 400:
        title = "Just a moment..."
        text = "Checking your connection before reaching the gateway (cfaig emulator: simulated HTML page)."
    else:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        title = f"{status} {phrase}"
        text = f"<center><h1>{title}</h1></center><hr><center>cloudflare</center>"
    return f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body>{text}</body></html>\n".encode()


def parse_metadata(raw: str | None) -> dict[str, str | int | float | bool]:
    """Apply the gateway's ``cf-aig-metadata`` rules.

    The first five entries of a JSON object with scalar values are kept; anything else
    (not JSON, not an object, or any null / nested value) drops the metadata entirely.
    """
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    scalars: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        if not isinstance(item, (str, int, float, bool)):
            return {}
        scalars[str(key)] = item
    return dict(list(scalars.items())[:5])


def _header_flag(headers: Mapping[str, str], *names: str) -> bool | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return value.strip().lower() == "true"
    return None


def _timeout_seconds(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("cf-aig-request-timeout")
    if raw is None:
        return None
    try:
        millis = float(raw)
    except ValueError:
        return None
    return millis / 1000 if millis > 0 else None


def _is_streaming(body: Any) -> bool:
    return isinstance(body, dict) and body.get("stream") is True


def _is_custom(slug: str) -> bool:
    return slug.startswith("custom-") and len(slug) > len("custom-")


def _path_matches(fault: Fault, path: str) -> bool:
    return fault.match is None or fault.match in path


def _sse(payload: Any, event: str | None = None) -> bytes:
    data = b"data: " + to_json(payload) + b"\n\n"
    return f"event: {event}\n".encode() + data if event else data


def _apply_stream_fault(reply: _Reply, fault: Fault) -> None:
    if reply.events is None:
        return
    events = reply.events
    if fault.cut_after is not None:
        events = events[: fault.cut_after]
        reply.cut = True
    elif fault.end_after is not None:
        events = events[: fault.end_after]
        reply.terminator = None
    if fault.malformed_after is not None and fault.malformed_after <= len(events):
        events = [*events[: fault.malformed_after], _MALFORMED_EVENT, *events[fault.malformed_after :]]
    reply.events = events


def _usage_tokens(turns: list[Turn]) -> tuple[int, int]:
    return turns[0].prompt_tokens, sum(t.completion_tokens for t in turns)


@functools.lru_cache(maxsize=1024)
def _gateway_route(sub: str) -> _Route | None:
    """Route for the path below ``/v1/{account}/{gateway}``."""
    if sub == "":
        return _Route("universal", "universal")
    if sub == "compat/chat/completions":
        return _Route("compat.chat", "chat", "compat")
    if sub == "compat/embeddings":
        return _Route("compat.embeddings", "embeddings", "compat")
    slug, _, rest = sub.partition("/")
    if slug == "anthropic" and rest == "v1/messages":
        return _Route("provider.anthropic.messages", "messages", "provider", "anthropic", style="anthropic")
    if slug == "workers-ai" and rest.startswith(("@cf/", "@hf/")):
        return _Route("provider.workers-ai.run", "native", "native", "workers-ai", rest, style="cloudflare")
    if slug in _OPENAI_COMPATIBLE or _is_custom(slug):
        tail = rest.removeprefix("openai/v1/") if slug == "groq" else rest
        tail = tail.removeprefix("v1/")
        if tail == "chat/completions":
            return _Route(f"provider.{slug}.chat", "chat", "provider", slug)
        if tail == "embeddings" and (slug in _EMBEDDING_SLUGS or _is_custom(slug)):
            return _Route(f"provider.{slug}.embeddings", "embeddings", "provider", slug)
        if tail == "responses" and slug == "openai":
            return _Route("provider.openai.responses", "responses", "provider", slug)
    return None


_REST_ROUTES: Final[Mapping[str, _Route]] = {
    "ai/v1/chat/completions": _Route("rest.chat", "chat", "rest"),
    "ai/v1/embeddings": _Route("rest.embeddings", "embeddings", "rest"),
    "ai/v1/responses": _Route("rest.responses", "responses", "rest"),
    "ai/v1/messages": _Route("rest.messages", "messages", "rest", style="anthropic"),
}


def _rest_route(tail: str) -> tuple[_Route, tuple[str, ...]]:
    """Route for the path below ``/client/v4/accounts/{account}``."""
    tail = tail.strip("/")
    if tail in _REST_ROUTES:
        return _REST_ROUTES[tail], ()
    if tail.startswith("ai/run/"):
        model = tail.removeprefix("ai/run/")
        return _Route("rest.run", "native", "native", "workers-ai", model, style="cloudflare"), ()
    parts = tail.split("/")
    if len(parts) == 5 and parts[:2] == ["ai-gateway", "gateways"] and parts[3] == "logs":
        return _Route("feedback", "feedback", style="cloudflare", methods=("PATCH", "GET")), (parts[2], parts[4])
    return _UNKNOWN_ROUTE, ()


# --------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------


class GatewayEmulator:
    """An in-memory Cloudflare AI Gateway (and REST API) with deterministic fake models.

    Use it in-process through :meth:`transport` (works for ``httpx.Client`` and
    ``httpx.AsyncClient``) or on a real loopback socket with :func:`cfaig.testing.serve`.

    Args:
        account_id: the only account id the emulator answers for.
        gateways: gateway id -> settings (default: ``{"default": GatewaySettings()}``).
            A missing ``default`` gateway is auto-created (authentication on) by the first
            authenticated request, as on Cloudflare.
        tokens: valid Cloudflare tokens (``cf-aig-authorization`` / REST ``Authorization``).
        upstream: optional OpenAI-compatible base URL; OpenAI-shaped chat and embeddings
            requests are forwarded there (model prefix stripped) instead of the fake models.
        clock: monotonic clock for cache TTLs and rate limits.
        max_history: keep at most this many recorded requests and logs (None: unlimited).
    """

    def __init__(
        self,
        account_id: str = EMULATOR_ACCOUNT_ID,
        gateways: Mapping[str, GatewaySettings] | None = None,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        upstream: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_history: int | None = None,
    ) -> None:
        self.account_id = account_id
        self.gateways: dict[str, GatewaySettings] = (
            dict(gateways) if gateways is not None else {"default": GatewaySettings()}
        )
        self.tokens: set[str] = set(tokens)
        self.upstream = upstream.rstrip("/") if upstream else None
        self.clock = clock
        self.max_history = max_history
        self.requests: list[RecordedRequest] = []
        """Every request received, in arrival order."""
        self.logs: dict[str, dict[str, Any]] = {}
        """Gateway logs by log id (``cf-aig-log-id``)."""
        self._lock = threading.Lock()
        self._faults: list[list[Any]] = []
        self._scripts: list[list[Any]] = []
        self._cache: dict[str, _CacheEntry] = {}
        self._windows: dict[str, deque[float]] = {}

    # ----------------------------------------------------------------- public API

    @property
    def base_url(self) -> str:
        """Gateway-host base URL for in-process use with :meth:`transport`."""
        return "http://localhost/v1"

    @property
    def api_base_url(self) -> str:
        """Cloudflare API base URL for in-process use with :meth:`transport`."""
        return "http://localhost/client/v4"

    def gateway_url(self, gateway_id: str = "default") -> str:
        """``{base_url}/{account_id}/{gateway_id}`` (append ``/compat``, ``/openai`` …)."""
        return f"{self.base_url}/{self.account_id}/{gateway_id}"

    @property
    def rest_url(self) -> str:
        """``{api_base_url}/accounts/{account_id}`` (append ``/ai/v1`` …)."""
        return f"{self.api_base_url}/accounts/{self.account_id}"

    def transport(self) -> httpx.MockTransport:
        """An httpx transport serving this emulator in-process (sync and async clients)."""
        return EmulatorTransport(self)

    def reset(self) -> None:
        """Forget recorded requests, logs, cache entries, rate windows, faults and scripts."""
        with self._lock:
            self.requests.clear()
            self.logs.clear()
            self._cache.clear()
            self._windows.clear()
            self._faults.clear()
            self._scripts.clear()

    def inject(self, fault: Fault) -> None:
        """Queue a :class:`Fault`; faults are consumed in order by matching requests."""
        with self._lock:
            self._faults.append([fault, fault.times])

    def script(self, reply: ScriptedReply) -> None:
        """Queue a :class:`ScriptedReply` for upcoming chat requests."""
        with self._lock:
            self._scripts.append([reply, reply.times])

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request synchronously (delays block with :func:`time.sleep`).

        Raises :class:`httpx.ReadError` for ``Fault(reset=True)``.
        """
        incoming = _incoming_from_httpx(request, request.read())
        flow = self._flow(incoming)
        value: _Forwarded | None = None
        while True:
            try:
                action = flow.send(value)
            except StopIteration as stop:
                return _httpx_response(stop.value, request)
            if isinstance(action, _Sleep):
                time.sleep(action.seconds)
                value = None
            else:
                value = forward_sync(action)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request asynchronously (delays use :func:`asyncio.sleep`).

        Raises :class:`httpx.ReadError` for ``Fault(reset=True)``.
        """
        incoming = _incoming_from_httpx(request, await request.aread())
        flow = self._flow(incoming)
        value: _Forwarded | None = None
        while True:
            try:
                action = flow.send(value)
            except StopIteration as stop:
                return _httpx_response(stop.value, request)
            if isinstance(action, _Sleep):
                await asyncio.sleep(action.seconds)
                value = None
            else:
                value = await forward_async(action)

    # ----------------------------------------------------------------- state helpers

    def _trim(self) -> None:
        limit = self.max_history
        if limit is None:
            return
        if len(self.requests) > limit + max(limit // 10, 1):
            del self.requests[: len(self.requests) - limit]
        while len(self.logs) > limit:
            del self.logs[next(iter(self.logs))]

    def _take(self, queue: list[list[Any]], predicate: Callable[[Any], bool]) -> Any:
        if not queue:
            return None
        with self._lock:
            for index, slot in enumerate(queue):
                if predicate(slot[0]):
                    slot[1] -= 1
                    if slot[1] <= 0:
                        del queue[index]
                    return slot[0]
        return None

    def _take_fault(self, predicate: Callable[[Fault], bool]) -> Fault | None:
        fault = self._take(self._faults, predicate)
        return fault if isinstance(fault, Fault) else None

    def _take_script(self, provider: str, model: str) -> ScriptedReply | None:
        qualified = f"{provider}/{model}"
        reply = self._take(self._scripts, lambda s: s.match is None or s.match in qualified)
        return reply if isinstance(reply, ScriptedReply) else None

    def _token_ok(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self.tokens

    def _resolve_gateway(self, gateway_id: str, *, authenticated: bool) -> GatewaySettings:
        if len(gateway_id) > _MAX_GATEWAY_ID:
            raise _GatewayError(400, CODE_GATEWAY_NOT_FOUND, _NO_GATEWAY)
        settings = self.gateways.get(gateway_id)
        if settings is not None:
            return settings
        if gateway_id != "default":
            raise _GatewayError(400, CODE_GATEWAY_NOT_FOUND, _NO_GATEWAY)
        if not authenticated:
            raise _GatewayError(401, CODE_UNAUTHORIZED, "Unauthorized")
        with self._lock:
            return self.gateways.setdefault("default", GatewaySettings(authentication=True))

    def _rate_limited(self, gateway_id: str, settings: GatewaySettings) -> bool:
        if settings.rate_limit is None:
            return False
        now = self.clock()
        with self._lock:
            window = self._windows.setdefault(gateway_id, deque())
            cutoff = now - settings.rate_limit_interval
            while window and window[0] <= cutoff:
                window.popleft()
            if len(window) >= settings.rate_limit:
                return True
            window.append(now)
            return False

    # ----------------------------------------------------------------- pipeline

    def _flow(self, incoming: _Incoming) -> _Flow[_Reply]:
        """Process one request; yields sleeps / forwards, returns the reply."""
        surface: Literal["gateway", "rest"] = "rest" if incoming.path.startswith("/client/v4/") else "gateway"
        record = RecordedRequest(
            method=incoming.method,
            path=incoming.path,
            url=incoming.url,
            headers=incoming.headers,
            body=incoming.body,
            json=_parse_json(incoming.body),
            gateway_id=None,
            surface=surface,
            route="unknown",
        )
        with self._lock:
            self.requests.append(record)
            self._trim()
        try:
            if surface == "rest":
                reply = yield from self._rest_request(incoming, record)
            elif incoming.path.startswith("/v1/"):
                reply = yield from self._gateway_request(incoming, record)
            else:
                raise _GatewayError(404, CODE_ROUTE_NOT_FOUND, f"No route for {incoming.path}")
        except _GatewayError as err:
            reply = _envelope_reply(surface, err.status, err.code, err.message)
        record.response_status = 0 if reply.reset else reply.status
        return reply

    def _gateway_request(self, incoming: _Incoming, record: RecordedRequest) -> _Flow[_Reply]:
        parts = incoming.path[len("/v1/") :].split("/", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise _GatewayError(404, CODE_ROUTE_NOT_FOUND, f"No route for {incoming.path}")
        account, gateway_id = parts[0], parts[1]
        sub = parts[2].strip("/") if len(parts) == 3 else ""
        route = _gateway_route(sub) or _UNKNOWN_ROUTE
        record.route = route.label
        if account != self.account_id:
            raise _GatewayError(400, CODE_GATEWAY_NOT_FOUND, _NO_GATEWAY)
        headers = incoming.headers
        token_ok = self._token_ok(headers.get("cf-aig-authorization"))
        if not token_ok and route.naming == "compat":
            # Cloudflare's own examples put the gateway token in the OpenAI SDK's api key.
            token_ok = self._token_ok(headers.get("authorization"))
        settings = self._resolve_gateway(gateway_id, authenticated=token_ok)
        if settings.authentication and not token_ok:
            raise _GatewayError(401, CODE_UNAUTHORIZED, "Unauthorized")
        record.gateway_id = gateway_id
        if route.kind == "unknown":
            raise _GatewayError(404, CODE_ROUTE_NOT_FOUND, f"No provider route for '{sub}'")
        if incoming.method not in route.methods:
            raise _GatewayError(405, CODE_ROUTE_NOT_FOUND, f"Method {incoming.method} not allowed")
        ctx = _Ctx(incoming, record, "gateway", gateway_id, settings, proxied=True, started=time.perf_counter())
        return (yield from self._proxied(ctx, route, sub))

    def _rest_request(self, incoming: _Incoming, record: RecordedRequest) -> _Flow[_Reply]:
        rest = incoming.path[len("/client/v4/") :]
        account, _, tail = rest.removeprefix("accounts/").partition("/")
        route, params = _rest_route(tail) if rest.startswith("accounts/") else (_UNKNOWN_ROUTE, ())
        record.route = route.label
        if not self._token_ok(incoming.headers.get("authorization")):
            raise _GatewayError(401, CODE_AUTHENTICATION, "Authentication error")
        could_not_route = f"Could not route to {incoming.path}, perhaps your object identifier is invalid?"
        if account != self.account_id or route.kind == "unknown":
            raise _GatewayError(404, CODE_COULD_NOT_ROUTE, could_not_route)
        if incoming.method not in route.methods:
            raise _GatewayError(405, CODE_COULD_NOT_ROUTE, f"Method {incoming.method} not allowed for this route")
        started = time.perf_counter()
        if route.kind == "feedback":
            record.gateway_id = params[0]
            ctx = _Ctx(incoming, record, "rest", params[0], None, proxied=False, started=started, params=params)
            return (yield from self._proxied(ctx, route, tail))
        gateway_id = incoming.headers.get("cf-aig-gateway-id")
        model = route.native_model
        if model is None and isinstance(record.json, dict):
            raw_model = record.json.get("model")
            model = raw_model if isinstance(raw_model, str) else None
        if gateway_id is None and model is not None and model.startswith(("@cf/", "@hf/")):
            # Workers AI models without cf-aig-gateway-id run directly, outside any gateway.
            ctx = _Ctx(incoming, record, "rest", None, None, proxied=False, started=started)
            return (yield from self._proxied(ctx, route, tail))
        gateway_id = gateway_id or "default"
        settings = self._resolve_gateway(gateway_id, authenticated=True)
        record.gateway_id = gateway_id
        ctx = _Ctx(incoming, record, "rest", gateway_id, settings, proxied=True, started=started)
        return (yield from self._proxied(ctx, route, tail))

    def _proxied(self, ctx: _Ctx, route: _Route, sub: str) -> _Flow[_Reply]:
        gateway_id, settings = ctx.gateway_id, ctx.settings
        if ctx.proxied and settings is not None and gateway_id is not None and self._rate_limited(gateway_id, settings):
            return self._finish(ctx, _envelope_reply(ctx.surface, 429, CODE_RATE_LIMITED, "Rate limited"))
        if route.kind == "universal":
            reply = yield from self._universal(ctx)
            return self._finish(ctx, reply)
        body = ctx.record.json
        streaming = _is_streaming(body)
        path = ctx.inc.path
        fault = self._take_fault(
            lambda f: f.step is None and _path_matches(f, path) and (streaming or not f.affects_stream)
        )
        reply = yield from self._serve(ctx, route, ctx.inc.headers, ctx.inc.body, body, fault, cache_path=sub)
        return self._finish(ctx, reply)

    def _finish(self, ctx: _Ctx, reply: _Reply) -> _Reply:
        if not ctx.proxied or reply.reset:
            return reply
        log_id = _uuid7()
        headers = ctx.inc.headers
        event_id = headers.get("cf-aig-event-id") or log_id
        reply.headers.extend((("cf-aig-log-id", log_id), ("cf-aig-request-id", log_id), ("cf-aig-event-id", event_id)))
        if reply.cache_status is not None:
            reply.headers.append(("cf-aig-cache-status", reply.cache_status))
        reply.headers.append(("cf-aig-step", str(reply.step)))
        collect = _header_flag(headers, "cf-aig-collect-log")
        if collect is None:
            collect = ctx.settings.collect_logs if ctx.settings is not None else True
        if not collect:
            return reply
        custom_cost = _parse_json(headers.get("cf-aig-custom-cost", "").encode())
        entry: dict[str, Any] = {
            "id": log_id,
            "gateway_id": ctx.gateway_id,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "surface": ctx.surface,
            "route": ctx.record.route,
            "path": ctx.inc.path,
            "provider": reply.provider,
            "model": reply.model,
            "status": reply.status,
            "success": 200 <= reply.status < 400,
            "cached": reply.cache_status == "HIT",
            "step": reply.step,
            "event_id": event_id,
            "metadata": parse_metadata(headers.get("cf-aig-metadata")),
            "feedback": None,
            "score": None,
            "tokens_in": reply.tokens_in,
            "tokens_out": reply.tokens_out,
            "duration_ms": round((time.perf_counter() - ctx.started) * 1000, 3),
            "custom_cost": custom_cost if isinstance(custom_cost, dict) else None,
            "cf_headers": {k: v for k, v in headers.items() if k.startswith("cf-aig-") and k != "cf-aig-authorization"},
        }
        with self._lock:
            self.logs[log_id] = entry
            self._trim()
        return reply

    def _fault_prelude(self, ctx: _Ctx, route: _Route, fault: Fault, timeout: float | None) -> _Flow[_Reply | None]:
        """Delay / timeout / reset / replacement part of a fault; None: serve normally."""
        if fault.delay > 0:
            if timeout is not None and fault.delay > timeout:
                yield from _sleep(timeout)
                return _envelope_reply(ctx.surface, 504, CODE_TIMEOUT, "Request timed out")
            yield from _sleep(fault.delay)
        if fault.reset:
            return _Reply(reset=True)
        if fault.replaces_response:
            return self._fault_reply(ctx, route, fault)
        return None

    def _fault_reply(self, ctx: _Ctx, route: _Route, fault: Fault) -> _Reply:
        status = fault.status
        content_type = fault.content_type
        if fault.body is None:
            if content_type is not None and "html" in content_type.lower():
                body = _html_page(status)
            elif status in _GATEWAY_STATUS_ERRORS and route.kind != "feedback":
                code, message = _GATEWAY_STATUS_ERRORS[status]
                reply = _envelope_reply(ctx.surface, status, code, message)
                body, content_type = reply.body, content_type or _JSON
            else:
                style: ErrorStyle = route.style if route.kind != "universal" else "openai"
                body = to_json(provider_error_body(style, status))
        elif isinstance(fault.body, (dict, list)):
            body = to_json(fault.body)
        elif isinstance(fault.body, str):
            body = fault.body.encode()
        else:
            body = fault.body
        if content_type is None:
            content_type = _JSON if body.lstrip()[:1] in (b"{", b"[") else "text/plain; charset=utf-8"
        reply = _Reply(status=status, content_type=content_type, body=body)
        _add_fault_headers(reply, fault)
        return reply

    def _serve(
        self,
        ctx: _Ctx,
        route: _Route,
        headers: Mapping[str, str],
        body_bytes: bytes,
        body: Any,
        fault: Fault | None,
        *,
        cache_path: str,
        timeout: float | None = None,
    ) -> _Flow[_Reply]:
        effective_timeout = timeout if timeout is not None else _timeout_seconds(headers)
        if fault is not None:
            early = yield from self._fault_prelude(ctx, route, fault, effective_timeout)
            if early is not None:
                return early
        reply = yield from self._answer(ctx, route, headers, body_bytes, body, cache_path, effective_timeout)
        if fault is not None:
            if fault.affects_stream:
                _apply_stream_fault(reply, fault)
            elif reply.status < 400:
                reply.status = fault.status
                reply.content_type = fault.content_type or reply.content_type
            _add_fault_headers(reply, fault)
        return reply

    def _answer(
        self,
        ctx: _Ctx,
        route: _Route,
        headers: Mapping[str, str],
        body_bytes: bytes,
        body: Any,
        cache_path: str,
        timeout: float | None,
    ) -> _Flow[_Reply]:
        cache_key, ttl = self._cache_plan(ctx, route, headers, body_bytes, body, cache_path)
        if cache_key is not None:
            hit = self._cache_get(cache_key)
            if hit is not None:
                return hit
        try:
            outcome = self._handle(ctx, route, headers, body)
            if isinstance(outcome, _Forward):
                outcome.timeout = timeout
                forwarded = yield from _forward(outcome)
                reply = self._from_forwarded(ctx, outcome, forwarded)
            else:
                reply = outcome
        except ModelError as err:
            style = err.style or route.style
            payload = provider_error_body(style, err.status, err.message, param=err.param, code=err.code)
            reply = _Reply(status=err.status, body=to_json(payload))
        except _GatewayError as err:
            reply = _envelope_reply(ctx.surface, err.status, err.code, err.message)
        if ctx.proxied and route.kind in _MODEL_KINDS:
            reply.cache_status = "MISS"
            if cache_key is not None and 200 <= reply.status < 300 and reply.events is None and reply.upstream is None:
                self._cache_put(cache_key, ttl, reply)
        return reply

    # ----------------------------------------------------------------- caching

    def _cache_plan(
        self, ctx: _Ctx, route: _Route, headers: Mapping[str, str], body_bytes: bytes, body: Any, cache_path: str
    ) -> tuple[str | None, float]:
        if not ctx.proxied or ctx.settings is None or route.kind not in _MODEL_KINDS or _is_streaming(body):
            return None, 0.0
        if _header_flag(headers, "cf-aig-skip-cache", "cf-skip-cache"):
            return None, 0.0
        custom_key = headers.get("cf-aig-cache-key")
        ttl: float = ctx.settings.cache_ttl
        raw_ttl = headers.get("cf-aig-cache-ttl", headers.get("cf-cache-ttl"))
        if raw_ttl is not None:
            try:
                ttl = float(raw_ttl)
            except ValueError:
                ttl = ctx.settings.cache_ttl
        elif ttl <= 0 and custom_key:
            ttl = _DEFAULT_KEY_TTL
        if ttl <= 0:
            return None, 0.0
        if custom_key:
            return f"{ctx.gateway_id}\x00key\x00{custom_key}", ttl
        auth = next((headers[h] for h in _AUTH_HEADERS if h in headers), "")
        digest = hashlib.sha256()
        for part in (str(ctx.gateway_id), ctx.surface, route.label, route.native_model or "", cache_path, auth):
            digest.update(part.encode())
            digest.update(b"\x00")
        digest.update(body_bytes)
        return f"{ctx.gateway_id}\x00{digest.hexdigest()}", ttl

    def _cache_get(self, key: str) -> _Reply | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            if entry.expires <= self.clock():
                del self._cache[key]
                return None
        return _Reply(
            status=entry.status,
            content_type=entry.content_type,
            body=entry.body,
            headers=list(entry.headers),
            cache_status="HIT",
            provider=entry.provider,
            model=entry.model,
            tokens_in=entry.tokens_in,
            tokens_out=entry.tokens_out,
        )

    def _cache_put(self, key: str, ttl: float, reply: _Reply) -> None:
        entry = _CacheEntry(
            expires=self.clock() + ttl,
            status=reply.status,
            content_type=reply.content_type,
            body=reply.body,
            headers=tuple(reply.headers),
            provider=reply.provider,
            model=reply.model,
            tokens_in=reply.tokens_in,
            tokens_out=reply.tokens_out,
        )
        with self._lock:
            self._cache[key] = entry
            while len(self._cache) > _MAX_CACHE_ENTRIES:
                del self._cache[next(iter(self._cache))]

    # ----------------------------------------------------------------- Universal Endpoint

    def _universal(self, ctx: _Ctx) -> _Flow[_Reply]:
        steps = ctx.record.json
        if isinstance(steps, dict):
            steps = [steps]
        valid = isinstance(steps, list) and bool(steps)
        if valid:
            valid = all(
                isinstance(s, dict) and isinstance(s.get("provider"), str) and isinstance(s.get("endpoint"), str)
                for s in steps
            )
        if not valid:
            return _envelope_reply(
                ctx.surface,
                400,
                CODE_BAD_REQUEST,
                "Universal requests must be a non-empty JSON array of {provider, endpoint, headers, query} steps",
            )
        path = ctx.inc.path
        outer = self._take_fault(lambda f: f.step is None and not f.affects_stream and _path_matches(f, path))
        if outer is not None:
            early = yield from self._fault_prelude(
                ctx, _Route("universal", "universal"), outer, _timeout_seconds(ctx.inc.headers)
            )
            if early is not None:
                return early
        reply = _Reply()
        for index, step in enumerate(steps):
            reply = yield from self._universal_step(ctx, index, step)
            reply.step = index
            if not reply.reset and reply.status < 400:
                break
        if outer is not None:
            _add_fault_headers(reply, outer)
        return reply

    def _universal_step(self, ctx: _Ctx, index: int, step: dict[str, Any]) -> _Flow[_Reply]:
        endpoint = str(step["endpoint"]).lstrip("/").split("?", 1)[0].strip("/")
        sub = f"{step['provider']}/{endpoint}"
        step_path = f"{ctx.inc.path.rstrip('/')}/{sub}"
        route = _gateway_route(sub)
        if route is None or route.kind == "universal":
            return _envelope_reply(ctx.surface, 404, CODE_ROUTE_NOT_FOUND, f"No provider route for '{sub}'")
        raw_headers = step.get("headers")
        headers = dict(ctx.inc.headers)
        if isinstance(raw_headers, dict):
            headers.update({str(k).lower(): str(v) for k, v in raw_headers.items()})
        query = step.get("query")
        body_bytes = to_json(query) if query is not None else b""
        raw_config = step.get("config")
        config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        attempts = _int_setting(config.get("maxAttempts"), default=1, low=1, high=5)
        retry_delay = _int_setting(config.get("retryDelay"), default=0, low=0, high=5000) / 1000
        backoff = str(config.get("backoff", "constant"))
        step_timeout = _int_setting(config.get("requestTimeout"), default=0, low=0, high=10**9) / 1000 or None
        streaming = _is_streaming(query)
        reply = _Reply()
        for attempt in range(attempts):
            if attempt:
                factor = {"linear": attempt, "exponential": 2 ** (attempt - 1)}.get(backoff, 1)
                yield from _sleep(retry_delay * factor)
            fault = self._take_fault(
                lambda f: (
                    (f.step is None or f.step == index)
                    and _path_matches(f, step_path)
                    and (streaming or not f.affects_stream)
                )
            )
            reply = yield from self._serve(
                ctx, route, headers, body_bytes, query, fault, cache_path=sub, timeout=step_timeout
            )
            retryable = reply.reset or reply.status in (408, 429) or reply.status >= 500
            if not retryable:
                break
        return reply

    # ----------------------------------------------------------------- handlers

    def _handle(self, ctx: _Ctx, route: _Route, headers: Mapping[str, str], body: Any) -> _Reply | _Forward:
        if route.kind == "feedback":
            return self._feedback(ctx, body)
        if not isinstance(body, dict):
            if route.naming == "compat":
                raise _GatewayError(400, CODE_BAD_CHAT_FORMAT, "Chat completion bad format")
            raise ModelError("The request body must be a JSON object")
        provider, model, extra = self._resolve_model(route, body)
        check_model_available(provider, model, style=route.style)
        if route.kind == "chat":
            if self.upstream is not None:
                return self._forward_to_upstream(ctx, "chat/completions", body, provider, model, headers, extra)
            return self._chat(route, body, provider, model, extra)
        if route.kind == "embeddings":
            if self.upstream is not None:
                return self._forward_to_upstream(ctx, "embeddings", body, provider, model, headers, extra)
            payload = openai_embeddings(body, provider=provider, model=model)
            tokens = int(payload["usage"]["prompt_tokens"])
            return _Reply(body=to_json(payload), provider=provider, model=model, tokens_in=tokens, tokens_out=0)
        if route.kind == "responses":
            return self._responses(body, provider, model)
        if route.kind == "messages":
            return self._messages(body, provider, model)
        return self._native(body, model)

    def _resolve_model(self, route: _Route, body: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
        raw = body.get("model")
        if route.naming == "native":
            return "workers-ai", route.native_model or "", []
        if route.naming == "compat":
            if not isinstance(raw, str):
                raise _GatewayError(400, CODE_BAD_CHAT_FORMAT, "Chat completion bad format")
            prefix, _, name = raw.partition("/")
            if prefix == "dynamic" and name:
                provider, model = DYNAMIC_ROUTE_TARGET
                return provider, model, [("cf-aig-model", model), ("cf-aig-provider", provider)]
            if not name or (prefix not in COMPAT_PROVIDERS and not _is_custom(prefix)):
                raise _GatewayError(400, CODE_BAD_CHAT_FORMAT, "Chat completion bad format")
            return prefix, name, []
        if route.naming == "provider":
            if not isinstance(raw, str) or not raw:
                raise ModelError("you must provide a model parameter", param="model")
            return route.provider or "", raw, []
        # REST catalog names: author/model or @cf/…
        if not isinstance(raw, str) or not raw:
            raise _GatewayError(
                400, CODE_COULD_NOT_ROUTE, "Model execution failed (User Input Error): 'model' is required"
            )
        if raw.startswith(("@cf/", "@hf/")):
            return "workers-ai", raw, []
        prefix, _, name = raw.partition("/")
        if prefix in ("google-ai-studio", "grok"):
            raise _GatewayError(
                400,
                CODE_COULD_NOT_ROUTE,
                f"Model execution failed (User Input Error): '{raw}' uses a gateway compat prefix; "
                "use google/… / xai/… on the REST API",
            )
        if not name:
            raise _GatewayError(400, CODE_COULD_NOT_ROUTE, f"Model not found: {raw} (expected 'author/model')")
        return prefix, name, []

    def _forward_to_upstream(
        self,
        ctx: _Ctx,
        endpoint: str,
        body: Mapping[str, Any],
        provider: str,
        model: str,
        headers: Mapping[str, str],
        extra: list[tuple[str, str]],
    ) -> _Forward:
        payload = dict(body)
        payload["model"] = model
        out = {"content-type": _JSON, "accept": headers.get("accept", f"{_JSON}, {_SSE}")}
        if ctx.surface == "gateway" and "authorization" in headers:
            out["authorization"] = headers["authorization"]
        return _Forward(
            url=f"{self.upstream}/{endpoint}",
            headers=out,
            body=to_json(payload),
            stream=payload.get("stream") is True,
            provider=provider,
            model=model,
            extra_headers=extra,
        )

    def _from_forwarded(self, ctx: _Ctx, forward: _Forward, result: _Forwarded) -> _Reply:
        if result.timed_out:
            return _envelope_reply(ctx.surface, 504, CODE_TIMEOUT, "Request timed out")
        if result.error is not None:
            body = provider_error_body("openai", 502, f"Upstream request failed: {result.error}")
            return _Reply(status=502, body=to_json(body), provider=forward.provider, model=forward.model)
        reply = _Reply(
            status=result.status,
            content_type=result.content_type,
            body=result.body,
            upstream=result.stream,
            headers=list(forward.extra_headers),
            provider=forward.provider,
            model=forward.model,
        )
        parsed = _parse_json(result.body) if result.stream is None else None
        usage = parsed.get("usage") if isinstance(parsed, dict) else None
        if isinstance(usage, dict):
            reply.tokens_in = _maybe_int(usage.get("prompt_tokens"))
            reply.tokens_out = _maybe_int(usage.get("completion_tokens"))
        return reply

    def _chat(
        self, route: _Route, body: Mapping[str, Any], provider: str, model: str, extra: list[tuple[str, str]]
    ) -> _Reply:
        try:
            request = parse_openai_chat(body, provider=provider, model=model)
        except ModelError as err:
            if err.bad_format and route.naming == "compat":
                raise _GatewayError(400, CODE_BAD_CHAT_FORMAT, "Chat completion bad format") from err
            raise
        turns = generate(request, self._take_script(provider, model))
        tokens_in, tokens_out = _usage_tokens(turns)
        completion_id = _random_id("chatcmpl-")
        created = int(time.time())
        reply = _Reply(headers=list(extra), provider=provider, model=model, tokens_in=tokens_in, tokens_out=tokens_out)
        if _is_streaming(body):
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            chunks = openai_chat_chunks(
                turns, completion_id=completion_id, created=created, model=model, include_usage=include_usage
            )
            reply.content_type = _SSE
            reply.events = [_sse(chunk) for chunk in chunks]
            reply.terminator = _DONE
        else:
            completion = openai_chat_completion(turns, completion_id=completion_id, created=created, model=model)
            reply.body = to_json(completion)
        return reply

    def _responses(self, body: Mapping[str, Any], provider: str, model: str) -> _Reply:
        request = parse_responses(body, provider=provider, model=model)
        turns = generate(request, self._take_script(provider, model))
        tokens_in, tokens_out = _usage_tokens(turns)
        response_id = _random_id("resp_")
        created = int(time.time())
        reply = _Reply(provider=provider, model=model, tokens_in=tokens_in, tokens_out=tokens_out)
        if _is_streaming(body):
            events = responses_stream_events(turns[0], response_id=response_id, created=created, model=model)
            reply.content_type = _SSE
            reply.events = [_sse(data, name) for name, data in events]
        else:
            reply.body = to_json(responses_object(turns[0], response_id=response_id, created=created, model=model))
        return reply

    def _messages(self, body: Mapping[str, Any], provider: str, model: str) -> _Reply:
        request = parse_anthropic_messages(body, model=model)
        request.provider = provider
        turns = generate(request, self._take_script(provider, model))
        tokens_in, tokens_out = _usage_tokens(turns)
        message_id = _random_id("msg_")
        reply = _Reply(provider=provider, model=model, tokens_in=tokens_in, tokens_out=tokens_out)
        if _is_streaming(body):
            events = anthropic_stream_events(turns[0], message_id=message_id, model=model)
            reply.content_type = _SSE
            reply.events = [_sse(data, name) for name, data in events]
        else:
            reply.body = to_json(anthropic_message(turns[0], message_id=message_id, model=model))
        return reply

    def _native(self, body: Mapping[str, Any], model: str) -> _Reply:
        if not model.startswith(("@cf/", "@hf/")):
            raise ModelError(f"No such model {model} or task", style="cloudflare", code=5007)
        if is_embedding_model(model):
            result = workers_embeddings(body, model=model)
            texts = body.get("text")
            items = [texts] if isinstance(texts, str) else texts if isinstance(texts, list) else []
            tokens = sum(len(t.split()) for t in items if isinstance(t, str))
            return _Reply(body=_api_success(result), provider="workers-ai", model=model, tokens_in=tokens, tokens_out=0)
        request = parse_workers_chat(body, model=model)
        turns = generate(request, self._take_script("workers-ai", model))
        tokens_in, tokens_out = _usage_tokens(turns)
        reply = _Reply(provider="workers-ai", model=model, tokens_in=tokens_in, tokens_out=tokens_out)
        if _is_streaming(body):
            reply.content_type = _SSE
            reply.events = [_sse(event) for event in workers_stream_events(turns[0])]
            reply.terminator = _DONE
        else:
            reply.body = _api_success(workers_result(turns[0]))
        return reply

    def _feedback(self, ctx: _Ctx, body: Any) -> _Reply:
        gateway_id, log_id = ctx.params
        with self._lock:
            entry = self.logs.get(log_id)
            known = entry is not None and entry["gateway_id"] == gateway_id
            snapshot = dict(entry) if entry is not None and known else None
        if snapshot is None:
            return _envelope_reply("rest", 404, CODE_API_NOT_FOUND, f"Log {log_id} not found in gateway {gateway_id}")
        if ctx.inc.method == "GET":
            return _Reply(body=_api_success(snapshot))
        if not isinstance(body, dict):
            return _envelope_reply("rest", 400, CODE_API_INVALID, "Request body must be a JSON object")
        updates: dict[str, Any] = {}
        if "feedback" in body:
            value = body["feedback"]
            if isinstance(value, bool) or value not in (-1, 1):
                return _envelope_reply("rest", 400, CODE_API_INVALID, "feedback must be -1 or 1")
            updates["feedback"] = value
        if "score" in body:
            score = body["score"]
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                return _envelope_reply("rest", 400, CODE_API_INVALID, "score must be a number")
            updates["score"] = score
        if "metadata" in body:
            metadata = body["metadata"]
            if not isinstance(metadata, dict) or not all(
                isinstance(v, (str, int, float, bool)) for v in metadata.values()
            ):
                return _envelope_reply(
                    "rest", 400, CODE_API_INVALID, "metadata must be an object of string, number or boolean values"
                )
            updates["metadata"] = dict(metadata)
        with self._lock:
            stored = self.logs.get(log_id)
            if stored is None:
                return _envelope_reply("rest", 404, CODE_API_NOT_FOUND, f"Log {log_id} not found")
            stored.update(updates)
            result = dict(stored)
        return _Reply(body=_api_success(result))


def _int_setting(raw: Any, *, default: int, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return default
    return int(min(max(raw, low), high))


def _maybe_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _add_fault_headers(reply: _Reply, fault: Fault) -> None:
    names = {k.lower() for k in fault.headers}
    if fault.retry_after is not None:
        names.add("retry-after")
    if names:
        reply.headers = [(k, v) for k, v in reply.headers if k not in names]
    reply.headers.extend((k.lower(), v) for k, v in fault.headers.items())
    if fault.retry_after is not None:
        reply.headers.append(("retry-after", fault.retry_after))


def _incoming_from_httpx(request: httpx.Request, body: bytes) -> _Incoming:
    headers: dict[str, str] = {}
    for key, value in request.headers.multi_items():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return _Incoming(
        method=request.method,
        path=request.url.path,
        query=request.url.query.decode("ascii", "replace"),
        url=str(request.url),
        headers=headers,
        body=body,
    )


def _httpx_response(reply: _Reply, request: httpx.Request) -> httpx.Response:
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
