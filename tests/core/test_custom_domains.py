"""Issue 11 part 6: ``gateway_url`` (env ``CF_AIG_GATEWAY_URL``), a custom domain as the whole gateway root.

The emulator serves ``ai.example.test`` as the ``default`` gateway's custom domain (routes at the root, no account
or gateway in the path), as Cloudflare documents; each test runs sync and async.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cfaig import GatewayClient
from cfaig.errors import AuthenticationError, ConfigurationError
from cfaig.testing import Fault, GatewaySettings
from cfaig.types import ChatRequest
from tests._protocol_env import clear_gateway_env
from tests.core.conftest import Driver, user

DOMAIN = "https://ai.example.test"
TOKEN = "test-cf-aig-token"
custom_domain = pytest.mark.cfaig_emulator(custom_domains={"ai.example.test": "default"})


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_gateway_env(monkeypatch)


@pytest.fixture
def domain(make_driver: Callable[..., Driver]) -> Driver:
    """Core clients on the custom domain, with no account id."""
    return make_driver(gateway_url=DOMAIN, account_id=None, base_url=None, cf_aig_token=TOKEN)


def _chat(model: str = "openai/gpt-5-mini") -> ChatRequest:
    return {"model": model, "messages": user()}


@custom_domain
def test_requests_go_below_the_custom_domain_root(domain: Driver) -> None:
    completion = domain.call("chat", _chat())
    domain.call("chat", _chat(), endpoint="provider")
    domain.call("embed", {"model": "workers-ai/@cf/baai/bge-base-en-v1.5", "input": ["a"]})
    domain.call("responses", {"model": "openai/gpt-5-mini", "input": "hi"})
    domain.stream(_chat())
    assert [r.url for r in domain.emu.requests] == [
        f"{DOMAIN}/compat/chat/completions",
        f"{DOMAIN}/openai/chat/completions",
        f"{DOMAIN}/workers-ai/v1/embeddings",
        f"{DOMAIN}/openai/responses",
        f"{DOMAIN}/compat/chat/completions",
    ]
    assert all(r.gateway_id == "default" for r in domain.emu.requests)
    assert completion.gateway.log_id is not None


@custom_domain
def test_the_universal_endpoint_is_the_custom_domain_root(domain: Driver) -> None:
    domain.emu.inject(Fault(status=503, step=0))
    completion = domain.call(
        "chat", _chat(), fallbacks=["anthropic/claude-sonnet-4-5"], options={"fallback_mode": "universal"}
    )
    [request] = domain.emu.requests
    assert request.url == DOMAIN
    assert [step["provider"] for step in request.json] == ["compat", "compat"]
    assert completion.gateway.step == 1


@custom_domain
def test_client_side_fallbacks_on_a_custom_domain(domain: Driver) -> None:
    domain.emu.inject(Fault(status=400))
    completion = domain.call("chat", _chat(), fallbacks=["anthropic/claude-sonnet-4-5"])
    assert [r.url for r in domain.emu.requests] == [f"{DOMAIN}/compat/chat/completions"] * 2
    assert completion.gateway.served_by == "anthropic/claude-sonnet-4-5"


@pytest.mark.cfaig_emulator(
    custom_domains={"ai.example.test": "locked"}, gateways={"locked": GatewaySettings(authentication=True)}
)
def test_an_authenticated_gateway_on_its_custom_domain_needs_the_token(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(gateway_url=DOMAIN, account_id=None, cf_aig_token=None)  # the driver's token removed
    with pytest.raises(AuthenticationError) as info:
        driver.call("chat", _chat())
    assert info.value.code == 2009
    driver.configure(cf_aig_token=TOKEN).call("chat", _chat())
    assert driver.emu.requests[-1].gateway_id == "locked"


@custom_domain
def test_feedback_still_needs_the_account_id(domain: Driver, make_driver: Callable[..., Driver]) -> None:
    completion = domain.call("chat", _chat())
    with pytest.raises(ConfigurationError, match="account_id"):
        domain.call("feedback", completion.gateway.log_id, feedback=1)
    with_account = make_driver(gateway_url=DOMAIN, cf_aig_token=TOKEN)
    with_account.call("feedback", completion.gateway.log_id, feedback=1)
    assert with_account.emu.requests[-1].path.endswith(f"/ai-gateway/gateways/default/logs/{completion.gateway.log_id}")


def test_gateway_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_AIG_GATEWAY_URL", "https://ai.example.com/")
    client = GatewayClient()
    preview = client.describe_chat(_chat())
    assert preview.url == "https://ai.example.com/compat/chat/completions"
    assert client.config.account_id is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://ai.example.com",
        "ai.example.com",
        "https://ai.example.com/\nHost: evil",
        "https://ai.exa\tmple.com",
        "https://ai.example.com/ x",
        "https://ai.example.com?gateway=x",
        "https://ai.example.com#top",
        "https://user:secret@ai.example.com",
    ],
)
def test_a_malformed_gateway_url_is_refused_before_any_request(url: str) -> None:
    with pytest.raises(ConfigurationError, match="gateway_url") as info:
        GatewayClient(gateway_url=url)
    assert "secret" not in str(info.value)


def test_gateway_url_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="REST API does not serve custom domains"):
        GatewayClient(gateway_url=DOMAIN, surface="rest", account_id="acct")
    with pytest.raises(ConfigurationError, match="plain http"):
        GatewayClient(gateway_url="http://ai.example.com", cf_aig_token=TOKEN)
    with pytest.raises(ConfigurationError, match="account_id is required"):
        GatewayClient()
    with pytest.raises(ConfigurationError, match="account_id is required"):
        GatewayClient(surface="rest", cf_aig_token=TOKEN)
    monkeypatch.setenv("CF_AIG_GATEWAY_URL", DOMAIN)  # the REST surface does not read it: no custom domain there
    assert GatewayClient(surface="rest", account_id="acct").config.gateway_url is None
    monkeypatch.setenv("CF_AIG_GATEWAY_URL", "not a url")
    with pytest.raises(ConfigurationError, match="CF_AIG_GATEWAY_URL"):
        GatewayClient()


def test_the_cli_takes_a_custom_domain(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from cfaig.cli import EXIT_OK, main

    assert main(["chat", "hello", "--emulator", "--gateway-url", DOMAIN, "-m", "openai/gpt-5-mini"]) == EXIT_OK
    assert "served_by=openai/gpt-5-mini" in capsys.readouterr().err
    monkeypatch.setenv("CF_AIG_GATEWAY_URL", DOMAIN)
    assert main(["doctor", "--emulator", "--model", "openai/gpt-5-mini"]) == EXIT_OK
    assert f"POST {DOMAIN}/compat/chat/completions" in capsys.readouterr().out


def test_cloudflare_access_credentials_go_in_default_headers_and_are_masked() -> None:
    access = {
        "cf-access-token": "eyJ.jwt.value",
        "CF-Access-Client-Id": "id.access",
        "CF-Access-Client-Secret": "s3cr3t",
    }
    client = GatewayClient(gateway_url=DOMAIN, options={"default_headers": access})
    preview = client.describe_chat(_chat())
    assert preview.headers["cf-access-token"] == preview.headers["CF-Access-Client-Secret"] == "**********"
    assert preview.headers["CF-Access-Client-Id"] == "id.access"
