"""Fake embeddings: signed feature hashes of words and character trigrams, L2-normalised, per-model sizes."""

from __future__ import annotations

import array
import base64
import hashlib
import math
import re
import sys
from functools import lru_cache
from typing import Final

_EMBEDDING_DIMS: Final[tuple[tuple[str, int], ...]] = (
    ("text-embedding-3-large", 3072),
    ("text-embedding-3-small", 1536),
    ("text-embedding-ada-002", 1536),
    ("bge-small", 384),
    ("bge-base", 768),
    ("bge-large", 1024),
    ("bge-m3", 1024),
    ("gemini-embedding", 3072),
    ("mistral-embed", 1024),
    ("embed-english", 1024),
    ("embed-multilingual", 1024),
)
DEFAULT_EMBEDDING_DIM: Final = 768
_TOKEN_RE: Final = re.compile(r"\w+")


def embedding_dim(model: str) -> int:
    """Vector size the emulator uses for an embedding model id."""
    lowered = model.lower()
    for key, dim in _EMBEDDING_DIMS:
        if key in lowered:
            return dim
    return DEFAULT_EMBEDDING_DIM


def is_embedding_model(model: str) -> bool:
    """Whether a Workers AI model id names an embedding model."""
    lowered = model.lower()
    return "bge" in lowered or "embed" in lowered


@lru_cache(maxsize=1 << 16)
def _feature(feature: str) -> int:
    return int.from_bytes(hashlib.sha1(feature.encode(), usedforsecurity=False).digest()[:8], "little")


def embed_text(text: str, dim: int) -> array.array[float]:
    """Feature-hashed, L2-normalised embedding (float32) of ``text``."""
    vector = [0.0] * dim
    words = _TOKEN_RE.findall(text.lower())
    for word in words or ["<empty>"]:
        h = _feature("w:" + word)
        vector[h % dim] += 1.0 if h >> 63 else -1.0
        padded = f"#{word}#"
        for i in range(len(padded) - 2):
            h = _feature("t:" + padded[i : i + 3])
            vector[h % dim] += 0.5 if h >> 63 else -0.5
    norm = math.sqrt(math.fsum(x * x for x in vector)) or 1.0
    return array.array("f", [x / norm for x in vector])


def embedding_base64(vector: array.array[float]) -> str:
    """Base64 of the little-endian float32 bytes, like OpenAI's ``encoding_format=base64``."""
    if sys.byteorder == "big":
        vector = array.array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode()
