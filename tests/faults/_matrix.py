"""The fault matrix: every fault, its expected outcome per mode, and how to run one cell.

Used by ``test_fault_matrix.py`` (assertions) and ``matrix_table.py`` (a markdown table of a real run).
Every case runs with ``max_retries=2`` (3 attempts at most) unless it says otherwise.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cfaig import errors
from cfaig.testing import EmulatorServer, Fault
from tests.faults._harness import (
    FALLBACK_MODEL,
    STREAM_MODES,
    CallResult,
    CallSettings,
    Layer,
    Mode,
    closed_port_url,
    fast_retries,
    run_call,
)

MANY = 50
"""``times`` of a fault that does not clear within the retries."""


@dataclass(frozen=True)
class Expect:
    faults: Callable[[], list[Fault]]
    error: type[errors.CfaigError] | None
    attempts: int
    settings: CallSettings = field(default_factory=CallSettings)
    planned_delays: Callable[[list[float]], bool] | None = None
    """A check of the delays the retry policy chose (e.g. that ``Retry-After`` was honoured)."""
    note: str = ""


@dataclass(frozen=True)
class Case:
    name: str
    default: Expect
    nonstream: Expect | None = None
    """The nearest equivalent for ``sync``/``async`` when the fault only exists on streams."""
    refused: bool = False
    """Aim at a closed port instead of the emulator."""

    def expect(self, mode: Mode) -> Expect:
        if self.nonstream is not None and mode not in STREAM_MODES:
            return self.nonstream
        return self.default


def _once(**kwargs: object) -> Callable[[], list[Fault]]:
    return lambda: [Fault(times=1, **kwargs)]  # type: ignore[arg-type]


def _always(**kwargs: object) -> Callable[[], list[Fault]]:
    return lambda: [Fault(times=MANY, **kwargs)]  # type: ignore[arg-type]


def _http_date_now() -> str:
    return email.utils.formatdate(time.time(), usegmt=True)


def _universal(status: int, times: int) -> Callable[[], list[Fault]]:
    return lambda: [Fault(status=status, step=0, times=times), Fault(status=status, step=1, times=times)]


_UNIVERSAL = CallSettings(fallbacks=(FALLBACK_MODEL,), fallback_mode="universal")
_CLIENT = CallSettings(fallbacks=(FALLBACK_MODEL,))  # fallback_mode="client", the default: one request per target
_SLOW = CallSettings(timeout=0.3, max_retries=1)  # one retry: each attempt costs the full 0.3 s
_GATEWAY_TIMEOUT = CallSettings(request_timeout_ms=100)
_RESET_ONCE = Expect(_once(reset=True), None, 2, note="non-stream: nearest equivalent is a reset, retried")

CASES: tuple[Case, ...] = (
    Case("refused", Expect(list, errors.GatewayConnectionError, 3), refused=True),
    Case("reset-once", _RESET_ONCE),
    Case("reset-always", Expect(_always(reset=True), errors.GatewayConnectionError, 3)),
    Case(
        "429-ra0-once",
        Expect(_once(status=429, retry_after="0"), None, 2, planned_delays=lambda d: d == [0.0]),
    ),
    Case(
        "429-ra1-once",
        Expect(_once(status=429, retry_after="1"), None, 2, planned_delays=lambda d: d == [1.0]),
    ),
    Case(
        "429-ra1-always",
        Expect(
            _always(status=429, retry_after="1"), errors.RateLimitError, 3, planned_delays=lambda d: d == [1.0, 1.0]
        ),
    ),
    Case(
        "429-date-once",
        Expect(
            lambda: [Fault(status=429, retry_after=_http_date_now())],
            None,
            2,
            planned_delays=lambda d: len(d) == 1 and 0.0 <= d[0] <= 1.0,
        ),
    ),
    Case(
        "429-date-always",
        Expect(lambda: [Fault(status=429, retry_after=_http_date_now(), times=MANY)], errors.RateLimitError, 3),
    ),
    Case("500-once", Expect(_once(status=500), None, 2)),
    Case("500-always", Expect(_always(status=500), errors.ServerError, 3)),
    Case("502-once", Expect(_once(status=502), None, 2)),
    Case("502-always", Expect(_always(status=502), errors.ServerError, 3)),
    Case("503-once", Expect(_once(status=503), None, 2)),
    Case("503-always", Expect(_always(status=503), errors.ServerError, 3)),
    Case("504-once", Expect(_once(status=504), None, 2)),
    Case("504-always", Expect(_always(status=504), errors.UpstreamTimeoutError, 3)),
    Case("400", Expect(_always(status=400), errors.BadRequestError, 1)),
    Case("401", Expect(_always(status=401), errors.AuthenticationError, 1)),
    Case("403", Expect(_always(status=403), errors.PermissionDeniedError, 1)),
    Case("404", Expect(_always(status=404), errors.NotFoundError, 1)),
    Case("422", Expect(_always(status=422), errors.BadRequestError, 1)),
    Case("slow-once", Expect(_once(status=200, delay=1.0), None, 2, settings=_SLOW)),
    Case("slow-always", Expect(_always(status=200, delay=1.0), errors.GatewayTimeoutError, 2, settings=_SLOW)),
    Case("stream-cut", Expect(_once(cut_after=2), errors.GatewayConnectionError, 1), nonstream=_RESET_ONCE),
    Case(
        "sse-malformed",
        Expect(_once(malformed_after=1), errors.MalformedResponseError, 1),
        nonstream=Expect(
            _once(status=200, body="{not json", content_type="application/json"),
            errors.MalformedResponseError,
            1,
            note="non-stream: nearest equivalent is a 200 whose JSON body does not parse",
        ),
    ),
    Case(
        "200-html",
        Expect(
            _once(status=200, body="<html><body>Captive portal</body></html>", content_type="text/html"),
            errors.MalformedResponseError,
            1,
        ),
    ),
    Case(
        "200-missing-fields",
        Expect(_once(status=200, body={"id": "x", "object": "chat.completion"}), errors.MalformedResponseError, 1),
    ),
    Case("gw-timeout-once", Expect(_once(status=200, delay=0.5), None, 2, settings=_GATEWAY_TIMEOUT)),
    Case(
        "gw-timeout-always",
        Expect(_always(status=200, delay=0.5), errors.UpstreamTimeoutError, 3, settings=_GATEWAY_TIMEOUT),
    ),
    Case("universal-500-once", Expect(_universal(500, 1), None, 2, settings=_UNIVERSAL)),
    Case("universal-500-always", Expect(_universal(500, MANY), errors.ServerError, 3, settings=_UNIVERSAL)),
    Case("universal-400-always", Expect(_universal(400, MANY), errors.BadRequestError, 1, settings=_UNIVERSAL)),
    # client-side fallbacks: a target's retries first, then the next target; a 400 goes to the next at once
    Case("client-400-once", Expect(_once(status=400), None, 2, settings=_CLIENT)),
    Case("client-500-always", Expect(_always(status=500), errors.ServerError, 6, settings=_CLIENT)),
)


@dataclass
class CellResult:
    call: CallResult
    recorded: int
    """Requests the emulator recorded (0 for a refused connection)."""
    planned: list[float]


def run_cell(case: Case, layer: Layer, mode: Mode, server: EmulatorServer) -> CellResult:
    """Run one (fault, mode, layer) cell on the server's freshly reset emulator."""
    expect = case.expect(mode)
    emulator = server.emulator
    emulator.reset()
    for fault in expect.faults():
        emulator.inject(fault)
    base_url = closed_port_url() if case.refused else server.base_url
    with fast_retries() as recorder:
        call = run_call(layer, mode, base_url, expect.settings)
    recorded = len(emulator.requests)
    emulator.reset()
    return CellResult(call=call, recorded=recorded, planned=recorder.planned)
