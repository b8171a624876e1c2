"""Part 6: the retry policy decides what is retried and how long to wait; it never sleeps itself."""

from __future__ import annotations

import json

import pytest

from cfaig import RetryPolicy
from cfaig._error_mapping import make_status_error
from cfaig.errors import (
    GatewayConnectionError,
    GatewayTimeoutError,
    IncompleteStreamError,
    MalformedResponseError,
)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses(status: int) -> None:
    assert RetryPolicy().is_retryable(make_status_error(status, b""))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 424])
def test_never_retried_statuses(status: int) -> None:
    policy = RetryPolicy()
    assert not policy.is_retryable(make_status_error(status, b""))
    assert policy.next_delay(make_status_error(status, b""), 0, 0.0) is None


def test_transport_failures_retry_but_broken_streams_do_not() -> None:
    policy = RetryPolicy()
    assert policy.is_retryable(GatewayConnectionError("reset"))
    assert policy.is_retryable(GatewayTimeoutError("slow"))
    assert not policy.is_retryable(IncompleteStreamError("cut"))
    assert not policy.is_retryable(MalformedResponseError("html"))


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_delay=4.0, jitter=0.25)
    error = make_status_error(503, b"")
    delays = [policy.next_delay(error, n, 0.0) for n in range(6)]
    for n, delay in enumerate(delays):
        assert delay is not None
        ceiling = min(0.5 * 2**n, 4.0)
        assert ceiling * 0.75 <= delay <= ceiling


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert policy.next_delay(make_status_error(429, b"", {"retry-after": "7"}), 0, 0.0) == 7.0
    long_wait = policy.next_delay(make_status_error(429, b"", {"retry-after": "600"}), 0, 0.0)
    assert long_wait is not None
    assert long_wait <= policy.max_delay


def test_max_retries_and_budget_bound_the_total() -> None:
    policy = RetryPolicy(max_retries=2, budget=10.0)
    error = make_status_error(429, b"", {"retry-after": "6"})
    assert policy.next_delay(error, 2, 0.0) is None
    assert policy.next_delay(error, 1, 6.0) is None  # 6 + 6 > 10
    assert RetryPolicy(max_retries=0).next_delay(make_status_error(503, b""), 0, 0.0) is None


@pytest.mark.parametrize("code", [2001, 2009, 10000])
def test_a_wrong_gateway_or_credentials_is_never_retried(code: int) -> None:
    body = json.dumps({"success": False, "error": [{"code": code, "message": "no"}]}).encode()
    assert not RetryPolicy().is_retryable(make_status_error(503, body))
    assert RetryPolicy().is_retryable(make_status_error(503, b""))
