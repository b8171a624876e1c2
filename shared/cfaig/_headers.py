"""The only code that writes request headers: both auth headers, every ``cf-aig-*`` option, User-Agent.

It is also the only place a secret is unwrapped (redaction is ``_redact``'s job): credential values stay
``SecretStr`` in every request object (``Target``, ``PreparedRequest``) and frame local, and
:func:`wire_headers` unwraps them inside the I/O call that builds the HTTP request, so an error tracker
that captures locals or a repr shows no ``Bearer`` token.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Mapping
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
    H_REQUEST_TIMEOUT,
    H_RETRY_DELAY,
    H_SKIP_CACHE,
    H_ZDR,
)
from cfaig._version import __version__
from cfaig.config import GatewayConfig
from cfaig.options import GatewayOptions

__all__ = [
    "USER_AGENT",
    "HeaderValue",
    "base_headers",
    "management_headers",
    "option_headers",
    "step_headers",
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
    """Headers every request of a client carries: content type, user agent and authentication.

    Gateway host: ``cf-aig-authorization`` with the gateway token, ``Authorization`` with the provider
    key only when one is set (stored keys and Unified Billing send none). REST surface: one
    ``Authorization`` with the Cloudflare token and ``cf-aig-gateway-id``.
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
    if config.api_key is not None:
        headers[H_AUTHORIZATION] = _bearer(config.api_key)
    return headers


def step_headers(config: GatewayConfig) -> dict[str, str]:
    """Headers inside one Universal-endpoint step: the provider key travels with the step (in the JSON
    body, so it is unwrapped here; ``Target.__repr__`` never shows a body)."""
    headers = {"Content-Type": "application/json"}
    if config.api_key is not None:
        headers[H_AUTHORIZATION] = f"Bearer {config.api_key.get_secret_value()}"
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
