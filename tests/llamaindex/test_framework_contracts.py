"""LlamaIndex contracts checked against OpenAILike: metadata from the provider table, constructor kwargs, errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cfaig import errors
from cfaig.providers import PROVIDERS, capabilities
from cfaig.testing.pytest_plugin import Driver
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM
from tests.llamaindex.test_shared_rules import ADD, HI, MakeEmbedding, MakeLLM, chat_bodies


@pytest.mark.parametrize("provider", ["openai", "anthropic", "perplexity", "cohere", "workers-ai"])
def test_is_function_calling_model_is_the_provider_tables(provider: str) -> None:
    model = "workers-ai/@cf/meta/llama-3.1-8b-instruct" if provider == "workers-ai" else f"{provider}/some-model"
    meta = CloudflareAIGatewayLLM(model=model, account_id="acct").metadata
    assert meta.is_function_calling_model is capabilities(model).tool_calling


def test_a_provider_without_tools_is_not_a_function_calling_model() -> None:
    assert "perplexity" in PROVIDERS
    assert (
        CloudflareAIGatewayLLM(model="perplexity/sonar", account_id="acct").metadata.is_function_calling_model is False
    )
    assert CloudflareAIGatewayLLM(model="openai/gpt-5-mini", account_id="acct").metadata.is_function_calling_model


# --- constructor keywords: unknown ones are provider extras, with a warning --------------------------


def test_an_unknown_keyword_warns_and_is_sent_as_a_provider_extra(cfaig_driver: Driver, make_llm: MakeLLM) -> None:
    with pytest.warns(UserWarning, match=r"top_k is not a CloudflareAIGatewayLLM parameter.*additional_kwargs"):
        llm = make_llm(top_k=40)
    assert llm.additional_kwargs == {"top_k": 40}
    cfaig_driver.on(llm, "chat", HI)
    assert chat_bodies(cfaig_driver.emulator)[-1]["top_k"] == 40


def test_the_embedding_takes_provider_extras_too(cfaig_driver: Driver, make_embedding: MakeEmbedding) -> None:
    with pytest.warns(UserWarning, match="additional_kwargs"):
        embed = make_embedding(model_name="openai/text-embedding-3-small", user="u-1")
    cfaig_driver.run(lambda: embed.get_text_embedding("hi"), lambda: embed.aget_text_embedding("hi"))
    assert cfaig_driver.emulator.requests[-1].json["user"] == "u-1"


def test_request_timeout_and_httpx_timeouts() -> None:
    assert CloudflareAIGatewayLLM(account_id="acct", request_timeout=5).client.config.timeout == 5.0
    assert CloudflareAIGatewayEmbedding(account_id="acct", timeout=httpx.Timeout(12.0)).timeout == 12.0
    with pytest.raises(errors.ConfigurationError, match="no finite limit"):
        CloudflareAIGatewayLLM(account_id="acct", timeout=httpx.Timeout(None))


# --- bad input: ConfigurationError naming the field or the entry, before any request ------------------


@pytest.mark.parametrize(("bad", "field"), [({"cache_ttl": 1.5}, "cache_ttl"), ({"model": None}, "model")])
def test_a_wrong_type_is_a_configuration_error_naming_the_field(bad: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.ConfigurationError, match=rf"\b{field}\b"):
        CloudflareAIGatewayLLM(account_id="acct", **bad)
    with pytest.raises(errors.ConfigurationError, match=r"\bcache_ttl\b"):
        CloudflareAIGatewayEmbedding(account_id="acct", cache_ttl=1.5)


def test_a_message_that_is_a_dict_is_refused_before_any_request(
    cfaig_driver: Driver, llm: CloudflareAIGatewayLLM
) -> None:
    with pytest.raises(errors.ConfigurationError, match=r"messages\[1\] is of type dict"):
        cfaig_driver.on(llm, "chat", [*HI, {"role": "user", "content": "hi"}])
    assert cfaig_driver.emulator.requests == []


def test_a_tool_that_is_not_one_is_refused_before_any_request(
    cfaig_driver: Driver, llm: CloudflareAIGatewayLLM
) -> None:
    with pytest.raises(errors.ConfigurationError, match=r"tools\[1\] is of type dict"):
        cfaig_driver.on(llm, "chat_with_tools", [ADD, {"function": {}}], user_msg="add 2 and 3")
    assert cfaig_driver.emulator.requests == []
