"""What every framework integration shares: the settings fields and the split of a call's keywords.

Framework-neutral (pydantic only), so the LangChain and LlamaIndex classes declare the same fields with
the same names, defaults, environment variables and validation, once. Field names are the core's
(:class:`cfaig.GatewayConfig` and :class:`cfaig.GatewayOptions`), with one exception: the
``cf-aig-metadata`` option is the ``gateway_metadata`` field, because both frameworks already own a
``metadata`` attribute (LangChain's run metadata, LlamaIndex's model description). ``metadata=`` is still
accepted per call, and by the LlamaIndex constructors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from pydantic import BaseModel, Field, SecretStr

from cfaig._request import Endpoint
from cfaig.config import GatewayConfig, env_default, secret_env_default
from cfaig.errors import ConfigurationError
from cfaig.options import OPTION_FIELDS, CustomCost, GatewayOptions, MetadataValue
from cfaig.types import ChatMessageParam, ChatRequest

__all__ = ["GatewayFields", "pop_metadata_kwarg", "split_call_kwargs"]


class GatewayFields(BaseModel):
    """Connection settings and default gateway options, validated into core objects at construction."""

    # --- where requests go and with which credentials (cfaig.GatewayConfig) ---------------------
    account_id: str | None = Field(
        default_factory=env_default("account_id"),
        description="Cloudflare account id (env CLOUDFLARE_ACCOUNT_ID).",
    )
    gateway_id: str | None = Field(
        default_factory=env_default("gateway_id"),
        description="Gateway name (env CLOUDFLARE_GATEWAY_ID; 'default' when unset).",
    )
    cf_aig_token: SecretStr | None = Field(
        default_factory=secret_env_default("cf_aig_token"),
        exclude=True,
        repr=False,
        description="Gateway token for authenticated gateways (env CF_AIG_TOKEN). Never serialised.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="Provider key sent as Authorization; leave unset for stored keys (BYOK) and Unified "
        "Billing. Never serialised.",
    )
    base_url: str | None = Field(
        default_factory=env_default("base_url"),
        description="Root of the gateway host (env CF_AIG_BASE_URL).",
    )
    api_base_url: str | None = Field(
        default_factory=env_default("api_base_url"),
        description="Root of Cloudflare's REST API, for surface='rest' (env CF_AIG_API_BASE_URL).",
    )
    surface: Literal["gateway", "rest"] = Field(
        default="gateway", description="'gateway' (gateway.ai.cloudflare.com) or 'rest' (api.cloudflare.com)."
    )
    timeout: float = Field(default=60.0, gt=0, description="Seconds before a request without an answer fails.")
    max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Client-side retries (connection errors, 408, 409, 429, 5xx). The only retry layer.",
    )

    allow_insecure_http: bool = Field(
        default=False,
        description="Allow credentials over plain http:// to a host that is not loopback (refused otherwise).",
    )

    # --- default gateway options (cfaig.GatewayOptions): headers, never body ----------------------
    cache_ttl: int | None = Field(default=None, description="cf-aig-cache-ttl: seconds to cache responses.")
    skip_cache: bool | None = Field(default=None, description="cf-aig-skip-cache: bypass the cache.")
    cache_key: str | None = Field(default=None, description="cf-aig-cache-key: your own cache key.")
    gateway_metadata: dict[str, MetadataValue] | None = Field(
        default=None, description="cf-aig-metadata: at most 5 str/int/float/bool entries shown in logs."
    )
    collect_log: bool | None = Field(default=None, description="cf-aig-collect-log: log the request or not.")
    collect_log_payload: bool | None = Field(
        default=None, description="cf-aig-collect-log-payload: False logs without the bodies."
    )
    event_id: str | None = Field(default=None, description="cf-aig-event-id: your trace id.")
    request_timeout_ms: int | None = Field(
        default=None, description="cf-aig-request-timeout: gateway-side timeout to the provider."
    )
    max_attempts: int | None = Field(default=None, description="cf-aig-max-attempts: gateway-side attempts.")
    retry_delay_ms: int | None = Field(default=None, description="cf-aig-retry-delay: gateway-side delay.")
    backoff: Literal["constant", "linear", "exponential"] | None = Field(
        default=None, description="cf-aig-backoff: gateway-side backoff shape."
    )
    custom_cost: CustomCost | None = Field(default=None, description="cf-aig-custom-cost: per-token prices.")
    byok_alias: str | None = Field(default=None, description="cf-aig-byok-alias: which stored key to use.")
    zdr: bool | None = Field(default=None, description="cf-aig-zdr: Zero Data Retention.")
    no_wholesale: bool | None = Field(default=None, description="cf-aig-no-wholesale: refuse Unified Billing fallback.")

    def gateway_config(self) -> GatewayConfig:
        """The validated core configuration (raises ``ConfigurationError`` on bad input)."""
        return GatewayConfig(
            account_id=self.account_id,
            gateway_id=self.gateway_id,
            cf_aig_token=self.cf_aig_token,
            api_key=self.api_key,
            base_url=self.base_url,
            api_base_url=self.api_base_url,
            surface=self.surface,
            timeout=self.timeout,
            max_retries=self.max_retries,
            allow_insecure_http=self.allow_insecure_http,
        )

    def gateway_options(self) -> GatewayOptions:
        """The validated default options (raises ``ConfigurationError`` on bad values)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in OPTION_FIELDS if name != "metadata"}
        values["metadata"] = self.gateway_metadata
        return GatewayOptions(**{name: value for name, value in values.items() if value is not None})


CHAT_BODY_KEYS: frozenset[str] = frozenset(ChatRequest.__annotations__) - {"model", "messages", "extra_body"}
"""Keyword arguments that are Chat Completions body fields; any other one is a provider extra."""


def chat_request(
    model: str,
    messages: Sequence[ChatMessageParam],
    params: Mapping[str, Any],
    *,
    extra_body: Mapping[str, Any] | None = None,
) -> ChatRequest:
    """A ChatRequest from a framework call's parameters.

    Chat Completions fields (:data:`CHAT_BODY_KEYS`) go into the body, anything else (and
    ``extra_body``) into ``extra_body`` for the provider; ``None`` values are not sent.
    """
    request: dict[str, Any] = {"model": model, "messages": messages}
    extra = dict(extra_body or {})
    extra.update(params.get("extra_body") or {})
    for key, value in params.items():
        if value is None or key == "extra_body":
            continue
        if key in CHAT_BODY_KEYS:
            request[key] = value
        else:
            extra[key] = value
    if extra:
        request["extra_body"] = extra
    return cast(ChatRequest, request)


def pop_metadata_kwarg(data: dict[str, Any]) -> None:
    """Map a constructor's ``metadata=`` (the gateway option) onto ``gateway_metadata``."""
    if "metadata" in data:
        value = data.pop("metadata")
        if value is not None and not isinstance(value, Mapping):
            raise ConfigurationError("metadata must be a dict of gateway log metadata (cf-aig-metadata)")
        if value is not None and data.get("gateway_metadata") is not None:
            raise ConfigurationError("pass metadata= or gateway_metadata=, not both")
        if value is not None:
            data["gateway_metadata"] = dict(value)


def split_call_kwargs(
    kwargs: Mapping[str, Any],
    *,
    defaults: GatewayOptions,
    fallbacks: Sequence[str] | None,
    endpoint: Endpoint,
) -> tuple[GatewayOptions, list[str] | None, Endpoint, dict[str, Any]]:
    """Split a call's kwargs into (options, fallbacks, endpoint, request parameters).

    Names in :data:`cfaig.OPTION_FIELDS` (and ``gateway_metadata``) become gateway options merged over
    ``defaults``; ``options=`` / ``gateway_options=`` may carry a ``GatewayOptions`` or mapping too. ``fallbacks=`` and
    ``endpoint=`` override the instance's. Everything else is returned as request parameters.
    """
    rest = dict(kwargs)
    values: dict[str, Any] = {}
    for name in OPTION_FIELDS:
        if name in rest:
            value = rest.pop(name)
            if value is not None:
                values[name] = value
    if "gateway_metadata" in rest:
        value = rest.pop("gateway_metadata")
        if value is not None:
            values["metadata"] = value
    merged = defaults
    for key in ("options", "gateway_options"):
        explicit = GatewayOptions.coerce(rest.pop(key, None))
        if explicit is not None:
            merged = merged.merged(explicit)
    if values:
        merged = merged.merged(GatewayOptions(**values))
    call_fallbacks = rest.pop("fallbacks", None)
    chosen_fallbacks = list(call_fallbacks) if call_fallbacks is not None else (list(fallbacks) if fallbacks else None)
    call_endpoint = rest.pop("endpoint", None)
    return merged, chosen_fallbacks, call_endpoint or endpoint, rest
