"""Retries and fallbacks: which failures are tried again, how long to wait, and the attempts of one call.

:class:`RetryPolicy` decides and never sleeps. :func:`attempts` is the plan both clients follow: it
yields each :class:`Attempt` (a target to send, after an optional wait) and is sent back the error of
the one that failed; it raises the last error when no attempt is left. The clients only send, sleep and
return the first success, so the sync and async paths differ by ``await`` alone.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from cfaig._constants import (
    DEFAULT_MAX_RETRIES,
    H_RETRY_AFTER,
    H_RETRY_AFTER_MS,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRY_BUDGET,
    RETRY_JITTER,
)
from cfaig._gateway_codes import gateway_code
from cfaig._logging import logger
from cfaig.errors import (
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    IncompleteStreamError,
    MalformedResponseError,
    SpendLimitError,
)

if TYPE_CHECKING:
    from cfaig._request import PreparedRequest, Target

__all__ = ["RETRYABLE_STATUSES", "Attempt", "AttemptFlow", "RetryPolicy", "attempts", "parse_retry_after"]

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

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER
    budget: float = RETRY_BUDGET
    jitter: float = RETRY_JITTER

    def is_retryable(self, error: GatewayError) -> bool:
        if isinstance(error, (IncompleteStreamError, MalformedResponseError, SpendLimitError)):
            return False  # SpendLimitError: no retry succeeds before the limit's window resets
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


class Attempt(NamedTuple):
    """One send of one call: which target, at which fallback step, after how long a wait."""

    target: Target
    step: int
    """Index of the target in ``PreparedRequest.targets`` (the client-side fallback step)."""
    wait: float | None = None
    """Seconds to sleep first (a retry); ``None``: send now (a first try, or the next fallback)."""


AttemptFlow = Generator[Attempt, GatewayError, NoReturn]
"""Yields the next attempt; is sent the error of the attempt that failed; raises the last error."""


def attempts(prepared: PreparedRequest, policy: RetryPolicy) -> AttemptFlow:
    """The attempts of one call: retries of each target as ``policy`` allows, then the next target
    (client-side fallback on the REST surface), unless the error says no other model can help.

    The caller sends each attempt and stops at the first success; on a failure it sends the error in
    and gets the next attempt back, or that error raised when nothing is left to try.
    """
    slept = 0.0
    last = len(prepared.targets) - 1
    for step, target in enumerate(prepared.targets):
        error = yield Attempt(target, step)
        retries = 0
        while (delay := policy.next_delay(error, retries, slept)) is not None:
            logger.debug(
                "retrying %s in %.2fs (retry %d of %d) after %s",
                target.served_by,
                delay,
                retries + 1,
                policy.max_retries,
                type(error).__name__,
            )
            slept += delay
            retries += 1
            error = yield Attempt(target, step, wait=delay)
        known = gateway_code(error.code)
        if step == last or (known is not None and not known.falls_back):  # the same for every step
            raise error
        logger.info("%s failed (%s); falling back to %s", target.served_by, error, prepared.targets[step + 1].served_by)
    raise AssertionError("unreachable: a prepared request has at least one target")


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


def _finite(raw: str, divisor: float) -> float | None:
    """A non-negative finite number of seconds, or None (``nan``, ``inf`` and ``1e400`` are not waits)."""
    try:
        value = float(raw) / divisor
    except ValueError:
        return None
    return max(value, 0.0) if math.isfinite(value) else None
