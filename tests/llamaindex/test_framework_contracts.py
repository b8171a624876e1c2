"""LlamaIndex contracts checked against OpenAILike: metadata from the provider table, constructor kwargs, errors."""

from __future__ import annotations

import pytest

from cfaig.providers import PROVIDERS, capabilities
from llamaindex_cfaig import CloudflareAIGatewayLLM


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
