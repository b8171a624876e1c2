"""The Responses API end to end on real sockets: the default transports (httpx sync, aiohttp async) on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import tool
from llama_index.core.llms import ChatMessage

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.errors import GatewayConnectionError, IncompleteStreamError
from cfaig.responses_types import OutputTextDeltaEvent, ReasoningSummaryTextDeltaEvent, ResponsesEvent
from cfaig.testing import EMULATOR_ACCOUNT_ID, EmulatorServer, Fault
from langchain_cfaig import ChatCloudflareAIGateway
from llamaindex_cfaig import CloudflareAIGatewayResponses

MODEL = "openai/gpt-5-mini"
REQUEST = {"model": MODEL, "input": "one two three four", "reasoning": {"summary": "auto"}}


@pytest.fixture
def settings(cfaig_gateway: EmulatorServer) -> dict[str, Any]:
    return {"account_id": EMULATOR_ACCOUNT_ID, "base_url": cfaig_gateway.base_url}


def test_sync_stream_on_httpx(settings: dict[str, Any]) -> None:
    with GatewayClient(**settings) as client, client.stream_responses(REQUEST) as stream:
        events = list(stream)
    text = "".join(e.delta for e in events if isinstance(e, OutputTextDeltaEvent))
    assert text.endswith("You said: one two three four")
    assert stream.get_final_response().reasoning == "".join(
        e.delta for e in events if isinstance(e, ReasoningSummaryTextDeltaEvent)
    )


async def test_async_stream_on_aiohttp(settings: dict[str, Any]) -> None:
    client = AsyncGatewayClient(**settings)
    assert client.backend == "aiohttp"
    async with await client.stream_responses(REQUEST) as stream:
        events: list[ResponsesEvent] = [event async for event in stream]
    assert events[-1].type == "response.completed"
    final = stream.get_final_response()
    assert final.output_text.endswith("You said: one two three four")
    assert final.gateway.log_id
    result = await client.responses(REQUEST)
    assert result.output_text == final.output_text
    await client.aclose()


async def test_cut_streams_are_errors_on_aiohttp(settings: dict[str, Any], cfaig_gateway: EmulatorServer) -> None:
    client = AsyncGatewayClient(**settings)
    cfaig_gateway.emulator.inject(Fault(cut_after=4))
    with pytest.raises(GatewayConnectionError):
        async with await client.stream_responses(REQUEST) as stream:
            [event async for event in stream]
    cfaig_gateway.emulator.inject(Fault(end_after=4))
    with pytest.raises(IncompleteStreamError):
        async with await client.stream_responses(REQUEST) as stream:
            [event async for event in stream]
    await client.aclose()


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


async def test_frameworks_stream_async_on_loopback(settings: dict[str, Any]) -> None:
    model = ChatCloudflareAIGateway(model=MODEL, use_responses_api=True, reasoning={"summary": "auto"}, **settings)
    chunks = [chunk async for chunk in model.bind_tools([get_weather]).astream('weather in "Oslo"?')]
    total: Any = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert total.tool_calls[0]["args"] == {"city": "Oslo"}
    assert total.additional_kwargs["reasoning_content"].startswith("The user asked")
    llm = CloudflareAIGatewayResponses(model=MODEL, reasoning={"summary": "auto"}, **settings)
    responses = [r async for r in await llm.astream_chat([ChatMessage(role="user", content="hi there")])]
    assert (responses[-1].message.content or "").endswith("You said: hi there")
    assert any("thinking_delta" in r.additional_kwargs for r in responses)
