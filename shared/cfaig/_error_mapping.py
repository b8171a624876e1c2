"""The one place failures become typed errors: HTTP statuses and their bodies, stream error events, transports.

Statuses pick the class (``_STATUS_CLASSES``), the gateway's documented codes add the hint
(``_gateway_codes``), and every excerpt of a body is scrubbed of credentials (``_redact``).
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from collections.abc import Iterator, Mapping
from typing import Any, Final

import httpx

from cfaig._constants import H_LOG_ID, H_REQUEST_ID
from cfaig._gateway_codes import gateway_code
from cfaig._redact import excerpt, scrub
from cfaig._response import small_int
from cfaig._retry import parse_retry_after
from cfaig.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentBlockedError,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    MalformedResponseError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    ResponseTooLargeError,
    ServerError,
    SpendLimitError,
    UnexpectedRedirectError,
    UpstreamTimeoutError,
)

__all__ = [
    "deadline_error",
    "error_from_stream_event",
    "make_status_error",
    "map_transport_errors",
    "too_large_error",
]

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

_STATUS_HINTS: dict[int, str] = {
    401: "the provider rejected the key, or the gateway is authenticated and cf_aig_token is missing",
    403: "the token lacks the permission for this request, or a gateway policy blocked it ('Access denied by "
    "policy'): check the gateway's policies",
    404: "check the account id, the gateway id and the model name",
    429: "rate limited; the client retries with backoff up to max_retries",
}
"""Hints by status when the body has no documented code. 403: a token's permission, or a policy block
(https://developers.cloudflare.com/ai-gateway/features/policies/)."""

_SPEND_LIMIT_MESSAGES: tuple[str, ...] = ("spending limit exceeded", "spend limit exceeded")
"""A 429 whose message starts so is a spend limit even without code 2045: the policies page shows
``{"success": false, "error": {"message": "Spending limit exceeded"}}``
(https://developers.cloudflare.com/ai-gateway/features/policies/)."""
_SPEND_LIMIT_CODE = 2045


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
    if 300 <= status_code < 400:
        return _redirect_error(status_code, text, headers, provider=provider, step=step)
    code, message = _parse_error_body(text)
    known = gateway_code(code)

    cls: type[GatewayError]
    spend_limit = status_code == 429 and (
        (known is not None and known.spend_limit)
        or (message is not None and message.strip().lower().startswith(_SPEND_LIMIT_MESSAGES))
    )
    if known is not None and known.blocked:
        cls = ContentBlockedError
    elif spend_limit:
        cls = SpendLimitError
    elif status_code in _STATUS_CLASSES:
        cls = _STATUS_CLASSES[status_code]
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = BadRequestError if status_code >= 400 else MalformedResponseError

    if spend_limit and known is None:
        known = gateway_code(_SPEND_LIMIT_CODE)
    if known is not None:
        hint: str | None = known.hint.format(gateway=gateway_id or "?")
    else:
        hint = _STATUS_HINTS.get(status_code)

    summary = message or _reason(status_code)
    from_gateway = known is not None or (isinstance(code, int) and 1000 <= code < 11000)
    where = " from the gateway" if from_gateway else (f" from {provider}" if provider else "")
    return cls(
        f"HTTP {status_code}{where}: {summary}",
        status_code=status_code,
        code=code,
        log_id=headers.get(H_LOG_ID),
        request_id=headers.get(H_REQUEST_ID),
        provider=provider,
        hint=hint,
        body_excerpt=excerpt(text) if message is None or len(text) > len(message) + 40 else None,
        retry_after=parse_retry_after(headers) if status_code in (429, 503) else None,
        step=step,
    )


def _redirect_error(
    status_code: int, text: str, headers: Mapping[str, str], *, provider: str | None, step: int | None
) -> UnexpectedRedirectError:
    """A 3xx: gateway requests never follow one, since the request's credentials would go along."""
    raw = headers.get("location")
    location = excerpt(raw, 500) if raw else None
    error = UnexpectedRedirectError(
        f"HTTP {status_code} redirect to {location or '(no Location header)'} not followed",
        status_code=status_code,
        log_id=headers.get(H_LOG_ID),
        request_id=headers.get(H_REQUEST_ID),
        provider=provider,
        hint="gateway requests never follow redirects (the credentials would go along): check base_url, "
        "and any proxy between you and the gateway",
        body_excerpt=excerpt(text) if text.strip() else None,
        step=step,
    )
    error.location = location
    return error


def error_from_stream_event(payload: Mapping[str, Any], *, provider: str | None = None) -> GatewayError:
    """An ``{"error": ...}`` object that arrived inside an SSE stream, mapped like an HTTP error."""
    error = payload.get("error")
    status = 500
    if isinstance(error, Mapping):
        raw_status = error.get("status_code", error.get("code"))
        if isinstance(raw_status, int) and 400 <= raw_status < 600:
            status = raw_status
    return make_status_error(status, json.dumps(payload), provider=provider)


# --- the three envelope shapes ---------------------------------------------------------------------


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
        number = small_int(code, 9)
        return number if number is not None else code[:80]
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


# --- transports ------------------------------------------------------------------------------------


@contextlib.contextmanager
def map_transport_errors(
    *, provider: str | None = None, step: int | None = None, secrets: tuple[str, ...] = ()
) -> Iterator[None]:
    """The boundary every failure of a call leaves through: typed, and scrubbed of ``secrets``.

    Transport failures (httpx's, or aiohttp's on the async path) become ``GatewayTimeoutError`` /
    ``GatewayConnectionError``; every :class:`GatewayError`, raised inside (a status error, a malformed
    2xx body, a stream's error event, an embeddings or Responses answer) or made here, has the client's
    known credentials removed (:func:`~cfaig._redact.scrub`), since a proxy or an echo service may send
    them back. The clients wrap the send, the read and the parse of every call in it, and the streams
    their whole iteration, so a connection cut mid-stream surfaces typed and scrubbed too.
    """
    try:
        yield
    except GatewayError as error:
        scrub(error, secrets)  # in place: the error keeps its traceback and cause
        raise
    except Exception as exc:
        mapped = _transport_error(exc, provider, step)
        if mapped is None:
            raise
        # The transport's own frames below this boundary (httpx/httpcore, aiohttp's writer) keep the request's
        # bytes and header dicts as locals, which error trackers capture: clear them. The cause keeps its type,
        # message and every file and line; only finished frames are cleared (running ones are skipped).
        _clear_transport_frames(exc)
        raise scrub(mapped, secrets) from exc


_TRANSPORT_MODULES: Final = ("httpx", "httpcore", "aiohttp", "h11", "anyio", "asyncio", "ssl", "socket")


def _clear_transport_frames(exc: BaseException) -> None:
    """Clear the locals of ``exc``'s finished frames, and of the transport errors it chains (aiohttp wraps the
    write error that holds the request bytes), each once. The chain is followed only through transport errors:
    an exception of the caller's own that was being handled when the call failed keeps its locals."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if current is not exc and not (
            isinstance(current, OSError) or type(current).__module__.partition(".")[0] in _TRANSPORT_MODULES
        ):
            continue
        traceback.clear_frames(current.__traceback__)
        pending += [current.__cause__, current.__context__]


def _transport_error(exc: Exception, provider: str | None, step: int | None) -> GatewayError | None:
    """``exc`` as a typed error when it is a transport failure (None for anything else)."""
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return GatewayTimeoutError(
            f"no answer in time ({type(exc).__name__})",
            provider=provider,
            step=step,
            hint="raise timeout=..., or set request_timeout_ms to let the gateway give up first",
        )
    if isinstance(exc, httpx.DecodingError):  # a RequestError, but neither a TransportError nor a StreamError
        return GatewayConnectionError(
            f"connection failed: the response body could not be decoded ({exc})",
            provider=provider,
            step=step,
            hint="its Content-Encoding (gzip, deflate, ...) is corrupt: something between you and the gateway "
            "garbled it; the request may be retried",
        )
    if isinstance(exc, (httpx.TransportError, httpx.StreamError)):
        return _connection_error(exc, provider, step)
    aiohttp = sys.modules.get("aiohttp")  # only loaded when the async client sends on aiohttp
    if aiohttp is not None and isinstance(exc, (aiohttp.ClientError, ConnectionError)):
        return _connection_error(exc, provider, step)
    return None


def deadline_error(setting: str, seconds: float) -> GatewayTimeoutError:
    """The ``timeout`` of a whole non-streaming request, or the ``stream_timeout`` of a whole stream, ran out."""
    if setting == "stream_timeout":
        return GatewayTimeoutError(
            f"the stream did not end within stream_timeout={seconds:g} s",
            hint="stream_timeout bounds a whole stream: raise it, or leave it unset (timeout still bounds every "
            "wait between bytes)",
        )
    return GatewayTimeoutError(
        f"no complete answer within timeout={seconds:g} s",
        hint="timeout bounds a whole non-streaming request, connect to last byte (each attempt): raise it, or set "
        "request_timeout_ms to let the gateway give up first",
    )


def too_large_error(limit: int, status_code: int | None = None) -> ResponseTooLargeError:
    """An answer passed ``max_response_bytes`` (counted after decompression); reading stopped there."""
    return ResponseTooLargeError(
        f"the answer is larger than max_response_bytes={limit}; reading stopped there",
        status_code=status_code,
        hint="raise max_response_bytes if answers this large are expected",
    )


def _connection_error(exc: Exception, provider: str | None, step: int | None) -> GatewayConnectionError:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return GatewayConnectionError(
        f"connection failed: {detail}",
        provider=provider,
        step=step,
        hint="check the network and base_url; the request may be retried",
    )
