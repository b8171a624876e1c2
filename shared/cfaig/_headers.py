"""The only code that writes request headers: both auth headers, every ``cf-aig-*`` option, User-Agent,
the caller's ``default_headers`` and the OpenTelemetry trace headers.

It is also the only place a secret is unwrapped (redaction is ``_redact``'s job): credential values stay
``SecretStr`` in every request object (``Target``, ``PreparedRequest``) and frame local, and
:func:`wire_headers` unwraps them inside the I/O call that builds the HTTP request, so an error tracker
that captures locals or a repr shows no ``Bearer`` token.
"""

from __future__ import annotations

import functools
import importlib
import json
import platform
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from pydantic import SecretStr

from cfaig._constants import (
    H_AUTHORIZATION,
    H_BACKOFF,
    H_BYOK_ALIAS,
    H_CACHE_KEY,
    H_CACHE_TTL,
    H_CF_AIG_AUTHORIZATION,
    H_COLLECT_LOG,
    H_COLLECT_LOG_PAYLOAD,
    H_CUSTOM_COST,
    H_EVENT_ID,
    H_GATEWAY_ID,
    H_MAX_ATTEMPTS,
    H_METADATA,
    H_NO_WHOLESALE,
    H_OTEL_PARENT_SPAN_ID,
    H_OTEL_TRACE_ID,
    H_REQUEST_TIMEOUT,
    H_RETRY_DELAY,
    H_SESSION_AFFINITY,
    H_SKIP_CACHE,
    H_ZDR,
)
from cfaig._redact import SENSITIVE_HEADERS
from cfaig._version import __version__
from cfaig.config import GatewayConfig
from cfaig.options import GatewayOptions
from cfaig.provider_keys import WORKERS_AI, ProviderKeys

__all__ = [
    "USER_AGENT",
    "HeaderValue",
    "base_headers",
    "management_headers",
    "option_headers",
    "provider_authorization",
    "provider_key",
    "request_headers",
    "step_headers",
    "trace_headers",
    "wire_headers",
]

USER_AGENT = f"cfaig/{__version__} python/{platform.python_version()}"


HeaderValue = str | SecretStr
"""A request header's value: plain text, or a credential kept wrapped until :func:`wire_headers`."""


def _bearer(secret: SecretStr) -> SecretStr:
    return SecretStr(f"Bearer {secret.get_secret_value()}")


class _WireSecret(str):
    """A credential header value as the HTTP library gets it: a ``str``, whose repr is masked (the library's
    own frames, which error trackers capture, hold it in their header dicts)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


def wire_headers(headers: Mapping[str, HeaderValue]) -> dict[str, str]:
    """The headers as sent, credentials unwrapped: call it inline in the I/O call, never into a local."""
    return {
        name: _WireSecret(value.get_secret_value()) if isinstance(value, SecretStr) else value
        for name, value in headers.items()
    }


def _flag(value: bool) -> str:
    return "true" if value else "false"


def base_headers(config: GatewayConfig) -> dict[str, HeaderValue]:
    """Headers every request of a client carries: content type, user agent and the Cloudflare credential.

    Gateway host: ``cf-aig-authorization`` with the gateway token; the provider's ``Authorization`` is per
    target (:func:`provider_authorization`). REST surface: one ``Authorization`` with the Cloudflare token
    and ``cf-aig-gateway-id``.
    """
    headers: dict[str, HeaderValue] = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    if config.surface == "rest":
        if config.cf_aig_token is not None:
            headers[H_AUTHORIZATION] = _bearer(config.cf_aig_token)
        headers[H_GATEWAY_ID] = config.gateway_id
        return headers
    if config.cf_aig_token is not None:
        headers[H_CF_AIG_AUTHORIZATION] = _bearer(config.cf_aig_token)
    return headers


def provider_key(
    config: GatewayConfig,
    provider: str,
    *,
    primary: str,
    keys: ProviderKeys | None = None,
    workers_ai_route: bool = False,
) -> SecretStr | None:
    """The provider key one target (a request, a Universal step, a client-side attempt) on the gateway host
    sends, or ``None`` for none: the rule for every target, in this order.

    1. ``provider``'s own key in ``keys`` (a call's ``provider_keys`` over the configuration's);
    2. ``api_key``, only when ``provider`` is the ``primary`` model's provider;
    3. on a Workers AI route (``/workers-ai/...``, or a step whose provider is ``workers-ai``): the
       Cloudflare token, which those routes authenticate with
       (https://developers.cloudflare.com/ai-gateway/usage/providers/workersai/);
    4. nothing: the gateway uses a stored key (BYOK) or Unified Billing.

    Never another provider's key: Cloudflare forwards a key on the request unchanged and then consults
    neither stored keys nor Unified Billing
    (https://developers.cloudflare.com/ai-gateway/features/unified-billing/, "Credential precedence").
    """
    chosen = (keys if keys is not None else config.provider_keys).get(provider)
    if chosen is None and provider == primary:
        chosen = config.api_key
    if chosen is None and workers_ai_route and provider == WORKERS_AI:
        chosen = config.cf_aig_token
    return chosen


def provider_authorization(key: SecretStr | None) -> dict[str, HeaderValue]:
    """``{"Authorization": "Bearer <key>"}`` for one target's key (:func:`provider_key`), or ``{}``; the value
    stays wrapped until :func:`wire_headers`."""
    return {H_AUTHORIZATION: _bearer(key)} if key is not None else {}


def step_headers(authorization: Mapping[str, HeaderValue]) -> dict[str, str]:
    """Headers inside one Universal-endpoint step: the step's own provider key travels with the step (in the
    JSON body, so it is unwrapped here; ``Target.__repr__`` never shows a body)."""
    headers = {"Content-Type": "application/json"}
    for name, value in authorization.items():
        headers[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return headers


def management_headers(config: GatewayConfig) -> dict[str, HeaderValue]:
    """Headers for Cloudflare's management API (log feedback): the Cloudflare token as ``Authorization``."""
    headers: dict[str, HeaderValue] = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    if config.cf_aig_token is not None:
        headers[H_AUTHORIZATION] = _bearer(config.cf_aig_token)
    return headers


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


_OPTION_HEADERS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("cache_ttl", H_CACHE_TTL, str),
    ("skip_cache", H_SKIP_CACHE, _flag),
    ("cache_key", H_CACHE_KEY, str),
    ("metadata", H_METADATA, _json),
    ("collect_log", H_COLLECT_LOG, _flag),
    ("collect_log_payload", H_COLLECT_LOG_PAYLOAD, _flag),
    ("event_id", H_EVENT_ID, str),
    ("request_timeout_ms", H_REQUEST_TIMEOUT, str),
    ("max_attempts", H_MAX_ATTEMPTS, str),
    ("retry_delay_ms", H_RETRY_DELAY, str),
    ("backoff", H_BACKOFF, str),
    ("custom_cost", H_CUSTOM_COST, lambda cost: _json(cost.model_dump(exclude_none=True))),
    ("byok_alias", H_BYOK_ALIAS, str),
    ("zdr", H_ZDR, _flag),
    ("no_wholesale", H_NO_WHOLESALE, _flag),
    ("session_affinity", H_SESSION_AFFINITY, str),
    ("otel_trace_id", H_OTEL_TRACE_ID, str),
    ("otel_parent_span_id", H_OTEL_PARENT_SPAN_ID, str),
)
"""Each ``GatewayOptions`` field, its ``cf-aig-*`` header and how its value is written, in header order."""


def option_headers(options: GatewayOptions | None) -> dict[str, str]:
    """One ``cf-aig-*`` header per option that is set; booleans as ``true``/``false``, objects as JSON."""
    if options is None:
        return {}
    headers: dict[str, str] = {}
    for field, header, encode in _OPTION_HEADERS:
        value = getattr(options, field)
        if value is not None:
            headers[header] = encode(value)
    return headers


# --- OpenTelemetry trace propagation (https://developers.cloudflare.com/ai-gateway/observability/otel-integration/)


@functools.cache
def _otel_trace() -> ModuleType | None:
    """``opentelemetry.trace`` when ``opentelemetry-api`` is installed (the ``otel`` extra), else ``None``.

    Imported on the first request, never with ``cfaig``: tracing is optional and costs nothing without it.
    """
    try:
        return importlib.import_module("opentelemetry.trace")
    except ImportError:
        return None


def trace_headers(options: GatewayOptions) -> dict[str, str]:
    """The gateway's trace headers from the current OpenTelemetry span, when there is a valid one.

    Nothing when the caller set either id (the caller's values are sent by :func:`option_headers`), turned
    ``trace_propagation`` off, or ``opentelemetry-api`` is not installed.
    """
    if options.trace_propagation is False or options.otel_trace_id or options.otel_parent_span_id:
        return {}
    trace = _otel_trace()
    if trace is None:
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {H_OTEL_TRACE_ID: f"{context.trace_id:032x}", H_OTEL_PARENT_SPAN_ID: f"{context.span_id:016x}"}


def request_headers(
    base: Mapping[str, HeaderValue], options_headers: Mapping[str, str], options: GatewayOptions, *, stream: bool
) -> dict[str, HeaderValue]:
    """All headers of one request: the caller's ``default_headers`` first, then what the library owns (content
    type, user agent, credentials, typed options, trace), which wins over an extra header of the same name."""
    owned: dict[str, HeaderValue] = {**base, **options_headers, **trace_headers(options)}
    if stream:
        owned["Accept"] = "text/event-stream"
    extra = options.default_headers
    if not extra:
        return owned
    taken = {name.lower() for name in owned}
    given: dict[str, HeaderValue] = {
        # a Cloudflare Access credential stays wrapped, like the library's own, until the I/O call
        name: SecretStr(value) if name.lower() in SENSITIVE_HEADERS else value
        for name, value in extra.items()
        if name.lower() not in taken
    }
    return {**given, **owned}
