"""Token counts without a download: tiktoken from its cache for OpenAI-family models, else the documented estimate."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage, trim_messages
from langchain_core.tools import tool

from cfaig import errors
from langchain_cfaig import ChatCloudflareAIGateway
from langchain_cfaig._tokens import encoding_name, estimate_tokens

tiktoken = pytest.importorskip("tiktoken")  # installed with llama-index-core, so this never skips here


@pytest.fixture
def no_tiktoken_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """tiktoken installed, its encodings not cached: a count must not try to download them."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))


@pytest.fixture
def tiktoken_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """tiktoken's cache holding o200k_base and cl100k_base: llama-index-core ships both in its package."""
    import llama_index.core

    cache = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    assert cache.is_dir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))


def model(name: str = "openai/gpt-4o-mini", **kwargs: object) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(model=name, account_id="acct", **kwargs)


def test_the_estimate_is_one_token_per_four_utf8_bytes() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("hello world") == 3  # 11 bytes
    assert estimate_tokens("你好啊") == 3  # 9 bytes: more per character than Latin text


@pytest.mark.usefixtures("no_tiktoken_cache")
def test_without_a_cached_encoding_the_count_is_the_estimate_and_nothing_is_fetched() -> None:
    # pytest-socket would turn any download attempt into an error here
    assert model().get_num_tokens("hello world") == 3
    assert model("anthropic/claude-sonnet-4-5").get_num_tokens("hello world") == 3


@pytest.mark.usefixtures("tiktoken_cache")
def test_openai_models_count_with_tiktoken_when_it_counts_offline() -> None:
    text = "The quick brown fox jumps over the lazy dog, twice."
    o200k = tiktoken.get_encoding("o200k_base")
    assert model().get_num_tokens(text) == len(o200k.encode(text))
    assert model().get_token_ids(text) == o200k.encode(text)
    cl100k = tiktoken.get_encoding("cl100k_base")
    assert model("openai/gpt-4-turbo").get_num_tokens(text) == len(cl100k.encode(text))
    assert model("anthropic/claude-sonnet-4-5").get_num_tokens(text) == estimate_tokens(text)  # not OpenAI's


def test_encodings_follow_openais_model_families() -> None:
    assert encoding_name("openai/gpt-5-mini") == "o200k_base"
    assert encoding_name("openai/gpt-3.5-turbo") == "cl100k_base"
    assert encoding_name("workers-ai/@cf/openai/gpt-oss-120b") == "o200k_base"
    assert encoding_name("groq/openai/gpt-oss-20b") == "o200k_base"
    assert encoding_name("anthropic/claude-sonnet-4-5") is None
    assert encoding_name("not a model") is None


@pytest.mark.usefixtures("no_tiktoken_cache")
def test_token_ids_without_a_tokenizer_is_a_clear_error_and_custom_ids_win() -> None:
    with pytest.raises(errors.ConfigurationError, match="custom_get_token_ids"):
        model("anthropic/claude-sonnet-4-5").get_token_ids("hi")
    custom = model("anthropic/claude-sonnet-4-5", custom_get_token_ids=lambda text: list(range(len(text))))
    assert custom.get_token_ids("abc") == [0, 1, 2]
    assert custom.get_num_tokens("abcde") == 5


@pytest.mark.usefixtures("no_tiktoken_cache")
def test_messages_are_counted_as_they_are_sent() -> None:
    messages: list[BaseMessage] = [SystemMessage("you are nice"), HumanMessage("hi")]
    # 3 priming + (3 + "system" 2 + "you are nice" 3) + (3 + "user" 1 + "hi" 1)
    assert model().get_num_tokens_from_messages(messages) == 16
    named: list[BaseMessage] = [HumanMessage("hi", name="ana")]
    assert model().get_num_tokens_from_messages(named) == 3 + 3 + 1 + 1 + 1 + 1  # name: its text and 1
    call = AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}])
    result = ToolMessage("sunny", tool_call_id="c1")
    with_tools = model().get_num_tokens_from_messages([HumanMessage("hi"), call, result])
    assert with_tools > model().get_num_tokens_from_messages([HumanMessage("hi")]) + 2 * 3
    image = HumanMessage(
        content=[{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    )
    assert model().get_num_tokens_from_messages([image]) == 3 + 3 + 1 + 1 + 765  # no image is fetched


@pytest.mark.usefixtures("no_tiktoken_cache")
def test_bound_tool_schemas_count_when_given() -> None:
    @tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return city

    messages: list[BaseMessage] = [HumanMessage("hi")]
    assert model().get_num_tokens_from_messages(messages, tools=[get_weather]) > model().get_num_tokens_from_messages(
        messages
    )


@pytest.mark.usefixtures("no_tiktoken_cache")
def test_trim_messages_takes_the_model_as_its_counter() -> None:
    history = [
        SystemMessage("you are nice"),
        HumanMessage("tell me a long story " * 20),
        AIMessage("once upon a time " * 20),
        HumanMessage("and then?"),
    ]
    counter = model()
    trimmed = trim_messages(history, max_tokens=40, token_counter=counter, strategy="last", include_system=True)
    assert [m.type for m in trimmed] == ["system", "human"]
    assert trimmed[-1].content == "and then?"
    assert counter.get_num_tokens_from_messages(trimmed) <= 40
