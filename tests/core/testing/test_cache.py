"""The gateway cache: cf-aig-cache-* headers, TTLs and keys (_cache)."""

from __future__ import annotations

import httpx

from cfaig.testing import (
    GatewayEmulator,
    GatewaySettings,
)
from tests.core.testing.helpers import CHAT, FakeClock, chat_body, user


def test_cache_miss_hit_skip_and_expiry() -> None:
    clock = FakeClock()
    emulator = GatewayEmulator(gateways={"default": GatewaySettings(cache_ttl=60)}, clock=clock)
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        first = client.post(CHAT, json=chat_body())
        second = client.post(CHAT, json=chat_body())
        assert (first.headers["cf-aig-cache-status"], second.headers["cf-aig-cache-status"]) == ("MISS", "HIT")
        assert first.content == second.content
        assert first.headers["cf-aig-log-id"] != second.headers["cf-aig-log-id"]
        assert emulator.logs[second.headers["cf-aig-log-id"]]["cached"] is True
        skipped = client.post(CHAT, json=chat_body(), headers={"cf-aig-skip-cache": "true"})
        assert skipped.headers["cf-aig-cache-status"] == "MISS"
        assert skipped.content != first.content
        other_key = client.post(CHAT, json=chat_body(), headers={"authorization": "Bearer sk-other"})
        assert other_key.headers["cf-aig-cache-status"] == "MISS"
        clock.now += 61
        assert client.post(CHAT, json=chat_body()).headers["cf-aig-cache-status"] == "MISS"
        assert client.post(CHAT, json=chat_body()).headers["cf-aig-cache-status"] == "HIT"


def test_cache_headers_streams_and_errors(gw: httpx.Client) -> None:
    # Caching is off on the default gateway unless the request asks for it.
    assert gw.post(CHAT, json=chat_body()).headers["cf-aig-cache-status"] == "MISS"
    assert gw.post(CHAT, json=chat_body()).headers["cf-aig-cache-status"] == "MISS"
    ttl = {"cf-aig-cache-ttl": "120"}
    assert gw.post(CHAT, json=chat_body("t"), headers=ttl).headers["cf-aig-cache-status"] == "MISS"
    assert gw.post(CHAT, json=chat_body("t"), headers=ttl).headers["cf-aig-cache-status"] == "HIT"
    keyed_a = gw.post(CHAT, json=chat_body("first"), headers={"cf-aig-cache-key": "k1"})
    keyed_b = gw.post(CHAT, json=chat_body("second"), headers={"cf-aig-cache-key": "k1"})
    assert keyed_b.headers["cf-aig-cache-status"] == "HIT"
    assert keyed_a.content == keyed_b.content
    stream = chat_body("s", stream=True)
    for _ in range(2):
        assert gw.post(CHAT, json=stream, headers=ttl).headers["cf-aig-cache-status"] == "MISS"
    bad = {"model": "openai/gpt-4o", "messages": user(), "n": 0}
    for _ in range(2):
        response = gw.post(CHAT, json=bad, headers=ttl)
        assert response.status_code == 400
        assert response.headers["cf-aig-cache-status"] == "MISS"
    embeddings = {"model": "openai/text-embedding-3-small", "input": "x"}
    gw.post("/compat/embeddings", json=embeddings, headers=ttl)
    assert gw.post("/compat/embeddings", json=embeddings, headers=ttl).headers["cf-aig-cache-status"] == "HIT"
