"""CloudflareAIGatewayEmbeddings against the in-process emulator transport."""

from __future__ import annotations

from typing import Any

import pytest

from cfaig.errors import ConfigurationError
from cfaig.testing import GatewayEmulator
from langchain_cfaig import CloudflareAIGatewayEmbeddings


def embedding_requests(emu: GatewayEmulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/embeddings")]


def make(clients: dict[str, Any], **kwargs: Any) -> CloudflareAIGatewayEmbeddings:
    return CloudflareAIGatewayEmbeddings(**kwargs, **clients)


def test_empty_input_sends_nothing(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    assert make(clients).embed_documents([]) == []
    assert embedding_requests(emu) == []


async def test_empty_input_sends_nothing_async(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    assert await make(clients).aembed_documents([]) == []
    assert embedding_requests(emu) == []


def test_workers_ai_batches_of_at_most_100(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    embeddings = make(clients, chunk_size=1000)
    assert embeddings.batch_size == 100
    texts = [f"text number {i}" for i in range(250)]
    vectors = embeddings.embed_documents(texts)
    assert len(vectors) == 250
    sizes = [len(r.json["input"]) for r in embedding_requests(emu)]
    assert sizes == [100, 100, 50]
    assert all("encoding_format" not in r.json for r in embedding_requests(emu))
    assert vectors[7] == embeddings.embed_query("text number 7")


async def test_async_batches_keep_order(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    embeddings = make(clients, chunk_size=3, max_concurrency=2)
    texts = [f"document {i}" for i in range(10)]
    vectors = await embeddings.aembed_documents(texts)
    assert len(embedding_requests(emu)) == 4
    assert vectors == embeddings.embed_documents(texts)
    assert await embeddings.aembed_query("document 4") == vectors[4]


def test_openai_base64_and_dimensions(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    embeddings = make(clients, model="openai/text-embedding-3-small", dimensions=64, chunk_size=5000)
    assert embeddings.batch_size == 2048
    vectors = embeddings.embed_documents(["a cat", "a dog"])
    body = embedding_requests(emu)[-1].json
    assert body["encoding_format"] == "base64"
    assert body["dimensions"] == 64
    assert len(vectors) == 2
    assert all(isinstance(x, float) for x in vectors[0])


def test_dimensions_refused_for_workers_ai(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="dimensions"):
        make(clients, dimensions=64)
    assert embedding_requests(emu) == []


def test_options_are_headers(emu: GatewayEmulator, clients: dict[str, Any]) -> None:
    make(clients, cache_ttl=600).embed_query("hi")
    request = embedding_requests(emu)[-1]
    assert request.headers["cf-aig-cache-ttl"] == "600"
    assert "cache_ttl" not in request.json
