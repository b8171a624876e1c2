"""Gateway logs: cf-aig-* response headers, metadata rules, log entries and feedback (_logs)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cfaig.testing import (
    GatewayEmulator,
)
from tests.core.testing.helpers import CHAT, UUID7, chat_body


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"team": "AI", "user": 12345, "test": true}', {"team": "AI", "user": 12345, "test": True}),
        (json.dumps({f"k{i}": i for i in range(7)}), {f"k{i}": i for i in range(5)}),
        ('{"a": 1, "nested": {"b": 2}}', {}),
        ('{"a": 1, "gone": null}', {}),
        ('["not", "an", "object"]', {}),
        ("not json", {}),
    ],
)
def test_metadata_rules(gw: httpx.Client, emulator: GatewayEmulator, raw: str, expected: dict[str, Any]) -> None:
    response = gw.post(CHAT, json=chat_body(), headers={"cf-aig-metadata": raw})
    assert emulator.logs[response.headers["cf-aig-log-id"]]["metadata"] == expected


def test_collect_log_event_id_and_unique_ids(gw: httpx.Client, emulator: GatewayEmulator) -> None:
    silent = gw.post(CHAT, json=chat_body(), headers={"cf-aig-collect-log": "false"})
    assert UUID7.match(silent.headers["cf-aig-log-id"])
    assert emulator.logs == {}
    traced = gw.post(
        CHAT, json=chat_body(), headers={"cf-aig-event-id": "trace-1", "cf-aig-custom-cost": '{"per_token_in": 0.1}'}
    )
    assert traced.headers["cf-aig-event-id"] == "trace-1"
    log = emulator.logs[traced.headers["cf-aig-log-id"]]
    assert log["event_id"] == "trace-1"
    assert log["custom_cost"] == {"per_token_in": 0.1}
    assert log["cf_headers"]["cf-aig-event-id"] == "trace-1"
    ids = {gw.post(CHAT, json=chat_body()).headers["cf-aig-log-id"] for _ in range(50)}
    assert len(ids) == 50


def test_feedback_patch(gw: httpx.Client, rest: httpx.Client, emulator: GatewayEmulator) -> None:
    log_id = gw.post(CHAT, json=chat_body()).headers["cf-aig-log-id"]
    path = f"/ai-gateway/gateways/default/logs/{log_id}"
    response = rest.patch(path, json={"feedback": 1, "score": 87.5, "metadata": {"user": "u1", "ok": True}})
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["errors"], body["messages"]) == (True, [], [])
    assert body["result"]["feedback"] == 1
    assert emulator.logs[log_id]["score"] == 87.5
    assert emulator.logs[log_id]["metadata"] == {"user": "u1", "ok": True}
    assert emulator.requests[-1].route == "feedback"
    assert rest.get(path).json()["result"]["feedback"] == 1
    for bad in [{"feedback": 0}, {"feedback": True}, {"score": "high"}, {"metadata": {"x": {"y": 1}}}]:
        assert rest.patch(path, json=bad).status_code == 400, bad
    missing = rest.patch("/ai-gateway/gateways/default/logs/nope", json={"feedback": -1})
    assert missing.status_code == 404
    assert missing.json()["success"] is False
    wrong_gateway = rest.patch(f"/ai-gateway/gateways/other/logs/{log_id}", json={"feedback": -1})
    assert wrong_gateway.status_code == 404
    unauthenticated = httpx.Client(transport=emulator.transport(), base_url=emulator.rest_url)
    with unauthenticated:
        assert unauthenticated.patch(path, json={"feedback": -1}).status_code == 401
