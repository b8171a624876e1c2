"""Injected faults: replacement bodies, delays and timeouts, resets, stream cuts (_faults)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from cfaig.testing import (
    Fault,
    GatewayEmulator,
)
from tests.core.testing.helpers import CHAT, chat_body, max_overlap, sse_data, timed_post, user


def test_fault_status_retry_after_and_realistic_bodies(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=429, retry_after="2"))
    limited = gw.post(CHAT, json=chat_body())
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json()["error"] == [{"code": 2003, "message": "Rate limited"}]
    emulator.inject(Fault(status=503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT"))
    unavailable = gw.post(CHAT, json=chat_body())
    assert unavailable.headers["retry-after"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert unavailable.json()["error"]["type"] == "server_error"
    emulator.inject(Fault(status=529, match="/anthropic/"))
    assert gw.post(CHAT, json=chat_body()).status_code == 200  # match did not apply
    overloaded = gw.post("/anthropic/v1/messages", json={"model": "c", "max_tokens": 5, "messages": user()})
    assert overloaded.status_code == 529
    assert overloaded.json()["error"]["type"] == "overloaded_error"
    emulator.inject(Fault(status=400, body={"error": {"message": "custom"}}, headers={"x-extra": "1"}, times=2))
    assert [gw.post(CHAT, json=chat_body()).json() for _ in range(2)] == [{"error": {"message": "custom"}}] * 2
    assert gw.post(CHAT, json=chat_body()).status_code == 200
    assert emulator.requests[-2].response_status == 400


def test_fault_html_body_with_200(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=200, content_type="text/html"))
    response = gw.post(CHAT, json=chat_body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html"
    assert response.text.startswith("<!DOCTYPE html>")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_fault_reset_in_process(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(reset=True))
    with pytest.raises(httpx.ReadError):
        gw.post(CHAT, json=chat_body())
    assert emulator.requests[-1].response_status == 0
    assert gw.post(CHAT, json=chat_body()).status_code == 200


def test_stream_faults_in_process(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    body = chat_body("one two three four five", stream=True)
    emulator.inject(Fault(cut_after=2))
    assert gw.post(CHAT, json=chat_body()).status_code == 200  # stream faults skip non-streaming requests
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), gw.stream("POST", CHAT, json=body) as response:
        assert response.status_code == 200
        received.extend(line for line in response.iter_lines() if line)
    assert len(received) == 2
    emulator.inject(Fault(end_after=3))
    truncated = gw.post(CHAT, json=body).text
    assert len(sse_data(truncated)) == 3
    assert "[DONE]" not in truncated
    emulator.inject(Fault(malformed_after=1))
    malformed = sse_data(gw.post(CHAT, json=body).text)
    assert malformed[1] == "{not json"
    assert malformed[-1] == "[DONE]"
    assert len(malformed) == len(sse_data(gw.post(CHAT, json=body).text)) + 1


def test_fault_delay_and_request_timeout(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    emulator.inject(Fault(status=200, delay=2.0))
    timed_out = gw.post(CHAT, json=chat_body(), headers={"cf-aig-request-timeout": "100"})
    assert timed_out.status_code == 504
    assert timed_out.json()["error"] == [{"code": 2015, "message": "Request timed out"}]
    emulator.inject(Fault(status=200, delay=0.05, headers={"x-slow": "yes"}))
    slow = gw.post(CHAT, json=chat_body(), headers={"cf-aig-request-timeout": "5000"})
    assert slow.status_code == 200
    assert slow.headers["x-slow"] == "yes"
    assert slow.json()["object"] == "chat.completion"


async def test_async_transport_chat_stream_and_concurrent_delays(emulator: GatewayEmulator) -> None:
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        response = await client.post(CHAT, json=chat_body("async"))
        assert response.json()["choices"][0]["message"]["content"].endswith("You said: async")
        async with client.stream("POST", CHAT, json=chat_body("a b c", stream=True)) as stream:
            chunks = [chunk async for chunk in stream.aiter_raw()]
        assert chunks[-1] == b"data: [DONE]\n\n"
        emulator.inject(Fault(status=200, delay=0.2, times=5))
        timed = await asyncio.gather(*(timed_post(client, CHAT, chat_body()) for _ in range(5)))
        assert {r.status_code for r, _ in timed} == {200}
        assert max_overlap([span for _, span in timed]) == 5  # the delays run side by side, not one by one
        emulator.inject(Fault(cut_after=1))
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream("POST", CHAT, json=chat_body(stream=True)) as stream:
                async for _ in stream.aiter_lines():
                    pass
        emulator.inject(Fault(reset=True))
        with pytest.raises(httpx.ReadError):
            await client.post(CHAT, json=chat_body())
