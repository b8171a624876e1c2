"""Part 2: model strings are parsed before any request; anything else is a ConfigurationError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfaig import PROVIDERS, parse_model
from cfaig.errors import ConfigurationError


@pytest.mark.parametrize(
    ("text", "provider", "model"),
    [
        ("openai/gpt-5-mini", "openai", "gpt-5-mini"),
        ("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
        (
            "workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast",
            "workers-ai",
            "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        ),
        ("@cf/meta/llama-3.1-8b-instruct", "workers-ai", "@cf/meta/llama-3.1-8b-instruct"),
        ("dynamic/support", "dynamic", "support"),
        ("google-vertex-ai/google/gemini-2.5-pro", "google-vertex-ai", "google/gemini-2.5-pro"),
        ("google/gemini-3-flash", "google-ai-studio", "gemini-3-flash"),
        ("xai/grok-3", "grok", "grok-3"),
        ("custom-acme/model-1", "custom-acme", "model-1"),
        (
            "aws-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "aws-bedrock",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        ),
    ],
)
def test_valid_model_strings(text: str, provider: str, model: str) -> None:
    ref = parse_model(text)
    assert (ref.provider, ref.model) == (provider, model)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_documented_provider_parses(provider: str) -> None:
    model = "@cf/x/y" if provider == "workers-ai" else "some-model"
    assert parse_model(f"{provider}/{model}").provider == provider


@pytest.mark.parametrize(
    "text", ["gpt-4o", "", "openai/", "/gpt-4o", "foo/bar", "workers-ai/llama", "openai/gpt 4", "custom-/x"]
)
def test_invalid_model_strings_list_providers_and_example(text: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_model(text)
    message = str(info.value)
    if text not in ("workers-ai/llama", "openai/gpt 4", "custom-/x"):
        assert "anthropic" in message
        assert "openai/gpt-5-mini" in message


def test_surface_translation() -> None:
    assert parse_model("google-ai-studio/gemini-2.5-flash").for_surface("rest") == "google/gemini-2.5-flash"
    assert parse_model("grok/grok-3").for_surface("rest") == "xai/grok-3"
    assert parse_model("workers-ai/@cf/meta/llama").for_surface("rest") == "@cf/meta/llama"
    assert parse_model("openai/gpt-5-mini").for_surface("rest") == "openai/gpt-5-mini"
    assert parse_model("google/gemini-3-flash").for_surface("gateway") == "google-ai-studio/gemini-3-flash"
    assert parse_model("perplexity/sonar").slug == "perplexity-ai"


def test_non_string_model() -> None:
    with pytest.raises(ConfigurationError):
        parse_model(42)  # type: ignore[arg-type]


@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_configuration_error(text: str) -> None:
    try:
        ref = parse_model(text)
    except ConfigurationError:
        return
    assert ref.qualified.count("/") >= 1
    assert parse_model(ref.qualified) == ref


@given(st.binary(max_size=60))
def test_arbitrary_bytes_decoded_parse_or_raise(data: bytes) -> None:
    try:
        parse_model(data.decode("utf-8", errors="replace"))
    except ConfigurationError:
        pass
