"""The errors every cfaig class raises: the class tree (the mapping from HTTP is ``_error_mapping``).

::

    CfaigError
    ├── ConfigurationError            bad settings or input, raised before any request (also a ValueError)
    └── GatewayError                  anything the gateway, a provider or the network did
        ├── BadRequestError           400, 422
        │   └── ContentBlockedError   424 guardrails, 400 with DLP codes 2029/2030
        ├── AuthenticationError       401
        ├── PaymentRequiredError      402 (Unified Billing credits, code 2021)
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── ConflictError             409
        ├── RequestTooLargeError      413
        ├── RateLimitError            429 (``retry_after`` in seconds when the server said)
        │   └── SpendLimitError       429 of a spend limit or budget (code 2045): never retried client-side
        ├── ServerError               5xx
        │   └── UpstreamTimeoutError  504 (also a GatewayTimeoutError)
        ├── GatewayTimeoutError       no answer in time (client timeout, 408, gateway request timeout)
        ├── GatewayConnectionError    could not connect, connection reset, stream cut
        │   └── IncompleteStreamError a stream that ended before its terminator
        ├── UnexpectedRedirectError   a 3xx: redirects are never followed (they would carry credentials)
        └── MalformedResponseError    a 2xx whose body is not what the protocol promises
            └── ResponseTooLargeError an answer larger than ``max_response_bytes``

Every ``GatewayError`` carries the evidence: ``status_code``, the gateway ``code`` (2009, 2001, ...),
``log_id``, ``provider``, ``request_id``, a plain-words ``hint`` and a short ``body_excerpt``. Credentials
never appear in any of them: headers are not copied into errors and bodies are scrubbed.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "CfaigError",
    "ConfigurationError",
    "ConflictError",
    "ContentBlockedError",
    "GatewayConnectionError",
    "GatewayError",
    "GatewayTimeoutError",
    "IncompleteStreamError",
    "MalformedResponseError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "ResponseTooLargeError",
    "ServerError",
    "SpendLimitError",
    "UnexpectedRedirectError",
    "UpstreamTimeoutError",
]


class CfaigError(Exception):
    """Base class of every error raised by cfaig and its framework integrations."""


class ConfigurationError(CfaigError, ValueError):
    """Settings or input that cannot work; raised before any request is sent."""


class GatewayError(CfaigError):
    """A request reached (or tried to reach) the gateway and did not succeed."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: int | str | None = None,
        log_id: str | None = None,
        request_id: str | None = None,
        provider: str | None = None,
        hint: str | None = None,
        body_excerpt: str | None = None,
        retry_after: float | None = None,
        step: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.log_id = log_id
        self.request_id = request_id
        self.provider = provider
        self.hint = hint
        self.body_excerpt = body_excerpt
        self.retry_after = retry_after
        self.step = step

    def __str__(self) -> str:
        parts = [self.message]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        details = [
            f"{name}={value}"
            for name, value in (
                ("status", self.status_code),
                ("code", self.code),
                ("provider", self.provider),
                ("log_id", self.log_id),
                ("step", self.step),
            )
            if value is not None
        ]
        if details:
            parts.append("(" + ", ".join(details) + ")")
        if self.body_excerpt:
            parts.append(f"body: {self.body_excerpt}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r}, code={self.code!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.message, dict(self.__dict__)))


def _rebuild_error(cls: type[GatewayError], message: str, state: dict[str, Any]) -> GatewayError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class BadRequestError(GatewayError):
    """400 or 422: the request was refused as malformed or invalid."""


class ContentBlockedError(BadRequestError):
    """Guardrails (424, codes 2016/2017) or DLP (400, codes 2029/2030) blocked the prompt or answer."""


class AuthenticationError(GatewayError):
    """401: the gateway token or the provider key was missing or rejected."""


class PaymentRequiredError(GatewayError):
    """402: Unified Billing has no credits for this request (code 2021)."""


class PermissionDeniedError(GatewayError):
    """403: the credentials are valid but not allowed to do this."""


class NotFoundError(GatewayError):
    """404: no such route, model or log entry."""


class ConflictError(GatewayError):
    """409: the request conflicts with the current state; retried."""


class RequestTooLargeError(GatewayError):
    """413: the body is larger than the gateway or provider accepts."""


class RateLimitError(GatewayError):
    """429: a gateway rate or spend limit, or the provider's own limit."""


class SpendLimitError(RateLimitError):
    """429 of a gateway spend limit or budget (code 2045, or the policy's "Spending limit exceeded"): not
    retried client-side, as no retry can succeed before the limit's window resets; a fallback to a model the
    limit does not cover still runs. https://developers.cloudflare.com/ai-gateway/features/spend-limits/"""


class ServerError(GatewayError):
    """5xx: the gateway or the provider failed."""


class GatewayTimeoutError(GatewayError):
    """No answer in time: the client timeout, a 408, or the gateway's ``cf-aig-request-timeout``."""


class UpstreamTimeoutError(ServerError, GatewayTimeoutError):
    """504: the gateway gave up waiting for the provider."""


class GatewayConnectionError(GatewayError):
    """The connection could not be made, was reset, or broke while a stream was being read."""


class IncompleteStreamError(GatewayConnectionError):
    """A stream that ended before its ``[DONE]`` terminator: never a short "complete" answer."""


class MalformedResponseError(GatewayError):
    """A success status whose body is not what the protocol promises (HTML, missing fields, bad JSON)."""


class ResponseTooLargeError(MalformedResponseError):
    """An answer whose body (after decompression; a stream's bytes in total) exceeds ``max_response_bytes``.
    Reading stops at the limit; not retried."""


class UnexpectedRedirectError(GatewayError):
    """A 3xx answer. Gateway requests never follow redirects, since the request's credentials would go to
    the new location: ``status_code`` and ``location`` say where the server pointed. Not retried."""

    location: str | None = None
