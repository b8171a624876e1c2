"""Issue 11 part 3: the REST surface as a first-class choice (catalog names, CF_AIG_SURFACE, the REST token).

Each test runs sync and async through the core clients on the emulator; the recorded requests prove the route,
the model name and the credential that were sent.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from cfaig import GatewayClient
from cfaig.errors import AuthenticationError, ConfigurationError, NotFoundError
from cfaig.testing import EMULATOR_ACCOUNT_ID, GatewayEmulator
from tests._protocol_env import clear_gateway_env
from tests.core.conftest import Driver, user

TOKEN = "test-cf-aig-token"
REST_CHAT = f"/client/v4/accounts/{EMULATOR_ACCOUNT_ID}/ai/v1/chat/completions"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_gateway_env(monkeypatch)


@pytest.mark.parametrize("model", ["z-ai/glm-4.7-flash", "alibaba/qwen3-32b", "moonshotai/kimi-k2"])
def test_rest_accepts_any_catalog_name(make_driver: Callable[..., Driver], model: str) -> None:
    driver = make_driver(surface="rest", cf_aig_token=TOKEN)
    completion = driver.call("chat", {"model": model, "messages": user()})
    request = driver.emu.requests[-1]
    assert request.path == REST_CHAT
    assert request.json is not None
    assert request.json["model"] == model
    assert completion.gateway.served_by == model


@pytest.mark.parametrize("model", ["dynamic/support", "custom-acme/my-model"])
def test_rest_sends_dynamic_and_custom_names_as_given(make_driver: Callable[..., Driver], model: str) -> None:
    """Docs silent on whether the REST API honours these; what cfaig chose: sent as given, not refused."""
    driver = make_driver(surface="rest", cf_aig_token=TOKEN)
    driver.call("chat", {"model": model, "messages": user()})
    request = driver.emu.requests[-1]
    assert request.path == REST_CHAT
    assert request.json is not None
    assert request.json["model"] == model


@pytest.mark.parametrize(
    ("model", "sent", "served_by"),
    [
        ("google-ai-studio/gemini-2.5-flash", "google/gemini-2.5-flash", "google-ai-studio/gemini-2.5-flash"),
        ("google/gemini-2.5-flash", "google/gemini-2.5-flash", "google-ai-studio/gemini-2.5-flash"),
        ("grok/grok-4", "xai/grok-4", "grok/grok-4"),
        ("xai/grok-4", "xai/grok-4", "grok/grok-4"),
        ("workers-ai/@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.1-8b-instruct", None),
    ],
)
def test_rest_translates_the_names_that_differ(
    make_driver: Callable[..., Driver], model: str, sent: str, served_by: str | None
) -> None:
    driver = make_driver(surface="rest", cf_aig_token=TOKEN)
    completion = driver.call("chat", {"model": model, "messages": user()})
    assert driver.emu.requests[-1].json["model"] == sent
    assert completion.gateway.served_by == (served_by or model)


def test_gateway_host_refuses_catalog_only_names_before_any_request(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(cf_aig_token=TOKEN)
    with pytest.raises(ConfigurationError, match="surface='rest'"):
        driver.call("chat", {"model": "z-ai/glm-4.7-flash", "messages": user()})
    assert driver.emu.requests == []


def test_the_emulator_refuses_an_author_outside_the_catalog(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(surface="rest", cf_aig_token=TOKEN)
    with pytest.raises(NotFoundError) as info:
        driver.call("chat", {"model": "no-such-author/model", "messages": user()})
    assert info.value.status_code == 404
    assert info.value.code == 7003


def test_rest_needs_a_bearer_token_and_sends_the_gateway_id(emu: GatewayEmulator) -> None:
    with httpx.Client(transport=emu.transport()) as http:
        body = {"model": "openai/gpt-5-mini", "messages": user()}
        refused = http.post(f"http://localhost{REST_CHAT}", json=body, headers={"cf-aig-gateway-id": "default"})
        direct = http.post(
            f"http://localhost{REST_CHAT}",
            json={"model": "@cf/meta/llama-3.1-8b-instruct", "messages": user()},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == 10000
    assert direct.status_code == 200
    assert "cf-aig-log-id" not in direct.headers  # @cf/ without cf-aig-gateway-id runs outside any gateway
    with GatewayClient(
        account_id=emu.account_id, api_base_url=emu.api_base_url, surface="rest", cf_aig_token=TOKEN,
        transport=emu.transport(),
    ) as client:  # fmt: skip
        answer = client.chat({"model": "workers-ai/@cf/meta/llama-3.1-8b-instruct", "messages": user()})
    assert emu.requests[-1].headers["cf-aig-gateway-id"] == "default"
    assert answer.gateway.log_id is not None


def test_cf_aig_surface_switches_the_core_client(
    make_driver: Callable[..., Driver], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CF_AIG_SURFACE", "rest")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    driver = make_driver()
    driver.call("chat", {"model": "z-ai/glm-4.7-flash", "messages": user()})
    request = driver.emu.requests[-1]
    assert request.path == REST_CHAT
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["cf-aig-gateway-id"] == "default"
    assert "cf-aig-authorization" not in request.headers


def test_a_bad_cf_aig_surface_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_AIG_SURFACE", "api")
    with pytest.raises(ConfigurationError, match="CF_AIG_SURFACE"):
        GatewayClient(account_id="acct")


@pytest.mark.cfaig_emulator(gateway_only_tokens=["gateway-run-only"])
def test_rest_prefers_cloudflare_api_token(make_driver: Callable[..., Driver], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_AIG_TOKEN", "gateway-run-only")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    rest = make_driver(surface="rest", cf_aig_token=None)  # the tokens come from the environment
    rest.call("chat", {"model": "openai/gpt-5-mini", "messages": user()})
    assert rest.emu.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"
    gateway = make_driver(cf_aig_token=None)  # the gateway host keeps CF_AIG_TOKEN, its own token
    gateway.call("chat", {"model": "openai/gpt-5-mini", "messages": user()})
    assert gateway.emu.requests[-1].headers["cf-aig-authorization"] == "Bearer gateway-run-only"


@pytest.mark.cfaig_emulator(gateway_only_tokens=["gateway-run-only"])
def test_a_gateway_only_token_on_rest_names_the_missing_permission(
    make_driver: Callable[..., Driver], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CF_AIG_TOKEN", "gateway-run-only")
    driver = make_driver(surface="rest", cf_aig_token=None)  # the token comes from the environment
    with pytest.raises(AuthenticationError) as info:
        driver.call("chat", {"model": "openai/gpt-5-mini", "messages": user()})
    assert info.value.code == 10000
    assert "Workers AI Read" in str(info.value.hint)
    assert "CLOUDFLARE_API_TOKEN" in str(info.value.hint)
    assert "gateway-run-only" not in str(info.value)


def test_the_cli_switches_surface_by_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfaig.cli import EXIT_OK, main

    monkeypatch.setenv("CF_AIG_SURFACE", "rest")
    assert main(["chat", "hello", "--emulator", "--model", "z-ai/glm-4.7-flash"]) == EXIT_OK
    assert "served_by=z-ai/glm-4.7-flash" in capsys.readouterr().err
    monkeypatch.setenv("CF_AIG_SURFACE", "gateway")
    assert main(["chat", "hello", "--emulator", "--model", "z-ai/glm-4.7-flash"]) != EXIT_OK
