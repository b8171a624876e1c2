"""Forwarding to an OpenAI-compatible upstream, sync and async, streams passed through (_upstream)."""

from __future__ import annotations

import httpx

from cfaig.testing import (
    EmulatorServer,
    Fault,
    GatewayEmulator,
    serve,
)
from tests.core.testing.helpers import CHAT, UUID7, chat_body, content_of, sse_data, sse_json


def test_upstream_forwarding(served: EmulatorServer) -> None:
    upstream = served.emulator
    front = GatewayEmulator(upstream=served.gateway_url() + "/openai/v1")
    with httpx.Client(transport=front.transport(), base_url=front.gateway_url()) as client:
        response = client.post(CHAT, json=chat_body("via upstream", model="openai/gpt-4o-mini"))
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"].endswith("You said: via upstream")
        assert UUID7.match(response.headers["cf-aig-log-id"])
        forwarded = upstream.requests[-1]
        assert forwarded.route == "provider.openai.chat"
        assert forwarded.json["model"] == "gpt-4o-mini"
        with client.stream("POST", CHAT, json=chat_body("__stream_chunks__ 4", stream=True)) as stream:
            text = "".join(stream.iter_text())
        assert content_of(sse_json(text)) == "tok0 tok1 tok2 tok3"
        assert sse_data(text)[-1] == "[DONE]"
        embedded = client.post("/openai/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        assert len(embedded.json()["data"][0]["embedding"]) == 1536
        assert upstream.requests[-1].route == "provider.openai.embeddings"
        upstream.inject(Fault(status=503))
        assert client.post(CHAT, json=chat_body()).status_code == 503
    broken = GatewayEmulator(upstream="http://127.0.0.1:9/v1")
    with httpx.Client(transport=broken.transport(), base_url=broken.gateway_url()) as client:
        assert client.post(CHAT, json=chat_body()).status_code == 502


async def test_upstream_forwarding_async_and_served(served: EmulatorServer) -> None:
    front = GatewayEmulator(upstream=served.gateway_url() + "/openai")
    async with httpx.AsyncClient(transport=front.transport(), base_url=front.gateway_url()) as client:
        response = await client.post(CHAT, json=chat_body("async upstream"))
        assert response.json()["choices"][0]["message"]["content"].endswith("async upstream")
        async with client.stream("POST", CHAT, json=chat_body("__stream_chunks__ 3", stream=True)) as stream:
            text = "".join([part async for part in stream.aiter_text()])
        assert content_of(sse_json(text)) == "tok0 tok1 tok2"
    with serve(front) as front_server:
        async with httpx.AsyncClient(base_url=front_server.gateway_url()) as client:
            async with client.stream("POST", CHAT, json=chat_body("__stream_chunks__ 2", stream=True)) as stream:
                text = "".join([part async for part in stream.aiter_text()])
            assert content_of(sse_json(text)) == "tok0 tok1"
            served.emulator.inject(Fault(status=200, delay=5.0))
            timed_out = await client.post(CHAT, json=chat_body(), headers={"cf-aig-request-timeout": "100"})
            assert timed_out.status_code == 504
