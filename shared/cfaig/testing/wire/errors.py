"""Error wire formats: provider error bodies per family, the gateway and Cloudflare API envelopes, HTML pages."""

from __future__ import annotations

import http
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from pydantic_core import to_json

from ..fake.types import ErrorStyle

_STATUS_MESSAGES: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "Invalid request",
        401: "Invalid authentication credentials",
        403: "Permission denied",
        404: "Not found",
        408: "Request timed out",
        409: "Conflict",
        413: "Request too large",
        422: "Unprocessable request",
        429: "Rate limit reached for requests",
        500: "The server had an error while processing your request",
        502: "Bad gateway",
        503: "The service is temporarily overloaded, please try again later",
        504: "Gateway timeout",
        529: "Overloaded",
    }
)
_OPENAI_TYPES: Final[Mapping[int, str]] = MappingProxyType(
    {
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        408: "timeout_error",
        409: "conflict_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }
)
_ANTHROPIC_TYPES: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        529: "overloaded_error",
    }
)
_GOOGLE_STATUS: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        409: "ABORTED",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    }
)
_CLOUDFLARE_CODES: Final[Mapping[int, int]] = MappingProxyType(
    {400: 5006, 401: 10000, 404: 3042, 408: 3007, 413: 3006, 429: 3040, 500: 3043, 503: 3040}
)


def status_message(status: int) -> str:
    """A realistic default error message for an HTTP status."""
    if status in _STATUS_MESSAGES:
        return _STATUS_MESSAGES[status]
    return "Invalid request" if status < 500 else "Upstream error"


def provider_error_body(
    style: ErrorStyle,
    status: int,
    message: str | None = None,
    *,
    param: str | None = None,
    code: int | str | None = None,
) -> dict[str, Any]:
    """Render a provider error body in one of the :data:`ErrorStyle` families.

    ``code`` overrides the numeric code of the Cloudflare v4 envelope; a string is an OpenAI error's ``code``.
    """
    text = message if message is not None else status_message(status)
    if style == "google":
        return {
            "error": {
                "code": status,
                "message": text,
                "status": _GOOGLE_STATUS.get(status, "INVALID_ARGUMENT" if status < 500 else "INTERNAL"),
            }
        }
    if style == "anthropic":
        kind = _ANTHROPIC_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
        return {"type": "error", "error": {"type": kind, "message": text}}
    if style == "cloudflare":
        number = code if isinstance(code, int) else _CLOUDFLARE_CODES.get(status, 5006 if status < 500 else 3043)
        return {"result": None, "success": False, "errors": [{"code": number, "message": text}], "messages": []}
    kind = _OPENAI_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": text, "type": kind, "param": param, "code": code if isinstance(code, str) else None}}


def gateway_envelope(status: int, code: int, message: str) -> bytes:
    """The gateway host's own error body (``AiGatewayError``)."""
    return to_json(
        {
            "success": False,
            "error": [{"code": code, "message": message}],
            "name": "AiGatewayError",
            "httpCode": status,
            "internalCode": code,
        }
    )


def api_envelope(code: int, message: str) -> bytes:
    """A Cloudflare v4 API error envelope."""
    return to_json({"result": None, "success": False, "errors": [{"code": code, "message": message}], "messages": []})


def api_success(result: Any) -> bytes:
    """A Cloudflare v4 API success envelope around ``result``."""
    return to_json({"result": result, "success": True, "errors": [], "messages": []})


def html_page(status: int) -> bytes:
    """An HTML page as Cloudflare's edge serves it: an error page, or a challenge page for a 2xx/3xx."""
    if status < 400:
        title = "Just a moment..."
        text = "Checking your connection before reaching the gateway (cfaig emulator: simulated HTML page)."
    else:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        title = f"{status} {phrase}"
        text = f"<center><h1>{title}</h1></center><hr><center>cloudflare</center>"
    return f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body>{text}</body></html>\n".encode()
