"""GatewayOptions: the per-request gateway features (cache, logs, retries, cost, keys), validated.

Each option becomes one ``cf-aig-*`` header (see ``_headers.option_headers``); none of them ever goes
into the JSON body. A client holds default options; a call may override any of them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cfaig._constants import (
    BACKOFF_VALUES,
    MAX_CACHE_TTL,
    MAX_GATEWAY_ATTEMPTS,
    MAX_METADATA_ENTRIES,
    MAX_RETRY_DELAY_MS,
    MIN_CACHE_TTL,
)
from cfaig.config import describe_validation_error
from cfaig.errors import ConfigurationError

__all__ = ["OPTION_FIELDS", "CustomCost", "GatewayOptions", "MetadataValue"]

MetadataValue = str | int | float | bool


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
        return self.model_copy(update={name: getattr(override, name) for name in changes})

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

    @field_validator("backoff", mode="before")
    @classmethod
    def _check_backoff(cls, value: Any) -> Any:
        if value is not None and value not in BACKOFF_VALUES:
            raise ValueError(f"backoff must be one of {', '.join(BACKOFF_VALUES)}")
        return value


OPTION_FIELDS: frozenset[str] = frozenset(GatewayOptions.model_fields)
"""The names accepted as gateway options, e.g. as keyword arguments of the framework classes."""
