"""The I/O-free half both clients share: configuration, request preparation, and reading answers and errors.

:class:`~cfaig._client.GatewayClient` and :class:`~cfaig._client.AsyncGatewayClient` add only the I/O
(send, sleep, read, close); everything here runs the same for both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import httpx

from cfaig._constants import H_STEP
from cfaig._error_mapping import make_status_error, map_transport_errors
from cfaig._logging import setup_from_env
from cfaig._redact import SENSITIVE_HEADERS, Secrets
from cfaig._request import Endpoint, PreparedRequest, RequestBuilder, RequestPreview, Target
from cfaig._response import parse_embeddings, parse_meta, small_int
from cfaig._retry import RetryPolicy
from cfaig._streaming import StreamDecoder
from cfaig._transports._httpx import gateway_headers
from cfaig._transports._limits import Budget
from cfaig.config import GatewayConfig, check_stream_timeout
from cfaig.errors import ConfigurationError, GatewayError
from cfaig.model_ref import parse_model
from cfaig.options import GatewayOptions
from cfaig.providers import embedding_support
from cfaig.types import ChatRequest, EmbeddingRequest, EmbeddingResponse, GatewayMeta

__all__ = ["BaseClient"]

_T = TypeVar("_T")


class BaseClient:
    """Configuration, default options, the retry policy and the request builder of one client."""

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
        **config_fields: Any,
    ) -> None:
        if config is not None and config_fields:
            raise ConfigurationError("pass either config=GatewayConfig(...) or its fields, not both")
        self.config = config if config is not None else GatewayConfig(**config_fields)
        self.options = GatewayOptions.coerce(options) or GatewayOptions()
        self.retry_policy = retry_policy or RetryPolicy(max_retries=self.config.max_retries)
        self._builder = RequestBuilder(self.config, self.options)
        access = [  # Cloudflare Access credentials the client's default_headers carry
            value for name, value in (self.options.default_headers or {}).items() if name.lower() in SENSITIVE_HEADERS
        ]
        self._secrets = Secrets(
            [
                *(
                    secret.get_secret_value()
                    for secret in (self.config.cf_aig_token, self.config.api_key)
                    if secret is not None
                ),
                *self.config.provider_keys.secret_values(),
                *access,
            ]
        )
        setup_from_env()

    def __repr__(self) -> str:
        cfg = self.config
        return (
            f"{type(self).__name__}(account_id={cfg.account_id!r}, gateway_id={cfg.gateway_id!r}, "
            f"surface={cfg.surface!r}, base_url={self._root!r})"
        )

    def _attempt_budget(self) -> Budget:
        """One attempt of a non-streaming request: ``timeout`` for all of it, ``max_response_bytes``."""
        return Budget.start(self.config.max_response_bytes, self.config.timeout, "timeout")

    def _stream_budget(self, stream_timeout: float | None) -> Budget:
        """A whole stream, from this call: ``stream_timeout`` (the call's, else the config's), if any."""
        seconds = check_stream_timeout(stream_timeout)
        if seconds is None:
            seconds = self.config.stream_timeout
        return Budget.start(self.config.max_response_bytes, seconds, "stream_timeout")

    @property
    def _root(self) -> str:
        """Where requests go: the REST API's root, a custom domain, or the gateway host's root."""
        cfg = self.config
        return cfg.api_base_url if cfg.surface == "rest" else cfg.gateway_url or cfg.base_url

    # pure preparation, shared by both clients
    def _prepare_chat(
        self,
        request: ChatRequest,
        options: GatewayOptions | Mapping[str, Any] | None,
        fallbacks: Sequence[str] | None,
        stream: bool,
        endpoint: Endpoint,
        provider_keys: Mapping[str, Any] | None = None,
    ) -> PreparedRequest:
        return self._builder.chat(
            request,
            options=GatewayOptions.coerce(options),
            fallbacks=fallbacks,
            stream=stream,
            endpoint=endpoint,
            provider_keys=provider_keys,
        )

    def describe_chat(
        self,
        request: ChatRequest,
        *,
        options: GatewayOptions | Mapping[str, Any] | None = None,
        fallbacks: Sequence[str] | None = None,
        endpoint: Endpoint = "unified",
        provider_keys: Mapping[str, Any] | None = None,
    ) -> RequestPreview:
        """Where :meth:`chat` would send ``request`` and with which headers, credentials masked; no I/O.

        Raises the same :class:`ConfigurationError` ``chat`` would, before any request.
        """
        return self._prepare_chat(request, options, fallbacks, False, endpoint, provider_keys).preview()

    @staticmethod
    def _embedding_batches(
        model: str,
        texts: Sequence[str],
        batch_size: int | None,
        dimensions: int | None,
        encoding_format: Literal["float", "base64"] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> list[EmbeddingRequest]:
        """One request per batch: ``batch_size`` texts (clamped to the provider's limit), in input order."""
        if isinstance(texts, str):
            raise ConfigurationError("texts must be a list of strings (use embed() for one text)")
        support = embedding_support(model)
        if batch_size is not None and batch_size < 1:
            raise ConfigurationError("batch_size must be at least 1")
        size = min(batch_size or support.max_batch, support.max_batch)
        if encoding_format is None and support.base64:
            encoding_format = "base64"  # smaller and cheaper to decode than float JSON; the core decodes it
        requests: list[EmbeddingRequest] = []
        for start in range(0, len(texts), size):
            request: EmbeddingRequest = {"model": model, "input": list(texts[start : start + size])}
            if dimensions is not None:
                request["dimensions"] = dimensions
            if encoding_format is not None:
                request["encoding_format"] = encoding_format
            if extra_body:
                request["extra_body"] = extra_body
            requests.append(request)
        return requests

    @staticmethod
    def _embeddings_parser(request: EmbeddingRequest) -> Callable[[bytes, str, GatewayMeta], EmbeddingResponse]:
        """``parse_embeddings`` checking the answer against the number of inputs of ``request`` (validated)."""
        texts = request["input"]
        return functools.partial(parse_embeddings, expected=1 if isinstance(texts, str) else len(texts))

    @staticmethod
    def _meta(response: httpx.Response, prepared: PreparedRequest, step: int) -> tuple[GatewayMeta, str]:
        """What the gateway reported, and the content type, from one pass over the response headers."""
        headers = gateway_headers(response.headers)
        meta = parse_meta(
            headers,
            response.status_code,
            requested=prepared.targets[step].served_by,
            step_models=prepared.step_models,
            client_step=step if len(prepared.targets) > 1 else None,
        )
        return meta, headers.get("content-type", "")

    def _parse(
        self,
        parse: Callable[[bytes, str, GatewayMeta], _T],
        body: bytes,
        response: httpx.Response,
        prepared: PreparedRequest,
        step: int,
    ) -> _T:
        meta, content_type = self._meta(response, prepared, step)
        with map_transport_errors(secrets=self.secrets_for(prepared)):  # a 2xx body may echo a key: scrubbed there
            return parse(body, content_type, meta)

    def _error(
        self, response: httpx.Response, body: bytes, target: Target, prepared: PreparedRequest, attempt_step: int = 0
    ) -> GatewayError:
        provider = target.provider
        if len(prepared.targets) > 1:  # a client-side fallback: the step is the target's, whatever the gateway says
            step: int | None = attempt_step
        else:
            step = small_int(response.headers.get(H_STEP))
            if step is not None and step < len(
                prepared.step_models
            ):  # a Universal request: the step names the provider
                provider = parse_model(prepared.step_models[step]).provider
        # raised by the caller through map_transport_errors, which scrubs it
        return make_status_error(
            response.status_code,
            body,
            response.headers,
            provider=provider,
            gateway_id=prepared.gateway_id,
            step=step,
        )

    def _decoder(self, response: httpx.Response, prepared: PreparedRequest, step: int) -> StreamDecoder:
        meta, _ = self._meta(response, prepared, step)
        return StreamDecoder(meta, provider=prepared.targets[step].provider, secrets=self.secrets_for(prepared))

    def secrets_for(self, prepared: PreparedRequest) -> Secrets:
        """Every credential value a request may carry (the configuration's and the call's own keys), to
        scrub from what its errors show (masked in a repr, like the client's own)."""
        return Secrets((*self._secrets, *prepared.secrets)) if prepared.secrets else self._secrets

    def _probe_answer(
        self, outcome: httpx.Response | GatewayError, prepared: PreparedRequest
    ) -> GatewayMeta | GatewayError:
        """What :meth:`GatewayClient.probe` returns for the probe's outcome (its body was read already)."""
        if not isinstance(outcome, GatewayError):
            return self._meta(outcome, prepared, 0)[0]
        if outcome.status_code is None:  # no answer at all: the network, not the gateway
            raise outcome
        return outcome
