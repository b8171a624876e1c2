"""The only code that writes request headers: both auth headers, every ``cf-aig-*`` option, User-Agent.

It is also the only place a secret is unwrapped (redaction is ``_redact``'s job).
"""

from __future__ import annotations

import json
import platform

from cfaig import _constants as c
from cfaig._version import __version__
from cfaig.config import GatewayConfig
from cfaig.options import GatewayOptions

__all__ = [
    "USER_AGENT",
    "base_headers",
    "management_headers",
    "option_headers",
    "step_headers",
]

USER_AGENT = f"cfaig/{__version__} python/{platform.python_version()}"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def base_headers(config: GatewayConfig) -> dict[str, str]:
    """Headers every request of a client carries: content type, user agent and authentication.

    Gateway host: ``cf-aig-authorization`` with the gateway token, ``Authorization`` with the provider
    key only when one is set (stored keys and Unified Billing send none). REST surface: one
    ``Authorization`` with the Cloudflare token and ``cf-aig-gateway-id``.
    """
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
    if config.surface == "rest":
        if config.cf_aig_token is not None:
            headers[c.H_AUTHORIZATION] = f"Bearer {config.cf_aig_token.get_secret_value()}"
        headers[c.H_GATEWAY_ID] = config.gateway_id
        return headers
    if config.cf_aig_token is not None:
        headers[c.H_CF_AIG_AUTHORIZATION] = f"Bearer {config.cf_aig_token.get_secret_value()}"
    if config.api_key is not None:
        headers[c.H_AUTHORIZATION] = f"Bearer {config.api_key.get_secret_value()}"
    return headers


def step_headers(config: GatewayConfig) -> dict[str, str]:
    """Headers inside one Universal-endpoint step: the provider key travels with the step."""
    headers = {"Content-Type": "application/json"}
    if config.api_key is not None:
        headers[c.H_AUTHORIZATION] = f"Bearer {config.api_key.get_secret_value()}"
    return headers


def management_headers(config: GatewayConfig) -> dict[str, str]:
    """Headers for Cloudflare's management API (log feedback): the Cloudflare token as ``Authorization``."""
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
    if config.cf_aig_token is not None:
        headers[c.H_AUTHORIZATION] = f"Bearer {config.cf_aig_token.get_secret_value()}"
    return headers


def option_headers(options: GatewayOptions | None) -> dict[str, str]:
    """One ``cf-aig-*`` header per option that is set; booleans as ``true``/``false``."""
    if options is None:
        return {}
    headers: dict[str, str] = {}
    if options.cache_ttl is not None:
        headers[c.H_CACHE_TTL] = str(options.cache_ttl)
    if options.skip_cache is not None:
        headers[c.H_SKIP_CACHE] = _flag(options.skip_cache)
    if options.cache_key is not None:
        headers[c.H_CACHE_KEY] = options.cache_key
    if options.metadata is not None:
        headers[c.H_METADATA] = json.dumps(options.metadata, ensure_ascii=True, separators=(",", ":"))
    if options.collect_log is not None:
        headers[c.H_COLLECT_LOG] = _flag(options.collect_log)
    if options.collect_log_payload is not None:
        headers[c.H_COLLECT_LOG_PAYLOAD] = _flag(options.collect_log_payload)
    if options.event_id is not None:
        headers[c.H_EVENT_ID] = options.event_id
    if options.request_timeout_ms is not None:
        headers[c.H_REQUEST_TIMEOUT] = str(options.request_timeout_ms)
    if options.max_attempts is not None:
        headers[c.H_MAX_ATTEMPTS] = str(options.max_attempts)
    if options.retry_delay_ms is not None:
        headers[c.H_RETRY_DELAY] = str(options.retry_delay_ms)
    if options.backoff is not None:
        headers[c.H_BACKOFF] = options.backoff
    if options.custom_cost is not None:
        headers[c.H_CUSTOM_COST] = json.dumps(
            options.custom_cost.model_dump(exclude_none=True), ensure_ascii=True, separators=(",", ":")
        )
    if options.byok_alias is not None:
        headers[c.H_BYOK_ALIAS] = options.byok_alias
    if options.zdr is not None:
        headers[c.H_ZDR] = _flag(options.zdr)
    if options.no_wholesale is not None:
        headers[c.H_NO_WHOLESALE] = _flag(options.no_wholesale)
    return headers
