"""CloudflareAIGatewayEmbedding against the in-process gateway emulator."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from cfaig import AsyncGatewayClient, errors
from cfaig.testing import Fault, GatewayEmulator
from cfaig.testing.pytest_plugin import Driver, client_fields
from llamaindex_cfaig import CloudflareAIGatewayEmbedding
from tests.llamaindex.conftest import EventRecorder

MakeEmbedding = Callable[..., CloudflareAIGatewayEmbedding]
TEXTS = [f"document number {i} about topic {i % 3}" for i in range(7)]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def embed_requests(emu: GatewayEmulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/embeddings")]


def test_defaults() -> None:
    embed = CloudflareAIGatewayEmbedding(account_id="acct")
    assert embed.model_name == "workers-ai/@cf/baai/bge-base-en-v1.5"
    assert embed.embed_batch_size == 100
    assert embed.max_concurrency == 4
    openai = CloudflareAIGatewayEmbedding(account_id="acct", model="openai/text-embedding-3-small")
    assert openai.model_name == "openai/text-embedding-3-small"
    assert openai.embed_batch_size == 512


def test_batch_size_is_clamped_to_the_provider_limit() -> None:
    assert CloudflareAIGatewayEmbedding(account_id="a", embed_batch_size=500).embed_batch_size == 100
    assert CloudflareAIGatewayEmbedding(account_id="a", embed_batch_size=7).embed_batch_size == 7


def test_query_and_text_embeddings(make_embedding: MakeEmbedding, emu: GatewayEmulator, cfaig_driver: Driver) -> None:
    embed = make_embedding()
    query = cfaig_driver.on(embed, "get_query_embedding", "cats and dogs")
    text = cfaig_driver.on(embed, "get_text_embedding", "cats and dogs")
    assert len(query) > 8
    assert query == text == embed.get_text_embedding("cats and dogs")
    request = embed_requests(emu)[-1]
    assert request.json["model"] == "@cf/baai/bge-base-en-v1.5" or "bge-base" in str(request.json["model"])
    similar = cfaig_driver.on(embed, "get_text_embedding", "dogs and cats")
    other = cfaig_driver.on(embed, "get_text_embedding", "quarterly tax filing deadline")
    assert cosine(query, similar) > cosine(query, other)


def test_batches_and_order(make_embedding: MakeEmbedding, emu: GatewayEmulator, cfaig_driver: Driver) -> None:
    embed = make_embedding(embed_batch_size=3)
    vectors = cfaig_driver.on(embed, "get_text_embedding_batch", TEXTS)
    sizes = [len(r.json["input"]) for r in embed_requests(emu)]
    assert sorted(sizes) == [1, 3, 3]
    if not cfaig_driver.is_async:  # async batches run concurrently: they may arrive in any order
        assert sizes == [3, 3, 1]
    singles = [embed.get_text_embedding(text) for text in TEXTS]
    assert vectors == singles


async def test_async_concurrency_is_bounded(emu: GatewayEmulator) -> None:
    in_flight = 0
    peak = 0

    class CountingClient(AsyncGatewayClient):
        async def embed(self, request: Any, **kwargs: Any) -> Any:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await asyncio.sleep(0.01)
                return await super().embed(request, **kwargs)
            finally:
                in_flight -= 1

    client = CountingClient(**client_fields(emu), transport=emu.transport())
    async with client:
        embed = CloudflareAIGatewayEmbedding(async_gateway_client=client, embed_batch_size=1, max_concurrency=2)
        vectors = await embed.aget_text_embedding_batch(TEXTS)
        direct = await embed._aget_text_embeddings(TEXTS)  # one call over several batches: same bound
    assert peak == 2
    assert vectors == direct
    assert len(vectors) == len(TEXTS)


def test_openai_requests_base64_and_dimensions(make_embedding: MakeEmbedding, emu: GatewayEmulator) -> None:
    embed = make_embedding(model="openai/text-embedding-3-small", dimensions=64)
    vector = embed.get_query_embedding("hello")
    assert len(vector) == 64
    assert all(isinstance(x, float) for x in vector)
    body = embed_requests(emu)[-1].json
    assert body["encoding_format"] == "base64"
    assert body["dimensions"] == 64


def test_workers_ai_sends_only_model_and_input(make_embedding: MakeEmbedding, emu: GatewayEmulator) -> None:
    make_embedding().get_text_embedding("hello")
    assert set(embed_requests(emu)[-1].json) == {"model", "input"}


def test_dimensions_only_for_openai() -> None:
    with pytest.raises(errors.ConfigurationError, match="dimensions"):
        CloudflareAIGatewayEmbedding(account_id="acct", dimensions=64)


def test_options_in_headers(make_embedding: MakeEmbedding, emu: GatewayEmulator) -> None:
    make_embedding(cache_ttl=3600, metadata={"job": "index"}).get_text_embedding("hello")
    request = embed_requests(emu)[-1]
    assert request.headers["cf-aig-cache-ttl"] == "3600"
    assert "cache_ttl" not in request.json


def test_errors_propagate(make_embedding: MakeEmbedding, emu: GatewayEmulator) -> None:
    emu.inject(Fault(status=400))
    with pytest.raises(errors.BadRequestError):
        make_embedding().get_text_embedding("hello")


def test_events_and_secrets(make_embedding: MakeEmbedding, events: EventRecorder) -> None:
    embed = make_embedding(cf_aig_token="tok-SECRET-3", account_id="acct")
    embed.get_text_embedding_batch(["a", "b"])
    assert events.names("Embedding") == ["EmbeddingStartEvent", "EmbeddingEndEvent"]
    for text in (repr(embed), str(embed.to_dict()), embed.to_json(), str(embed.to_payload())):
        assert "SECRET" not in text
    assert embed.to_payload()["model_name"] == "workers-ai/@cf/baai/bge-base-en-v1.5"
