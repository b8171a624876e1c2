"""GatewayConfig: where requests go and with which credentials, validated once, before any request.

Resolution order for every field: explicit argument, then environment variable, then default. The
environment is read here and nowhere else; the framework integrations get their field defaults from
:func:`env_default` / :func:`secret_env_default` so the variable names live in one place.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from typing import Any, Final, Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from cfaig._constants import (
    DEFAULT_API_BASE_URL,
    DEFAULT_BASE_URL,
    DEFAULT_GATEWAY_ID,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_ACCOUNT_ID,
    ENV_API_BASE_URL,
    ENV_API_TOKEN,
    ENV_BASE_URL,
    ENV_CF_AIG_TOKEN,
    ENV_GATEWAY_ID,
    ENV_GATEWAY_URL,
    ENV_PROVIDER_API_KEY,
    ENV_PROVIDER_KEYS,
    ENV_SURFACE,
    MAX_GATEWAY_ID_LENGTH,
    MAX_TIMEOUT,
)
from cfaig.errors import ConfigurationError
from cfaig.provider_keys import WORKERS_AI, ProviderKeys

__all__ = [
    "ENV_VARS",
    "GatewayConfig",
    "Surface",
    "check_stream_timeout",
    "describe_validation_error",
    "env_default",
    "secret_env_default",
]

Surface = Literal["gateway", "rest"]

ENV_VARS: dict[str, tuple[str, ...]] = {
    "account_id": (ENV_ACCOUNT_ID,),
    "gateway_id": (ENV_GATEWAY_ID,),
    "cf_aig_token": (ENV_CF_AIG_TOKEN,),
    "api_key": (ENV_PROVIDER_API_KEY,),
    "base_url": (ENV_BASE_URL,),
    "api_base_url": (ENV_API_BASE_URL,),
    # provider keys per provider (issue 11 part 1)
    "provider_keys": (ENV_PROVIDER_KEYS,),
    # surfaces and custom domains (issue 11 parts 3 and 6)
    "surface": (ENV_SURFACE,),
    "gateway_url": (ENV_GATEWAY_URL,),
}
"""Field name -> the environment variables that can supply it, first match wins. On the REST surface
``cf_aig_token`` comes from ``CLOUDFLARE_API_TOKEN`` first, then ``CF_AIG_TOKEN`` (REST needs a Cloudflare API
token with Workers AI permission, which a gateway-only token lacks), and ``CF_AIG_PROVIDER_API_KEY``,
``CF_AIG_PROVIDER_KEYS`` and ``CF_AIG_GATEWAY_URL`` are not read (that surface authenticates with the Cloudflare
token only, and Cloudflare's REST API serves no custom domain). On the gateway host, ``CLOUDFLARE_API_TOKEN`` is
the Workers AI key (``provider_keys["workers-ai"]``) unless one is given."""

_NOT_READ_ON_REST: Final = frozenset({"api_key", "provider_keys", "gateway_url"})
"""Fields whose environment variable the REST surface ignores: it takes no provider key and no custom domain."""
_REST_TOKEN_ENV: Final = (ENV_API_TOKEN, ENV_CF_AIG_TOKEN)
"""Where the REST surface's token comes from, first match wins."""
_ACCOUNT_ID_REQUIRED: Final = (
    f"account_id is required: pass account_id=... or set {ENV_ACCOUNT_ID} "
    f"(or gateway_url=... / {ENV_GATEWAY_URL} for a custom domain on the gateway host)"
)

_GATEWAY_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # whole strings: re.fullmatch (``$`` matches before "\n")
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]+")


def _from_env(field: str) -> str | None:
    for name in ENV_VARS.get(field, ()):
        value = os.environ.get(name)
        if value:
            return value
    return None


def env_default(field: str, default: str | None = None) -> Callable[[], str | None]:
    """A default factory reading ``field``'s environment variable, for integration classes."""
    if field not in ENV_VARS:
        raise KeyError(field)

    def factory() -> str | None:
        value = _from_env(field)
        return value if value is not None else default

    return factory


def secret_env_default(field: str) -> Callable[[], SecretStr | None]:
    """Like :func:`env_default` for a credential: the value comes back as a ``SecretStr``."""
    read = env_default(field)

    def factory() -> SecretStr | None:
        value = read()
        return SecretStr(value) if value else None

    return factory


def describe_validation_error(exc: ValidationError, *, what: str = "configuration") -> str:
    """One readable line per problem, never echoing the offending value (it may be a secret)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or what
        env = ENV_VARS.get(str(error["loc"][0])) if error["loc"] else None
        if error["type"] == "missing":
            where = f"pass {location}=... or set {env[0]}" if env else f"pass {location}=..."
            lines.append(f"{location} is required: {where}")
            continue
        message = error["msg"].removeprefix("Value error, ")
        suffix = f" (argument {location!r} or env {env[0]})" if env else ""
        lines.append(f"{location}: {message}{suffix}" if error["loc"] else message)
    return f"invalid {what}: " + "; ".join(lines)


def _check_port(parts: SplitResult) -> None:
    """A port, if the URL has one, is a number from 1 to 65535 (``urlsplit`` refuses the rest only when asked)."""
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("has a port that is not a number from 1 to 65535")


def check_stream_timeout(value: Any) -> float | None:
    """A call's ``stream_timeout``: ``None``, or a positive, finite number of seconds up to ``MAX_TIMEOUT``, as
    the field (``ConfigurationError``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
        raise ConfigurationError(
            f"stream_timeout must be a positive number of seconds up to {MAX_TIMEOUT:g}, not {value!r}"
        )
    return float(value)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _workers_ai_token_from_env(data: dict[str, Any]) -> None:
    """``CLOUDFLARE_API_TOKEN`` as the Workers AI key on the gateway host, unless one is given: Workers AI
    routes authenticate with a Cloudflare API token as ``Authorization``
    (https://developers.cloudflare.com/ai-gateway/usage/providers/workersai/)."""
    token = os.environ.get(ENV_API_TOKEN)
    if not token:
        return
    keys = ProviderKeys.coerce(data.get("provider_keys"))
    if WORKERS_AI not in keys:
        data["provider_keys"] = keys.merged({WORKERS_AI: token})


class GatewayConfig(BaseModel):
    """Resolved, validated settings of one gateway client. Immutable; build a new one to change it."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, hide_input_in_errors=True)

    account_id: str | None = None
    """Cloudflare account id (env ``CLOUDFLARE_ACCOUNT_ID``); required unless ``gateway_url`` names a custom
    domain (log feedback needs it even then)."""
    gateway_id: str = DEFAULT_GATEWAY_ID
    """Gateway name, at most 64 characters (env ``CLOUDFLARE_GATEWAY_ID``)."""
    cf_aig_token: SecretStr | None = None
    """Gateway token, sent as ``cf-aig-authorization: Bearer ...`` (env ``CF_AIG_TOKEN``). On the REST
    surface it is the Cloudflare API token sent as ``Authorization`` (env ``CLOUDFLARE_API_TOKEN`` too)."""
    api_key: SecretStr | None = None
    """Provider key, sent as ``Authorization: Bearer ...`` (env ``CF_AIG_PROVIDER_API_KEY``; not read on the
    REST surface). Leave unset for stored keys (BYOK) and Unified Billing: then no Authorization header is sent."""
    base_url: str = DEFAULT_BASE_URL
    """Root of the gateway host (env ``CF_AIG_BASE_URL``)."""
    api_base_url: str = DEFAULT_API_BASE_URL
    """Root of Cloudflare's REST API, used by ``surface="rest"`` and the log feedback call."""
    surface: Surface = "gateway"
    """``"gateway"``: gateway.ai.cloudflare.com (unified, provider and Universal endpoints).
    ``"rest"``: api.cloudflare.com ``/ai/v1/...`` with the gateway chosen by ``cf-aig-gateway-id``."""
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=MAX_TIMEOUT, allow_inf_nan=False)
    """Seconds a non-streaming request may take as a whole, from connecting to the last byte of the answer (each
    attempt); on streams, the longest wait for the answer's headers and between two reads of the body."""
    stream_timeout: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT, allow_inf_nan=False)
    """Seconds a whole stream may take, from sending the request to its last byte; ``None``: no total (``timeout``
    still bounds every wait). Also a keyword of each streaming call."""
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    """Largest answer read, in bytes after decompression (64 MiB); a stream's bytes count in total. A larger one
    raises ``ResponseTooLargeError`` as soon as the limit is passed."""
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, le=10)
    """Client-side retries of connection errors, 408, 409, 429 and 5xx."""
    allow_insecure_http: bool = False
    """Allow credentials over plain ``http://`` to a host that is not loopback."""

    # --- custom domains (issue 11 part 6) ---------------------------------------------------------
    gateway_url: str | None = None
    """The whole gateway root of a custom domain, e.g. ``https://ai.example.com`` (env ``CF_AIG_GATEWAY_URL``):
    it replaces ``{base_url}/{account_id}/{gateway_id}`` on the gateway host (not on the REST surface)."""

    # --- provider keys per provider (issue 11, part 1) ---
    provider_keys: ProviderKeys = ProviderKeys()
    """Provider name -> key, e.g. ``{"openai": "sk-...", "anthropic": "sk-ant-..."}`` (env
    ``CF_AIG_PROVIDER_KEYS``: JSON or ``openai=...,anthropic=...``). Each target (the model, each fallback)
    sends its own provider's key; ``api_key`` only reaches the primary model's provider; a provider with
    neither sends no ``Authorization`` (stored keys / Unified Billing). Not on the REST surface."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigurationError(describe_validation_error(exc)) from None

    @model_validator(mode="before")
    @classmethod
    def _fill_from_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if value is not None}
        if "surface" not in data:
            surface = _from_env("surface")
            if surface is not None:
                data["surface"] = surface.strip().lower()
        rest = data.get("surface") == "rest"
        if rest and "cf_aig_token" not in data:
            token = next((os.environ[name] for name in _REST_TOKEN_ENV if os.environ.get(name)), None)
            if token is not None:
                data["cf_aig_token"] = token
        for field in ENV_VARS:
            if field not in data and not (rest and field in _NOT_READ_ON_REST):
                value = _from_env(field)
                if value is not None:
                    data[field] = value
        if not rest:
            _workers_ai_token_from_env(data)
        return data

    @field_validator("account_id")
    @classmethod
    def _check_account_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not _ACCOUNT_ID.fullmatch(value):
            raise ValueError("must contain only letters, digits, '-' and '_'")
        return value

    @field_validator("gateway_id")
    @classmethod
    def _check_gateway_id(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > MAX_GATEWAY_ID_LENGTH:
            raise ValueError(f"must be 1 to {MAX_GATEWAY_ID_LENGTH} characters long")
        if not _GATEWAY_ID.fullmatch(value):
            raise ValueError("must contain only letters, digits, '-', '_' and '.'")
        return value

    @field_validator("base_url", "api_base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        # urlsplit drops TAB, CR and LF silently (and aiohttp would send the mangled path): refuse them first
        if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
            raise ValueError("must not contain spaces or control characters (check for a pasted newline)")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://gateway.ai.cloudflare.com/v1")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query string or fragment")
        _check_port(parts)
        return value

    @field_validator("gateway_url")
    @classmethod
    def _check_gateway_url(cls, value: str | None) -> str | None:
        """https://developers.cloudflare.com/ai-gateway/configuration/custom-domains/: the hostname identifies
        the account and gateway, so the URL is a root with no query or fragment."""
        if value is None:
            return None
        value = value.strip()
        if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):  # urlsplit would drop tabs and newlines
            raise ValueError("must not contain spaces or control characters")
        value = value.rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://ai.example.com")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must not carry a query string, fragment or user info")
        _check_port(parts)
        return value

    @field_validator("cf_aig_token", "api_key")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if not raw:
            return None
        if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in raw):
            raise ValueError("must be printable ASCII without spaces (check for a pasted newline)")
        return SecretStr(raw)

    @property
    def gateway_root(self) -> str:
        """The gateway host's root for this gateway: ``gateway_url``, or ``{base_url}/{account_id}/{gateway_id}``."""
        return self.gateway_url or f"{self.base_url}/{self.account_id}/{self.gateway_id}"

    @model_validator(mode="after")
    def _check_roots(self) -> GatewayConfig:
        if self.surface == "rest" and self.gateway_url is not None:
            raise ValueError(
                "gateway_url (a custom domain) works with the gateway host only; Cloudflare's REST API does not "
                "serve custom domains: unset gateway_url / CF_AIG_GATEWAY_URL or use surface='gateway'"
            )
        if self.account_id is None and (self.surface == "rest" or self.gateway_url is None):
            raise ValueError(_ACCOUNT_ID_REQUIRED)
        return self

    @model_validator(mode="after")
    def _check_transport_security(self) -> GatewayConfig:
        has_credentials = self.cf_aig_token is not None or self.api_key is not None or bool(self.provider_keys)
        root = self.api_base_url if self.surface == "rest" else self.gateway_url or self.base_url
        parts = urlsplit(root)
        if (
            has_credentials
            and parts.scheme == "http"
            and not _is_loopback(parts.hostname or "")
            and not self.allow_insecure_http
        ):
            raise ValueError(
                f"credentials would be sent over plain http to {parts.hostname}; use https, a loopback "
                "host, or allow_insecure_http=True"
            )
        if self.surface == "rest" and self.api_key is not None:
            raise ValueError(
                "the REST surface authenticates with the Cloudflare token only (third-party models use "
                "Unified Billing); unset api_key or use surface='gateway'"
            )
        if self.surface == "rest" and self.provider_keys:
            raise ValueError(
                "the REST surface authenticates with the Cloudflare token only (third-party models use "
                "Unified Billing); unset provider_keys or use surface='gateway'"
            )
        return self

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if isinstance(value, SecretStr):
                yield name, "**********"
            else:
                yield name, value
