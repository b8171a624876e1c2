"""The Universal Endpoint: steps tried in order, gateway-side retries, step faults (_universal)."""

from __future__ import annotations

import httpx

from cfaig.testing import (
    Fault,
    GatewayEmulator,
)
from tests.core.testing.helpers import universal_steps


def test_universal_first_step_serves(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    response = gw.post("", json=universal_steps())
    assert response.status_code == 200
    assert response.headers["cf-aig-step"] == "0"
    assert response.json()["result"]["response"].endswith("You said: What is Cloudflare?")
    assert emulator.requests[-1].route == "universal"


def test_universal_fallback_and_all_fail(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=500, step=0))
    fallback = gw.post("", json=universal_steps())
    assert fallback.headers["cf-aig-step"] == "1"
    assert fallback.json()["object"] == "chat.completion"
    emulator.inject(Fault(status=503, match="/workers-ai/"))
    emulator.inject(Fault(status=429, match="/openai/"))
    compat = gw.post("", json=universal_steps())
    assert compat.headers["cf-aig-step"] == "2"
    assert compat.json()["model"] == "claude-haiku-4-5"
    for index, status in enumerate([500, 502, 418]):
        emulator.inject(Fault(status=status, step=index))
    failed = gw.post("", json=universal_steps())
    assert failed.status_code == 418
    assert failed.headers["cf-aig-step"] == "2"
    assert emulator.logs[failed.headers["cf-aig-log-id"]]["step"] == 2


def test_universal_whole_request_fault_and_retries(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=429))
    limited = gw.post("", json=universal_steps())
    assert limited.status_code == 429
    assert limited.json()["internalCode"] == 2003
    steps = universal_steps()
    steps[0]["config"] = {"maxAttempts": 2, "retryDelay": 10, "backoff": "constant"}
    emulator.inject(Fault(status=503, step=0))
    retried = gw.post("", json=steps)
    assert retried.headers["cf-aig-step"] == "0"
    bad = gw.post("", json={"not": "steps"})
    assert bad.status_code == 400


def test_universal_step_headers_take_precedence(gw: httpx.Client) -> None:
    steps = universal_steps()[:1]
    outer = {"cf-aig-cache-ttl": "300"}
    assert gw.post("", json=steps, headers=outer).headers["cf-aig-cache-status"] == "MISS"
    assert gw.post("", json=steps, headers=outer).headers["cf-aig-cache-status"] == "HIT"
    steps[0]["headers"]["cf-aig-skip-cache"] = "true"
    assert gw.post("", json=steps, headers=outer).headers["cf-aig-cache-status"] == "MISS"


def test_universal_step_timeout_falls_back(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    steps = universal_steps()
    steps[0]["config"] = {"requestTimeout": 20}
    emulator.inject(Fault(status=200, delay=5.0, step=0))
    response = gw.post("", json=steps)
    assert response.headers["cf-aig-step"] == "1"  # step 0 gave up after its requestTimeout
