"""Every number, URL, environment-variable name and header name the core uses, in one place (what is known
about each provider is ``cfaig.providers``)."""

from __future__ import annotations

from typing import Final

# --- where requests go -------------------------------------------------------------------------
DEFAULT_BASE_URL: Final = "https://gateway.ai.cloudflare.com/v1"
DEFAULT_API_BASE_URL: Final = "https://api.cloudflare.com/client/v4"
DEFAULT_GATEWAY_ID: Final = "default"
MAX_GATEWAY_ID_LENGTH: Final = 64

# --- environment variables (read only in config.py) --------------------------------------------
ENV_ACCOUNT_ID: Final = "CLOUDFLARE_ACCOUNT_ID"
ENV_GATEWAY_ID: Final = "CLOUDFLARE_GATEWAY_ID"
ENV_CF_AIG_TOKEN: Final = "CF_AIG_TOKEN"
ENV_API_TOKEN: Final = "CLOUDFLARE_API_TOKEN"
ENV_PROVIDER_API_KEY: Final = "CF_AIG_PROVIDER_API_KEY"
ENV_PROVIDER_KEYS: Final = "CF_AIG_PROVIDER_KEYS"
ENV_BASE_URL: Final = "CF_AIG_BASE_URL"
ENV_API_BASE_URL: Final = "CF_AIG_API_BASE_URL"
ENV_LOG: Final = "CFAIG_LOG"
# surfaces and custom domains (issue 11 parts 3 and 6)
ENV_SURFACE: Final = "CF_AIG_SURFACE"
ENV_GATEWAY_URL: Final = "CF_AIG_GATEWAY_URL"

# --- timeouts and retries ----------------------------------------------------------------------
DEFAULT_TIMEOUT: Final = 60.0
"""Seconds for a whole non-streaming request, connect to last byte (on streams: the longest wait between bytes)."""
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
"""Largest answer read, in bytes after decompression (a stream's total too): 64 MiB."""
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
MAX_TIMEOUT: Final = 86_400.0
"""Seconds: the largest ``timeout`` accepted (a day). The sync transport's clock overflows on ``inf`` or 1e12."""
DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
MAX_RETRY_AFTER: Final = 60.0
"""A server's Retry-After longer than this is not honoured; capped backoff is used instead."""
RETRY_BUDGET: Final = 120.0
"""Upper bound on the total time spent sleeping between retries of one call."""
RETRY_JITTER: Final = 0.25
MAX_CONNECTIONS: Final = 200
MAX_KEEPALIVE_CONNECTIONS: Final = 100
ERROR_EXCERPT_CHARS: Final = 300

# --- limits the gateway documents (spec section 4, 7.9) ----------------------------------------
MIN_CACHE_TTL: Final = 60
MAX_CACHE_TTL: Final = 2_592_000  # one month
MAX_METADATA_ENTRIES: Final = 5
MAX_GATEWAY_ATTEMPTS: Final = 5
MAX_RETRY_DELAY_MS: Final = 5_000
BACKOFF_VALUES: Final = ("constant", "linear", "exponential")

# --- request headers ---------------------------------------------------------------------------
H_AUTHORIZATION: Final = "Authorization"
H_CF_AIG_AUTHORIZATION: Final = "cf-aig-authorization"
H_GATEWAY_ID: Final = "cf-aig-gateway-id"
H_CACHE_TTL: Final = "cf-aig-cache-ttl"
H_SKIP_CACHE: Final = "cf-aig-skip-cache"
H_CACHE_KEY: Final = "cf-aig-cache-key"
H_METADATA: Final = "cf-aig-metadata"
H_COLLECT_LOG: Final = "cf-aig-collect-log"
H_COLLECT_LOG_PAYLOAD: Final = "cf-aig-collect-log-payload"
H_EVENT_ID: Final = "cf-aig-event-id"
H_REQUEST_TIMEOUT: Final = "cf-aig-request-timeout"
H_MAX_ATTEMPTS: Final = "cf-aig-max-attempts"
H_RETRY_DELAY: Final = "cf-aig-retry-delay"
H_BACKOFF: Final = "cf-aig-backoff"
H_CUSTOM_COST: Final = "cf-aig-custom-cost"
H_BYOK_ALIAS: Final = "cf-aig-byok-alias"
H_ZDR: Final = "cf-aig-zdr"
H_NO_WHOLESALE: Final = "cf-aig-no-wholesale"
# trace propagation and Workers AI prompt caching (issue 11 part 5)
H_OTEL_TRACE_ID: Final = "cf-aig-otel-trace-id"
"""https://developers.cloudflare.com/ai-gateway/observability/otel-integration/ (32 hex characters)."""
H_OTEL_PARENT_SPAN_ID: Final = "cf-aig-otel-parent-span-id"
"""https://developers.cloudflare.com/ai-gateway/observability/otel-integration/ (16 hex characters)."""
H_SESSION_AFFINITY: Final = "x-session-affinity"
"""https://developers.cloudflare.com/workers-ai/features/prompt-caching/ (routes a session to a warm cache)."""
CREDENTIAL_HEADERS: Final = frozenset({"authorization", "cf-aig-authorization"})
"""Header names (lower case) only the credential fields may set; ``default_headers`` may not."""

# --- response headers --------------------------------------------------------------------------
H_LOG_ID: Final = "cf-aig-log-id"
H_CACHE_STATUS: Final = "cf-aig-cache-status"
H_STEP: Final = "cf-aig-step"
H_REQUEST_ID: Final = "cf-aig-request-id"
H_MODEL: Final = "cf-aig-model"
H_PROVIDER: Final = "cf-aig-provider"
H_DLP: Final = "cf-aig-dlp"
H_RETRY_AFTER: Final = "retry-after"
H_RETRY_AFTER_MS: Final = "retry-after-ms"
