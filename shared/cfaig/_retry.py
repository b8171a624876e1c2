"""RetryPolicy: which failures are retried and how long to wait. It decides; it never sleeps."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cfaig import _constants as c
from cfaig.errors import (
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    IncompleteStreamError,
    MalformedResponseError,
)

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy"]

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
"""Statuses worth another attempt. 400, 401, 403, 404 and 422 never are."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Client-side retries: connection errors, timeouts, 408, 409, 429 and 5xx.

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
