"""Issue 11 part 5: ``default_headers``, OpenTelemetry trace propagation and Workers AI session affinity.

Every header is built in ``cfaig._headers``; these tests read what the emulator received, sync and async.
The OTel tests use a fake ``opentelemetry.trace`` module (the real ``opentelemetry-api`` is an optional extra,
``cfaig-core[otel]``, and is not installed in the test environment): cfaig only calls ``get_current_span()``
and reads ``get_span_context()``'s ``trace_id``, ``span_id`` and ``is_valid``, which the fake provides.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cfaig import GatewayClient, GatewayOptions
from cfaig import _headers as headers_module
from cfaig.errors import ConfigurationError
from cfaig.testing import Fault
from cfaig.types import ChatRequest
from tests.core.conftest import Driver, user

MODEL = "openai/gpt-5-mini"
TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7


def _chat(model: str = MODEL) -> ChatRequest:
    return {"model": model, "messages": user()}


# --- default_headers ---------------------------------------------------------------------------------


def test_default_headers_go_on_every_request_and_a_call_merges_its_own(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(options={"default_headers": {"X-Team": "search", "X-Trace": "client"}})
    driver.call("chat", _chat(), options={"default_headers": {"x-trace": "call"}})
    sent = driver.emu.requests[-1].headers
    assert (sent["x-team"], sent["x-trace"]) == ("search", "call")
    driver.call("embed", {"model": "workers-ai/@cf/baai/bge-base-en-v1.5", "input": ["a"]})
    driver.call("responses", {"model": MODEL, "input": "hi"})
    driver.stream(_chat())
    assert all(r.headers["x-team"] == "search" for r in driver.emu.requests)
    assert all(r.headers["x-trace"] == "client" for r in driver.emu.requests[1:])


def test_default_headers_reach_the_universal_request(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(options={"default_headers": {"X-Team": "search"}, "fallback_mode": "universal"})
    driver.emu.inject(Fault(status=503, step=0))
    driver.call("chat", _chat(), fallbacks=["anthropic/claude-sonnet-4-5"])
    [request] = driver.emu.requests
    assert request.headers["x-team"] == "search"


@pytest.mark.parametrize(
    "name", ["Authorization", "authorization", "AUTHORIZATION", "cf-aig-authorization", "CF-AIG-Authorization"]
)
def test_default_headers_may_not_set_credentials(make_driver: Callable[..., Driver], name: str) -> None:
    with pytest.raises(ConfigurationError, match="credentials") as info:
        GatewayClient(account_id="acct", options={"default_headers": {name: "Bearer sk-secret"}})
    assert "sk-secret" not in str(info.value)
    driver = make_driver()
    with pytest.raises(ConfigurationError, match="may not set"):
        driver.call("chat", _chat(), options={"default_headers": {name: "Bearer sk-secret"}})
    assert driver.emu.requests == []


@pytest.mark.parametrize(
    "bad", [{"X-Bad": "two\r\nlines"}, {"bad name": "x"}, {"X-Empty": ""}, {"X-Number": 3}, ["X-Team"]]
)
def test_malformed_default_headers_are_configuration_errors(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="default_headers"):
        GatewayOptions(default_headers=bad)


def test_the_library_owned_headers_win_over_default_headers(driver: Driver) -> None:
    extra = {"content-type": "text/plain", "cf-aig-cache-ttl": "120", "cf-aig-skip-cache": "true"}
    driver.call("chat", _chat(), options={"default_headers": extra, "cache_ttl": 300})
    sent = driver.emu.requests[-1].headers
    assert sent["content-type"] == "application/json"
    assert sent["cf-aig-cache-ttl"] == "300"  # the typed option wins
    assert sent["cf-aig-skip-cache"] == "true"  # no typed option: the extra header is sent


# --- session affinity -----------------------------------------------------------------------------------


def test_session_affinity_is_the_workers_ai_header(driver: Driver) -> None:
    driver.call("chat", _chat("workers-ai/@cf/meta/llama-3.1-8b-instruct"), options={"session_affinity": "conv-42"})
    assert driver.emu.requests[-1].headers["x-session-affinity"] == "conv-42"
    driver.call("chat", _chat("workers-ai/@cf/meta/llama-3.1-8b-instruct"))
    assert "x-session-affinity" not in driver.emu.requests[-1].headers
    with pytest.raises(ConfigurationError, match="session_affinity"):
        GatewayOptions(session_affinity="two\nlines")


# --- OpenTelemetry ----------------------------------------------------------------------------------------


@dataclass
class _Context:
    trace_id: int
    span_id: int
    is_valid: bool = True


@dataclass
class _Span:
    context: _Context

    def get_span_context(self) -> _Context:
        return self.context


@pytest.fixture
def current_span(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Span]:
    """A fake ``opentelemetry.trace`` whose current span is the yielded one (change its context at will)."""
    span = _Span(_Context(TRACE_ID, SPAN_ID))
    trace = types.ModuleType("opentelemetry.trace")
    trace.get_current_span = lambda: span  # type: ignore[attr-defined]
    package = types.ModuleType("opentelemetry")
    package.trace = trace  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "opentelemetry", package)
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", trace)
    headers_module._otel_trace.cache_clear()
    yield span
    headers_module._otel_trace.cache_clear()


def test_trace_headers_come_from_the_current_span(driver: Driver, current_span: _Span) -> None:
    driver.call("chat", _chat())
    sent = driver.emu.requests[-1].headers
    assert sent["cf-aig-otel-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert sent["cf-aig-otel-parent-span-id"] == "00f067aa0ba902b7"
    driver.stream(_chat())
    assert driver.emu.requests[-1].headers["cf-aig-otel-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_trace_headers_go_on_the_rest_surface_and_the_universal_request(
    make_driver: Callable[..., Driver], current_span: _Span
) -> None:
    """Docs silent on whether they are honoured there; what cfaig chose: sent on every request."""
    rest = make_driver(surface="rest")
    rest.call("chat", _chat())
    assert rest.emu.requests[-1].headers["cf-aig-otel-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    rest.emu.reset()
    universal = make_driver(options={"fallback_mode": "universal"})
    universal.call("chat", _chat(), fallbacks=["anthropic/claude-sonnet-4-5"])
    [request] = universal.emu.requests
    assert isinstance(request.json, list)  # the Universal request: its outer headers carry the trace
    assert request.headers["cf-aig-otel-parent-span-id"] == "00f067aa0ba902b7"


def test_no_trace_headers_without_a_valid_span_or_when_turned_off(driver: Driver, current_span: _Span) -> None:
    driver.call("chat", _chat(), options={"trace_propagation": False})
    assert "cf-aig-otel-trace-id" not in driver.emu.requests[-1].headers
    current_span.context = _Context(0, 0, is_valid=False)
    driver.call("chat", _chat())
    assert "cf-aig-otel-trace-id" not in driver.emu.requests[-1].headers
    assert "cf-aig-otel-parent-span-id" not in driver.emu.requests[-1].headers


def test_explicit_trace_ids_win_over_the_span(driver: Driver, current_span: _Span) -> None:
    ids = {"otel_trace_id": "A" * 32, "otel_parent_span_id": "b" * 16}
    driver.call("chat", _chat(), options=ids)
    sent = driver.emu.requests[-1].headers
    assert (sent["cf-aig-otel-trace-id"], sent["cf-aig-otel-parent-span-id"]) == ("a" * 32, "b" * 16)


def test_without_opentelemetry_no_trace_headers(driver: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # an import of it raises ImportError
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)
    headers_module._otel_trace.cache_clear()
    try:
        driver.call("chat", _chat())
    finally:
        headers_module._otel_trace.cache_clear()
    assert not any(name.startswith("cf-aig-otel") for name in driver.emu.requests[-1].headers)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("otel_trace_id", "abc"),
        ("otel_trace_id", "0" * 32),
        ("otel_parent_span_id", "g" * 16),
        ("otel_parent_span_id", "a" * 32),
    ],
)
def test_malformed_trace_ids_are_configuration_errors(field: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        GatewayOptions(**{field: value})


def test_a_credential_in_default_headers_is_masked_in_the_options_repr() -> None:
    options = GatewayOptions(default_headers={"cf-access-token": "eyJ-access-jwt", "X-Team": "search"})
    assert "eyJ-access-jwt" not in repr(options)
    assert "search" in repr(options)
