"""GatewayOptions: the per-request gateway features (cache, logs, retries, cost, keys), validated.

Each option becomes one header (see ``_headers.option_headers``); none of them ever goes into the JSON body.
Two are not headers but choices of how a call is sent: ``fallback_mode`` and ``trace_propagation``. A client
holds default options; a call may override any of them (``default_headers`` are merged, name by name).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cfaig._constants import (
    BACKOFF_VALUES,
    CREDENTIAL_HEADERS,
    MAX_CACHE_TTL,
    MAX_GATEWAY_ATTEMPTS,
    MAX_METADATA_ENTRIES,
    MAX_RETRY_DELAY_MS,
    MIN_CACHE_TTL,
)
from cfaig._redact import redact_headers
from cfaig.config import describe_validation_error
from cfaig.errors import ConfigurationError

__all__ = ["OPTION_FIELDS", "CustomCost", "FallbackMode", "GatewayOptions", "MetadataValue"]

MetadataValue = str | int | float | bool
FallbackMode = Literal["client", "universal"]
"""``"client"``: each fallback target in turn, one request each (the default); ``"universal"``: one request to
the (deprecated) Universal Endpoint, which walks the steps gateway-side."""
DEFAULT_FALLBACK_MODE: FallbackMode = "client"

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
"""An HTTP field name (RFC 9110 token)."""
_HEX = re.compile(r"^[0-9a-f]+$")


def _check_header_text(value: str, what: str) -> str:
    if not value:
        raise ValueError(f"{what} must not be empty")
    if any(ord(ch) < 0x20 or ord(ch) > 0x7E for ch in value):
        raise ValueError(f"{what} must be printable ASCII (it is sent as an HTTP header)")
    if value != value.strip():  # an HTTP header value has no surrounding whitespace (h11 refuses to send it)
        raise ValueError(f"{what} must not start or end with a space")
    return value


class CustomCost(BaseModel):
    """USD per token, sent as ``cf-aig-custom-cost`` so the gateway logs your negotiated price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_token_in: float = Field(ge=0, allow_inf_nan=False)
    per_token_out: float = Field(ge=0, allow_inf_nan=False)
    per_cache_read_token: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    per_cache_write_token: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class GatewayOptions(BaseModel):
    """Gateway features for a request. ``None`` means "not set": no header is sent for it."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    cache_ttl: int | None = Field(default=None, ge=MIN_CACHE_TTL, le=MAX_CACHE_TTL)
    """Seconds to cache the response (60 s to one month): ``cf-aig-cache-ttl``."""
    skip_cache: bool | None = None
    """Bypass the cache for this request: ``cf-aig-skip-cache``."""
    cache_key: str | None = Field(default=None, max_length=1024)
    """Your own cache key instead of the computed one: ``cf-aig-cache-key``."""
    metadata: dict[str, MetadataValue] | None = None
    """At most 5 entries of str/int/float/bool, shown in logs and filterable: ``cf-aig-metadata``."""
    collect_log: bool | None = None
    """Log this request (or not), whatever the gateway setting: ``cf-aig-collect-log``."""
    collect_log_payload: bool | None = None
    """False keeps the log entry but drops the prompt and response bodies: ``cf-aig-collect-log-payload``."""
    event_id: str | None = Field(default=None, max_length=256)
    """Your trace id, echoed back: ``cf-aig-event-id``."""
    request_timeout_ms: int | None = Field(default=None, gt=0, le=3_600_000)
    """The gateway gives up on the provider after this long (to the first byte): ``cf-aig-request-timeout``."""
    max_attempts: int | None = Field(default=None, ge=1, le=MAX_GATEWAY_ATTEMPTS)
    """Gateway-side attempts at the provider (1 to 5): ``cf-aig-max-attempts``."""
    retry_delay_ms: int | None = Field(default=None, ge=0, le=MAX_RETRY_DELAY_MS)
    """Gateway-side delay between attempts (at most 5000 ms): ``cf-aig-retry-delay``."""
    backoff: Literal["constant", "linear", "exponential"] | None = None
    """Gateway-side backoff shape: ``cf-aig-backoff``."""
    custom_cost: CustomCost | None = None
    """Per-token prices for the gateway's cost tracking: ``cf-aig-custom-cost``."""
    byok_alias: str | None = Field(default=None, max_length=128)
    """Which stored provider key to use when there are several: ``cf-aig-byok-alias``."""
    zdr: bool | None = None
    """Zero Data Retention for this request (Unified Billing): ``cf-aig-zdr``."""
    no_wholesale: bool | None = None
    """Refuse to fall back to Unified Billing for this request: ``cf-aig-no-wholesale``."""

    # --- fallbacks, extra headers, tracing, prompt caching (issue 11 parts 4 and 5) ---------------
    fallback_mode: FallbackMode | None = None
    """How ``fallbacks`` are tried: ``"client"`` (default) sends each target in turn in the client's attempt
    loop; ``"universal"`` sends one request to the deprecated Universal Endpoint (gateway host only)."""
    default_headers: dict[str, str] | None = None
    """Extra headers on every request; a call's are merged over the instance's. Credential headers
    (``Authorization``, ``cf-aig-authorization``) are refused: use the credential fields."""
    session_affinity: str | None = Field(default=None, max_length=256)
    """Workers AI prompt caching: requests with the same value reach the same warm cache: ``x-session-affinity``."""
    otel_trace_id: str | None = None
    """OpenTelemetry trace id (32 hex) for the gateway's spans, else the current span's when ``opentelemetry-api``
    is installed: ``cf-aig-otel-trace-id``."""
    otel_parent_span_id: str | None = None
    """OpenTelemetry parent span id (16 hex), else the current span's when ``opentelemetry-api`` is installed:
    ``cf-aig-otel-parent-span-id``."""
    trace_propagation: bool | None = None
    """``False``: never fill the OTel headers from the current span (they are filled by default when
    ``opentelemetry-api`` is installed and a span is recording)."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigurationError(describe_validation_error(exc, what="gateway option")) from None

    @classmethod
    def coerce(cls, value: GatewayOptions | Mapping[str, Any] | None) -> GatewayOptions | None:
        """Accept options as an instance or a mapping of field names; unknown names are an error."""
        if value is None or isinstance(value, GatewayOptions):
            return value
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f"gateway options must be a GatewayOptions or a mapping, not {type(value).__name__}"
            )
        return cls(**dict(value))

    def merged(self, override: GatewayOptions | None) -> GatewayOptions:
        """These options with every field that ``override`` sets replaced by its value."""
        if override is None:
            return self
        changes = override.model_dump(exclude_none=True)
        if not changes:
            return self
        update = {name: getattr(override, name) for name in changes}
        if override.default_headers and self.default_headers:
            update["default_headers"] = merge_headers(self.default_headers, override.default_headers)
        return self.model_copy(update=update)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, (redact_headers(value) if name == "default_headers" and value else value)

    @property
    def is_empty(self) -> bool:
        return not self.model_fields_set or all(getattr(self, name) is None for name in self.model_fields_set)

    @field_validator("metadata", mode="before")
    @classmethod
    def _check_metadata(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValueError("metadata must be a dict of str keys to str/int/float/bool values")
        if len(value) > MAX_METADATA_ENTRIES:
            raise ValueError(
                f"metadata has {len(value)} entries; the gateway keeps at most {MAX_METADATA_ENTRIES} "
                "(it would drop the rest silently)"
            )
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise ValueError("metadata keys must be non-empty strings")
            if not isinstance(item, (str, int, float, bool)):
                raise ValueError(
                    f"metadata[{key!r}] is a {type(item).__name__}; values must be str, int, float or bool "
                    "(the gateway drops all metadata when one value is not)"
                )
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"metadata[{key!r}] must be a finite number")
        encoded = json.dumps(dict(value), ensure_ascii=True, separators=(",", ":"))
        if len(encoded) > 8192:
            raise ValueError("metadata is larger than 8 KiB once encoded")
        return dict(value)

    @field_validator("cache_key", "event_id", "byok_alias")
    @classmethod
    def _check_text(cls, value: str | None) -> str | None:
        return None if value is None else _check_header_text(value, "this option")

    @field_validator("default_headers", mode="before")
    @classmethod
    def _check_default_headers(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValueError("default_headers must be a dict of header name to value")
        checked: dict[str, str] = {}
        for name, item in value.items():
            if not isinstance(name, str) or not _HEADER_NAME.match(name):
                raise ValueError(f"default_headers: {name!r} is not a valid header name")
            if name.lower() in CREDENTIAL_HEADERS:
                raise ValueError(
                    f"default_headers may not set {name}: credentials go in cf_aig_token / api_key, so they are "
                    "kept secret and sent only where they belong"
                )
            if not isinstance(item, str):
                raise ValueError(f"default_headers[{name!r}] must be a string")
            checked[name] = _check_header_text(item, f"default_headers[{name!r}]")
        return checked

    @field_validator("session_affinity")
    @classmethod
    def _check_session_affinity(cls, value: str | None) -> str | None:
        return None if value is None else _check_header_text(value, "session_affinity")

    @field_validator("otel_trace_id", "otel_parent_span_id")
    @classmethod
    def _check_otel_id(cls, value: str | None, info: Any) -> str | None:
        """https://developers.cloudflare.com/ai-gateway/observability/otel-integration/: 32 and 16 hex characters."""
        if value is None:
            return None
        length = 32 if info.field_name == "otel_trace_id" else 16
        value = value.lower()
        if len(value) != length or not _HEX.match(value) or set(value) == {"0"}:
            raise ValueError(f"{info.field_name} must be {length} hexadecimal characters, not all zero")
        return value

    @field_validator("backoff", mode="before")
    @classmethod
    def _check_backoff(cls, value: Any) -> Any:
        if value is not None and value not in BACKOFF_VALUES:
            raise ValueError(f"backoff must be one of {', '.join(BACKOFF_VALUES)}")
        return value


def merge_headers(base: Mapping[str, str], override: Mapping[str, str]) -> dict[str, str]:
    """``base`` with ``override``'s headers on top; names compare case-insensitively (the override's spelling)."""
    names = {name.lower() for name in override}
    return {**{name: value for name, value in base.items() if name.lower() not in names}, **override}


OPTION_FIELDS: frozenset[str] = frozenset(GatewayOptions.model_fields)
NON_HEADER_OPTIONS: frozenset[str] = frozenset({"fallback_mode", "default_headers", "trace_propagation"})
"""Options that are not one header each: how fallbacks are sent, the caller's own headers, trace filling."""
"""The names accepted as gateway options, e.g. as keyword arguments of the framework classes."""
