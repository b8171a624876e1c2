"""Issue 11 part 4: ``fallback_mode="client" | "universal"`` for chat, streams and the Responses API.

``client`` (the default) sends each target in turn inside the core's one attempt loop, each to its own route;
``universal`` sends one request to the deprecated Universal Endpoint. Both report the step that served
(``.gateway.step``, ``.gateway.served_by``). Each test runs sync and async on the emulator.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cfaig.errors import BadRequestError, ConfigurationError
from cfaig.testing import EMULATOR_ACCOUNT_ID, Fault
from cfaig.types import ChatRequest
from tests.core.conftest import Driver, user

MODEL = "openai/gpt-5-mini"
FALLBACK = "anthropic/claude-sonnet-4-5"
ROOT = f"/v1/{EMULATOR_ACCOUNT_ID}/default"


def _chat(model: str = MODEL) -> ChatRequest:
    return {"model": model, "messages": user()}


def test_client_mode_is_the_default_and_tries_each_target_in_turn(driver: Driver) -> None:
    driver.emu.inject(Fault(status=400, match="/compat/"))  # not retryable: the next model is tried
    completion = driver.call("chat", _chat(), fallbacks=[FALLBACK])
    assert completion.gateway.step == 1
    assert completion.gateway.served_by == FALLBACK
    assert [r.path for r in driver.emu.requests] == [f"{ROOT}/compat/chat/completions"] * 2
    assert [r.json["model"] for r in driver.emu.requests] == [MODEL, FALLBACK]


def test_client_mode_retries_a_target_before_the_next_one(driver: Driver) -> None:
    driver.emu.inject(Fault(status=503, times=3))  # the primary's try and both retries
    completion = driver.call("chat", _chat(), fallbacks=[FALLBACK])
    assert [r.json["model"] for r in driver.emu.requests] == [MODEL, MODEL, MODEL, FALLBACK]
    assert completion.gateway.step == 1


def test_client_mode_sends_each_target_to_its_own_provider_route(driver: Driver) -> None:
    driver.emu.inject(Fault(status=400))
    completion = driver.call("chat", _chat(), fallbacks=["groq/llama-3.3-70b-versatile"], endpoint="provider")
    assert [r.path for r in driver.emu.requests] == [f"{ROOT}/openai/chat/completions", f"{ROOT}/groq/chat/completions"]
    assert [r.json["model"] for r in driver.emu.requests] == ["gpt-5-mini", "llama-3.3-70b-versatile"]
    assert completion.gateway.served_by == "groq/llama-3.3-70b-versatile"


def test_client_mode_every_target_failing_raises_the_last_error_with_its_step(driver: Driver) -> None:
    driver.emu.inject(Fault(status=400, times=2))
    with pytest.raises(BadRequestError) as info:
        driver.call("chat", _chat(), fallbacks=[FALLBACK])
    assert info.value.step == 1
    assert info.value.provider == "anthropic"


def test_client_mode_stream_reports_the_step(driver: Driver) -> None:
    driver.emu.inject(Fault(status=400))
    _, stream = driver.stream(_chat(), fallbacks=[FALLBACK])
    assert stream.meta.step == 1
    assert stream.meta.served_by == FALLBACK
    assert len(driver.emu.requests) == 2


def test_universal_mode_is_one_request_per_call_or_per_client(make_driver: Callable[..., Driver]) -> None:
    per_call = make_driver()
    per_call.emu.inject(Fault(status=503, step=0))
    completion = per_call.call("chat", _chat(), fallbacks=[FALLBACK], options={"fallback_mode": "universal"})
    assert completion.gateway.step == 1
    assert completion.gateway.served_by == FALLBACK
    [request] = per_call.emu.requests
    assert request.path == ROOT
    per_call.emu.reset()
    per_client = make_driver(options={"fallback_mode": "universal"})
    per_client.call("chat", _chat(), fallbacks=[FALLBACK])
    assert [r.path for r in per_client.emu.requests] == [ROOT]
    per_client.emu.reset()
    per_client.call("chat", _chat(), fallbacks=[FALLBACK], options={"fallback_mode": "client"})  # the call wins
    assert [r.path for r in per_client.emu.requests] == [f"{ROOT}/compat/chat/completions"]


def test_universal_mode_on_rest_is_a_configuration_error(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(surface="rest", cf_aig_token="test-cf-aig-token")
    with pytest.raises(ConfigurationError, match="fallback_mode='universal'"):
        driver.call("chat", _chat(), fallbacks=[FALLBACK], options={"fallback_mode": "universal"})
    driver.call("chat", _chat(), options={"fallback_mode": "universal"})  # no fallbacks: nothing to refuse
    assert len(driver.emu.requests) == 1


def test_an_unknown_fallback_mode_is_a_configuration_error(driver: Driver) -> None:
    with pytest.raises(ConfigurationError, match="fallback_mode"):
        driver.call("chat", _chat(), fallbacks=[FALLBACK], options={"fallback_mode": "gateway"})
    assert driver.emu.requests == []


def test_responses_client_mode_tries_each_model_on_openais_route(driver: Driver) -> None:
    driver.emu.inject(Fault(status=400))
    request = {"model": MODEL, "input": "hello"}
    result = driver.call("responses", request, fallbacks=["openai/gpt-4.1"])
    assert result.gateway.step == 1
    assert result.gateway.served_by == "openai/gpt-4.1"
    assert [r.path for r in driver.emu.requests] == [f"{ROOT}/openai/responses"] * 2
    assert [r.json["model"] for r in driver.emu.requests] == ["gpt-5-mini", "gpt-4.1"]
    driver.emu.reset()
    driver.emu.inject(Fault(status=400))
    _, stream = driver.stream(request, method="stream_responses", fallbacks=["openai/gpt-4.1"])
    assert stream.meta.step == 1
    assert "You said" in stream.get_final_response().output_text


def test_a_dynamic_route_is_gateway_side_routing_in_one_request(driver: Driver) -> None:
    completion = driver.call("chat", _chat("dynamic/support"))
    [request] = driver.emu.requests
    assert request.path == f"{ROOT}/compat/chat/completions"
    assert request.json["model"] == "dynamic/support"
    assert completion.gateway.model == "gpt-4o-mini"
    assert completion.gateway.provider == "openai"


def test_embeddings_take_no_fallbacks() -> None:
    """fallback_mode does not apply to embeddings: no core embedding call takes fallbacks."""
    import inspect

    from cfaig import AsyncGatewayClient, GatewayClient

    for client in (GatewayClient, AsyncGatewayClient):
        for method in (client.embed, client.embed_many):
            assert "fallbacks" not in inspect.signature(method).parameters
