"""GatewayClient and AsyncGatewayClient.

Everything that does no I/O lives in :class:`_BaseClient` and the pure modules (request building,
the retry/fallback flow, parsing, error mapping). The two clients only send, sleep, read and close,
and differ only by ``await``: both drive the same :func:`_attempts` generator.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import httpx

from cfaig import _aiohttp
from cfaig import _constants as c
from cfaig._error_mapping import make_status_error, map_transport_errors
from cfaig._gateway_codes import gateway_code
from cfaig._logging import logger, setup_from_env
from cfaig._redact import scrub
from cfaig._request import Endpoint, PreparedRequest, RequestBuilder, Target
from cfaig._response import parse_chat, parse_embeddings, parse_meta, parse_responses
from cfaig._retry import RetryPolicy
from cfaig._streaming import AsyncChatStream, ChatStream, StreamDecoder
from cfaig.config import GatewayConfig
from cfaig.errors import ConfigurationError, GatewayError
from cfaig.model_ref import parse_model
from cfaig.options import GatewayOptions
from cfaig.providers import DEFAULT_EMBEDDING_CONCURRENCY, embedding_support
from cfaig.types import (
    ChatCompletion,
    ChatRequest,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayMeta,
    ResponsesResult,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AsyncGatewayClient", "GatewayClient"]

_T = TypeVar("_T")


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process: building one costs tens of milliseconds."""
    return httpx.create_ssl_context()


def _timeout(config: GatewayConfig) -> httpx.Timeout:
    return httpx.Timeout(config.timeout, connect=min(config.timeout, c.DEFAULT_CONNECT_TIMEOUT))


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=c.MAX_CONNECTIONS, max_keepalive_connections=c.MAX_KEEPALIVE_CONNECTIONS)


async def _close_pool(pool: httpx.AsyncClient | aiohttp.ClientSession) -> None:
    if isinstance(pool, httpx.AsyncClient):
        await pool.aclose()
    elif not pool.closed:
        await pool.close()


async def _close_with_loop(pool: httpx.AsyncClient | aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Parked in an event loop once; the loop's shutdown (``asyncio.run`` does it) closes it, and the pool.

    Without this, a pool left behind by a finished ``asyncio.run`` would keep its sockets open.
    """
    try:
        yield
        yield  # never resumed: only closed
    finally:
        await _close_pool(pool)


@dataclass(slots=True)
class _LoopPool:
    pool: httpx.AsyncClient | aiohttp.ClientSession
    closer: AsyncGenerator[None, None]
    parked: bool = False


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    """Parsed once per distinct URL (a client uses a handful)."""
    return httpx.URL(url)


def _gateway_headers(headers: Any) -> Mapping[str, str]:
    """The response headers the client reads, as a plain dict: httpx's ``Headers.get`` scans and decodes
    every header on each lookup, and parse_meta makes about ten."""
    raw = getattr(headers, "raw", None)
    if raw is None:  # aiohttp's case-insensitive multidict is already cheap to query
        return cast(Mapping[str, str], headers)
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in raw
        if name[:7].lower() == b"cf-aig-" or name.lower() in (b"content-type", b"retry-after", b"retry-after-ms")
    }


# --- the attempt flow, shared by both worlds -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Send:
    target: Target
    step: int


@dataclass(frozen=True, slots=True)
class _Sleep:
    seconds: float


_Flow = Generator[_Send | _Sleep, "httpx.Response | GatewayError | None", tuple[httpx.Response, int]]


def _attempts(prepared: PreparedRequest, policy: RetryPolicy) -> _Flow:
    """Yield what to do next (send a target, or sleep); receive the 2xx response or the mapped error.

    Retries follow ``policy``; when a target's retries are spent, the next target is tried (client-side
    fallback on the REST surface); the last error is raised when every target failed.
    """
    slept = 0.0
    last = len(prepared.targets) - 1
    for step, target in enumerate(prepared.targets):
        retries = 0
        while True:
            outcome = yield _Send(target, step)
            if not isinstance(outcome, GatewayError):  # a 2xx response (httpx's, or the aiohttp adapter)
                assert outcome is not None
                return outcome, step
            delay = policy.next_delay(outcome, retries, slept)
            if delay is None:
                break
            logger.debug(
                "retrying %s in %.2fs (retry %d of %d) after %s",
                target.served_by,
                delay,
                retries + 1,
                policy.max_retries,
                type(outcome).__name__,
            )
            yield _Sleep(delay)
            slept += delay
            retries += 1
        known = gateway_code(outcome.code)
        if step == last or (known is not None and not known.falls_back):  # the same for every step
            raise outcome
        logger.info(
            "%s failed (%s); falling back to %s",
            target.served_by,
            outcome,
            prepared.targets[step + 1].served_by,
        )
    raise AssertionError("unreachable: a prepared request has at least one target")


# --- the shared, I/O-free half -----------------------------------------------------------------


class _BaseClient:
    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
        **config_fields: Any,
    ) -> None:
        if config is not None and config_fields:
            raise ConfigurationError("pass either config=GatewayConfig(...) or its fields, not both")
        self.config = config if config is not None else GatewayConfig(**config_fields)
        self.options = GatewayOptions.coerce(options) or GatewayOptions()
        self.retry_policy = retry_policy or RetryPolicy(max_retries=self.config.max_retries)
        self._builder = RequestBuilder(self.config, self.options)
        self._secrets = tuple(
            secret.get_secret_value()
            for secret in (self.config.cf_aig_token, self.config.api_key)
            if secret is not None
        )
        setup_from_env()

    def __repr__(self) -> str:
        cfg = self.config
        return (
            f"{type(self).__name__}(account_id={cfg.account_id!r}, gateway_id={cfg.gateway_id!r}, "
            f"surface={cfg.surface!r}, base_url={(cfg.api_base_url if cfg.surface == 'rest' else cfg.base_url)!r})"
        )

    # pure preparation, shared by both clients
    def _prepare_chat(
        self,
        request: ChatRequest,
        options: GatewayOptions | Mapping[str, Any] | None,
        fallbacks: Sequence[str] | None,
        stream: bool,
        endpoint: Endpoint,
    ) -> PreparedRequest:
        return self._builder.chat(
            request,
            options=GatewayOptions.coerce(options),
            fallbacks=fallbacks,
            stream=stream,
            endpoint=endpoint,
        )

    @staticmethod
    def _embedding_batches(
        model: str,
        texts: Sequence[str],
        batch_size: int | None,
        dimensions: int | None,
        encoding_format: Literal["float", "base64"] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> list[EmbeddingRequest]:
        """One request per batch: ``batch_size`` texts (clamped to the provider's limit), in input order."""
        if isinstance(texts, str):
            raise ConfigurationError("texts must be a list of strings (use embed() for one text)")
        support = embedding_support(model)
        if batch_size is not None and batch_size < 1:
            raise ConfigurationError("batch_size must be at least 1")
        size = min(batch_size or support.max_batch, support.max_batch)
        if encoding_format is None and support.base64:
            encoding_format = "base64"  # decodes about 3x faster than float JSON; the core decodes it
        requests: list[EmbeddingRequest] = []
        for start in range(0, len(texts), size):
            request: EmbeddingRequest = {"model": model, "input": list(texts[start : start + size])}
            if dimensions is not None:
                request["dimensions"] = dimensions
            if encoding_format is not None:
                request["encoding_format"] = encoding_format
            if extra_body:
                request["extra_body"] = extra_body
            requests.append(request)
        return requests

    @staticmethod
    def _meta(response: httpx.Response, prepared: PreparedRequest, step: int) -> tuple[GatewayMeta, str]:
        """What the gateway reported, and the content type, from one pass over the response headers."""
        headers = _gateway_headers(response.headers)
        meta = parse_meta(
            headers,
            response.status_code,
            requested=prepared.targets[step].served_by,
            step_models=prepared.step_models,
            client_step=step if len(prepared.targets) > 1 else None,
        )
        return meta, headers.get("content-type", "")

    def _parse(
        self,
        parse: Callable[[bytes, str, GatewayMeta], _T],
        body: bytes,
        response: httpx.Response,
        prepared: PreparedRequest,
        step: int,
    ) -> _T:
        meta, content_type = self._meta(response, prepared, step)
        return parse(body, content_type, meta)

    def _error(self, response: httpx.Response, body: bytes, target: Target, prepared: PreparedRequest) -> GatewayError:
        step = None
        provider = target.provider
        raw = response.headers.get(c.H_STEP)
        if raw is not None and raw.isdigit():
            step = int(raw)
            if step < len(prepared.step_models):  # a Universal request: the step names the provider
                provider = parse_model(prepared.step_models[step]).provider
        error = make_status_error(
            response.status_code,
            body,
            response.headers,
            provider=provider,
            gateway_id=prepared.gateway_id,
            step=step,
        )
        return scrub(error, self._secrets)

    def _decoder(self, response: httpx.Response, prepared: PreparedRequest, step: int) -> StreamDecoder:
        meta, _ = self._meta(response, prepared, step)
        return StreamDecoder(meta, provider=prepared.targets[step].provider, secrets=self._secrets)

    @staticmethod
    def _request(client: httpx.Client | httpx.AsyncClient, prepared: PreparedRequest, target: Target) -> httpx.Request:
        return client.build_request(prepared.method, target.url, headers=target.headers, content=target.body)


# --- sync ----------------------------------------------------------------------------------------


class GatewayClient(_BaseClient):
    """A synchronous client for Cloudflare AI Gateway. Thread-safe; share one per application.

    >>> client = GatewayClient(account_id="...", cf_aig_token="...")      # doctest: +SKIP
    >>> client.chat({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "Hi"}]}).text
    """

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        **config_fields: Any,
    ) -> None:
        super().__init__(config, options=options, retry_policy=retry_policy, **config_fields)
        if http_client is not None and transport is not None:
            raise ConfigurationError("pass http_client or transport, not both")
        self._http = http_client
        self._owns_http = http_client is None
        self._transport = transport
        self._extensions = {"timeout": _timeout(self.config).as_dict()}
        self._lock = threading.Lock()

    @property
    def http_client(self) -> httpx.Client:
        """The pooled ``httpx.Client``, created on first use."""
        if self._http is None:
            with self._lock:
                if self._http is None:
                    if self._transport is None:
                        self._transport = httpx.HTTPTransport(verify=_default_ssl_context(), limits=_limits())
                    self._http = httpx.Client(
                        timeout=_timeout(self.config), transport=self._transport, follow_redirects=False
                    )
        return self._http

    def _transport_send(self, prepared: PreparedRequest, target: Target, stream: bool) -> httpx.Response:
        """Our own pool: straight to its transport. Client.send's cookie, auth, redirect and hook layers
        have nothing to do for these requests and cost a third of a call (benchmarks/)."""
        assert self._transport is not None
        request = httpx.Request(
            prepared.method, _url(target.url), headers=target.headers, content=target.body, extensions=self._extensions
        )
        response = self._transport.handle_request(request)
        response.request = request
        if not stream:
            response.read()
        return response

    def _run(self, prepared: PreparedRequest, *, stream: bool = False) -> tuple[httpx.Response, int]:
        client = self.http_client
        flow = _attempts(prepared, self.retry_policy)
        action = next(flow)
        while True:
            outcome: httpx.Response | GatewayError | None = None
            if isinstance(action, _Sleep):
                time.sleep(action.seconds)
            else:
                outcome = self._send(client, prepared, action, stream)
            try:
                action = flow.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]

    def _send(
        self, client: httpx.Client, prepared: PreparedRequest, action: _Send, stream: bool
    ) -> httpx.Response | GatewayError:
        target = action.target
        try:
            with map_transport_errors(provider=target.provider, step=action.step):
                if self._owns_http:
                    response = self._transport_send(prepared, target, stream)
                else:  # your client: its auth, proxies, hooks and cookies apply
                    response = client.send(self._request(client, prepared, target), stream=stream)
                if response.status_code < 400:
                    return response
                body = response.read()
                response.close()
        except GatewayError as error:
            return error
        return self._error(response, body, target, prepared)

    def _read(self, response: httpx.Response) -> bytes:
        with map_transport_errors():
            return response.read()

    def chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        endpoint: Endpoint = "unified",
    ) -> ChatCompletion:
        """Send a chat completion and return the answer with ``.gateway`` metadata.

        ``fallbacks``: further model strings tried in order if the first fails (one Universal-endpoint
        request on the gateway host; client-side on the REST surface). ``.gateway.step`` and
        ``.gateway.served_by`` tell which one answered.
        """
        prepared = self._prepare_chat(request, options, fallbacks, False, endpoint)
        response, step = self._run(prepared)
        return self._parse(parse_chat, self._read(response), response, prepared, step)

    def stream_chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        endpoint: Endpoint = "unified",
    ) -> ChatStream:
        """Open a streamed chat completion. Errors before the first byte are retried like ``chat``;
        once the stream is open nothing is retried silently. Iterate it, or use it as a context manager."""
        prepared = self._prepare_chat(request, options, fallbacks, True, endpoint)
        response, step = self._run(prepared, stream=True)
        return ChatStream(response, self._decoder(response, prepared, step))

    def embed(
        self, request: EmbeddingRequest, *, options: GatewayOptions | Mapping[str, Any] | None = None
    ) -> EmbeddingResponse:
        """Embed one text or a list of texts through the provider's OpenAI-compatible embeddings endpoint."""
        prepared = self._builder.embeddings(request, options=GatewayOptions.coerce(options))
        response, step = self._run(prepared)
        return self._parse(parse_embeddings, self._read(response), response, prepared, step)

    def embed_many(
        self,
        model: str,
        texts: Sequence[str],
        *,
        batch_size: int | None = None,
        max_concurrency: int = DEFAULT_EMBEDDING_CONCURRENCY,
        dimensions: int | None = None,
        encoding_format: Literal["float", "base64"] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        options: GatewayOptions | Mapping[str, Any] | None = None,
    ) -> list[list[float]]:
        """Embed any number of texts: batches of at most ``batch_size`` (clamped to the provider's limit),
        up to ``max_concurrency`` in flight on worker threads, vectors in input order. ``[]`` sends nothing.
        OpenAI models are asked for base64 vectors unless ``encoding_format`` says otherwise."""
        batches = self._embedding_batches(model, texts, batch_size, dimensions, encoding_format, extra_body)
        coerced = GatewayOptions.coerce(options)
        if len(batches) <= 1 or max_concurrency <= 1:
            results = [self.embed(batch, options=coerced).vectors for batch in batches]
        else:
            with ThreadPoolExecutor(max_workers=min(max_concurrency, len(batches))) as pool:
                results = list(pool.map(lambda batch: self.embed(batch, options=coerced).vectors, batches))
        return [vector for result in results for vector in result]

    def responses(
        self, body: Mapping[str, Any], *, options: GatewayOptions | Mapping[str, Any] | None = None
    ) -> ResponsesResult:
        """Call the OpenAI Responses API (``openai/responses``) through the gateway."""
        prepared = self._builder.responses(body, options=GatewayOptions.coerce(options))
        response, step = self._run(prepared)
        return self._parse(parse_responses, self._read(response), response, prepared, step)

    def feedback(
        self,
        log_id: str,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        """Rate a logged request (``PATCH .../logs/{log_id}``) for evaluations: feedback 1/-1, a score, metadata."""
        prepared = self._builder.feedback(log_id, feedback=feedback, score=score, metadata=metadata)
        response, _ = self._run(prepared)
        response.close()

    def close(self) -> None:
        """Close the connection pool (only if this client created it)."""
        if self._http is not None and self._owns_http:
            self._http.close()
            self._http = None

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- async ---------------------------------------------------------------------------------------


class AsyncGatewayClient(_BaseClient):
    """The asynchronous twin of :class:`GatewayClient`: same methods, awaited.

    It sends on one pooled aiohttp session per event loop (httpx's async pool does not scale: see
    ``cfaig._aiohttp``), or on the ``httpx.AsyncClient`` / transport you pass. Pools are per event loop,
    so one client serves code that runs ``asyncio.run`` more than once, and loops in several threads;
    each pool is closed when its loop shuts down.
    """

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        **config_fields: Any,
    ) -> None:
        super().__init__(config, options=options, retry_policy=retry_policy, **config_fields)
        if http_client is not None and transport is not None:
            raise ConfigurationError("pass http_client or transport, not both")
        self._user_http = http_client
        self._transport = transport
        self._native = http_client is None and transport is None and _aiohttp.available()
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @property
    def backend(self) -> Literal["aiohttp", "httpx"]:
        """What requests are sent on: ``aiohttp`` by default, ``httpx`` with a client or transport of yours."""
        return "aiohttp" if self._native else "httpx"

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` requests go through on the httpx backend (yours, or one per loop)."""
        if self._user_http is not None:
            return self._user_http
        if self._native:
            raise ConfigurationError("this client sends on aiohttp; pass http_client= or transport= to use httpx")
        pool = self._loop_pool().pool
        assert isinstance(pool, httpx.AsyncClient)
        return pool

    def _loop_pool(self) -> _LoopPool:
        loop = asyncio.get_running_loop()
        entry = self._per_loop.get(loop)
        if entry is None:
            with self._lock:
                entry = self._per_loop.get(loop)
                if entry is None:
                    for old in [owner for owner in self._per_loop if owner.is_closed()]:
                        del self._per_loop[old]  # their pools were closed at their loops' shutdown
                    pool: httpx.AsyncClient | aiohttp.ClientSession
                    if self._native:
                        pool = _aiohttp.new_session(self.config, _default_ssl_context())
                    else:
                        pool = httpx.AsyncClient(
                            timeout=_timeout(self.config),
                            limits=_limits(),
                            transport=self._transport,
                            verify=_default_ssl_context(),
                            follow_redirects=False,
                        )
                    entry = self._per_loop[loop] = _LoopPool(pool, _close_with_loop(pool))
        return entry

    async def _pool(self) -> httpx.AsyncClient | aiohttp.ClientSession:
        if self._user_http is not None:
            return self._user_http
        entry = self._loop_pool()
        if not entry.parked:
            entry.parked = True
            await entry.closer.__anext__()  # registers with the loop: its shutdown closes the pool
        return entry.pool

    async def _run(self, prepared: PreparedRequest, *, stream: bool = False) -> tuple[httpx.Response, int]:
        pool = await self._pool()
        flow = _attempts(prepared, self.retry_policy)
        action = next(flow)
        while True:
            outcome: httpx.Response | GatewayError | None = None
            if isinstance(action, _Sleep):
                await asyncio.sleep(action.seconds)
            else:
                outcome = await self._send(pool, prepared, action, stream)
            try:
                action = flow.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]

    async def _send(
        self, pool: httpx.AsyncClient | aiohttp.ClientSession, prepared: PreparedRequest, action: _Send, stream: bool
    ) -> httpx.Response | GatewayError:
        target = action.target
        response: Any
        try:
            with map_transport_errors(provider=target.provider, step=action.step):
                if isinstance(pool, httpx.AsyncClient):
                    response = await pool.send(self._request(pool, prepared, target), stream=stream)
                else:  # aiohttp: an httpx-shaped response (status_code, headers, aread, aiter_bytes, aclose)
                    response = await _aiohttp.send(pool, prepared.method, target.url, target.headers, target.body)
                if response.status_code < 400:
                    return cast(httpx.Response, response)
                body = await response.aread()
                await response.aclose()
        except GatewayError as error:
            return error
        return self._error(response, body, target, prepared)

    async def _read(self, response: httpx.Response) -> bytes:
        with map_transport_errors():
            return await response.aread()

    async def chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        endpoint: Endpoint = "unified",
    ) -> ChatCompletion:
        """Async :meth:`GatewayClient.chat`."""
        prepared = self._prepare_chat(request, options, fallbacks, False, endpoint)
        response, step = await self._run(prepared)
        body = await self._read(response)
        return self._parse(parse_chat, body, response, prepared, step)

    async def stream_chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        endpoint: Endpoint = "unified",
    ) -> AsyncChatStream:
        """Async :meth:`GatewayClient.stream_chat`: ``async for chunk in await client.stream_chat(...)``."""
        prepared = self._prepare_chat(request, options, fallbacks, True, endpoint)
        response, step = await self._run(prepared, stream=True)
        return AsyncChatStream(response, self._decoder(response, prepared, step))

    async def embed(
        self, request: EmbeddingRequest, *, options: GatewayOptions | Mapping[str, Any] | None = None
    ) -> EmbeddingResponse:
        """Async :meth:`GatewayClient.embed`."""
        prepared = self._builder.embeddings(request, options=GatewayOptions.coerce(options))
        response, step = await self._run(prepared)
        body = await self._read(response)
        return self._parse(parse_embeddings, body, response, prepared, step)

    async def embed_many(
        self,
        model: str,
        texts: Sequence[str],
        *,
        batch_size: int | None = None,
        max_concurrency: int = DEFAULT_EMBEDDING_CONCURRENCY,
        dimensions: int | None = None,
        encoding_format: Literal["float", "base64"] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        options: GatewayOptions | Mapping[str, Any] | None = None,
    ) -> list[list[float]]:
        """Async :meth:`GatewayClient.embed_many`: batches run concurrently, at most ``max_concurrency``."""
        batches = self._embedding_batches(model, texts, batch_size, dimensions, encoding_format, extra_body)
        coerced = GatewayOptions.coerce(options)
        semaphore = asyncio.Semaphore(max(max_concurrency, 1))

        async def one(batch: EmbeddingRequest) -> list[list[float]]:
            async with semaphore:
                return (await self.embed(batch, options=coerced)).vectors

        results = await asyncio.gather(*(one(batch) for batch in batches))
        return [vector for result in results for vector in result]

    async def responses(
        self, body: Mapping[str, Any], *, options: GatewayOptions | Mapping[str, Any] | None = None
    ) -> ResponsesResult:
        """Async :meth:`GatewayClient.responses`."""
        prepared = self._builder.responses(body, options=GatewayOptions.coerce(options))
        response, step = await self._run(prepared)
        raw = await self._read(response)
        return self._parse(parse_responses, raw, response, prepared, step)

    async def feedback(
        self,
        log_id: str,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        """Async :meth:`GatewayClient.feedback`."""
        prepared = self._builder.feedback(log_id, feedback=feedback, score=score, metadata=metadata)
        response, _ = await self._run(prepared)
        await response.aclose()

    async def aclose(self) -> None:
        """Close the pool of the running loop (and forget pools of loops that are gone)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for owner, entry in list(self._per_loop.items()):
            if owner is loop:
                await entry.closer.aclose()  # closes the pool through its finally
                await _close_pool(entry.pool)
                del self._per_loop[owner]
            elif owner.is_closed():
                del self._per_loop[owner]

    async def __aenter__(self) -> AsyncGatewayClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
