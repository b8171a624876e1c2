"""GatewayClient and AsyncGatewayClient: the two clients, which only send, sleep, read and close.

Everything that does no I/O lives in ``_base_client.BaseClient`` and the pure modules (request
building, the retry/fallback plan in ``_retry``, parsing, error mapping); the connection pools are in
``_transports``. The two clients differ only by ``await``: both follow the same
:func:`~cfaig._retry.attempts` plan.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, cast

import httpx

from cfaig._base_client import BaseClient
from cfaig._error_mapping import map_transport_errors
from cfaig._request import Endpoint, PreparedRequest
from cfaig._response import parse_chat
from cfaig._retry import Attempt, RetryPolicy, attempts
from cfaig._streaming import AsyncChatStream, ChatStream
from cfaig._transports import _aiohttp
from cfaig._transports._aiohttp import AiohttpPool, AiohttpResponse
from cfaig._transports._httpx import AsyncHttpxPool, SyncPool, default_ssl_context
from cfaig._transports._limits import Budget, aread_body, read_body, within
from cfaig._transports._loop_pools import LoopPools
from cfaig.config import GatewayConfig
from cfaig.errors import ConfigurationError, GatewayError
from cfaig.options import GatewayOptions
from cfaig.providers import DEFAULT_EMBEDDING_CONCURRENCY
from cfaig.types import (
    ChatCompletion,
    ChatRequest,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayMeta,
)

if TYPE_CHECKING:  # the Responses API's modules load on its first call, not with every chat program
    from cfaig._responses_stream import AsyncResponsesStream, ResponsesStream
    from cfaig.responses_types import ResponsesRequest, ResponsesResult

__all__ = ["AsyncGatewayClient", "GatewayClient"]

_AsyncPool = AiohttpPool | AsyncHttpxPool


# --- sync ----------------------------------------------------------------------------------------


class GatewayClient(BaseClient):
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
        self._pool = SyncPool(self.config, http_client, transport)

    @property
    def http_client(self) -> httpx.Client:
        """The pooled ``httpx.Client``, created on first use."""
        return self._pool.client

    def _run(self, prepared: PreparedRequest, *, stream: Budget | None = None) -> tuple[httpx.Response, int]:
        """Send with retries; ``stream``: the budget of a whole stream (else each attempt reads the body whole)."""
        flow = attempts(prepared, self.retry_policy)
        attempt = next(flow)
        while True:
            if attempt.wait is not None:
                time.sleep(attempt.wait)
            outcome = self._send(prepared, attempt, stream)
            if not isinstance(outcome, GatewayError):
                return outcome, attempt.step
            attempt = flow.send(outcome)  # the next attempt, or the error raised when none is left

    def _send(
        self, prepared: PreparedRequest, attempt: Attempt, stream: Budget | None
    ) -> httpx.Response | GatewayError:
        target = attempt.target
        budget = stream or self._attempt_budget()
        try:
            with map_transport_errors(provider=target.provider, step=attempt.step, secrets=self.secrets_for(prepared)):
                response = self._pool.send(
                    prepared.method, target.url, target.headers, target.body, stream=stream is not None, budget=budget
                )
                if response.status_code < 300:  # a 3xx is never a success: redirects are not followed
                    return response
                body = read_body(response, budget, truncate=True) if stream is not None else response.read()
                response.close()
                raise self._error(response, body, target, prepared, attempt.step)
        except GatewayError as error:  # typed and scrubbed by the boundary: the retry plan decides
            return error

    def _read(self, response: httpx.Response) -> bytes:
        with map_transport_errors(secrets=self._secrets):
            return response.read()

    def chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        endpoint: Endpoint = "unified",
        provider_keys: Mapping[str, Any] | None = None,
    ) -> ChatCompletion:
        """Send a chat completion and return the answer with ``.gateway`` metadata.

        ``fallbacks``: further model strings tried in order if the first fails (one Universal-endpoint
        request on the gateway host; client-side on the REST surface). ``.gateway.step`` and
        ``.gateway.served_by`` tell which one answered. ``provider_keys``: this call's keys per provider, over
        the configuration's (each target sends only its own provider's key: :class:`cfaig.GatewayConfig`).
        """
        prepared = self._prepare_chat(request, options, fallbacks, False, endpoint, provider_keys)
        response, step = self._run(prepared)
        return self._parse(parse_chat, self._read(response), response, prepared, step)

    def stream_chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        endpoint: Endpoint = "unified",
        stream_timeout: float | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> ChatStream:
        """Open a streamed chat completion. Errors until the response headers are retried like ``chat``;
        once a 2xx stream is open nothing is retried silently. Iterate it, or use it as a context manager.

        ``stream_timeout``: seconds the whole stream may take from this call (default: the config's, else no
        total); ``timeout`` bounds every wait between bytes."""
        budget = self._stream_budget(stream_timeout)
        prepared = self._prepare_chat(request, options, fallbacks, True, endpoint, provider_keys)
        response, step = self._run(prepared, stream=budget)
        return ChatStream(response, self._decoder(response, prepared, step), budget)

    def embed(
        self,
        request: EmbeddingRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> EmbeddingResponse:
        """Embed one text or a list of texts through the provider's OpenAI-compatible embeddings endpoint."""
        prepared = self._builder.embeddings(
            request, options=GatewayOptions.coerce(options), provider_keys=provider_keys
        )
        response, step = self._run(prepared)
        return self._parse(self._embeddings_parser(request), self._read(response), response, prepared, step)

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
        provider_keys: Mapping[str, Any] | None = None,
    ) -> list[list[float]]:
        """Embed any number of texts: batches of at most ``batch_size`` (clamped to the provider's limit),
        up to ``max_concurrency`` in flight on worker threads, vectors in input order. ``[]`` sends nothing.
        OpenAI models are asked for base64 vectors unless ``encoding_format`` says otherwise."""
        batches = self._embedding_batches(model, texts, batch_size, dimensions, encoding_format, extra_body)
        coerced = GatewayOptions.coerce(options)
        if len(batches) <= 1 or max_concurrency <= 1:
            results = [self.embed(batch, options=coerced, provider_keys=provider_keys).vectors for batch in batches]
        else:
            with ThreadPoolExecutor(max_workers=min(max_concurrency, len(batches))) as pool:
                results = list(
                    pool.map(
                        lambda batch: self.embed(batch, options=coerced, provider_keys=provider_keys).vectors, batches
                    )
                )
        return [vector for result in results for vector in result]

    def responses(
        self,
        request: ResponsesRequest | Mapping[str, Any],
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> ResponsesResult:
        """Call the OpenAI Responses API: ``{gateway}/openai/responses`` for ``openai/...`` models on the gateway
        host, ``/ai/v1/responses`` on the REST surface. Retries, ``fallbacks`` and ``.gateway`` as for
        :meth:`chat`; a ``failed`` response raises its typed error."""
        from cfaig._responses_stream import read_result

        prepared = self._builder.responses(
            request, options=GatewayOptions.coerce(options), fallbacks=fallbacks, provider_keys=provider_keys
        )
        response, step = self._run(prepared)
        return read_result(self, self._read(response), response, prepared, step)

    def stream_responses(
        self,
        request: ResponsesRequest | Mapping[str, Any],
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        stream_timeout: float | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> ResponsesStream:
        """Open a streamed Responses API call: typed events, ``.accumulator`` and ``get_final_response()``.
        Errors until the response headers are retried like :meth:`responses`; a stream cut before
        ``response.completed`` raises :class:`~cfaig.errors.IncompleteStreamError`."""
        from cfaig._responses_stream import ResponsesStream, open_decoder

        budget = self._stream_budget(stream_timeout)
        prepared = self._builder.responses(
            request,
            options=GatewayOptions.coerce(options),
            fallbacks=fallbacks,
            stream=True,
            provider_keys=provider_keys,
        )
        response, step = self._run(prepared, stream=budget)
        return ResponsesStream(response, open_decoder(self, response, prepared, step), budget)

    def feedback(
        self,
        log_id: str,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        """Rate a logged request (``PATCH .../logs/{log_id}``) for evaluations: feedback 1/-1, a score, metadata."""
        prepared = self._builder.feedback(log_id, {"feedback": feedback, "score": score, "metadata": metadata})
        response, _ = self._run(prepared)
        response.close()

    def probe(self, model: str) -> GatewayMeta | GatewayError:
        """Ask the gateway about ``model``'s route for free: an empty chat body, which every gateway refuses
        without calling a model (nothing is billed). ``cfaig doctor`` is built on it.

        Returns the refusal as a typed error (its ``code`` says whether the gateway exists and takes these
        credentials), or the answer's metadata if it accepted. No retries; a network failure raises
        :class:`~cfaig.errors.GatewayConnectionError` or :class:`~cfaig.errors.GatewayTimeoutError`.
        """
        prepared = self._builder.probe(model)
        outcome = self._send(prepared, Attempt(prepared.targets[0], 0), None)
        if not isinstance(outcome, GatewayError):
            outcome.close()
        return self._probe_answer(outcome, prepared)

    def close(self) -> None:
        """Close the connection pool (only if this client created it)."""
        self._pool.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- async ---------------------------------------------------------------------------------------


class AsyncGatewayClient(BaseClient):
    """The asynchronous twin of :class:`GatewayClient`: same methods, awaited.

    It sends on one pooled aiohttp session per event loop (httpx's async pool does not scale: see
    ``cfaig._transports._aiohttp``), or on the ``httpx.AsyncClient`` / transport you pass. Pools are per event loop,
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
        self._user_pool = AsyncHttpxPool(http_client, owned=False) if http_client is not None else None
        self._transport = transport
        self._native = http_client is None and transport is None and _aiohttp.available()
        self._pools: LoopPools[_AsyncPool] = LoopPools(self._open_pool)

    @property
    def backend(self) -> Literal["aiohttp", "httpx"]:
        """What requests are sent on: ``aiohttp`` by default, ``httpx`` with a client or transport of yours."""
        return "aiohttp" if self._native else "httpx"

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` requests go through on the httpx backend (yours, or one per loop)."""
        if self._user_pool is not None:
            return self._user_pool.client
        if self._native:
            raise ConfigurationError("this client sends on aiohttp; pass http_client= or transport= to use httpx")
        pool = self._pools.current()
        assert isinstance(pool, AsyncHttpxPool)  # not native: every pool is an httpx one
        return pool.client

    def _open_pool(self) -> _AsyncPool:
        if self._native:
            return AiohttpPool(self.config, default_ssl_context())
        return AsyncHttpxPool.for_loop(self.config, self._transport)

    async def _run(self, prepared: PreparedRequest, *, stream: Budget | None = None) -> tuple[httpx.Response, int]:
        """Async :meth:`GatewayClient._run`."""
        pool = self._user_pool or await self._pools.acquire()
        flow = attempts(prepared, self.retry_policy)
        attempt = next(flow)
        while True:
            if attempt.wait is not None:
                await asyncio.sleep(attempt.wait)
            outcome = await self._send(pool, prepared, attempt, stream)
            if not isinstance(outcome, GatewayError):
                return outcome, attempt.step
            attempt = flow.send(outcome)  # the next attempt, or the error raised when none is left

    async def _send(
        self, pool: _AsyncPool, prepared: PreparedRequest, attempt: Attempt, stream: Budget | None
    ) -> httpx.Response | GatewayError:
        target = attempt.target
        budget = stream or self._attempt_budget()
        try:
            with map_transport_errors(provider=target.provider, step=attempt.step, secrets=self.secrets_for(prepared)):
                sending: Awaitable[httpx.Response | AiohttpResponse] = pool.send(
                    prepared.method, target.url, target.headers, target.body, stream=stream is not None, budget=budget
                )
                opening = budget if stream is None else budget.until_headers(self.config.timeout)
                response = await within(opening, sending)  # a whole request; a stream until its headers
                if response.status_code < 300:  # a 3xx is never a success: redirects are not followed
                    return cast(httpx.Response, response)  # or aiohttp's, shaped like it
                body = (
                    await within(budget, aread_body(response, budget, truncate=True))
                    if stream is not None
                    else await response.aread()
                )
                await response.aclose()
                raise self._error(cast(httpx.Response, response), body, target, prepared, attempt.step)
        except GatewayError as error:  # typed and scrubbed by the boundary: the retry plan decides
            return error

    async def _read(self, response: httpx.Response) -> bytes:
        with map_transport_errors(secrets=self._secrets):
            return await response.aread()

    async def chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        endpoint: Endpoint = "unified",
        provider_keys: Mapping[str, Any] | None = None,
    ) -> ChatCompletion:
        """Async :meth:`GatewayClient.chat`."""
        prepared = self._prepare_chat(request, options, fallbacks, False, endpoint, provider_keys)
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
        stream_timeout: float | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> AsyncChatStream:
        """Async :meth:`GatewayClient.stream_chat`: ``async for chunk in await client.stream_chat(...)``."""
        budget = self._stream_budget(stream_timeout)
        prepared = self._prepare_chat(request, options, fallbacks, True, endpoint, provider_keys)
        response, step = await self._run(prepared, stream=budget)
        return AsyncChatStream(response, self._decoder(response, prepared, step), budget)

    async def embed(
        self,
        request: EmbeddingRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> EmbeddingResponse:
        """Async :meth:`GatewayClient.embed`."""
        prepared = self._builder.embeddings(
            request, options=GatewayOptions.coerce(options), provider_keys=provider_keys
        )
        response, step = await self._run(prepared)
        body = await self._read(response)
        return self._parse(self._embeddings_parser(request), body, response, prepared, step)

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
        provider_keys: Mapping[str, Any] | None = None,
    ) -> list[list[float]]:
        """Async :meth:`GatewayClient.embed_many`: batches run concurrently, at most ``max_concurrency``."""
        batches = self._embedding_batches(model, texts, batch_size, dimensions, encoding_format, extra_body)
        coerced = GatewayOptions.coerce(options)
        semaphore = asyncio.Semaphore(max(max_concurrency, 1))

        async def one(batch: EmbeddingRequest) -> list[list[float]]:
            async with semaphore:
                return (await self.embed(batch, options=coerced, provider_keys=provider_keys)).vectors

        results = await asyncio.gather(*(one(batch) for batch in batches))
        return [vector for result in results for vector in result]

    async def responses(
        self,
        request: ResponsesRequest | Mapping[str, Any],
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> ResponsesResult:
        """Async :meth:`GatewayClient.responses`."""
        from cfaig._responses_stream import read_result

        prepared = self._builder.responses(
            request, options=GatewayOptions.coerce(options), fallbacks=fallbacks, provider_keys=provider_keys
        )
        response, step = await self._run(prepared)
        raw = await self._read(response)
        return read_result(self, raw, response, prepared, step)

    async def stream_responses(
        self,
        request: ResponsesRequest | Mapping[str, Any],
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        stream_timeout: float | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> AsyncResponsesStream:
        """Async :meth:`GatewayClient.stream_responses`: ``async for event in await client.stream_responses(...)``."""
        from cfaig._responses_stream import AsyncResponsesStream, open_decoder

        budget = self._stream_budget(stream_timeout)
        prepared = self._builder.responses(
            request,
            options=GatewayOptions.coerce(options),
            fallbacks=fallbacks,
            stream=True,
            provider_keys=provider_keys,
        )
        response, step = await self._run(prepared, stream=budget)
        return AsyncResponsesStream(response, open_decoder(self, response, prepared, step), budget)

    async def feedback(
        self,
        log_id: str,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        """Async :meth:`GatewayClient.feedback`."""
        prepared = self._builder.feedback(log_id, {"feedback": feedback, "score": score, "metadata": metadata})
        response, _ = await self._run(prepared)
        await response.aclose()

    async def probe(self, model: str) -> GatewayMeta | GatewayError:
        """Async :meth:`GatewayClient.probe`."""
        prepared = self._builder.probe(model)
        pool = self._user_pool or await self._pools.acquire()
        outcome = await self._send(pool, prepared, Attempt(prepared.targets[0], 0), None)
        if not isinstance(outcome, GatewayError):
            await outcome.aclose()
        return self._probe_answer(outcome, prepared)

    async def aclose(self) -> None:
        """Close the pool of the running loop (and forget pools of loops that are gone)."""
        await self._pools.aclose()

    async def __aenter__(self) -> AsyncGatewayClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
