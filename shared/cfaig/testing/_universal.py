"""The Universal Endpoint: a JSON array of provider steps tried in order, with each step's gateway-side retries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from pydantic_core import to_json

from ._faults import ConsumeQueue, add_fault_headers, fault_prelude, path_matches
from ._pipeline import Attempt, Context, Flow, Reply, envelope_reply, is_streaming, pause, timeout_seconds
from ._routes import UNIVERSAL_ROUTE, gateway_route
from ._types import CODE_BAD_REQUEST, CODE_ROUTE_NOT_FOUND, Fault

ServeAttempt = Callable[[Context, Attempt, "Fault | None"], Flow[Reply]]
"""Serve one attempt at a model route (with its fault, if one matched)."""

_BAD_STEPS: Final = "Universal requests must be a non-empty JSON array of {provider, endpoint, headers, query} steps"


def universal(ctx: Context, faults: ConsumeQueue[Fault], serve: ServeAttempt) -> Flow[Reply]:
    """Try each step until one answers below 400 (a reset counts as a failure); the reply names its step."""
    steps = ctx.record.json
    if isinstance(steps, dict):
        steps = [steps]
    if not _valid_steps(steps):
        return envelope_reply(ctx.surface, 400, CODE_BAD_REQUEST, _BAD_STEPS)
    path = ctx.inc.path
    outer = faults.take(lambda f: f.step is None and not f.affects_stream and path_matches(f, path))
    if outer is not None:
        early = yield from fault_prelude(ctx.surface, UNIVERSAL_ROUTE, outer, timeout_seconds(ctx.inc.headers))
        if early is not None:
            return early
    reply = Reply()
    for index, step in enumerate(steps):
        reply = yield from _run_step(ctx, index, step, faults, serve)
        reply.step = index
        if not reply.reset and reply.status < 400:
            break
    if outer is not None:
        add_fault_headers(reply, outer)
    return reply


def _valid_steps(steps: Any) -> bool:
    return (
        isinstance(steps, list)
        and bool(steps)
        and all(
            isinstance(s, dict) and isinstance(s.get("provider"), str) and isinstance(s.get("endpoint"), str)
            for s in steps
        )
    )


@dataclass(frozen=True, slots=True)
class _StepConfig:
    """A step's ``config``: attempts, the delay between them and its backoff, and its request timeout."""

    attempts: int
    retry_delay: float
    backoff: str
    timeout: float | None

    @classmethod
    def read(cls, raw: Any) -> _StepConfig:
        config: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return cls(
            attempts=_int_setting(config.get("maxAttempts"), default=1, low=1, high=5),
            retry_delay=_int_setting(config.get("retryDelay"), default=0, low=0, high=5000) / 1000,
            backoff=str(config.get("backoff", "constant")),
            timeout=_int_setting(config.get("requestTimeout"), default=0, low=0, high=10**9) / 1000 or None,
        )

    def delay(self, attempt: int) -> float:
        factor = {"linear": attempt, "exponential": 2 ** (attempt - 1)}.get(self.backoff, 1)
        return float(self.retry_delay * factor)


def _run_step(
    ctx: Context, index: int, step: dict[str, Any], faults: ConsumeQueue[Fault], serve: ServeAttempt
) -> Flow[Reply]:
    endpoint = str(step["endpoint"]).lstrip("/").split("?", 1)[0].strip("/")
    sub = f"{step['provider']}/{endpoint}"
    step_path = f"{ctx.inc.path.rstrip('/')}/{sub}"
    route = gateway_route(sub)
    if route is None or route.kind == "universal":
        return envelope_reply(ctx.surface, 404, CODE_ROUTE_NOT_FOUND, f"No provider route for '{sub}'")
    raw_headers = step.get("headers")
    headers = dict(ctx.inc.headers)
    if isinstance(raw_headers, dict):
        headers.update({str(k).lower(): str(v) for k, v in raw_headers.items()})
    query = step.get("query")
    body_bytes = to_json(query) if query is not None else b""
    config = _StepConfig.read(step.get("config"))
    streaming = is_streaming(query)
    attempt = Attempt(route, headers, body_bytes, query, cache_path=sub, timeout=config.timeout)
    reply = Reply()
    for number in range(config.attempts):
        if number:
            yield from pause(config.delay(number))
        fault = faults.take(
            lambda f: (
                (f.step is None or f.step == index)
                and path_matches(f, step_path)
                and (streaming or not f.affects_stream)
            )
        )
        reply = yield from serve(ctx, attempt, fault)
        retryable = reply.reset or reply.status in (408, 429) or reply.status >= 500
        if not retryable:
            break
    return reply


def _int_setting(raw: Any, *, default: int, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return default
    return int(min(max(raw, low), high))
