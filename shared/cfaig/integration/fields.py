"""The settings fields of every integration class, derived from the core's GatewayConfig and GatewayOptions.

The four framework classes (LangChain's chat model and embeddings, LlamaIndex's LLM and embedding)
inherit :class:`GatewayFields`, so they declare the same fields with the same names. Each field's default,
environment variable, description and secret handling come from the core's own field
(:class:`cfaig.GatewayConfig`, :class:`cfaig.GatewayOptions`); bounds and rules are checked by building
those core objects at construction, so they live in one place and a bad value is a
:class:`cfaig.ConfigurationError` there. One name differs: the ``cf-aig-metadata`` option is the
``gateway_metadata`` field, because both frameworks already own a ``metadata`` attribute (LangChain's run
metadata, LlamaIndex's model description). Where the framework has no ``metadata`` field of its own,
``metadata=`` is still accepted by the constructor for it.

What is derived from the fields (the validated core objects and the clients, :class:`GatewayState`) is
rebuilt when they change: after ``model_copy(update=...)`` and on assignment.
"""

from __future__ import annotations

import inspect
import linecache
import re
import sys
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, SecretStr, ValidationError

from cfaig.config import ENV_VARS, GatewayConfig, describe_validation_error, env_default, secret_env_default
from cfaig.errors import ConfigurationError
from cfaig.integration.clients import GatewayState
from cfaig.integration.keywords import coerce_timeout, move_unknown_keywords
from cfaig.model_ref import parse_model
from cfaig.options import CustomCost, GatewayOptions, MetadataValue
from cfaig.provider_keys import ProviderKeys

if TYPE_CHECKING:
    from typing_extensions import Self

    from cfaig import AsyncGatewayClient, GatewayClient


def _instance_of(name: str) -> PlainValidator:
    """``None`` or an instance of ``cfaig.<name>``, checked without importing the clients (and the HTTP
    stack under them) when the class is defined: one passed in means they are loaded already."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        cls = getattr(sys.modules["cfaig"], name) if "cfaig._client" in sys.modules else None
        if cls is None or not isinstance(value, cls):
            raise ValueError(f"Input should be an instance of {name}")
        return value

    return PlainValidator(check)


if TYPE_CHECKING:
    _SyncClientField = GatewayClient | None
    _AsyncClientField = AsyncGatewayClient | None
else:
    _SyncClientField = Annotated[Any, _instance_of("GatewayClient")]
    _AsyncClientField = Annotated[Any, _instance_of("AsyncGatewayClient")]

__all__ = ["CONFIG_FIELDS", "OPTION_FIELD_NAMES", "GatewayFields", "pop_metadata_kwarg"]

CONFIG_FIELDS: Final[tuple[str, ...]] = tuple(GatewayConfig.model_fields)
"""The connection fields: every :class:`cfaig.GatewayConfig` field, under its own name."""
OPTION_FIELD_NAMES: Final[dict[str, str]] = {
    name: "gateway_metadata" if name == "metadata" else name for name in GatewayOptions.model_fields
}
"""Each :class:`cfaig.GatewayOptions` field -> the integration field holding its default."""


def _field_docs(model: type[BaseModel]) -> dict[str, str]:
    """The docstring under each field of ``model``, from its source (the core documents its fields so).

    A scan of the class body's lines (``inspect.getsource`` and ``ast`` would cost ~20 ms at import). A
    field without a one-line definition and a docstring under it, or a module without source, has no entry.
    """
    module = sys.modules[model.__module__]
    lines = linecache.getlines(module.__file__ or "")
    start = next((i for i, line in enumerate(lines) if line.startswith(f"class {model.__name__}(")), None)
    if start is None:
        return {}
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", "\n")), len(lines))
    body = "".join(lines[start + 1 : end])
    return {
        match["name"]: " ".join(inspect.cleandoc(match["doc"]).split())
        for match in re.finditer(r'^    (?P<name>\w+): [^\n]*\n    """(?P<doc>.*?)"""', body, re.S | re.M)
    }


_CONFIG_DOCS: Final = _field_docs(GatewayConfig)
_OPTION_DOCS: Final = _field_docs(GatewayOptions)


def _config_field(name: str) -> Any:
    """The integration field for ``GatewayConfig.<name>``: the core's default, or its environment variable
    read at construction (``None`` when unset, so the core's default applies); a secret is never shown."""
    core = GatewayConfig.model_fields[name]
    hidden: dict[str, Any] = {}
    secret = SecretStr in typing.get_args(core.annotation) or core.annotation is ProviderKeys
    if secret:
        hidden = {"exclude": True, "repr": False}
    description = _CONFIG_DOCS.get(name)
    if name in ENV_VARS:
        fallback = core.default if name == "surface" else None  # a Literal field: never None
        factory = secret_env_default(name) if secret else env_default(name, fallback)
        return Field(default_factory=factory, description=description, **hidden)
    return Field(default=core.default, description=description, **hidden)


def _option_field(name: str) -> Any:
    """The integration field for ``GatewayOptions.<name>``: unset by default, like the core's."""
    return Field(default=None, description=_OPTION_DOCS.get(name))


class GatewayFields(BaseModel):
    """Connection settings and default gateway options, validated into core objects at construction.

    Subclasses reach the gateway through :attr:`client` / :attr:`async_client` and read the validated
    configuration and default options from ``self._gateway`` (a :class:`GatewayState`). A subclass names
    its model-string fields in :attr:`_model_strings`; one with checks of its own overrides
    :meth:`_derive`, calls ``super()._derive()`` first, and adds the fields they read to
    :attr:`_derived_from`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _derived_from: ClassVar[frozenset[str]] = frozenset(
        {*CONFIG_FIELDS, *OPTION_FIELD_NAMES.values(), "gateway_client", "async_gateway_client"}
    )
    """The fields :meth:`_derive` reads: changing one (``model_copy(update=...)``, assignment) derives again."""
    _model_strings: ClassVar[tuple[str, ...]] = ()
    """Fields holding a model string or a list of them: parsed by :meth:`_derive`, so a typo fails at
    construction rather than on the first call."""
    _extras_field: ClassVar[str | None] = None
    """The dict field of provider extras that unknown constructor keywords move into, with a warning
    (LangChain's ``model_kwargs``, LlamaIndex's ``additional_kwargs``); ``None``: pydantic's rule."""

    # --- where requests go and with which credentials (cfaig.GatewayConfig) -----------------------
    account_id: str | None = _config_field("account_id")
    gateway_id: str | None = _config_field("gateway_id")
    cf_aig_token: SecretStr | None = _config_field("cf_aig_token")
    api_key: SecretStr | None = _config_field("api_key")
    base_url: str | None = _config_field("base_url")
    api_base_url: str | None = _config_field("api_base_url")
    surface: Literal["gateway", "rest"] = _config_field("surface")
    timeout: float = _config_field("timeout")
    stream_timeout: float | None = _config_field("stream_timeout")
    max_response_bytes: int = _config_field("max_response_bytes")
    max_retries: int = _config_field("max_retries")
    allow_insecure_http: bool = _config_field("allow_insecure_http")
    # custom domains (issue 11 part 6)
    gateway_url: str | None = _config_field("gateway_url")

    # --- provider keys per provider (cfaig.GatewayConfig.provider_keys): never shown nor serialized ---
    provider_keys: ProviderKeys | None = _config_field("provider_keys")

    # --- default gateway options (cfaig.GatewayOptions): headers, never body ------------------------
    cache_ttl: int | None = _option_field("cache_ttl")
    skip_cache: bool | None = _option_field("skip_cache")
    cache_key: str | None = _option_field("cache_key")
    gateway_metadata: dict[str, MetadataValue] | None = _option_field("metadata")
    collect_log: bool | None = _option_field("collect_log")
    collect_log_payload: bool | None = _option_field("collect_log_payload")
    event_id: str | None = _option_field("event_id")
    request_timeout_ms: int | None = _option_field("request_timeout_ms")
    max_attempts: int | None = _option_field("max_attempts")
    retry_delay_ms: int | None = _option_field("retry_delay_ms")
    backoff: Literal["constant", "linear", "exponential"] | None = _option_field("backoff")
    custom_cost: CustomCost | None = _option_field("custom_cost")
    byok_alias: str | None = _option_field("byok_alias")
    zdr: bool | None = _option_field("zdr")
    no_wholesale: bool | None = _option_field("no_wholesale")
    # fallbacks, extra headers, tracing, prompt caching (issue 11 parts 4 and 5)
    fallback_mode: Literal["client", "universal"] | None = _option_field("fallback_mode")
    default_headers: dict[str, str] | None = Field(  # may hold credentials (Cloudflare Access): not shown, not dumped
        default=None, description=_OPTION_DOCS.get("default_headers"), exclude=True, repr=False
    )
    session_affinity: str | None = _option_field("session_affinity")
    otel_trace_id: str | None = _option_field("otel_trace_id")
    otel_parent_span_id: str | None = _option_field("otel_parent_span_id")
    trace_propagation: bool | None = _option_field("trace_propagation")

    # --- injection (tests, custom transports) ---------------------------------------------------
    gateway_client: _SyncClientField = Field(
        default=None,
        exclude=True,
        repr=False,
        description="A core client to send with instead of the shared one; its configuration is the instance's.",
    )
    async_gateway_client: _AsyncClientField = Field(
        default=None,
        exclude=True,
        repr=False,
        description="An async core client to send with instead of the shared one; its configuration is the instance's.",
    )

    _gateway: GatewayState

    def __init__(self, **data: Any) -> None:
        cls = type(self)
        if "metadata" not in cls.model_fields:
            pop_metadata_kwarg(data)
        coerce_timeout(data)
        if cls._extras_field is not None:
            move_unknown_keywords(cls, data, cls._extras_field)
        try:
            super().__init__(**data)
        except ValidationError as exc:  # a wrong type: the field named, the value never echoed
            raise ConfigurationError(describe_validation_error(exc, what=f"{cls.__name__} settings")) from None
        # Built here rather than in a validator so the core's ConfigurationError reaches the caller as is
        # (pydantic would wrap it in a ValidationError).
        self._derive()

    def _derive(self) -> None:
        """Validate the fields into the core's objects (:class:`ConfigurationError` on bad input)."""
        for name in self._model_strings:
            value = getattr(self, name)
            if value is None and type(self).model_fields[name].default is not None:
                raise ConfigurationError(f"{name} is required: a model string such as openai/gpt-5-mini")
        self._gateway = GatewayState.resolve(
            self.gateway_config, self.gateway_options(), self.gateway_client, self.async_gateway_client
        )
        surface = self._gateway.config.surface  # REST accepts any catalog name (z-ai/...), the gateway host fewer
        for name in self._model_strings:
            value = getattr(self, name)
            for model in [value] if isinstance(value, str) else value or ():
                parse_model(model, surface=surface)

    @classmethod
    def _derives_from(cls, names: Iterable[str]) -> bool:
        return any(name in cls._derived_from or name in cls._model_strings for name in names)

    def gateway_config(self) -> GatewayConfig:
        """The core configuration the connection fields describe (raises ``ConfigurationError`` on bad input)."""
        values = {name: getattr(self, name) for name in CONFIG_FIELDS}
        if values["surface"] == "rest":
            # As in the core: CF_AIG_PROVIDER_API_KEY, CF_AIG_PROVIDER_KEYS and CF_AIG_GATEWAY_URL are not read on
            # the REST surface, and its token comes from CLOUDFLARE_API_TOKEN before CF_AIG_TOKEN (the core reads
            # them when not passed).
            for name in ("api_key", "provider_keys", "cf_aig_token", "gateway_url"):
                if name not in self.model_fields_set:
                    values[name] = None
        return GatewayConfig(**values)

    def gateway_options(self) -> GatewayOptions:
        """The default options the option fields describe (raises ``ConfigurationError`` on bad values)."""
        values = {name: getattr(self, field) for name, field in OPTION_FIELD_NAMES.items()}
        return GatewayOptions(**{name: value for name, value in values.items() if value is not None})

    @property
    def client(self) -> GatewayClient:
        """The sync core client: the injected one, else the shared one for this configuration."""
        return self._gateway.client

    @property
    def async_client(self) -> AsyncGatewayClient:
        """The async core client: the injected one, else the shared one for this configuration."""
        return self._gateway.async_client

    # --- derived state follows the fields ----------------------------------------------------------

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update``, its configuration, options and clients follow the new values."""
        copied = super().model_copy(update=update, deep=deep)
        if update and self._derives_from(update):
            copied._derive()
        return copied

    def __setattr__(self, name: str, value: Any) -> None:
        private = getattr(self, "__pydantic_private__", None)
        if not self._derives_from((name,)) or not private or "_gateway" not in private:
            super().__setattr__(name, value)  # not read by _derive, or still constructing
            return
        previous = getattr(self, name)
        super().__setattr__(name, value)
        try:
            self._derive()
        except Exception:
            super().__setattr__(name, previous)  # the instance stays as it was
            raise


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
