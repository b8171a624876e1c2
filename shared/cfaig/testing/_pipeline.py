"""The request pipeline's vocabulary and its drivers: incoming request, reply, the I/O actions, the run loops.

The pipeline (:meth:`GatewayEmulator.process`) is written once, as a generator that yields the only
two things that need I/O -- :class:`Pause` and :class:`Forward` (to the upstream) -- and returns the
final :class:`Reply`.  :func:`run_sync` and :func:`run_async` drive it for the in-process transport;
the loopback server drives it with :func:`run_async` after answering I/O-free requests inline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic_core import from_json

from ._routes import Route
from ._types import GatewaySettings, RecordedRequest
from ._upstream import AsyncUpstream, Forward, Forwarded, SyncUpstream, forward_sync
from .wire.common import JSON_TYPE
from .wire.errors import api_envelope, gateway_envelope

T = TypeVar("T")
Surface = Literal["gateway", "rest"]


@dataclass(slots=True)
class Incoming:
    """One request as the drivers hand it to the pipeline (header names lower-cased, repeats joined)."""

    method: str
    path: str
    query: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Pause:
    """The pipeline's request to its driver: wait this many seconds, then resume it with None."""

    seconds: float


Action = Pause | Forward
Flow = Generator[Action, "Forwarded | None", T]
"""A pipeline step: yields actions, is resumed with their results, returns a ``T``."""


@dataclass(slots=True)
class Reply:
    """The pipeline's answer: a body or SSE events (possibly cut), a reset, or an upstream stream."""

    status: int = 200
    content_type: str | None = JSON_TYPE
    body: bytes = b""
    events: list[bytes] | None = None
    terminator: bytes | None = None
    cut: bool = False
    reset: bool = False
    upstream: SyncUpstream | AsyncUpstream | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    cache_status: str | None = None
    step: int = 0
    provider: str | None = None
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None

    def header_list(self) -> list[tuple[str, str]]:
        """All response headers, content type first."""
        if self.content_type is None:
            return list(self.headers)
        return [("content-type", self.content_type), *self.headers]

    def chunks(self) -> list[bytes]:
        """The SSE byte chunks to send (events plus terminator)."""
        events = list(self.events or [])
        if self.terminator is not None and not self.cut:
            events.append(self.terminator)
        return events


@dataclass(slots=True)
class Context:
    """One request on its way through the pipeline: where it came in and which gateway serves it."""

    inc: Incoming
    record: RecordedRequest
    surface: Surface
    gateway_id: str | None
    settings: GatewaySettings | None
    proxied: bool
    started: float
    params: tuple[str, ...] = ()


@dataclass(slots=True)
class Attempt:
    """One attempt at a model route: the request itself, or one try of one Universal step."""

    route: Route
    headers: Mapping[str, str]
    body_bytes: bytes
    body: Any
    cache_path: str
    timeout: float | None = None
    """Seconds the gateway waits (a step's ``requestTimeout``); None: the ``cf-aig-request-timeout`` header."""

    @property
    def effective_timeout(self) -> float | None:
        return self.timeout if self.timeout is not None else timeout_seconds(self.headers)


class GatewayRefusalError(Exception):
    """An error the gateway itself answers (rendered per surface)."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def envelope_reply(surface: str, status: int, code: int, message: str) -> Reply:
    """The gateway's own error: the gateway-host envelope, or the Cloudflare API's on the REST surface."""
    body = gateway_envelope(status, code, message) if surface == "gateway" else api_envelope(code, message)
    return Reply(status=status, body=body)


def pause(seconds: float) -> Flow[None]:
    """Ask the driver to wait (nothing when ``seconds`` is not positive)."""
    if seconds > 0:
        yield Pause(seconds)


def forward(action: Forward) -> Flow[Forwarded]:
    """Ask the driver to forward to the upstream; returns what it answered."""
    result = yield action
    if not isinstance(result, Forwarded):
        raise TypeError("driver must answer a forward action with a Forwarded result")
    return result


def step(flow: Flow[Reply], value: Forwarded | None) -> Action | Reply:
    """Resume ``flow`` with ``value``: its next action, or its reply when it is done."""
    try:
        return flow.send(value)
    except StopIteration as stop:
        reply: Reply = stop.value
        return reply


def run_sync(flow: Flow[Reply]) -> Reply:
    """Drive a pipeline synchronously (pauses block with :func:`time.sleep`)."""
    outcome = step(flow, None)
    while not isinstance(outcome, Reply):
        if isinstance(outcome, Pause):
            time.sleep(outcome.seconds)
            outcome = step(flow, None)
        else:
            outcome = step(flow, forward_sync(outcome))
    return outcome


async def run_async(
    flow: Flow[Reply],
    forwarder: Callable[[Forward], Awaitable[Forwarded]],
    outcome: Action | Reply | None = None,
) -> Reply:
    """Drive a pipeline on the running event loop, from ``outcome`` (its first step when None).

    The flow is closed when this is cancelled or fails.
    """
    try:
        if outcome is None:
            outcome = step(flow, None)
        while not isinstance(outcome, Reply):
            if isinstance(outcome, Pause):
                await asyncio.sleep(outcome.seconds)
                outcome = step(flow, None)
            else:
                outcome = step(flow, await forwarder(outcome))
    except BaseException:
        flow.close()
        raise
    return outcome


def parse_json(body: bytes) -> Any:
    """A JSON body, or None when it is empty or not JSON."""
    if not body:
        return None
    try:
        return from_json(body)
    except ValueError:
        return None


def header_flag(headers: Mapping[str, str], *names: str) -> bool | None:
    """The first of ``names`` present, read as a boolean (``true``, any case), or None."""
    for name in names:
        value = headers.get(name)
        if value is not None:
            return value.strip().lower() == "true"
    return None


def timeout_seconds(headers: Mapping[str, str]) -> float | None:
    """``cf-aig-request-timeout`` (milliseconds) in seconds; None when absent, invalid or not positive."""
    raw = headers.get("cf-aig-request-timeout")
    if raw is None:
        return None
    try:
        millis = float(raw)
    except ValueError:
        return None
    return millis / 1000 if millis > 0 else None


def is_streaming(body: Any) -> bool:
    """Whether a request body asks for a stream (``"stream": true``)."""
    return isinstance(body, dict) and body.get("stream") is True
