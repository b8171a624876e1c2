"""Redaction: the one place that decides what is a credential and how it is masked (standard library only).

Every error (through the one boundary in ``_error_mapping``), log line, ``cfaig doctor`` output and
cassette passes through here: credential headers by
name (:data:`SENSITIVE_HEADERS`), known secret values (:func:`scrub`), and anything that looks like a
bearer token or an API key in free text (:func:`excerpt`, :func:`redact_log_text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from cfaig._constants import ERROR_EXCERPT_CHARS

if TYPE_CHECKING:
    from cfaig.errors import GatewayError

__all__ = [
    "HEADER_MASK",
    "SENSITIVE_HEADERS",
    "SETTING_MASK",
    "VALUE_MASK",
    "Secrets",
    "excerpt",
    "is_secret_setting",
    "redact_headers",
    "redact_log_text",
    "scrub",
]

SENSITIVE_HEADERS: Final = frozenset(
    {
        "authorization",
        "cf-aig-authorization",
        "x-api-key",
        "x-goog-api-key",
        "api-key",
        "proxy-authorization",
        # Cloudflare Access in front of a custom domain, sent through default_headers: the user's JWT, and a
        # service token's secret (https://developers.cloudflare.com/ai-gateway/configuration/cloudflare-access/)
        "cf-access-token",
        "cf-access-client-secret",
    }
)
"""Header names whose values are credentials: redacted in logs, errors, ``cfaig doctor`` and cassettes."""

HEADER_MASK: Final = "**********"
"""What a credential header's value, or a bearer token in a log line, is replaced by."""
VALUE_MASK: Final = "***"
"""What a secret found inside an error's text (a known value, or a key-shaped token) is replaced by."""
SETTING_MASK: Final = "********"
"""What ``cfaig doctor`` shows for a secret setting or environment variable."""

_SECRET_IN_TEXT = re.compile(r"(?i)(bearer\s+|api[_-]?key[\"'=:\s]+|token[\"'=:\s]+)[A-Za-z0-9._\-~+/=]{6,}")
_HEADER_IN_LOG = re.compile(
    r"(?i)((?:" + "|".join(re.escape(name) for name in sorted(SENSITIVE_HEADERS)) + r")['\"]?\s*[:=,]\s*['\"]?)"
    r"(?:bearer\s+)?[^\s'\",}]+"
)
_BEARER_IN_LOG = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]{4,}")


class Secrets(tuple[str, ...]):
    """A client's credential values, for :func:`scrub`; the repr masks them (error trackers capture the
    locals of the frames an error passed, and this tuple is an argument of the error boundary)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Secrets({len(self)} masked)"


def redact_headers(headers: Mapping[str, object]) -> dict[str, str]:
    """A copy with every credential header's value replaced, for logs and error reports."""
    return {name: (HEADER_MASK if name.lower() in SENSITIVE_HEADERS else str(value)) for name, value in headers.items()}


def is_secret_setting(name: str) -> bool:
    """Whether a setting or environment variable holds a credential (``cf_aig_token``, ``api_key``, ...)."""
    lowered = name.lower()
    return "token" in lowered or "key" in lowered


def excerpt(text: str, limit: int = ERROR_EXCERPT_CHARS) -> str:
    """A short, single-line, credential-scrubbed excerpt of a response body."""
    flat = " ".join(text.split())
    flat = _SECRET_IN_TEXT.sub(lambda m: m.group(1) + VALUE_MASK, flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def scrub(error: GatewayError, secrets: tuple[str, ...]) -> GatewayError:
    """Remove known credential values from everything an error shows (a server may echo a key back).

    Called once, by the boundary every failure leaves a call through
    (:func:`cfaig._error_mapping.map_transport_errors`). An excerpt cut off inside a secret loses the
    cut prefix too.
    """
    if not secrets:
        return error
    for name in ("message", "hint", "body_excerpt"):
        value = getattr(error, name)
        if value:
            for secret in secrets:
                value = _mask_cut_prefix(value.replace(secret, VALUE_MASK), secret)
            setattr(error, name, value)
    error.args = (error.message,)
    return error


def _mask_cut_prefix(text: str, secret: str) -> str:
    """``text`` without a prefix of ``secret`` (4+ characters) where an excerpt was cut ("…")."""
    head = text[:-1] if text.endswith("…") else text
    for length in range(min(len(secret) - 1, len(head)), 3, -1):
        if head.endswith(secret[:length]):
            return head[:-length] + VALUE_MASK + text[len(head) :]
    return text


def redact_log_text(message: str) -> str:
    """A log message with credential header values and bearer tokens masked."""
    return _BEARER_IN_LOG.sub(r"\1" + HEADER_MASK, _HEADER_IN_LOG.sub(r"\1" + HEADER_MASK, message))
