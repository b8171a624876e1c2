"""RetryPolicy: which failures are retried and how long to wait. It decides; it never sleeps."""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cfaig import _constants as c
from cfaig._gateway_codes import gateway_code
from cfaig.errors import (
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    IncompleteStreamError,
    MalformedResponseError,
)

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
"""Statuses worth another attempt. 400, 401, 403, 404 and 422 never are."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Client-side retries: connection errors, timeouts, 408, 409, 429 and 5xx (never for a gateway code
    that says retrying cannot help, such as 2009: the gateway token is missing).

    The wait honours ``Retry-After`` (seconds or an HTTP date) up to ``max_retry_after``; otherwise it is
    exponential backoff from ``initial_delay``, capped at ``max_delay``, with up to ``jitter`` of it
    removed at random. The total time slept for one call never exceeds ``budget``.
    """

    max_retries: int = c.DEFAULT_MAX_RETRIES
    initial_delay: float = c.INITIAL_RETRY_DELAY
    max_delay: float = c.MAX_RETRY_DELAY
    max_retry_after: float = c.MAX_RETRY_AFTER
    budget: float = c.RETRY_BUDGET
    jitter: float = c.RETRY_JITTER

    def is_retryable(self, error: GatewayError) -> bool:
        if isinstance(error, (IncompleteStreamError, MalformedResponseError)):
            return False
        known = gateway_code(error.code)
        if known is not None and not known.retries:  # a wrong gateway or credentials stay wrong
            return False
        if error.status_code is None:
            return isinstance(error, (GatewayConnectionError, GatewayTimeoutError))
        return error.status_code in RETRYABLE_STATUSES or error.status_code >= 500

    def backoff(self, retries_done: int) -> float:
        """The capped exponential delay before retry number ``retries_done + 1``, with jitter."""
        delay = min(self.initial_delay * (2.0**retries_done), self.max_delay)
        return delay * (1.0 - self.jitter * random.random())

    def next_delay(self, error: GatewayError, retries_done: int, slept: float) -> float | None:
        """Seconds to wait before trying again, or ``None`` to give up and raise ``error``."""
        if retries_done >= self.max_retries or not self.is_retryable(error):
            return None
        retry_after = error.retry_after
        if retry_after is not None and 0 <= retry_after <= self.max_retry_after:
            delay = retry_after
        else:
            delay = self.backoff(retries_done)
        if slept + delay > self.budget:
            return None
        return delay


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``retry-after`` in seconds, or an HTTP date."""
    raw_ms = headers.get(c.H_RETRY_AFTER_MS)
    if raw_ms:
        seconds = _finite(raw_ms, 1000.0)
        if seconds is not None:
            return seconds
    raw = headers.get(c.H_RETRY_AFTER)
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


def _finite(raw: str, divisor: float) -> float | None:
    """A non-negative finite number of seconds, or None (``nan``, ``inf`` and ``1e400`` are not waits)."""
    try:
        value = float(raw) / divisor
    except ValueError:
        return None
    return max(value, 0.0) if math.isfinite(value) else None
