"""Issue 12, defect 4: an embeddings answer must hold one vector per input, indices 0..n-1 once each, equal sizes.

Vector stores pair ``texts[i]`` with ``vectors[i]``: a missing, extra, duplicated or ragged vector would
silently attach documents to the wrong embeddings, so each is a ``MalformedResponseError`` in the core,
and therefore in the LangChain and LlamaIndex classes too (sync and async).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.errors import MalformedResponseError
from tests.core._raw_server import ACCOUNT, RawServer, http

pytestmark = pytest.mark.usefixtures("fresh_shared_clients")

MODEL = "openai/text-embedding-3-small"
TEXTS = ["a", "b", "c"]


def _body(items: list[tuple[int | None, list[float]]]) -> bytes:
    data = []
    for index, vector in items:
        item: dict[str, Any] = {"object": "embedding", "embedding": vector}
        if index is not None:
            item["index"] = index
        data.append(item)
    return json.dumps({"object": "list", "data": data, "model": "m"}).encode()


BAD: dict[str, bytes] = {
    "zero vectors": _body([]),
    "one vector": _body([(0, [0.1, 0.2])]),
    "five vectors": _body([(i, [float(i), 0.0]) for i in range(5)]),
    "duplicate indices": _body([(0, [0.0, 1.0]), (0, [1.0, 1.0]), (0, [2.0, 1.0])]),
    "index out of range": _body([(0, [0.0, 1.0]), (1, [1.0, 1.0]), (3, [2.0, 1.0])]),
    "ragged dimensions": _body([(0, [0.0, 1.0]), (1, [1.0]), (2, [])]),
    "empty vectors": _body([(0, []), (1, []), (2, [])]),
}


def _core_sync(base_url: str) -> list[list[float]]:
    with GatewayClient(account_id=ACCOUNT, base_url=base_url, max_retries=0) as client:
        return client.embed({"model": MODEL, "input": TEXTS, "encoding_format": "float"}).vectors


def _core_sync_many(base_url: str) -> list[list[float]]:
    with GatewayClient(account_id=ACCOUNT, base_url=base_url, max_retries=0) as client:
        return client.embed_many(MODEL, TEXTS)


def _core_async(base_url: str) -> list[list[float]]:
    async def run() -> list[list[float]]:
        async with AsyncGatewayClient(account_id=ACCOUNT, base_url=base_url, max_retries=0) as client:
            return (await client.embed({"model": MODEL, "input": TEXTS})).vectors

    return asyncio.run(run())


def _core_async_many(base_url: str) -> list[list[float]]:
    async def run() -> list[list[float]]:
        async with AsyncGatewayClient(account_id=ACCOUNT, base_url=base_url, max_retries=0) as client:
            return await client.embed_many(MODEL, TEXTS)

    return asyncio.run(run())


def _langchain(base_url: str) -> list[list[float]]:
    from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings

    return CloudflareAIGatewayEmbeddings(
        model=MODEL, account_id=ACCOUNT, base_url=base_url, max_retries=0
    ).embed_documents(TEXTS)


def _langchain_async(base_url: str) -> list[list[float]]:
    from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings
    from tests.faults._harness import close_shared_async

    async def run() -> list[list[float]]:
        try:
            embeddings = CloudflareAIGatewayEmbeddings(
                model=MODEL, account_id=ACCOUNT, base_url=base_url, max_retries=0
            )
            return await embeddings.aembed_documents(TEXTS)
        finally:
            await close_shared_async()

    return asyncio.run(run())


def _llamaindex(base_url: str) -> list[list[float]]:
    from llamaindex_cfaig import CloudflareAIGatewayEmbedding

    return CloudflareAIGatewayEmbedding(
        model_name=MODEL, account_id=ACCOUNT, base_url=base_url, max_retries=0
    ).get_text_embedding_batch(TEXTS)


def _llamaindex_async(base_url: str) -> list[list[float]]:
    from llamaindex_cfaig import CloudflareAIGatewayEmbedding
    from tests.faults._harness import close_shared_async

    async def run() -> list[list[float]]:
        try:
            embedding = CloudflareAIGatewayEmbedding(
                model_name=MODEL, account_id=ACCOUNT, base_url=base_url, max_retries=0
            )
            return await embedding.aget_text_embedding_batch(TEXTS)
        finally:
            await close_shared_async()

    return asyncio.run(run())


CALLS: dict[str, Callable[[str], list[list[float]]]] = {
    "core-sync": _core_sync,
    "core-sync-embed_many": _core_sync_many,
    "core-async": _core_async,
    "core-async-embed_many": _core_async_many,
    "langchain-sync": _langchain,
    "langchain-async": _langchain_async,
    "llamaindex-sync": _llamaindex,
    "llamaindex-async": _llamaindex_async,
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("case", BAD)
def test_a_wrong_set_of_vectors_is_malformed(case: str, call: str) -> None:
    with RawServer(http(BAD[case])) as server:
        with pytest.raises(MalformedResponseError, match="embeddings") as caught:
            CALLS[call](server.base_url)
        assert len(server.requests) == 1  # not retried: the same answer would come back
    assert caught.value.status_code == 200


@pytest.mark.parametrize("call", CALLS)
def test_vectors_out_of_order_come_back_in_input_order(call: str) -> None:
    body = _body([(2, [2.0, 0.5]), (0, [0.0, 0.5]), (1, [1.0, 0.5])])
    with RawServer(http(body)) as server:
        assert CALLS[call](server.base_url) == [[0.0, 0.5], [1.0, 0.5], [2.0, 0.5]]


def test_vectors_without_indices_are_taken_in_order() -> None:
    body = _body([(None, [0.0, 0.5]), (None, [1.0, 0.5]), (None, [2.0, 0.5])])
    with RawServer(http(body)) as server:
        assert _core_sync(server.base_url) == [[0.0, 0.5], [1.0, 0.5], [2.0, 0.5]]


def test_one_text_as_a_string_wants_one_vector() -> None:
    with (
        RawServer(http(BAD["five vectors"])) as server,
        GatewayClient(account_id=ACCOUNT, base_url=server.base_url) as client,
        pytest.raises(MalformedResponseError, match="1 input"),
    ):
        client.embed({"model": MODEL, "input": "a"})
