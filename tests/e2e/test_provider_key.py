"""A provider key from the environment (``CF_AIG_PROVIDER_API_KEY``): every entry point sends it, none echoes it.

The user with only a provider key (no stored keys, no Unified Billing) sets one variable; the core, the four
framework classes and the CLI all read it through ``GatewayConfig``, and the LangChain class names it in
``lc_secrets`` so ``langchain_core.load`` restores it from the same variable.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.load import dumpd, load
from llama_index.core.base.llms.types import ChatMessage

from cfaig import GatewayClient, GatewayConfig
from cfaig.cli import EXIT_OK, main
from cfaig.testing import EmulatorServer
from cfaig.testing.pytest_plugin import Driver
from langchain_cfaig import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

KEY = "sk-from-the-environment-1234"
_OPENAI_EMBEDDINGS = "openai/text-embedding-3-small"  # an OpenAI key goes to OpenAI models (Workers AI takes a token)


@pytest.fixture(autouse=True)
def _provider_key_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_GATEWAY_ID", "CF_AIG_TOKEN", "CF_AIG_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CF_AIG_PROVIDER_API_KEY", KEY)


def _where(gateway: EmulatorServer) -> dict[str, Any]:
    return {"account_id": gateway.emulator.account_id, "base_url": gateway.base_url}


def _call(kind: str, driver: Driver, where: dict[str, Any]) -> Any:
    """One call of a framework class built from the environment plus where the emulator is."""
    if kind == "langchain chat":
        return driver.on(ChatCloudflareAIGateway(model="openai/gpt-5-mini", **where), "invoke", "hi")
    if kind == "langchain embeddings":
        return driver.on(CloudflareAIGatewayEmbeddings(model=_OPENAI_EMBEDDINGS, **where), "embed_query", "hi")
    if kind == "llamaindex llm":
        llm = CloudflareAIGatewayLLM(model="openai/gpt-5-mini", **where)
        return driver.on(llm, "chat", [ChatMessage(role="user", content="hi")])
    embed = CloudflareAIGatewayEmbedding(model_name=_OPENAI_EMBEDDINGS, **where)
    return driver.run(lambda: embed.get_text_embedding("hi"), lambda: embed.aget_text_embedding("hi"))


def test_the_core_reads_it() -> None:
    config = GatewayConfig(account_id="acct")
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == KEY
    assert KEY not in repr(config)
    explicit = GatewayConfig(account_id="acct", api_key="sk-explicit").api_key
    assert explicit is not None and explicit.get_secret_value() == "sk-explicit"


def test_the_rest_surface_does_not_read_it() -> None:
    """The REST surface authenticates with the Cloudflare token only; a provider key in the environment
    (meant for the gateway surface) must not make a REST configuration invalid."""
    assert GatewayConfig(account_id="acct", surface="rest").api_key is None
    assert (
        ChatCloudflareAIGateway(model="openai/gpt-5-mini", account_id="a", surface="rest").client.config.api_key is None
    )


@pytest.mark.parametrize("kind", ["langchain chat", "langchain embeddings", "llamaindex llm", "llamaindex embedding"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_framework_class_sends_it(cfaig_gateway: EmulatorServer, kind: str, mode: str) -> None:
    _call(kind, Driver(mode, cfaig_gateway.emulator), _where(cfaig_gateway))  # type: ignore[arg-type]
    assert cfaig_gateway.emulator.requests[-1].headers["authorization"] == f"Bearer {KEY}"


def test_the_core_client_sends_it(cfaig_gateway: EmulatorServer) -> None:
    with GatewayClient(**_where(cfaig_gateway)) as client:
        client.chat({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert cfaig_gateway.emulator.requests[-1].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_lc_secrets_names_the_variable_load_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ChatCloudflareAIGateway(model="openai/gpt-5-mini", account_id="acct")
    assert model.lc_secrets["api_key"] == "CF_AIG_PROVIDER_API_KEY"
    assert model.api_key is not None
    serialised = dumpd(model)
    assert KEY not in str(serialised)
    monkeypatch.setenv("CF_AIG_PROVIDER_API_KEY", "sk-on-the-other-machine")
    restored = load(
        serialised,
        valid_namespaces=["langchain_cfaig"],
        secrets_from_env=True,
        allowed_objects=[ChatCloudflareAIGateway],
    )
    assert restored.api_key.get_secret_value() == "sk-on-the-other-machine"


def test_the_cli_sends_it_and_takes_api_key(cfaig_gateway: EmulatorServer, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--account-id", cfaig_gateway.emulator.account_id, "--base-url", cfaig_gateway.base_url]
    assert main(["chat", "hi", "--model", "openai/gpt-5-mini", *where]) == EXIT_OK
    assert cfaig_gateway.emulator.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    assert main(["chat", "hi", "--model", "openai/gpt-5-mini", "--api-key", "sk-flag-5678", *where]) == EXIT_OK
    assert cfaig_gateway.emulator.requests[-1].headers["authorization"] == "Bearer sk-flag-5678"
    out, err = capsys.readouterr()
    assert KEY not in out + err
    assert "sk-flag-5678" not in out + err


def test_doctor_lists_it_masked(capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor", "--emulator"])
    out = capsys.readouterr().out
    assert "CF_AIG_PROVIDER_API_KEY" in out
    assert "CLOUDFLARE_API_TOKEN" in out
    assert KEY not in out
