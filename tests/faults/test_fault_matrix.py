"""Fault x mode x layer: the outcome (text or exact cfaig error class) and the attempts made.

The table of cases is in ``_matrix.py``; ``python -m tests.faults.matrix_table`` prints it from a run.
"""

from __future__ import annotations

import pytest

from cfaig import RetryPolicy, errors
from cfaig.testing import EmulatorServer
from tests.faults._harness import EXPECTED_TEXT, LAYERS, MODES, STREAM_MODES, Layer, Mode
from tests.faults._matrix import CASES, Case, run_cell


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_fault(case: Case, mode: Mode, layer: Layer, cfaig_gateway: EmulatorServer) -> None:
    expect = case.expect(mode)
    cell = run_cell(case, layer, mode, cfaig_gateway)
    call = cell.call

    if expect.error is None:
        assert call.error is None, f"expected success, got {call.error!r}"
        assert call.text is not None and EXPECTED_TEXT in call.text
    else:
        assert type(call.error) is expect.error, f"expected {expect.error.__name__}, got {call.error!r}"

    assert call.attempts == expect.attempts, "attempts counted from the core's retry log"
    assert cell.recorded == (0 if case.refused else expect.attempts), "attempts recorded by the emulator"
    if expect.planned_delays is not None:
        assert expect.planned_delays(cell.planned), f"retry delays chosen: {cell.planned}"


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("mode", sorted(STREAM_MODES))
def test_a_stream_that_yielded_output_is_never_retried(mode: Mode, layer: Layer, cfaig_gateway: EmulatorServer) -> None:
    """The consumer sees the chunks that arrived, then the error; the server saw exactly one request."""
    cut = next(case for case in CASES if case.name == "stream-cut")
    cell = run_cell(cut, layer, mode, cfaig_gateway)
    assert cell.call.chunks >= 1
    assert isinstance(cell.call.error, errors.GatewayConnectionError)
    assert cell.recorded == 1


def test_universal_error_names_the_provider_of_the_failing_step(
    cfaig_gateway: EmulatorServer,
) -> None:
    universal = next(case for case in CASES if case.name == "universal-500-always")
    cell = run_cell(universal, "core", "sync", cfaig_gateway)
    error = cell.call.error
    assert isinstance(error, errors.ServerError)
    assert error.step == 1
    assert error.provider == "anthropic"


# --- the retry budget, decided without any clock --------------------------------------------------


def _server_error(retry_after: float | None = None) -> errors.ServerError:
    return errors.ServerError("HTTP 503", status_code=503, retry_after=retry_after)


def test_retry_time_is_bounded_by_the_budget() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=1.0, max_delay=4.0, budget=10.0, jitter=0.0)
    slept, retries = 0.0, 0
    while (delay := policy.next_delay(_server_error(), retries, slept)) is not None:
        slept += delay
        retries += 1
    assert slept <= policy.budget
    assert retries < policy.max_retries  # the budget, not the count, stopped it
    assert policy.next_delay(_server_error(), 0, policy.budget) is None


def test_retry_after_counts_against_the_budget() -> None:
    policy = RetryPolicy(max_retries=5, budget=30.0, max_retry_after=60.0)
    assert policy.next_delay(_server_error(retry_after=20.0), 0, 0.0) == 20.0
    assert policy.next_delay(_server_error(retry_after=20.0), 1, 20.0) is None


def test_an_overlong_retry_after_falls_back_to_capped_backoff() -> None:
    policy = RetryPolicy(max_retries=2, initial_delay=0.5, max_delay=8.0, max_retry_after=60.0, jitter=0.0)
    assert policy.next_delay(_server_error(retry_after=3600.0), 0, 0.0) == 0.5


def test_the_worst_case_total_with_default_settings_is_bounded() -> None:
    policy = RetryPolicy(max_retries=10, jitter=0.0)
    slept = 0.0
    for retries in range(policy.max_retries + 1):
        delay = policy.next_delay(_server_error(retry_after=policy.max_retry_after), retries, slept)
        if delay is None:
            break
        slept += delay
    assert slept <= policy.budget
