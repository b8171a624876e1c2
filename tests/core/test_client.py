"""Parts 4-8 end to end through the emulator, each test run sync and async."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from cfaig import GatewayClient
from cfaig.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    GatewayConnectionError,
    IncompleteStreamError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from cfaig.testing import EMULATOR_ACCOUNT_ID, Fault, GatewayEmulator, GatewaySettings
from tests.core.conftest import Driver, user
from tests.core.testing.helpers import TOKEN

MODEL = "openai/gpt-5-mini"


# --- part 4: surfaces and endpoints -----------------------------------------------------------------


def test_unified_chat(driver: Driver) -> None:
    completion = driver.call("chat", {"model": MODEL, "messages": user("What is Cloudflare?")})
    assert "What is Cloudflare?" in completion.text
    request = driver.emu.requests[-1]
    assert request.path == f"/v1/{EMULATOR_ACCOUNT_ID}/default/compat/chat/completions"
    assert request.json == {"model": MODEL, "messages": user("What is Cloudflare?")}  # nothing unset is sent
    assert "authorization" not in request.headers  # no provider key: BYOK / Unified Billing
    assert completion.gateway.served_by == MODEL
    assert completion.gateway.log_id


def test_auth_headers_on_the_gateway_host(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(cf_aig_token="test-cf-aig-token", api_key="sk-provider")
    driver.call("chat", {"model": MODEL, "messages": user()})
    headers = driver.emu.requests[-1].headers
    assert headers["cf-aig-authorization"] == "Bearer test-cf-aig-token"
    assert headers["authorization"] == "Bearer sk-provider"


@pytest.mark.parametrize(
    ("model", "path", "body_model"),
    [
        ("openai/gpt-5-mini", "openai/chat/completions", "gpt-5-mini"),
        (
            "workers-ai/@cf/meta/llama-3.1-8b-instruct",
            "workers-ai/v1/chat/completions",
            "@cf/meta/llama-3.1-8b-instruct",
        ),
        ("perplexity/sonar", "perplexity-ai/chat/completions", "sonar"),
        ("groq/llama-3.3-70b", "groq/chat/completions", "llama-3.3-70b"),
    ],
)
def test_provider_specific_endpoints(driver: Driver, model: str, path: str, body_model: str) -> None:
    driver = driver.configure(cf_aig_token=TOKEN)  # Workers AI routes authenticate with the Cloudflare token
    completion = driver.call("chat", {"model": model, "messages": user()}, endpoint="provider")
    request = driver.emu.requests[-1]
    assert request.path == f"/v1/{EMULATOR_ACCOUNT_ID}/default/{path}"
    assert request.json is not None
    assert request.json["model"] == body_model
    assert completion.gateway.served_by == model


def test_provider_endpoint_refused_before_any_request_for_non_openai_shapes(driver: Driver) -> None:
    with pytest.raises(ConfigurationError, match="unified"):
        driver.call("chat", {"model": "anthropic/claude-sonnet-4-5", "messages": user()}, endpoint="provider")
    assert driver.emu.requests == []


UNIVERSAL = {"fallback_mode": "universal"}


def test_fallbacks_use_one_universal_request(driver: Driver) -> None:
    driver.emu.inject(Fault(status=503, step=0))
    completion = driver.call(
        "chat", {"model": MODEL, "messages": user()}, fallbacks=["anthropic/claude-sonnet-4-5"], options=UNIVERSAL
    )
    assert completion.gateway.step == 1
    assert completion.gateway.served_by == "anthropic/claude-sonnet-4-5"
    assert len(driver.emu.requests) == 1
    request = driver.emu.requests[0]
    assert request.path == f"/v1/{EMULATOR_ACCOUNT_ID}/default"
    steps = request.json
    assert [step["provider"] for step in steps] == ["compat", "compat"]
    assert [step["query"]["model"] for step in steps] == [MODEL, "anthropic/claude-sonnet-4-5"]
    assert all(step["endpoint"] == "chat/completions" for step in steps)


def test_fallback_primary_serves_when_healthy(driver: Driver) -> None:
    completion = driver.call("chat", {"model": MODEL, "messages": user()}, fallbacks=["anthropic/claude-sonnet-4-5"])
    assert completion.gateway.step == 0
    assert completion.gateway.served_by == MODEL


def test_every_universal_step_failing_raises_the_last_error(driver: Driver) -> None:
    driver.emu.inject(Fault(status=400, step=0))
    driver.emu.inject(Fault(status=400, step=1))
    with pytest.raises(BadRequestError) as info:
        driver.call(
            "chat", {"model": MODEL, "messages": user()}, fallbacks=["anthropic/claude-sonnet-4-5"], options=UNIVERSAL
        )
    assert info.value.step == 1


def test_rest_surface(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(surface="rest", cf_aig_token="test-cf-aig-token", gateway_id="default")
    completion = driver.call("chat", {"model": "google-ai-studio/gemini-2.5-flash", "messages": user()})
    request = driver.emu.requests[-1]
    assert request.path == f"/client/v4/accounts/{EMULATOR_ACCOUNT_ID}/ai/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-cf-aig-token"
    assert request.headers["cf-aig-gateway-id"] == "default"
    assert request.json is not None
    assert request.json["model"] == "google/gemini-2.5-flash"
    assert completion.gateway.served_by == "google-ai-studio/gemini-2.5-flash"


def test_rest_surface_falls_back_client_side(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(surface="rest", cf_aig_token="test-cf-aig-token")
    driver.emu.inject(Fault(status=400))
    completion = driver.call(
        "chat", {"model": MODEL, "messages": user()}, fallbacks=["workers-ai/@cf/meta/llama-3.1-8b-instruct"]
    )
    assert completion.gateway.step == 1
    assert completion.gateway.served_by == "workers-ai/@cf/meta/llama-3.1-8b-instruct"
    assert [r.json["model"] for r in driver.emu.requests] == [MODEL, "@cf/meta/llama-3.1-8b-instruct"]


@pytest.mark.parametrize(
    ("model", "path", "dim"),
    [
        ("openai/text-embedding-3-small", "openai/embeddings", 1536),
        ("workers-ai/@cf/baai/bge-small-en-v1.5", "workers-ai/v1/embeddings", 384),
    ],
)
def test_embeddings_route_to_the_providers_endpoint(driver: Driver, model: str, path: str, dim: int) -> None:
    driver = driver.configure(cf_aig_token=TOKEN)
    response = driver.call("embed", {"model": model, "input": ["a cat", "a dog", "tax law"]})
    assert driver.emu.requests[-1].path == f"/v1/{EMULATOR_ACCOUNT_ID}/default/{path}"
    assert len(response.vectors) == 3
    assert all(len(vector) == dim for vector in response.vectors)


def test_base64_embeddings_are_decoded(driver: Driver) -> None:
    plain = driver.call("embed", {"model": "openai/text-embedding-3-small", "input": ["hello world"]})
    packed = driver.call(
        "embed", {"model": "openai/text-embedding-3-small", "input": ["hello world"], "encoding_format": "base64"}
    )
    assert packed.vectors[0] == pytest.approx(plain.vectors[0], rel=1e-6, abs=1e-7)


def test_embeddings_without_a_provider_endpoint_are_refused(driver: Driver) -> None:
    with pytest.raises(ConfigurationError, match="embeddings"):
        driver.call("embed", {"model": "anthropic/claude-sonnet-4-5", "input": "x"})
    with pytest.raises(ConfigurationError):
        driver.call("embed", {"model": "openai/text-embedding-3-small", "input": []})
    assert driver.emu.requests == []


def test_responses_api(driver: Driver) -> None:
    result = driver.call("responses", {"model": MODEL, "input": "Say hi"})
    assert driver.emu.requests[-1].path.endswith("/openai/responses")
    assert result.output_text


def test_log_feedback(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(cf_aig_token="test-cf-aig-token")
    completion = driver.call("chat", {"model": MODEL, "messages": user()})
    log_id = completion.gateway.log_id
    driver.call("feedback", log_id, feedback=1, score=90, metadata={"rater": "ci"})
    request = driver.emu.requests[-1]
    assert request.method == "PATCH"
    assert request.path == f"/client/v4/accounts/{EMULATOR_ACCOUNT_ID}/ai-gateway/gateways/default/logs/{log_id}"
    assert request.json == {"feedback": 1, "score": 90, "metadata": {"rater": "ci"}}
    assert driver.emu.logs[log_id]["feedback"] == 1
    with pytest.raises(ConfigurationError):
        driver.call("feedback", log_id, feedback=5)
    with pytest.raises(NotFoundError):
        driver.call("feedback", "0000-unknown", feedback=-1)


# --- part 3 + 7: options out, gateway metadata back ----------------------------------------------------


def test_options_are_headers_never_body(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(options={"cache_ttl": 120, "metadata": {"app": "tests"}})
    driver.call("chat", {"model": MODEL, "messages": user()}, options={"cache_ttl": 300, "event_id": "evt-7"})
    request = driver.emu.requests[-1]
    assert request.headers["cf-aig-cache-ttl"] == "300"  # per request wins
    assert request.headers["cf-aig-metadata"] == '{"app":"tests"}'  # client default kept
    assert request.headers["cf-aig-event-id"] == "evt-7"
    assert request.json is not None
    assert not {"cache_ttl", "metadata", "event_id"} & set(request.json)


def test_cache_miss_then_hit_and_skip(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver()
    request = {"model": MODEL, "messages": user("cache me")}
    first = driver.call("chat", request, options={"cache_ttl": 300})
    second = driver.call("chat", request, options={"cache_ttl": 300})
    skipped = driver.call("chat", request, options={"cache_ttl": 300, "skip_cache": True})
    assert (first.gateway.cache_status, second.gateway.cache_status) == ("MISS", "HIT")
    assert skipped.gateway.cache_status != "HIT"
    assert first.gateway.log_id != second.gateway.log_id
    assert second.text == first.text


def test_event_id_echoed(driver: Driver) -> None:
    completion = driver.call("chat", {"model": MODEL, "messages": user()}, options={"event_id": "trace-42"})
    assert completion.gateway.event_id == "trace-42"


def test_dynamic_route_reports_the_chosen_model(driver: Driver) -> None:
    completion = driver.call("chat", {"model": "dynamic/support", "messages": user()})
    assert completion.gateway.model
    assert completion.gateway.provider
    assert completion.gateway.served_by != "dynamic/support"


# --- part 6: streaming --------------------------------------------------------------------------------


def test_stream_text_and_usage(driver: Driver) -> None:
    chunks, stream = driver.stream({"model": MODEL, "messages": user("stream me please")})
    assert "stream me please" in stream.accumulator.text
    assert stream.accumulator.usage is not None
    assert stream.accumulator.usage.total_tokens > 0
    body = driver.emu.requests[-1].json
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert stream.meta.log_id
    assert len(chunks) > 2
    final = stream.get_final_completion()
    assert final.text == stream.accumulator.text


def test_stream_tool_calls(driver: Driver) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    _, stream = driver.stream({"model": MODEL, "messages": user("weather in Paris?"), "tools": [tool]})
    calls = stream.accumulator.tool_calls()
    assert [call.function.name for call in calls] == ["get_weather"]
    assert "city" in json.loads(calls[0].function.arguments)
    assert stream.accumulator.finish_reason == "tool_calls"


def test_stream_cut_midway_is_an_error(driver: Driver) -> None:
    driver.emu.inject(Fault(cut_after=2))
    with pytest.raises(GatewayConnectionError):
        driver.stream({"model": MODEL, "messages": user("one two three four five six")})


def test_stream_ending_without_done_is_an_error(driver: Driver) -> None:
    driver.emu.inject(Fault(end_after=2))
    with pytest.raises(IncompleteStreamError):
        driver.stream({"model": MODEL, "messages": user("one two three four five six")})


def test_stream_malformed_event_is_an_error(driver: Driver) -> None:
    driver.emu.inject(Fault(malformed_after=1))
    with pytest.raises(MalformedResponseError):
        driver.stream({"model": MODEL, "messages": user("one two three")})


def test_stream_error_before_first_byte_is_retried(driver: Driver) -> None:
    driver.emu.inject(Fault(status=503, times=1))
    _, stream = driver.stream({"model": MODEL, "messages": user("retry me")})
    assert "retry me" in stream.accumulator.text
    assert len(driver.emu.requests) == 2


def test_stream_fallback(driver: Driver) -> None:
    driver.emu.inject(Fault(status=500, step=0))
    _, stream = driver.stream(
        {"model": MODEL, "messages": user("x")}, fallbacks=["anthropic/claude-sonnet-4-5"], options=UNIVERSAL
    )
    assert stream.meta.step == 1
    assert stream.meta.served_by == "anthropic/claude-sonnet-4-5"


# --- part 6 + 8: retries and errors ---------------------------------------------------------------------


def test_retryable_errors_are_retried_then_succeed(driver: Driver) -> None:
    driver.emu.inject(Fault(status=503, times=2))
    completion = driver.call("chat", {"model": MODEL, "messages": user()})
    assert completion.text
    assert len(driver.emu.requests) == 3


def test_retries_exhausted_raise_typed_error(driver: Driver) -> None:
    driver.emu.inject(Fault(status=502, times=5))
    with pytest.raises(ServerError):
        driver.call("chat", {"model": MODEL, "messages": user()})
    assert len(driver.emu.requests) == 3  # 1 + max_retries


def test_rate_limit_honours_retry_after(driver: Driver) -> None:
    driver.emu.inject(Fault(status=429, retry_after="0", times=1))
    driver.call("chat", {"model": MODEL, "messages": user()})
    assert len(driver.emu.requests) == 2
    driver.emu.reset()
    driver.emu.inject(Fault(status=429, retry_after="0", times=3))
    with pytest.raises(RateLimitError) as info:
        driver.call("chat", {"model": MODEL, "messages": user()})
    assert info.value.retry_after == 0.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_non_retryable_errors_fail_after_one_attempt(driver: Driver, status: int) -> None:
    driver.emu.inject(Fault(status=status, times=3))
    with pytest.raises(Exception) as info:
        driver.call("chat", {"model": MODEL, "messages": user()})
    assert getattr(info.value, "status_code", None) == status
    assert len(driver.emu.requests) == 1


def test_authenticated_gateway_without_token(make_driver: Callable[..., Driver], emu: GatewayEmulator) -> None:
    emu.gateways["default"] = GatewaySettings(authentication=True)
    driver = make_driver(cf_aig_token=None)
    with pytest.raises(AuthenticationError) as info:
        driver.call("chat", {"model": MODEL, "messages": user()})
    assert info.value.code == 2009
    assert info.value.hint is not None
    assert "CF_AIG_TOKEN" in info.value.hint
    assert make_driver(cf_aig_token="test-cf-aig-token").call("chat", {"model": MODEL, "messages": user()}).text


def test_unknown_gateway(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(gateway_id="nope")
    with pytest.raises(BadRequestError) as info:
        driver.call("chat", {"model": MODEL, "messages": user()})
    assert info.value.code == 2001
    assert "'nope' does not exist" in str(info.value)


def test_html_body_on_success_status(driver: Driver) -> None:
    driver.emu.inject(Fault(status=200, body="<html>captive portal</html>", content_type="text/html"))
    with pytest.raises(MalformedResponseError) as info:
        driver.call("chat", {"model": MODEL, "messages": user()})
    assert "captive portal" in (info.value.body_excerpt or "")


def test_json_missing_required_fields(driver: Driver) -> None:
    driver.emu.inject(Fault(status=200, body={"id": "x", "object": "chat.completion"}))
    with pytest.raises(MalformedResponseError, match="choices"):
        driver.call("chat", {"model": MODEL, "messages": user()})


def test_bad_input_refused_before_any_request(driver: Driver) -> None:
    for request in (
        {"model": "gpt-4o", "messages": user()},
        {"model": MODEL, "messages": []},
        {"model": MODEL, "messages": [{"content": "no role"}]},
        {"model": MODEL, "messages": user(), "n": 0},
    ):
        with pytest.raises(ConfigurationError):
            driver.call("chat", request)
    with pytest.raises(ConfigurationError):
        driver.call("chat", {"model": MODEL, "messages": user()}, options={"metadata": {str(i): i for i in range(6)}})
    with pytest.raises(ConfigurationError):
        driver.call("chat", {"model": MODEL, "messages": user()}, fallbacks=["nonsense"])
    assert driver.emu.requests == []


def test_unsupported_parameters_dropped_per_provider(driver: Driver) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    driver.call(
        "chat",
        {
            "model": "perplexity/sonar",
            "messages": user(),
            "tools": [tool],
            "tool_choice": "required",
            "parallel_tool_calls": True,
        },
    )
    body = driver.emu.requests[-1].json
    assert "parallel_tool_calls" not in body
    assert body["tool_choice"] == "auto"


def test_client_reuses_one_pool(emu: GatewayEmulator) -> None:
    client = GatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=emu.base_url, transport=emu.transport())
    pool = client.http_client
    for _ in range(3):
        client.chat({"model": MODEL, "messages": user()})
    assert client.http_client is pool
    client.close()


def test_openai_gets_max_completion_tokens(driver: Driver) -> None:
    driver.call("chat", {"model": MODEL, "messages": user(), "max_tokens": 50})
    body = driver.emu.requests[-1].json
    assert body["max_completion_tokens"] == 50
    assert "max_tokens" not in body
    driver.call("chat", {"model": "anthropic/claude-sonnet-4-5", "messages": user(), "max_tokens": 50})
    assert driver.emu.requests[-1].json["max_tokens"] == 50


def test_embed_many_batches_in_order(driver: Driver) -> None:
    texts = [f"text number {i}" for i in range(5)]
    vectors = driver.call("embed_many", "openai/text-embedding-3-small", texts, batch_size=2)
    singles = [driver.call("embed", {"model": "openai/text-embedding-3-small", "input": t}).vectors[0] for t in texts]
    assert len(vectors) == 5
    for batched, single in zip(vectors, singles, strict=True):
        assert batched == pytest.approx(single, rel=1e-5, abs=1e-6)
    assert vectors[0] != vectors[1]
    embed_requests = [r for r in driver.emu.requests if r.json and isinstance(r.json.get("input"), list)]
    assert [len(r.json["input"]) for r in embed_requests] == [2, 2, 1]
    assert all(r.json["encoding_format"] == "base64" for r in embed_requests)  # OpenAI: the fast encoding


def test_embed_many_clamps_to_the_provider_limit(driver: Driver) -> None:
    driver = driver.configure(cf_aig_token=TOKEN)
    texts = [f"t{i}" for i in range(150)]
    vectors = driver.call("embed_many", "workers-ai/@cf/baai/bge-small-en-v1.5", texts, batch_size=500)
    assert len(vectors) == 150
    assert [len(r.json["input"]) for r in driver.emu.requests] == [100, 50]
    assert "encoding_format" not in driver.emu.requests[0].json


def test_embed_many_refuses_before_any_request(driver: Driver) -> None:
    assert driver.call("embed_many", "openai/text-embedding-3-small", []) == []
    with pytest.raises(ConfigurationError, match="dimensions"):
        driver.call("embed_many", "workers-ai/@cf/baai/bge-small-en-v1.5", ["x"], dimensions=64)
    with pytest.raises(ConfigurationError, match="batch_size"):
        driver.call("embed_many", "openai/text-embedding-3-small", ["x"], batch_size=0)
    with pytest.raises(ConfigurationError):
        driver.call("embed_many", "openai/text-embedding-3-small", "not a list")
    assert driver.emu.requests == []
