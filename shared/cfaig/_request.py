"""Pure request builders: URL, headers and JSON body for every endpoint, with no I/O.

A :class:`PreparedRequest` holds one :class:`Target` per attempt plan step: one for an ordinary call or
a Universal-endpoint fallback (``fallback_mode="universal"``: the gateway walks the steps), several for a
client-side fallback (``fallback_mode="client"``, the default, and the only mode of the REST surface, which has
no Universal endpoint).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from cfaig._headers import (
    HeaderValue,
    base_headers,
    management_headers,
    option_headers,
    provider_authorization,
    provider_key,
    request_headers,
    step_headers,
)
from cfaig._logging import logger
from cfaig._redact import Secrets, redact_headers
from cfaig.config import GatewayConfig
from cfaig.errors import ConfigurationError
from cfaig.model_ref import ModelRef, parse_model
from cfaig.options import DEFAULT_FALLBACK_MODE, FallbackMode, GatewayOptions
from cfaig.provider_keys import WORKERS_AI, ProviderKeys
from cfaig.providers import embedding_support, openai_compatible_providers, provider_info
from cfaig.types import ChatRequest, EmbeddingRequest

__all__ = ["Endpoint", "PreparedRequest", "RequestBuilder", "RequestPreview", "Target"]

Endpoint = Literal["unified", "provider"]
"""``"unified"``: the compat endpoint, any provider, OpenAI shape. ``"provider"``: the provider's own
OpenAI-compatible route on the gateway (``/openai/chat/completions``, ``/workers-ai/v1/...``)."""

_LOG_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # re.fullmatch: ``$`` would accept a trailing newline
_RESERVED_BODY_KEYS = frozenset({"model", "messages", "stream"})


@dataclass(frozen=True, slots=True, repr=False)
class Target:
    """One concrete HTTP request. Credential header values are ``SecretStr`` (unwrapped by the pool as it
    sends); the repr masks them and never shows the body (a Universal step's headers hold the provider key)."""

    url: str
    headers: dict[str, HeaderValue]
    body: bytes
    served_by: str
    """The model string this request asks for (what answered, if it succeeds)."""
    provider: str

    def __repr__(self) -> str:
        return (
            f"Target(url={self.url!r}, headers={redact_headers(self.headers)!r}, body=<{len(self.body)} bytes>, "
            f"served_by={self.served_by!r}, provider={self.provider!r})"
        )


class RequestPreview(NamedTuple):
    """Where a request goes and what headers it carries, with every credential masked."""

    method: str
    url: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    method: str
    targets: tuple[Target, ...]
    stream: bool = False
    step_models: tuple[str, ...] = ()
    """For a Universal-endpoint request: the model string of each step, to read ``cf-aig-step`` against."""
    gateway_id: str | None = None
    secrets: tuple[str, ...] = ()
    """A call's own provider keys, scrubbed from its errors like the configuration's (a ``Secrets``: its repr
    is masked, so a captured frame local holding this request shows no key)."""

    def preview(self) -> RequestPreview:
        """The first attempt's method, URL and headers, masked (every attempt goes to the same URL)."""
        target = self.targets[0]
        return RequestPreview(self.method, target.url, redact_headers(target.headers))


_warned: set[tuple[str, str]] = set()


def adapt_for_provider(body: dict[str, Any], ref: ModelRef) -> dict[str, Any]:
    """``body`` adjusted to what ``ref``'s provider accepts (``cfaig.providers``), a copy when anything changes.

    Applied to every request and every fallback step, so a parameter a provider rejects (a 400 for the
    whole request) is never sent to it; each adjustment is logged at WARNING once per provider and
    parameter. ``max_tokens`` becomes ``max_completion_tokens`` where the provider wants that.
    """
    caps = provider_info(ref.provider).capabilities
    rename_max_tokens = caps.max_completion_tokens and "max_tokens" in body
    if caps.parallel_tool_calls and caps.tool_choice_required and not rename_max_tokens:
        return body
    changed = dict(body)
    if rename_max_tokens:
        value = changed.pop("max_tokens")
        changed.setdefault("max_completion_tokens", value)
    if not caps.parallel_tool_calls and "parallel_tool_calls" in changed:
        del changed["parallel_tool_calls"]
        _warn_once(ref.provider, "parallel_tool_calls", "it was left out of the request")
    if not caps.tool_choice_required and changed.get("tool_choice") == "required":
        changed["tool_choice"] = "auto"
        _warn_once(ref.provider, "tool_choice='required'", "'auto' was sent instead")
    return changed


def _warn_once(provider: str, parameter: str, instead: str) -> None:
    if (provider, parameter) not in _warned:
        _warned.add((provider, parameter))
        logger.warning("%s does not accept %s through the gateway; %s", provider, parameter, instead)


def merge_extra_body(body: dict[str, Any], extra: Mapping[str, Any] | None, reserved: frozenset[str]) -> None:
    """Merge a request's ``extra_body`` into its JSON ``body``; it may not set the ``reserved`` keys."""
    if extra:
        clash = reserved.intersection(extra)
        if clash:
            raise ConfigurationError(f"extra_body may not set {', '.join(sorted(clash))}")
        body.update(extra)


def _dumps(payload: Any) -> bytes:
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"the request body cannot be encoded as JSON: {exc}") from None


class RequestBuilder:
    """Builds requests for one configuration; the static parts are computed once, here."""

    __slots__ = (
        "_base_headers",
        "_default_option_headers",
        "config",
        "default_options",
        "gateway_root",
        "rest_root",
    )

    def __init__(self, config: GatewayConfig, default_options: GatewayOptions) -> None:
        self.config = config
        self.default_options = default_options
        self.gateway_root = config.gateway_root
        self.rest_root = f"{config.api_base_url}/accounts/{config.account_id}/ai/v1"
        self._base_headers = base_headers(config)
        self._default_option_headers = option_headers(default_options)

    # --- headers -----------------------------------------------------------------------------

    def headers(self, options: GatewayOptions | None, *, stream: bool = False) -> dict[str, HeaderValue]:
        if options is None or options.is_empty:
            return request_headers(
                self._base_headers, self._default_option_headers, self.default_options, stream=stream
            )
        merged = self.default_options.merged(options)
        return request_headers(self._base_headers, option_headers(merged), merged, stream=stream)

    def fallback_mode(self, options: GatewayOptions | None, targets: int) -> FallbackMode:
        """How a call with ``targets`` models (the primary and its fallbacks) is sent: the call's mode, else the
        client's, else :data:`~cfaig.options.DEFAULT_FALLBACK_MODE`. ``"universal"`` on the REST surface is a
        :class:`ConfigurationError` (Cloudflare's REST API has no Universal Endpoint)."""
        mode = (options.fallback_mode if options is not None else None) or self.default_options.fallback_mode
        if mode == "universal" and targets > 1 and self.config.surface == "rest":
            raise ConfigurationError(
                "fallback_mode='universal' needs the gateway host's Universal Endpoint; the REST surface tries "
                "fallbacks client-side: use fallback_mode='client' or surface='gateway'"
            )
        return mode or DEFAULT_FALLBACK_MODE

    def parse(self, model: Any) -> ModelRef:
        """``model`` parsed as this client's surface names models (any catalog name on REST)."""
        return parse_model(model, surface=self.config.surface)

    # --- provider keys, per target (cfaig._headers.provider_key has the rule) ---------------------

    def call_keys(self, provider_keys: Mapping[str, Any] | None) -> tuple[ProviderKeys, tuple[str, ...]]:
        """The keys a call uses (its own over the configuration's) and the call's own secret values."""
        if not provider_keys:
            return self.config.provider_keys, ()
        if self.config.surface == "rest":
            raise ConfigurationError(
                "the REST surface authenticates with the Cloudflare token only; provider_keys apply on the "
                "gateway host (surface='gateway')"
            )
        own = ProviderKeys.coerce(provider_keys)
        return self.config.provider_keys.merged(own), Secrets(own.secret_values())  # a masked repr

    def authorization(self, url: str, provider: str, primary: str, keys: ProviderKeys) -> dict[str, HeaderValue]:
        """The ``Authorization`` header of one gateway-host target (a request to ``url`` or a Universal step
        whose URL would be ``url``) for a model of ``provider``, when the call's first model is ``primary``'s."""
        slug = url[len(self.gateway_root) + 1 :].partition("/")[0]
        key = provider_key(self.config, provider, primary=primary, keys=keys, workers_ai_route=slug == WORKERS_AI)
        return provider_authorization(key)

    # --- chat ----------------------------------------------------------------------------------

    def chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | None = None,
        fallbacks: Sequence[str] | None = None,
        stream: bool = False,
        endpoint: Endpoint = "unified",
        provider_keys: Mapping[str, Any] | None = None,
    ) -> PreparedRequest:
        if not isinstance(request, Mapping):
            raise ConfigurationError("a chat request is a mapping with at least 'model' and 'messages'")
        refs = [self.parse(request.get("model", ""))]
        refs += [self.parse(model) for model in fallbacks or ()]
        if len({ref.qualified for ref in refs}) != len(refs):
            raise ConfigurationError("fallbacks repeat a model; each step must be a different model")
        mode = self.fallback_mode(options, len(refs))
        body = self._chat_body(request, stream)
        headers = self.headers(options, stream=stream)
        gateway_id = self.config.gateway_id
        keys, secrets = self.call_keys(provider_keys)
        primary = refs[0].provider

        if self.config.surface == "rest":
            if endpoint != "unified":
                raise ConfigurationError("the REST surface has no provider-specific routes; use endpoint='unified'")
            url = f"{self.rest_root}/chat/completions"
            targets = tuple(
                Target(
                    url,
                    headers,
                    _dumps({**adapt_for_provider(body, ref), "model": ref.for_surface("rest")}),
                    ref.qualified,
                    ref.provider,
                )
                for ref in refs
            )
            return PreparedRequest("POST", targets, stream, gateway_id=gateway_id)

        if len(refs) == 1 or mode == "client":  # one target per model, tried in turn by the attempt loop
            direct: list[Target] = []
            for ref in refs:
                url, model = self._gateway_chat_route(ref, endpoint)
                payload = {**adapt_for_provider(body, ref), "model": model}
                auth = self.authorization(url, ref.provider, primary, keys)  # this target's own provider key
                direct.append(Target(url, {**headers, **auth}, _dumps(payload), ref.qualified, ref.provider))
            return PreparedRequest("POST", tuple(direct), stream, gateway_id=gateway_id, secrets=secrets)

        # Universal endpoint: one request, the gateway walks the steps; each step carries its own provider's key.
        steps = []
        for ref in refs:
            url, model = self._gateway_chat_route(ref, endpoint)
            provider, _, path = url[len(self.gateway_root) + 1 :].partition("/")
            steps.append(
                {
                    "provider": provider,
                    "endpoint": path,
                    "headers": step_headers(self.authorization(url, ref.provider, primary, keys)),
                    "query": {**adapt_for_provider(body, ref), "model": model},
                }
            )
        return self.universal(headers, steps, refs, primary, stream=stream, secrets=secrets)

    def universal(
        self,
        headers: dict[str, HeaderValue],
        steps: list[dict[str, Any]],
        refs: Sequence[ModelRef],
        provider: str,
        *,
        stream: bool,
        secrets: tuple[str, ...],
    ) -> PreparedRequest:
        """One Universal-endpoint request of ``steps`` (one per model of ``refs``; each carries its own key)."""
        target = Target(self.gateway_root, headers, _dumps(steps), refs[0].qualified, provider)
        return PreparedRequest(
            "POST",
            (target,),
            stream,
            step_models=tuple(ref.qualified for ref in refs),
            gateway_id=self.config.gateway_id,
            secrets=secrets,
        )

    def probe(self, model: str) -> PreparedRequest:
        """A chat request for ``model``'s route whose body is ``{}``: every gateway refuses it without
        calling a model, and how it refuses tells whether the gateway exists and takes the credentials."""
        prepared = self.chat({"model": model, "messages": [{"role": "user", "content": "ping"}]})
        return dataclasses.replace(prepared, targets=(dataclasses.replace(prepared.targets[0], body=b"{}"),))

    def _gateway_chat_route(self, ref: ModelRef, endpoint: Endpoint) -> tuple[str, str]:
        if endpoint == "unified":
            return f"{self.gateway_root}/compat/chat/completions", ref.qualified
        path = provider_info(ref.provider).chat_path
        if path is None:
            raise ConfigurationError(
                f"provider '{ref.provider}' has no OpenAI-compatible route of its own on the gateway; "
                f"use endpoint='unified' (providers with one: {', '.join(openai_compatible_providers())})"
            )
        return f"{self.gateway_root}/{path}", ref.model

    @staticmethod
    def _chat_body(request: ChatRequest, stream: bool) -> dict[str, Any]:
        messages: Any = request.get("messages")
        if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)) or not messages:
            raise ConfigurationError("messages must be a non-empty list of {'role': ..., 'content': ...} dicts")
        for index, message in enumerate(messages):
            if not isinstance(message, Mapping) or "role" not in message:
                raise ConfigurationError(f"messages[{index}] must be a dict with a 'role'")
        n = request.get("n")
        if n is not None and (not isinstance(n, int) or n < 1):
            raise ConfigurationError("n must be a positive integer")
        body: dict[str, Any] = {key: value for key, value in request.items() if key != "extra_body"}
        body["messages"] = list(messages)
        extra = request.get("extra_body")
        if extra:  # checked here: no call on the common path
            merge_extra_body(body, extra, _RESERVED_BODY_KEYS)
        if stream:
            body["stream"] = True
            options = dict(body.get("stream_options") or {})
            options.setdefault("include_usage", True)
            body["stream_options"] = options
        else:
            body.pop("stream_options", None)
        return body

    # --- embeddings ---------------------------------------------------------------------------

    def embeddings(
        self,
        request: EmbeddingRequest,
        *,
        options: GatewayOptions | None = None,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> PreparedRequest:
        ref = self.parse(request.get("model", ""))
        keys, secrets = self.call_keys(provider_keys)
        texts = request.get("input")
        if isinstance(texts, str):
            if not texts:
                raise ConfigurationError("cannot embed an empty string")
        elif not isinstance(texts, Sequence) or not texts or not all(isinstance(t, str) for t in texts):
            raise ConfigurationError("input must be a string or a non-empty list of strings")
        body: dict[str, Any] = {key: value for key, value in request.items() if key != "extra_body"}
        body.update(request.get("extra_body") or {})
        support = embedding_support(ref)
        if request.get("dimensions") is not None and not support.dimensions:
            raise ConfigurationError(f"provider '{ref.provider}' does not accept dimensions for embeddings")
        count = 1 if isinstance(texts, str) else len(texts)
        if count > support.max_batch:
            raise ConfigurationError(
                f"{count} inputs in one request; '{ref.provider}' takes at most {support.max_batch} "
                "(embed_many batches for you)"
            )
        headers = self.headers(options)
        if self.config.surface == "rest":
            url, model = f"{self.rest_root}/embeddings", ref.for_surface("rest")
        else:
            url, model = f"{self.gateway_root}/{support.path}", ref.model
            headers.update(self.authorization(url, ref.provider, ref.provider, keys))
        body["model"] = model
        target = Target(url, headers, _dumps(body), ref.qualified, ref.provider)
        return PreparedRequest("POST", (target,), gateway_id=self.config.gateway_id, secrets=secrets)

    # --- OpenAI Responses API -------------------------------------------------------------------

    def responses(
        self,
        request: Mapping[str, Any],
        *,
        options: GatewayOptions | None = None,
        fallbacks: Sequence[str] | None = None,
        stream: bool = False,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> PreparedRequest:
        """A Responses API request; built in ``cfaig._responses_request`` (the Responses API's own room)."""
        from cfaig._responses_request import prepare_responses  # imported here: it imports this module

        return prepare_responses(
            self, request, options=options, fallbacks=fallbacks, stream=stream, provider_keys=provider_keys
        )

    # --- log feedback ---------------------------------------------------------------------------

    def feedback(self, log_id: str, fields: Mapping[str, Any]) -> PreparedRequest:
        """``PATCH .../logs/{log_id}`` with the fields of :meth:`GatewayClient.feedback` that are not None."""
        if not isinstance(log_id, str) or not _LOG_ID.fullmatch(log_id):
            raise ConfigurationError("log_id must be the value of a cf-aig-log-id header")
        body = {name: value for name, value in fields.items() if value is not None}
        if not body:
            raise ConfigurationError("give at least one of feedback, score or metadata")
        if body.get("feedback", 1) not in (-1, 1):
            raise ConfigurationError("feedback is 1 (thumbs up) or -1 (thumbs down)")
        if self.config.cf_aig_token is None:
            raise ConfigurationError(
                "log feedback needs a Cloudflare API token with AI Gateway Edit permission in cf_aig_token"
            )
        if self.config.account_id is None:
            raise ConfigurationError(
                "log feedback goes to Cloudflare's API, which needs account_id (env CLOUDFLARE_ACCOUNT_ID) and "
                "gateway_id even when gateway_url names a custom domain"
            )
        if "metadata" in body:
            body["metadata"] = GatewayOptions(metadata=dict(body["metadata"])).metadata
        url = (
            f"{self.config.api_base_url}/accounts/{self.config.account_id}/ai-gateway/gateways/"
            f"{self.config.gateway_id}/logs/{log_id}"
        )
        target = Target(url, management_headers(self.config), _dumps(body), "", "cloudflare")
        return PreparedRequest("PATCH", (target,), gateway_id=self.config.gateway_id)
