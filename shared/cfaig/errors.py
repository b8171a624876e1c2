"""The errors every cfaig class raises, and the one place HTTP failures are turned into them.

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
        ├── ServerError               5xx
        │   └── UpstreamTimeoutError  504 (also a GatewayTimeoutError)
        ├── GatewayTimeoutError       no answer in time (client timeout, 408, gateway request timeout)
        ├── GatewayConnectionError    could not connect, connection reset, stream cut
        │   └── IncompleteStreamError a stream that ended before its terminator
        └── MalformedResponseError    a 2xx whose body is not what the protocol promises

Every ``GatewayError`` carries the evidence: ``status_code``, the gateway ``code`` (2009, 2001, ...),
``log_id``, ``provider``, ``request_id``, a plain-words ``hint`` and a short ``body_excerpt``. Credentials
never appear in any of them: headers are not copied into errors and bodies are scrubbed.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import re
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from cfaig._constants import ERROR_EXCERPT_CHARS, H_LOG_ID, H_REQUEST_ID, H_RETRY_AFTER, H_RETRY_AFTER_MS

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
    "ServerError",
    "UpstreamTimeoutError",
    "make_status_error",
    "map_transport_errors",
    "parse_retry_after",
    "scrub",
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


# --- the status table and the documented gateway codes ------------------------------------------

_STATUS_CLASSES: dict[int, type[GatewayError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: GatewayTimeoutError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: BadRequestError,
    424: ContentBlockedError,
    429: RateLimitError,
    504: UpstreamTimeoutError,
}

_BLOCKED_CODES = frozenset({2016, 2017, 2029, 2030})

GATEWAY_CODE_HINTS: dict[int, str] = {
    2001: "gateway '{gateway}' does not exist in this account; create it in the dashboard or use 'default'",
    2003: "the gateway's rate limit was reached; slow down or raise the limit in the gateway settings",
    2009: "this gateway is authenticated: set cf_aig_token (env CF_AIG_TOKEN) to a token with AI Gateway Run "
    "permission; it is sent as cf-aig-authorization",
    2015: "the gateway's request timeout (request_timeout_ms) passed before the provider answered",
    2016: "the prompt was blocked by the gateway's guardrails",
    2017: "the response was blocked by the gateway's guardrails",
    2019: "the unified endpoint needs model='{{provider}}/{{model}}', e.g. 'openai/gpt-5-mini'",
    2021: "Unified Billing has no credits for this; add credits or use your own provider key (BYOK)",
    2029: "the request was blocked by a DLP policy",
    2030: "the response was blocked by a DLP policy",
    2040: "no stored provider key (BYOK) has that alias; check byok_alias",
    2045: "a spend limit of this gateway was exceeded",
    3040: "Workers AI is out of capacity right now; retry later",
    3036: "the daily free Workers AI allocation is used up",
    5007: "Workers AI has no such model; check the @cf/... id",
    7003: "the model was not found, or its input failed validation",
    10000: "the Cloudflare API token is missing or invalid (it needs AI Gateway / Workers AI permissions)",
}

_STATUS_HINTS: dict[int, str] = {
    401: "the provider rejected the key, or the gateway is authenticated and cf_aig_token is missing",
    403: "the token lacks the permission for this request",
    404: "check the account id, the gateway id and the model name",
    429: "rate limited; the client retries with backoff up to max_retries",
}


def make_status_error(
    status_code: int,
    body: bytes | str | None,
    headers: Mapping[str, str] | None = None,
    *,
    provider: str | None = None,
    gateway_id: str | None = None,
    step: int | None = None,
) -> GatewayError:
    """Turn an error status and its body, in any of the three envelope shapes, into a typed error.

    The shapes are the gateway's ``{"success": false, "error": [{"code", "message"}]}``, the Cloudflare
    API's ``{"errors": [...]}``, and a provider's own ``{"error": {...}}`` passed through; a body that is
    not JSON (an HTML error page) keeps only a short excerpt.
    """
    headers = headers or {}
    text = _to_text(body)
    code, message = _parse_error_body(text)
    log_id = headers.get(H_LOG_ID)
    request_id = headers.get(H_REQUEST_ID)
    retry_after = parse_retry_after(headers) if status_code in (429, 503) else None

    cls: type[GatewayError]
    if isinstance(code, int) and code in _BLOCKED_CODES:
        cls = ContentBlockedError
    elif status_code in _STATUS_CLASSES:
        cls = _STATUS_CLASSES[status_code]
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = BadRequestError if status_code >= 400 else MalformedResponseError

    hint = None
    if isinstance(code, int) and code in GATEWAY_CODE_HINTS:
        hint = GATEWAY_CODE_HINTS[code].format(gateway=gateway_id or "?")
    elif status_code in _STATUS_HINTS:
        hint = _STATUS_HINTS[status_code]

    summary = message or _reason(status_code)
    from_gateway = isinstance(code, int) and (code in GATEWAY_CODE_HINTS or 1000 <= code < 11000)
    where = " from the gateway" if from_gateway else (f" from {provider}" if provider else "")
    return cls(
        f"HTTP {status_code}{where}: {summary}",
        status_code=status_code,
        code=code,
        log_id=log_id,
        request_id=request_id,
        provider=provider,
        hint=hint,
        body_excerpt=excerpt(text) if message is None or len(text) > len(message) + 40 else None,
        retry_after=retry_after,
        step=step,
    )


def error_from_stream_event(payload: Mapping[str, Any], *, provider: str | None = None) -> GatewayError:
    """An ``{"error": ...}`` object that arrived inside an SSE stream, mapped like an HTTP error."""
    error = payload.get("error")
    status = 500
    if isinstance(error, Mapping):
        raw_status = error.get("status_code", error.get("code"))
        if isinstance(raw_status, int) and 400 <= raw_status < 600:
            status = raw_status
    return make_status_error(status, json.dumps(payload), provider=provider)


_SECRET_PATTERN = re.compile(r"(?i)(bearer\s+|api[_-]?key[\"'=:\s]+|token[\"'=:\s]+)[A-Za-z0-9._\-~+/=]{6,}")


def scrub(error: GatewayError, secrets: tuple[str, ...]) -> GatewayError:
    """Remove known credential values from everything an error shows (a server may echo a key back)."""
    if not secrets:
        return error
    for name in ("message", "hint", "body_excerpt"):
        value = getattr(error, name)
        if value:
            for secret in secrets:
                value = value.replace(secret, "***")
            setattr(error, name, value)
    error.args = (error.message,)
    return error


def excerpt(text: str, limit: int = ERROR_EXCERPT_CHARS) -> str:
    """A short, single-line, credential-scrubbed excerpt of a response body."""
    flat = " ".join(text.split())
    flat = _SECRET_PATTERN.sub(lambda m: m.group(1) + "***", flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _to_text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body


def _parse_error_body(text: str) -> tuple[int | str | None, str | None]:
    """Find ``(code, message)`` in any known envelope; ``(None, None)`` when the body is not JSON."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    return _code_and_message(data)


def _code_and_message(data: Any) -> tuple[int | str | None, str | None]:
    if isinstance(data, list) and data:  # some gateways answer with a bare list of errors
        return _code_and_message(data[0])
    if not isinstance(data, Mapping):
        return None, None
    for key in ("error", "errors"):  # gateway (singular array), Cloudflare API (plural), provider (object)
        value = data.get(key)
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            value = value[0]
        if isinstance(value, Mapping):
            code = value.get("code", data.get("internalCode"))
            message = value.get("message") or value.get("type")
            return _clean_code(code), _clean_message(message)
        if isinstance(value, str):
            return _clean_code(data.get("code", data.get("internalCode"))), _clean_message(value)
    if "message" in data or "detail" in data:
        return _clean_code(data.get("code") or data.get("internalCode")), _clean_message(
            data.get("message") or data.get("detail")
        )
    return None, None


def _clean_code(code: Any) -> int | str | None:
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code:
        return int(code) if code.isdigit() else code[:80]
    return None


def _clean_message(message: Any) -> str | None:
    if message is None:
        return None
    return excerpt(str(message), 500)


def _reason(status_code: int) -> str:
    try:
        return httpx.codes.get_reason_phrase(status_code) or "error"
    except ValueError:
        return "error"


def _finite(raw: str, divisor: float) -> float | None:
    """A non-negative finite number of seconds, or None (``nan``, ``inf`` and ``1e400`` are not waits)."""
    try:
        value = float(raw) / divisor
    except ValueError:
        return None
    return max(value, 0.0) if math.isfinite(value) else None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``retry-after`` in seconds, or an HTTP date."""
    raw_ms = headers.get(H_RETRY_AFTER_MS)
    if raw_ms:
        seconds = _finite(raw_ms, 1000.0)
        if seconds is not None:
            return seconds
    raw = headers.get(H_RETRY_AFTER)
    if not raw:
        return None
    seconds = _finite(raw, 1.0)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


@contextlib.contextmanager
def map_transport_errors(*, provider: str | None = None, step: int | None = None) -> Iterator[None]:
    """Turn transport failures (httpx's, or aiohttp's on the async path) into ``GatewayTimeoutError`` /
    ``GatewayConnectionError``.

    Wraps both the send and the iteration of a stream, so a connection cut mid-stream surfaces as a
    typed error too.
    """
    try:
        yield
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise GatewayTimeoutError(
            f"no answer in time ({type(exc).__name__})",
            provider=provider,
            step=step,
            hint="raise timeout=..., or set request_timeout_ms to let the gateway give up first",
        ) from exc
    except (httpx.TransportError, httpx.StreamError) as exc:
        raise _connection_error(exc, provider, step) from exc
    except Exception as exc:
        aiohttp = sys.modules.get("aiohttp")  # only loaded when the async client sends on aiohttp
        if aiohttp is not None and isinstance(exc, (aiohttp.ClientError, ConnectionError)):
            raise _connection_error(exc, provider, step) from exc
        raise


def _connection_error(exc: Exception, provider: str | None, step: int | None) -> GatewayConnectionError:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return GatewayConnectionError(
        f"connection failed: {detail}",
        provider=provider,
        step=step,
        hint="check the network and base_url; the request may be retried",
    )
