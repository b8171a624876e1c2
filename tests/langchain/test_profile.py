"""The model profile (LangChain 1.x middleware reads it) and LangSmith's parameters, from cfaig's provider table."""

from __future__ import annotations

from typing import Any, get_type_hints

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import SummarizationMiddleware
from langchain_core.language_models import ModelProfile
from langchain_core.messages import AIMessage

from cfaig.providers import PROVIDERS, capabilities, known_model_size
from cfaig.testing.pytest_plugin import Driver
from langchain_cfaig import ChatCloudflareAIGateway
from langchain_cfaig.chat_models import model_profile


def test_a_sized_model_has_its_window_and_capabilities() -> None:
    profile = ChatCloudflareAIGateway(model="openai/gpt-4o-mini", account_id="acct").profile
    assert profile is not None
    assert (profile["max_input_tokens"], profile["max_output_tokens"]) == tuple(
        known_model_size("openai/gpt-4o-mini") or ()
    )
    assert profile["tool_calling"] and profile["tool_choice"] and profile["structured_output"]


def test_the_profile_says_what_the_provider_table_says() -> None:
    anthropic = model_profile("anthropic/claude-sonnet-4-5")
    assert anthropic["structured_output"] is capabilities("anthropic/claude-sonnet-4-5").json_schema is False
    perplexity = model_profile("perplexity/sonar")
    assert perplexity["tool_calling"] is False
    assert perplexity["tool_choice"] is False
    cohere = model_profile("cohere/command-r-plus")
    assert cohere["tool_calling"] is True
    assert cohere["tool_choice"] is False  # no tool_choice="required" on its compat layer


def test_a_model_the_table_does_not_size_gets_no_made_up_window() -> None:
    profile = model_profile("openai/some-future-model")
    assert "max_input_tokens" not in profile
    assert "max_output_tokens" not in profile
    assert profile["tool_calling"] is True


def test_the_profile_follows_the_model_and_a_given_one_is_kept() -> None:
    model = ChatCloudflareAIGateway(model="openai/gpt-4o-mini", account_id="acct")
    copy = model.model_copy(update={"model": "anthropic/claude-sonnet-4-5"})
    assert copy.profile == model_profile("anthropic/claude-sonnet-4-5")
    assert model.profile == model_profile("openai/gpt-4o-mini")
    model.model = "perplexity/sonar"
    assert model.profile == model_profile("perplexity/sonar")
    mine = ChatCloudflareAIGateway(model="openai/gpt-4o-mini", account_id="acct", profile={"max_input_tokens": 900})
    mine.model = "anthropic/claude-sonnet-4-5"
    assert mine.profile == {"max_input_tokens": 900}
    assert mine.model_copy(update={"model": "openai/gpt-5"}).profile == {"max_input_tokens": 900}


def test_ls_params_name_the_provider_and_its_own_model_id() -> None:
    params = ChatCloudflareAIGateway(model="google-ai-studio/gemini-2.5-pro", account_id="acct")._get_ls_params()
    assert (params["ls_provider"], params["ls_model_name"]) == ("google-ai-studio", "gemini-2.5-pro")
    dynamic = ChatCloudflareAIGateway(model="dynamic/support", account_id="acct")._get_ls_params()
    assert (dynamic["ls_provider"], dynamic["ls_model_name"]) == ("dynamic", "support")


def test_summarization_middleware_takes_a_fractional_trigger(cfaig_driver: Driver, clients: dict[str, Any]) -> None:
    """``SummarizationMiddleware(trigger=("fraction", 0.8))`` needs ``profile["max_input_tokens"]``."""
    model = ChatCloudflareAIGateway(model="openai/gpt-5-mini", **clients)
    middleware = SummarizationMiddleware(model=model, trigger=("fraction", 0.8))
    agent = create_agent(model, tools=[], middleware=[middleware])
    state = cfaig_driver.on(agent, "invoke", {"messages": [("user", "hello there")]})
    assert isinstance(state["messages"][-1], AIMessage)
    assert "hello there" in state["messages"][-1].text


def test_without_a_window_the_middleware_says_so() -> None:
    model = ChatCloudflareAIGateway(model="openai/some-future-model", account_id="acct")
    with pytest.raises(ValueError, match="profile"):
        SummarizationMiddleware(model=model, trigger=("fraction", 0.8))


def test_the_profile_uses_only_keys_langchain_declares() -> None:
    """The profile is set after validation (langchain-core's key check would cost every construction
    a typing.get_type_hints): its keys must be ModelProfile's, for every provider in the table."""
    declared = set(get_type_hints(ModelProfile))
    for provider in PROVIDERS:
        model = "workers-ai/@cf/meta/llama-3.1-8b-instruct" if provider == "workers-ai" else f"{provider}/gpt-4o"
        assert set(model_profile(model)) <= declared, provider


def test_model_profile_hands_out_its_own_dict() -> None:
    first = model_profile("openai/gpt-4o-mini")
    first["max_input_tokens"] = 1
    assert model_profile("openai/gpt-4o-mini")["max_input_tokens"] == 128_000
