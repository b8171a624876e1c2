"""The Responses API end to end through the emulator: both surfaces, streamed and not, each test sync and async."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cfaig.errors import (
    BadRequestError,
    ConfigurationError,
    GatewayConnectionError,
    GatewayError,
    IncompleteStreamError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from cfaig.responses_types import (
    FunctionCallArgumentsDeltaEvent,
    OutputItemEvent,
    OutputTextDeltaEvent,
    ReasoningSummaryTextDeltaEvent,
    ReasoningTextDeltaEvent,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFunctionCall,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponsesEvent,
    ResponsesResult,
)
from cfaig.testing import EMULATOR_ACCOUNT_ID, Fault, ScriptedReply
from tests.core.conftest import Driver

MODEL = "openai/gpt-5-mini"
PLAIN_MODEL = "openai/gpt-4.1"  # does not reason
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
REST = {"surface": "rest", "cf_aig_token": "test-cf-aig-token"}


def ask(text: str = "Say hi", model: str = MODEL, **fields: Any) -> dict[str, Any]:
    return {"model": model, "input": text, **fields}


def stream(driver: Driver, request: dict[str, Any], **kwargs: Any) -> tuple[list[ResponsesEvent], Any]:
    return driver.stream(request, method="stream_responses", **kwargs)


# --- routes and model strings -----------------------------------------------------------------------


def test_gateway_host_route_and_result(driver: Driver) -> None:
    result = driver.call("responses", ask("Say hi", PLAIN_MODEL))
    request = driver.emu.requests[-1]
    assert request.path == f"/v1/{EMULATOR_ACCOUNT_ID}/default/openai/responses"
    assert request.json == {"model": "gpt-4.1", "input": "Say hi"}
    assert isinstance(result, ResponsesResult)
    assert result.status == "completed"
    assert result.output_text == "[cfaig emulator · openai/gpt-4.1] You said: Say hi"
    assert [type(item) for item in result.output] == [ResponseOutputMessage]
    assert result.finish_reason == "stop"
    assert result.gateway.log_id == request_log_id(driver)
    assert result.gateway.served_by == PLAIN_MODEL
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens


def request_log_id(driver: Driver) -> str:
    return next(iter(driver.emu.logs))


@pytest.mark.parametrize(
    ("model", "body_model"),
    [("openai/gpt-5-mini", "openai/gpt-5-mini"), ("workers-ai/@cf/openai/gpt-oss-120b", "@cf/openai/gpt-oss-120b")],
)
def test_rest_surface_route_and_model_names(make_driver: Callable[..., Driver], model: str, body_model: str) -> None:
    driver = make_driver(**REST)
    result = driver.call("responses", ask("hi", model))
    request = driver.emu.requests[-1]
    assert request.path == f"/client/v4/accounts/{EMULATOR_ACCOUNT_ID}/ai/v1/responses"
    assert request.headers["authorization"] == "Bearer test-cf-aig-token"
    assert request.json is not None
    assert request.json["model"] == body_model
    assert result.gateway.served_by == model
    assert "You said: hi" in result.output_text


def test_gpt_oss_shows_its_raw_reasoning_on_rest(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(**REST)
    events, stream_ = stream(driver, ask("why is the sky blue", "workers-ai/@cf/openai/gpt-oss-120b"))
    raw = "".join(e.delta for e in events if isinstance(e, ReasoningTextDeltaEvent))
    assert raw.startswith("The user asked: why is the sky blue")
    final = stream_.get_final_response()
    [item] = final.reasoning_items
    assert item.summary == []  # no summary asked for; the raw text is the content
    assert final.reasoning == raw


def test_bad_requests_refused_before_any_request(driver: Driver, make_driver: Callable[..., Driver]) -> None:
    with pytest.raises(ConfigurationError, match="openai/"):
        driver.call("responses", ask(model="anthropic/claude-sonnet-4-5"))
    with pytest.raises(ConfigurationError, match="surface='rest'"):
        driver.call("responses", ask(model="workers-ai/@cf/openai/gpt-oss-120b"))
    with pytest.raises(ConfigurationError, match="input"):
        driver.call("responses", {"model": MODEL, "input": []})
    with pytest.raises(ConfigurationError, match="input"):
        driver.call("responses", {"model": MODEL})
    with pytest.raises(ConfigurationError, match="stream_responses"):
        driver.call("responses", ask(stream=True))
    with pytest.raises(ConfigurationError, match="extra_body"):
        driver.call("responses", ask(extra_body={"model": "x"}))
    with pytest.raises(ConfigurationError, match="repeat"):
        driver.call("responses", ask(), fallbacks=[MODEL])
    with pytest.raises(ConfigurationError):
        driver.call("responses", ask(model="gpt-5-mini"))  # no provider prefix
    assert driver.emu.requests == []


def test_extra_body_and_options_reach_the_wire(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(options={"cache_ttl": 60})
    driver.call(
        "responses",
        ask(extra_body={"truncation": "auto"}, metadata={"run": "1"}),
        options={"metadata": {"team": "a"}, "event_id": "evt-1"},
    )
    request = driver.emu.requests[-1]
    assert request.json is not None
    assert request.json["truncation"] == "auto"
    assert request.json["metadata"] == {"run": "1"}  # the body's own metadata, not the gateway's
    assert request.headers["cf-aig-cache-ttl"] == "60"
    assert json.loads(request.headers["cf-aig-metadata"]) == {"team": "a"}
    assert request.headers["cf-aig-event-id"] == "evt-1"


# --- streams --------------------------------------------------------------------------------------


def test_stream_text_usage_and_metadata(driver: Driver) -> None:
    events, stream_ = stream(driver, ask("one two three", PLAIN_MODEL))
    assert isinstance(events[0], ResponseCreatedEvent)
    assert isinstance(events[-1], ResponseCompletedEvent)
    deltas = [e.delta for e in events if isinstance(e, OutputTextDeltaEvent)]
    assert len(deltas) > 3
    assert "".join(deltas) == stream_.accumulator.text == "[cfaig emulator · openai/gpt-4.1] You said: one two three"
    passed_through = {e.type for e in events if type(e) is ResponsesEvent}
    assert {"response.in_progress", "response.content_part.added", "response.output_text.done"} <= passed_through
    final = stream_.get_final_response()
    assert final.output_text == "".join(deltas)
    assert final.usage is not None
    assert final.usage.output_tokens > 0
    assert final.gateway.log_id is not None
    assert final.gateway == stream_.meta
    assert stream_.completed
    assert driver.emu.requests[-1].json["stream"] is True


def test_stream_function_call_from_the_tool_schema(driver: Driver) -> None:
    events, stream_ = stream(driver, ask("weather in Lisbon", tools=[WEATHER]))
    fragments = [e.delta for e in events if isinstance(e, FunctionCallArgumentsDeltaEvent)]
    assert len(fragments) > 1
    added = [e.item for e in events if isinstance(e, OutputItemEvent) and e.type == "response.output_item.added"]
    call_start = next(item for item in added if isinstance(item, ResponseFunctionCall))
    assert call_start.name == "get_weather"
    assert call_start.arguments == ""
    [call] = stream_.get_final_response().function_calls
    assert (call.name, call.call_id) == ("get_weather", call_start.call_id)
    assert json.loads(call.arguments) == json.loads("".join(fragments))
    assert "city" in json.loads(call.arguments)
    assert stream_.get_final_response().finish_reason == "tool_calls"


def test_tool_result_answered_in_the_next_turn(driver: Driver) -> None:
    first = driver.call("responses", ask("weather in Lisbon", PLAIN_MODEL, tools=[WEATHER]))
    [call] = first.function_calls
    follow_up = [
        {"role": "user", "content": "weather in Lisbon"},
        call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24C"},
    ]
    answer = driver.call("responses", {"model": PLAIN_MODEL, "input": follow_up, "tools": [WEATHER]})
    assert answer.output_text.endswith("Based on the tool result: sunny, 24C")
    assert answer.function_calls == []


def test_reasoning_summary_stream_and_tokens(driver: Driver) -> None:
    request = ask("what is 2+2", reasoning={"effort": "low", "summary": "auto"})
    events, stream_ = stream(driver, request)
    summary = "".join(e.delta for e in events if isinstance(e, ReasoningSummaryTextDeltaEvent))
    assert summary.startswith("The user asked: what is 2+2")
    final = stream_.get_final_response()
    [item] = final.reasoning_items
    assert isinstance(final.output[0], ResponseReasoningItem)
    assert item.text == summary == final.reasoning
    assert item.encrypted_content is None  # not included unless asked
    assert final.usage is not None
    assert final.usage.output_tokens_details is not None
    assert final.usage.output_tokens_details.reasoning_tokens == len(summary.split())
    assert final.usage.as_usage().completion_tokens_details is not None


def test_reasoning_without_summary_is_an_empty_item(driver: Driver) -> None:
    result = driver.call("responses", ask("hi"))
    [item] = result.reasoning_items
    assert item.summary == []
    assert item.id.startswith("rs_")
    assert result.reasoning is None
    assert result.usage is not None
    assert result.usage.output_tokens_details is not None
    assert result.usage.output_tokens_details.reasoning_tokens > 0  # billed even when hidden


def test_reasoning_parameter_refused_by_a_model_that_does_not_reason(driver: Driver) -> None:
    with pytest.raises(BadRequestError, match=r"reasoning\.effort"):
        driver.call("responses", ask(model=PLAIN_MODEL, reasoning={"effort": "low"}))


def test_encrypted_reasoning_carries_a_stateless_conversation(driver: Driver) -> None:
    first = driver.call(
        "responses",
        ask("think about 7", store=False, include=["reasoning.encrypted_content"], reasoning={"summary": "auto"}),
    )
    [item] = first.reasoning_items
    assert item.encrypted_content
    replay = [{"role": "user", "content": "think about 7"}, *(i.model_dump(exclude_none=True) for i in first.output)]
    second = driver.call("responses", {"model": MODEL, "input": [*replay, {"role": "user", "content": "and 8?"}]})
    assert second.output_text.endswith("You said: and 8?")
    without = [{k: v for k, v in entry.items() if k != "encrypted_content"} for entry in replay]
    with pytest.raises(NotFoundError, match="not persisted"):
        driver.call("responses", {"model": MODEL, "input": [*without, {"role": "user", "content": "again"}]})
    forged = [
        {**entry, "encrypted_content": "forged"} if entry.get("type") == "reasoning" else entry for entry in replay
    ]
    with pytest.raises(BadRequestError, match="could not be verified"):
        driver.call("responses", {"model": MODEL, "input": forged})


def test_previous_response_id_continues_with_cached_tokens(driver: Driver) -> None:
    first = driver.call("responses", ask("my number is 7"))
    second = driver.call("responses", ask("what is my number?", previous_response_id=first.id))
    assert second.previous_response_id == first.id
    assert second.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens
    assert second.usage.input_tokens_details is not None
    assert (
        second.usage.input_tokens_details.cached_tokens == first.usage.input_tokens + len(first.output_text.split()) + 1
    )
    with pytest.raises(NotFoundError) as info:
        driver.call("responses", ask("x", previous_response_id="resp_unknown"))
    assert info.value.code == "previous_response_not_found"
    unstored = driver.call("responses", ask("forget me", store=False))
    with pytest.raises(NotFoundError):
        driver.call("responses", ask("x", previous_response_id=unstored.id))


def test_max_output_tokens_is_an_incomplete_response(driver: Driver) -> None:
    events, stream_ = stream(driver, ask("one two three four five six", PLAIN_MODEL, max_output_tokens=3))
    assert events[-1].type == "response.incomplete"
    final = stream_.get_final_response()
    assert final.status == "incomplete"
    assert final.finish_reason == "length"
    assert len(final.output_text.split()) == 3


def test_scripted_usage_reaches_the_result(driver: Driver) -> None:
    driver.emu.script(ScriptedReply(content="ok", usage={"input_tokens_details": {"cached_tokens": 2}}))
    result = driver.call("responses", ask(model=PLAIN_MODEL))
    assert result.usage is not None
    assert result.usage.as_usage().prompt_tokens_details is not None
    assert result.usage.as_usage().prompt_tokens_details.cached_tokens == 2


# --- faults, retries and fallbacks ---------------------------------------------------------------------


def test_stream_cut_before_completed_is_an_error(driver: Driver) -> None:
    driver.emu.inject(Fault(cut_after=4))
    with pytest.raises(GatewayConnectionError):
        stream(driver, ask("one two three four five six", PLAIN_MODEL))


def test_stream_ending_before_completed_is_incomplete(driver: Driver) -> None:
    driver.emu.inject(Fault(end_after=6))
    with pytest.raises(IncompleteStreamError, match=r"response\.completed"):
        stream(driver, ask("one two three four five six", PLAIN_MODEL))


def test_stream_malformed_event_is_an_error(driver: Driver) -> None:
    driver.emu.inject(Fault(malformed_after=2))
    with pytest.raises(MalformedResponseError):
        stream(driver, ask("one two three", PLAIN_MODEL))


def _sse(*events: dict[str, Any]) -> str:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


_CREATED = {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress", "output": []}}


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (
            {
                "type": "response.failed",
                "response": {"id": "resp_1", "status": "failed", "error": {"code": "server_error", "message": "boom"}},
            },
            ServerError,
        ),
        ({"type": "error", "code": "rate_limit_exceeded", "message": "slow down", "param": None}, RateLimitError),
        ({"type": "error", "code": "invalid_prompt", "message": "no", "param": None}, BadRequestError),
    ],
)
def test_failed_and_error_events_are_typed_errors(
    driver: Driver, failure: dict[str, Any], error: type[GatewayError]
) -> None:
    driver.emu.inject(Fault(status=200, content_type="text/event-stream", body=_sse(_CREATED, failure)))
    with pytest.raises(error) as info:
        stream(driver, ask(model=PLAIN_MODEL))
    assert info.value.log_id is not None  # the gateway's evidence travels with it
    assert len(driver.emu.requests) == 1  # a stream that opened is never retried


def test_failed_status_in_a_whole_answer_is_a_typed_error(driver: Driver) -> None:
    body = {
        "id": "resp_1",
        "object": "response",
        "status": "failed",
        "output": [],
        "error": {"code": "server_error", "message": "x"},
    }
    driver.emu.inject(Fault(status=200, body=body))
    with pytest.raises(ServerError, match="x"):
        driver.call("responses", ask(model=PLAIN_MODEL))


def test_buffered_answer_to_a_stream_is_replayed_as_events(driver: Driver) -> None:
    whole = driver.call("responses", ask("weather in Lisbon", tools=[WEATHER], reasoning={"summary": "auto"}))
    driver.emu.inject(Fault(status=200, body=whole.model_dump(mode="json")))
    events, stream_ = stream(driver, ask("weather in Lisbon", tools=[WEATHER], reasoning={"summary": "auto"}))
    assert events[0].type == "response.created"
    assert any(isinstance(e, ReasoningSummaryTextDeltaEvent) for e in events)
    assert any(isinstance(e, FunctionCallArgumentsDeltaEvent) for e in events)
    final = stream_.get_final_response()
    assert final.function_calls == whole.function_calls
    assert final.reasoning == whole.reasoning


def test_errors_before_the_first_byte_are_retried(driver: Driver) -> None:
    driver.emu.inject(Fault(status=503, times=1))
    _, stream_ = stream(driver, ask("retry me", PLAIN_MODEL))
    assert "retry me" in stream_.accumulator.text
    assert len(driver.emu.requests) == 2
    driver.emu.inject(Fault(status=429, times=1))
    assert "again" in driver.call("responses", ask("again", PLAIN_MODEL)).output_text
    assert len(driver.emu.requests) == 4


def test_fallbacks_on_the_gateway_host_are_one_universal_request(driver: Driver) -> None:
    driver.emu.inject(Fault(status=503, step=0))
    result = driver.call("responses", ask(model=MODEL), fallbacks=[PLAIN_MODEL])
    assert result.gateway.step == 1
    assert result.gateway.served_by == PLAIN_MODEL
    [request] = driver.emu.requests
    assert request.path == f"/v1/{EMULATOR_ACCOUNT_ID}/default"
    assert [(s["provider"], s["endpoint"], s["query"]["model"]) for s in request.json] == [
        ("openai", "responses", "gpt-5-mini"),
        ("openai", "responses", "gpt-4.1"),
    ]
    driver.emu.inject(Fault(status=500, step=0))
    _, stream_ = stream(driver, ask(model=MODEL), fallbacks=[PLAIN_MODEL])
    assert stream_.meta.step == 1
    assert "You said" in stream_.get_final_response().output_text


def test_fallbacks_on_rest_are_client_side(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(**REST)
    driver.emu.inject(Fault(status=400))
    result = driver.call("responses", ask(), fallbacks=["workers-ai/@cf/openai/gpt-oss-120b"])
    assert result.gateway.step == 1
    assert result.gateway.served_by == "workers-ai/@cf/openai/gpt-oss-120b"
    assert [r.json["model"] for r in driver.emu.requests] == [MODEL, "@cf/openai/gpt-oss-120b"]
