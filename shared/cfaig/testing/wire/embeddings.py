"""Embeddings on the wire: OpenAI's ``/embeddings`` and Workers AI's native ``{"text": …}``, parsed and rendered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..fake.embeddings import embed_text, embedding_base64, embedding_dim
from ..fake.text import count_tokens
from ..fake.types import ModelError

OPENAI_MAX_EMBEDDING_INPUTS: Final = 2048
WORKERS_MAX_EMBEDDING_INPUTS: Final = 100


def _embedding_inputs(raw: Any, *, limit: int, name: str) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
            return [" ".join(str(x) for x in raw)]
        texts: list[str] = []
        for item in raw:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, list) and all(isinstance(x, int) for x in item):
                texts.append(" ".join(str(x) for x in item))
            else:
                raise ModelError(f"'{name}' items must be strings or token arrays", param=name)
        if len(texts) > limit:
            raise ModelError(f"'{name}' must have at most {limit} items, got {len(texts)}", param=name)
        return texts
    raise ModelError(f"'{name}' must be a string or a non-empty array", param=name)


def _dimensions(body: Mapping[str, Any], model: str, *, workers: bool) -> int:
    dim = embedding_dim(model)
    dimensions = body.get("dimensions")
    if dimensions is None:
        return dim
    if workers or "ada-002" in model:
        raise ModelError(f"This model does not support specifying dimensions: {model}", param="dimensions")
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= dim:
        raise ModelError(f"'dimensions' must be an integer between 1 and {dim}", param="dimensions")
    return dimensions


def openai_embeddings(body: Mapping[str, Any], *, provider: str, model: str) -> dict[str, Any]:
    """Validate an OpenAI embeddings body and build the ``list`` response."""
    workers = provider == "workers-ai" or model.startswith(("@cf/", "@hf/"))
    texts = _embedding_inputs(
        body.get("input"),
        limit=WORKERS_MAX_EMBEDDING_INPUTS if workers else OPENAI_MAX_EMBEDDING_INPUTS,
        name="input",
    )
    dim = _dimensions(body, model, workers=workers)
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise ModelError("'encoding_format' must be 'float' or 'base64'", param="encoding_format")
    data = []
    for index, text in enumerate(texts):
        vector = embed_text(text, dim)
        rendered: Any = embedding_base64(vector) if encoding == "base64" else vector.tolist()
        data.append({"object": "embedding", "index": index, "embedding": rendered})
    tokens = sum(max(count_tokens(t), 1) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def workers_embeddings(body: Mapping[str, Any], *, model: str) -> dict[str, Any]:
    """Validate a Workers AI native embeddings body (``{"text": …}``) and build ``result``."""
    try:
        texts = _embedding_inputs(body.get("text"), limit=WORKERS_MAX_EMBEDDING_INPUTS, name="text")
    except ModelError as exc:
        raise ModelError(exc.message, param="text", style="cloudflare") from exc
    dim = embedding_dim(model)
    return {
        "shape": [len(texts), dim],
        "data": [embed_text(t, dim).tolist() for t in texts],
        "pooling": "cls" if "bge-m3" in model else "mean",
    }


def workers_embedding_tokens(body: Mapping[str, Any]) -> int:
    """Input tokens of a Workers AI native embeddings body (for the gateway log)."""
    texts = body.get("text")
    items = [texts] if isinstance(texts, str) else texts if isinstance(texts, list) else []
    return sum(len(t.split()) for t in items if isinstance(t, str))
