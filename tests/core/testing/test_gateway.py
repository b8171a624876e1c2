"""The gateway itself: its errors, authentication, gateway resolution and rate limits (_gateway)."""

from __future__ import annotations

import httpx

from cfaig.testing import (
    EMULATOR_ACCOUNT_ID,
    GatewayEmulator,
    GatewaySettings,
)
from tests.core.testing.helpers import CHAT, TOKEN, UUID7, FakeClock, chat_body, user


def test_authenticated_gateway_requires_token(emulator: GatewayEmulator) -> None:
    emulator.gateways["secure"] = GatewaySettings(authentication=True)
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url("secure")) as client:
        denied = client.post(CHAT, json=chat_body())
        assert denied.status_code == 401
        assert denied.json() == {
            "success": False,
            "error": [{"code": 2009, "message": "Unauthorized"}],
            "name": "AiGatewayError",
            "httpCode": 401,
            "internalCode": 2009,
        }
        assert "cf-aig-log-id" not in denied.headers
        wrong = client.post(CHAT, json=chat_body(), headers={"cf-aig-authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.post(CHAT, json=chat_body(), headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        # Cloudflare's examples also put the gateway token in the OpenAI SDK api key on compat.
        sdk_style = client.post(CHAT, json=chat_body(), headers={"authorization": f"Bearer {TOKEN}"})
        assert sdk_style.status_code == 200
        provider = client.post(
            "/openai/chat/completions",
            json={"model": "gpt-4o", "messages": user()},
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert provider.status_code == 401


def test_unknown_gateway_and_account(emulator: GatewayEmulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=emulator.base_url) as client:
        for gateway in ["missing", "x" * 65]:
            response = client.post(f"/{EMULATOR_ACCOUNT_ID}/{gateway}{CHAT}", json=chat_body())
            assert response.status_code == 400
            assert response.json()["error"] == [
                {"code": 2001, "message": "Please configure AI Gateway in the Cloudflare dashboard"}
            ]
        other_account = client.post(f"/{'f' * 32}/default{CHAT}", json=chat_body())
        assert other_account.status_code == 400
        assert other_account.json()["internalCode"] == 2001


def test_default_gateway_auto_created_on_authenticated_request() -> None:
    emulator = GatewayEmulator(gateways={"prod": GatewaySettings()})
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        assert client.post(CHAT, json=chat_body()).status_code == 401
        ok = client.post(CHAT, json=chat_body(), headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
    assert emulator.gateways["default"].authentication is True


def test_rate_limit_2003_with_fake_clock() -> None:
    clock = FakeClock()
    emulator = GatewayEmulator(gateways={"default": GatewaySettings(rate_limit=2, rate_limit_interval=10)}, clock=clock)
    with httpx.Client(transport=emulator.transport(), base_url=emulator.gateway_url()) as client:
        assert [client.post(CHAT, json=chat_body()).status_code for _ in range(2)] == [200, 200]
        limited = client.post(CHAT, json=chat_body())
        assert limited.status_code == 429
        assert limited.json()["error"] == [{"code": 2003, "message": "Rate limited"}]
        assert UUID7.match(limited.headers["cf-aig-log-id"])
        clock.now += 10.5
        assert client.post(CHAT, json=chat_body()).status_code == 200
