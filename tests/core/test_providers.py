"""The provider table: one row per provider, read by parsing, request building, the integrations and the CLI."""

from __future__ import annotations

import pytest

from cfaig import parse_model, providers
from cfaig.errors import ConfigurationError
from cfaig.providers import (
    DEFAULT_CONTEXT_WINDOW,
    DEFAULT_NUM_OUTPUT,
    PROVIDER_TABLE,
    PROVIDERS,
    capabilities,
    embedding_batch_limits,
    embedding_support,
    known_model_size,
    model_size,
    provider_info,
)


def _doc_table() -> dict[str, list[str]]:
    """The capability table in the module docstring, as {provider: [cells]}."""
    rows: dict[str, list[str]] = {}
    lines = (providers.__doc__ or "").splitlines()
    for line in lines:
        if not line or line.startswith(("=", "provider ")) or line[0] == " ":
            continue
        cells = [cell for cell in line.split("  ") if cell.strip()]
        if len(cells) == 6:
            rows[cells[0].strip()] = [cell.strip() for cell in cells[1:]]
    return rows


def test_the_docstring_table_says_what_the_rows_say() -> None:
    table = _doc_table()
    assert set(table) == {*PROVIDERS, "others / dynamic"} - {"baseten", "parallel"}
    for name, (tools, parallel, required, schema, method) in table.items():
        caps = provider_info("dynamic" if name == "others / dynamic" else name).capabilities
        assert (tools == "yes") == caps.tool_calling, name
        assert parallel.startswith("yes") == caps.parallel_tool_calls, name
        assert required.startswith("yes") == caps.tool_choice_required, name
        assert (schema == "yes") == caps.json_schema, name
        assert method == caps.structured_output_method, name


def test_every_row_is_keyed_by_its_name_and_spells_itself_on_every_surface() -> None:
    for name, row in PROVIDER_TABLE.items():
        assert row.name == name
        assert row.slug
        if row.chat_path is not None:
            assert row.chat_path.startswith(f"{row.slug}/")
        if row.embeddings is not None:
            assert row.embeddings.path.startswith(f"{row.slug}/")


def test_a_provider_outside_the_table_gets_a_row_that_knows_nothing() -> None:
    row = provider_info("custom-mine")
    assert (row.slug, row.rest_prefix, row.chat_path, row.embeddings) == ("custom-mine", "custom-mine", None, None)
    assert capabilities("dynamic/support") == provider_info("dynamic").capabilities


def test_model_sizes_by_longest_prefix() -> None:
    assert model_size("openai/gpt-4o-mini-2024-07-18") == (128_000, 16_384)
    assert model_size("anthropic/claude-3-5-haiku") == (200_000, 8_192)
    assert model_size("anthropic/claude-2") == (200_000, 4_096)
    assert model_size("groq/anything") == (131_072, 8_192)
    assert model_size(parse_model("@cf/qwen/qwq-32b")) == (32_768, 4_096)
    assert model_size("not a model") == (DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUT)


def test_known_model_size_does_not_guess() -> None:
    """The LangChain profile reads it: a model the table does not know gets no context window at all."""
    assert known_model_size("openai/gpt-4o-mini") == (128_000, 16_384)
    assert known_model_size("openai/some-future-model") is None
    assert known_model_size("dynamic/support") is None
    assert known_model_size("not a model") is None
    assert model_size("openai/some-future-model") == (DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUT)


def test_embedding_defaults_and_limits() -> None:
    assert embedding_batch_limits("openai/text-embedding-3-small") == (512, 2048)
    assert embedding_support("workers-ai/@cf/baai/bge-base-en-v1.5").default_batch == 100
    with pytest.raises(ConfigurationError, match="use one of: openai, workers-ai"):
        embedding_support("anthropic/claude-sonnet-4-5")
