"""Embeddings on the wire and from the fake models (wire/embeddings, fake/embeddings)."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import httpx

from tests.core.testing.helpers import CF_AUTH, cosine


def test_embeddings_similarity_shape_and_base64(gw: httpx.Client) -> None:
    texts = ["the cat sat on the mat", "a cat sat on a mat", "quantum chromodynamics lecture notes"]
    body = gw.post("/compat/embeddings", json={"model": "openai/text-embedding-3-small", "input": texts}).json()
    assert body["object"] == "list"
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    vectors = [d["embedding"] for d in body["data"]]
    assert all(len(v) == 1536 for v in vectors)
    assert math.isclose(math.sqrt(sum(x * x for x in vectors[0])), 1.0, rel_tol=1e-5)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.3
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 0
    encoded = gw.post(
        "/openai/embeddings", json={"model": "text-embedding-3-small", "input": texts[0], "encoding_format": "base64"}
    ).json()["data"][0]["embedding"]
    raw = base64.b64decode(encoded)
    decoded = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    assert decoded == vectors[0]
    same = gw.post("/openai/embeddings", json={"model": "text-embedding-3-small", "input": texts[0]}).json()
    assert same["data"][0]["embedding"] == vectors[0]


def _auth(path: str) -> dict[str, str] | None:
    return CF_AUTH if path.startswith("/workers-ai/") else None


def test_embedding_dimensions_and_limits(gw: httpx.Client) -> None:
    def dims(path: str, model: str, **extra: Any) -> int:
        response = gw.post(path, json={"model": model, "input": "x", **extra}, headers=_auth(path))
        assert response.status_code == 200, response.text
        return len(response.json()["data"][0]["embedding"])

    assert dims("/openai/embeddings", "text-embedding-3-large") == 3072
    assert dims("/openai/embeddings", "text-embedding-3-small", dimensions=256) == 256
    assert dims("/workers-ai/v1/embeddings", "@cf/baai/bge-small-en-v1.5") == 384
    assert dims("/workers-ai/v1/embeddings", "@cf/baai/bge-m3") == 1024
    assert dims("/workers-ai/v1/embeddings", "@cf/some/other-embedder") == 768
    rejected = gw.post(
        "/workers-ai/v1/embeddings", json={"model": "@cf/baai/bge-m3", "input": "x", "dimensions": 8}, headers=CF_AUTH
    )
    assert rejected.status_code == 400
    too_many = gw.post(
        "/workers-ai/v1/embeddings", json={"model": "@cf/baai/bge-m3", "input": ["x"] * 101}, headers=CF_AUTH
    )
    assert too_many.status_code == 400
    assert (
        gw.post("/openai/embeddings", json={"model": "text-embedding-3-small", "input": ["x"] * 2049}).status_code
        == 400
    )
    assert (
        gw.post("/openai/embeddings", json={"model": "text-embedding-3-small", "input": ["x"] * 100}).status_code == 200
    )
