"""GatewayEmulator: the emulator's state and the request pipeline (routing, auth, gateways, rate limits, faults).

The pipeline is one generator (:meth:`GatewayEmulator.process`, see ``_pipeline.py``) that yields
pauses and upstream forwards; :meth:`~GatewayEmulator.handler`, :meth:`~GatewayEmulator.async_handler`
and the loopback server drive it.  The rooms it calls: ``_routes`` (which path serves what),
``_handlers`` (the model routes), ``_cache``, ``_universal``, ``_faults`` and ``_logs``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import httpx
from pydantic_core import to_json

from ._cache import ResponseCache
from ._credentials import inspect_credentials, key_owners
from ._faults import ConsumeQueue, apply_fault, fault_prelude, path_matches
from ._handlers import answer_model, reply_from_forwarded, resolve_model
from ._logs import feedback, stamp_and_log
from ._pipeline import (
    Attempt,
    Context,
    Flow,
    GatewayRefusalError,
    Incoming,
    Reply,
    Surface,
    envelope_reply,
    forward,
    is_streaming,
    parse_json,
    run_async,
    run_sync,
)
from ._responses_store import ResponseStore
from ._routes import MODEL_KINDS, UNKNOWN_ROUTE, Route, gateway_route, rest_route
from ._transport import EmulatorTransport, httpx_response, incoming_from_httpx
from ._types import (
    CODE_AUTHENTICATION,
    CODE_COULD_NOT_ROUTE,
    CODE_GATEWAY_NOT_FOUND,
    CODE_RATE_LIMITED,
    CODE_ROUTE_NOT_FOUND,
    CODE_UNAUTHORIZED,
    DEFAULT_TOKEN,
    EMULATOR_ACCOUNT_ID,
    Fault,
    GatewaySettings,
    RecordedRequest,
    ScriptedReply,
)
from ._universal import universal
from ._upstream import Forward, forward_async
from .fake.types import ModelError
from .wire.errors import provider_error_body

_NO_GATEWAY: Final = "Please configure AI Gateway in the Cloudflare dashboard"
_MAX_GATEWAY_ID: Final = 64


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
        custom_domains: hostname -> gateway id. A request to such a host is served as that gateway's
            custom domain: the path is the route itself (``/compat/chat/completions``, ``/openai/...``,
            ``/workers-ai/v1/embeddings``; the Universal Endpoint at ``/``), with no account or gateway in it
            (https://developers.cloudflare.com/ai-gateway/configuration/custom-domains/).
        gateway_only_tokens: tokens with AI Gateway permissions only. They authenticate a gateway
            (``cf-aig-authorization``), but the REST API's ``/ai/...`` routes refuse them with 401 / code
            10000, as Cloudflare does for a token without Workers AI permission
            (https://github.com/cloudflare/cloudflare-docs/pull/32574).
        provider_keys: provider -> the key (or keys) that are that provider's. A known key sent to another
            provider is refused by that provider with a 401 in its own format, as the real gateway forwards
            a request's key unchanged (see ``_credentials``). Workers AI provider routes always need a
            Cloudflare token (one of ``tokens``) or a ``workers-ai`` key as ``Authorization``: else
            401 / 10000. Each attempt's credential is recorded in :attr:`RecordedRequest.credentials`.
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
        custom_domains: Mapping[str, str] | None = None,
        gateway_only_tokens: Iterable[str] = (),
        provider_keys: Mapping[str, str | Iterable[str]] | None = None,
    ) -> None:
        self.account_id = account_id
        self.custom_domains: dict[str, str] = {host.lower(): gw for host, gw in (custom_domains or {}).items()}
        self.gateway_only_tokens: set[str] = set(gateway_only_tokens)
        self.key_owners: dict[str, str] = key_owners(provider_keys)
        """Each known provider key -> the provider it belongs to."""
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
        self._faults: ConsumeQueue[Fault] = ConsumeQueue()
        self._scripts: ConsumeQueue[ScriptedReply] = ConsumeQueue()
        self._cache = ResponseCache(lambda: self.clock())
        self._stored = ResponseStore()
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
        """Forget recorded requests, logs, cache entries, stored responses, rate windows, faults and scripts."""
        with self._lock:
            self.requests.clear()
            self.logs.clear()
            self._windows.clear()
        self._cache.clear()
        self._stored.clear()
        self._faults.clear()
        self._scripts.clear()

    def set_provider_keys(self, provider_keys: Mapping[str, str | Iterable[str]]) -> None:
        """Replace the known provider keys (as the ``provider_keys`` argument; ``{}`` forgets them all)."""
        self.key_owners = key_owners(provider_keys)

    def inject(self, fault: Fault) -> None:
        """Queue a :class:`Fault`; faults are consumed in order by matching requests."""
        self._faults.add(fault)

    def script(self, reply: ScriptedReply) -> None:
        """Queue a :class:`ScriptedReply` for upcoming chat requests."""
        self._scripts.add(reply)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request synchronously (delays block with :func:`time.sleep`).

        Raises :class:`httpx.ReadError` for ``Fault(reset=True)``.
        """
        incoming = incoming_from_httpx(request, request.read())
        return httpx_response(run_sync(self.process(incoming)), request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request asynchronously (delays use :func:`asyncio.sleep`).

        Raises :class:`httpx.ReadError` for ``Fault(reset=True)``.
        """
        incoming = incoming_from_httpx(request, await request.aread())
        reply = await run_async(self.process(incoming), forward_async)
        return httpx_response(reply, request)

    def process(self, incoming: Incoming) -> Flow[Reply]:
        """Process one request: yields pauses and forwards for the driver, returns the reply.

        The seam for drivers (the in-process transport and the loopback server); tests use
        :meth:`transport` or :func:`cfaig.testing.serve` instead.
        """
        domain = self._custom_domain(incoming.headers.get("host", ""))
        rest = domain is None and incoming.path.startswith("/client/v4/")
        surface: Surface = "rest" if rest else "gateway"
        record = RecordedRequest(
            method=incoming.method,
            path=incoming.path,
            url=incoming.url,
            headers=incoming.headers,
            body=incoming.body,
            json=parse_json(incoming.body),
            gateway_id=None,
            surface=surface,
            route="unknown",
        )
        with self._lock:
            self.requests.append(record)
            self._trim()
        try:
            if domain is not None:
                reply = yield from self._gateway_route(incoming, record, self.account_id, domain, incoming.path)
            elif surface == "rest":
                reply = yield from self._rest_request(incoming, record)
            elif incoming.path.startswith("/v1/"):
                reply = yield from self._gateway_request(incoming, record)
            else:
                raise GatewayRefusalError(404, CODE_ROUTE_NOT_FOUND, f"No route for {incoming.path}")
        except GatewayRefusalError as err:
            reply = envelope_reply(surface, err.status, err.code, err.message)
        record.response_status = 0 if reply.reset else reply.status
        return reply

    # ----------------------------------------------------------------- state

    def _trim(self) -> None:
        limit = self.max_history
        if limit is None:
            return
        if len(self.requests) > limit + max(limit // 10, 1):
            del self.requests[: len(self.requests) - limit]
        while len(self.logs) > limit:
            del self.logs[next(iter(self.logs))]

    def _script_for(self, provider: str, model: str) -> ScriptedReply | None:
        qualified = f"{provider}/{model}"
        return self._scripts.take(lambda s: s.match is None or s.match in qualified)

    # ----------------------------------------------------------------- auth, gateways, rate limits

    def _custom_domain(self, host: str) -> str | None:
        """The gateway a custom domain serves (``Host`` with or without its port), or ``None``."""
        if not self.custom_domains or not host:
            return None
        host = host.lower()
        return self.custom_domains.get(host) or self.custom_domains.get(host.rsplit(":", 1)[0])

    def _token_ok(self, header: str | None, *, gateway: bool = True) -> bool:
        if not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        valid = self.tokens | self.gateway_only_tokens if gateway else self.tokens
        return scheme.lower() == "bearer" and token.strip() in valid

    def _resolve_gateway(self, gateway_id: str, *, authenticated: bool) -> GatewaySettings:
        if len(gateway_id) > _MAX_GATEWAY_ID:
            raise GatewayRefusalError(400, CODE_GATEWAY_NOT_FOUND, _NO_GATEWAY)
        settings = self.gateways.get(gateway_id)
        if settings is not None:
            return settings
        if gateway_id != "default":
            raise GatewayRefusalError(400, CODE_GATEWAY_NOT_FOUND, _NO_GATEWAY)
        if not authenticated:
            raise GatewayRefusalError(401, CODE_UNAUTHORIZED, "Unauthorized")
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

    # ----------------------------------------------------------------- the two surfaces

    def _gateway_request(self, incoming: Incoming, record: RecordedRequest) -> Flow[Reply]:
        parts = incoming.path[len("/v1/") :].split("/", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise GatewayRefusalError(404, CODE_ROUTE_NOT_FOUND, f"No route for {incoming.path}")
        sub = parts[2] if len(parts) == 3 else ""
        return (yield from self._gateway_route(incoming, record, parts[0], parts[1], sub))

    def _gateway_route(
        self, incoming: Incoming, record: RecordedRequest, account: str, gateway_id: str, sub: str
    ) -> Flow[Reply]:
        """Serve ``sub``, the path below the gateway's root (``/v1/{account}/{gateway}`` or a custom domain)."""
        sub = sub.strip("/")
        route = gateway_route(sub) or UNKNOWN_ROUTE
        record.route = route.label
        if account != self.account_id:
            raise GatewayRefusalError(400, CODE_GATEWAY_NOT_FOUND, _NO_GATEWAY)
        headers = incoming.headers
        token_ok = self._token_ok(headers.get("cf-aig-authorization"))
        if not token_ok and route.naming == "compat":
            # Cloudflare's own examples put the gateway token in the OpenAI SDK's api key.
            token_ok = self._token_ok(headers.get("authorization"))
        settings = self._resolve_gateway(gateway_id, authenticated=token_ok)
        if settings.authentication and not token_ok:
            raise GatewayRefusalError(401, CODE_UNAUTHORIZED, "Unauthorized")
        record.gateway_id = gateway_id
        if route.kind == "unknown":
            raise GatewayRefusalError(404, CODE_ROUTE_NOT_FOUND, f"No provider route for '{sub}'")
        if incoming.method not in route.methods:
            raise GatewayRefusalError(405, CODE_ROUTE_NOT_FOUND, f"Method {incoming.method} not allowed")
        ctx = Context(incoming, record, "gateway", gateway_id, settings, proxied=True, started=time.perf_counter())
        return (yield from self._proxied(ctx, route, sub))

    def _rest_request(self, incoming: Incoming, record: RecordedRequest) -> Flow[Reply]:
        rest = incoming.path[len("/client/v4/") :]
        account, _, tail = rest.removeprefix("accounts/").partition("/")
        route, params = rest_route(tail) if rest.startswith("accounts/") else (UNKNOWN_ROUTE, ())
        record.route = route.label
        if not self._token_ok(incoming.headers.get("authorization"), gateway=False):
            raise GatewayRefusalError(401, CODE_AUTHENTICATION, "Authentication error")
        could_not_route = f"Could not route to {incoming.path}, perhaps your object identifier is invalid?"
        if account != self.account_id or route.kind == "unknown":
            raise GatewayRefusalError(404, CODE_COULD_NOT_ROUTE, could_not_route)
        if incoming.method not in route.methods:
            raise GatewayRefusalError(405, CODE_COULD_NOT_ROUTE, f"Method {incoming.method} not allowed for this route")
        started = time.perf_counter()
        if route.kind == "feedback":
            record.gateway_id = params[0]
            ctx = Context(incoming, record, "rest", params[0], None, proxied=False, started=started, params=params)
            return (yield from self._proxied(ctx, route, tail))
        gateway_id = incoming.headers.get("cf-aig-gateway-id")
        model = route.native_model
        if model is None and isinstance(record.json, dict):
            raw_model = record.json.get("model")
            model = raw_model if isinstance(raw_model, str) else None
        if gateway_id is None and model is not None and model.startswith(("@cf/", "@hf/")):
            # Workers AI models without cf-aig-gateway-id run directly, outside any gateway.
            ctx = Context(incoming, record, "rest", None, None, proxied=False, started=started)
            return (yield from self._proxied(ctx, route, tail))
        gateway_id = gateway_id or "default"
        settings = self._resolve_gateway(gateway_id, authenticated=True)
        record.gateway_id = gateway_id
        ctx = Context(incoming, record, "rest", gateway_id, settings, proxied=True, started=started)
        return (yield from self._proxied(ctx, route, tail))

    # ----------------------------------------------------------------- proxied requests

    def _proxied(self, ctx: Context, route: Route, sub: str) -> Flow[Reply]:
        gateway_id, settings = ctx.gateway_id, ctx.settings
        if ctx.proxied and settings is not None and gateway_id is not None and self._rate_limited(gateway_id, settings):
            return self._finish(ctx, envelope_reply(ctx.surface, 429, CODE_RATE_LIMITED, "Rate limited"))
        if route.kind == "universal":
            reply = yield from universal(ctx, self._faults, self._attempt)
            return self._finish(ctx, reply)
        body = ctx.record.json
        streaming = is_streaming(body)
        path = ctx.inc.path
        fault = self._faults.take(
            lambda f: f.step is None and path_matches(f, path) and (streaming or not f.affects_stream)
        )
        attempt = Attempt(route, ctx.inc.headers, ctx.inc.body, body, cache_path=sub)
        reply = yield from self._attempt(ctx, attempt, fault)
        return self._finish(ctx, reply)

    def _finish(self, ctx: Context, reply: Reply) -> Reply:
        if not ctx.proxied or reply.reset:
            return reply
        entry = stamp_and_log(ctx, reply)
        if entry is not None:
            with self._lock:
                self.logs[entry["id"]] = entry
                self._trim()
        return reply

    def _attempt(self, ctx: Context, attempt: Attempt, fault: Fault | None) -> Flow[Reply]:
        """Serve one attempt, through its fault if one matched."""
        if fault is not None:
            early = yield from fault_prelude(ctx.surface, attempt.route, fault, attempt.effective_timeout)
            if early is not None:
                return early
        reply = yield from self._answer(ctx, attempt)
        if fault is not None:
            apply_fault(reply, fault)
        return reply

    def _answer(self, ctx: Context, attempt: Attempt) -> Flow[Reply]:
        """The route's own answer: from the cache, the fake models, the upstream, or log feedback."""
        route = attempt.route
        try:
            self._check_credentials(ctx, attempt)
        except ModelError as err:
            return _model_error_reply(err, route)
        cache_key, ttl = self._cache.plan(ctx, attempt)
        if cache_key is not None:
            hit = self._cache.get(cache_key)
            if hit is not None:
                return hit
        try:
            reply = yield from self._model_reply(ctx, attempt)
        except ModelError as err:
            reply = _model_error_reply(err, route)
        except GatewayRefusalError as err:
            reply = envelope_reply(ctx.surface, err.status, err.code, err.message)
        if ctx.proxied and route.kind in MODEL_KINDS:
            reply.cache_status = "MISS"
            if cache_key is not None and 200 <= reply.status < 300 and reply.events is None and reply.upstream is None:
                self._cache.put(cache_key, ttl, reply)
        return reply

    def _check_credentials(self, ctx: Context, attempt: Attempt) -> None:
        """Record the provider credential of a model attempt on the gateway host; raise the provider's
        refusal (:class:`ModelError`) for a key of another provider, or a Workers AI route without a token."""
        if ctx.surface != "gateway" or attempt.route.kind not in MODEL_KINDS or not isinstance(attempt.body, dict):
            return
        try:
            provider = resolve_model(attempt.route, attempt.body)[0]
        except (ModelError, GatewayRefusalError):
            return  # the model route answers that itself
        seen, refusal = inspect_credentials(
            attempt.route, provider, attempt.headers, owners=self.key_owners, cloudflare_tokens=self.tokens
        )
        ctx.record.credentials.append(seen)
        if refusal is not None:
            raise refusal

    def _model_reply(self, ctx: Context, attempt: Attempt) -> Flow[Reply]:
        if attempt.route.kind == "feedback":
            return feedback(ctx, attempt.body, self.logs, self._lock)
        outcome = answer_model(ctx, attempt, upstream=self.upstream, script_for=self._script_for, stored=self._stored)
        if not isinstance(outcome, Forward):
            return outcome
        outcome.timeout = attempt.effective_timeout
        forwarded = yield from forward(outcome)
        return reply_from_forwarded(ctx, outcome, forwarded)


def _model_error_reply(err: ModelError, route: Route) -> Reply:
    """A provider's refusal, in its error format."""
    payload = provider_error_body(err.style or route.style, err.status, err.message, param=err.param, code=err.code)
    return Reply(status=err.status, body=to_json(payload))
