"""The emulator over real loopback sockets: keep-alive, streams, cuts and resets, concurrency (_server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from cfaig.testing import (
    EMULATOR_ACCOUNT_ID,
    EmulatorServer,
    Fault,
    GatewayEmulator,
    serve,
)
from tests.core.testing.helpers import CHAT, TOKEN, chat_body, max_overlap, sse_data, sse_json, timed_call, timed_post


def test_served_basics(served: EmulatorServer) -> None:
    assert served.url == f"http://127.0.0.1:{served.port}"
    assert served.base_url == f"{served.url}/v1"
    assert served.api_base_url == f"{served.url}/client/v4"
    with httpx.Client(base_url=served.gateway_url()) as client:
        client_ports = set()
        for index in range(5):
            response = client.post(CHAT, json=chat_body(f"message {index}"))
            assert response.status_code == 200
            assert response.json()["choices"][0]["message"]["content"].endswith(f"message {index}")
            client_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
        assert len(client_ports) == 1  # keep-alive: one connection served all five
        stream = client.post(CHAT, json=chat_body("x y", stream=True, stream_options={"include_usage": True}))
        assert sse_data(stream.text)[-1] == "[DONE]"
        assert sse_json(stream.text)[-1]["usage"]["total_tokens"] > 0
        assert client.post("/nosuch/x", json={}).status_code == 404
        assert client.head(CHAT).status_code == 405
    with httpx.Client(base_url=served.rest_url, headers={"authorization": f"Bearer {TOKEN}"}) as rest_client:
        assert rest_client.post("/ai/v1/chat/completions", json=chat_body()).status_code == 200
    assert [r.route for r in served.emulator.requests][-1] == "rest.chat"


def test_served_stream_cut_reset_and_end(served: EmulatorServer) -> None:
    emulator = served.emulator
    with httpx.Client(base_url=served.gateway_url()) as client:
        emulator.inject(Fault(cut_after=2))
        lines: list[str] = []
        with (
            pytest.raises(httpx.RemoteProtocolError),
            client.stream("POST", CHAT, json=chat_body("a b c d", stream=True)) as r,
        ):
            lines.extend(line for line in r.iter_lines() if line)
        assert len(lines) == 2
        emulator.inject(Fault(end_after=1))
        assert sse_data(client.post(CHAT, json=chat_body("a b c", stream=True)).text) != []
        emulator.inject(Fault(reset=True))
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.post(CHAT, json=chat_body())
        assert client.post(CHAT, json=chat_body()).status_code == 200


async def raw_chat(port: int, text: str) -> tuple[int, dict[str, Any]]:
    """One request on its own raw socket, so hundreds can be in flight at once."""
    payload = json.dumps(chat_body(text)).encode()
    head = f"POST /v1/{EMULATOR_ACCOUNT_ID}/default{CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode() + payload)
        lines = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length"))
        return int(lines[0].split()[1]), json.loads(await reader.readexactly(length))
    finally:
        writer.close()
        await writer.wait_closed()


async def test_served_concurrency_with_delays(served: EmulatorServer) -> None:
    served.emulator.inject(Fault(status=200, delay=0.3, times=300))
    timed_raw = await asyncio.gather(*(timed_call(raw_chat(served.port, str(i))) for i in range(300)))
    results = [result for result, _ in timed_raw]
    assert {status for status, _ in results} == {200}
    assert max_overlap([span for _, span in timed_raw]) >= 100  # delayed requests overlap, not queue
    echoed = {body["choices"][0]["message"]["content"].split()[-1] for _, body in results}
    assert echoed == {str(i) for i in range(300)}
    served.emulator.inject(Fault(status=200, delay=0.2, times=40))
    async with httpx.AsyncClient(base_url=served.gateway_url(), timeout=10) as client:
        timed = await asyncio.gather(*(timed_post(client, CHAT, chat_body(str(i))) for i in range(40)))
    assert [r.status_code for r, _ in timed] == [200] * 40
    assert max_overlap([span for _, span in timed]) >= 10


def test_server_stops_and_closes_sockets() -> None:
    with httpx.Client() as client:
        with serve(GatewayEmulator(), port=0) as running:
            port = running.port
            assert client.post(running.gateway_url() + CHAT, json=chat_body()).status_code == 200
        with pytest.raises(httpx.TransportError):
            client.post(f"http://127.0.0.1:{port}/v1/{EMULATOR_ACCOUNT_ID}/default{CHAT}", json=chat_body())
    with pytest.raises(RuntimeError):
        _ = running.port
