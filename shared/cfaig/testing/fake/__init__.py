"""Deterministic fake models behind :class:`cfaig.testing.GatewayEmulator`.

Everything in this package is pure computation: no I/O, no randomness and no clocks
(callers pass ids and timestamps in).  The replies are honest about being local -- text
answers start with ``[cfaig emulator · {provider}/{model}]`` -- and are derived from the
request so that tests can assert on them:

* plain chat echoes the last user message (``You said: …``, truncated to 200 characters,
  ``[n images]`` appended for image parts); a retrieval prompt (context, then ``Query:`` or
  ``Question:``) is answered ``From the context: <the context sentence sharing most words with the
  question>``; ``stop`` and ``max_tokens`` /
  ``max_completion_tokens`` (counted in whitespace tokens) are honoured;
* with ``tools`` the model calls tools, synthesising arguments from the JSON schemas
  (:func:`synthesize_from_schema`); after ``tool`` results it answers
  ``Based on the tool result: …`` quoting the results verbatim;
* ``response_format`` json_schema / json_object replies are JSON documents that validate;
* ``reasoning_effort`` (or a model id containing ``reasoning``, ``thinking`` or an ``r1``
  token) adds ``reasoning_content`` and ``reasoning_tokens``;
* the last user message ``__stream_chunks__ K`` yields exactly ``K`` one-word chunks
  (``tok0 tok1 …``), which benchmarks use to control stream length;
* embeddings are signed feature hashes of words and character trigrams, L2-normalised, so
  texts sharing words are close in cosine similarity;
* a model id containing ``unavailable`` (e.g. ``openai/cfaig-unavailable-model``) always
  fails with a provider 503, so fallbacks can be shown without injecting faults.

Provider-specific behaviour (parameters that real compat layers reject, Gemini's
``thought_signature`` requirement) lives in the :data:`PROVIDER_QUIRKS` table.

Rooms: ``types`` (:class:`ParsedChat`, :class:`Turn`, :class:`FakeToolCall`, :class:`ModelError`),
``generate`` (turns), ``schema`` (JSON-schema synthesis), ``text`` (token counts, chunks, RAG answer),
``providers`` (quirks, reasoning and unavailable models) and ``embeddings``.  The wire formats that
parse requests into a :class:`ParsedChat` and render turns are in :mod:`cfaig.testing.wire`.
"""

from __future__ import annotations

from .embeddings import embed_text, embedding_base64, embedding_dim, is_embedding_model
from .generate import generate, usage_tokens
from .providers import PROVIDER_QUIRKS, ProviderQuirks, check_model_available, is_reasoning_model
from .schema import synthesize_from_schema
from .types import EMULATOR_TAG, ErrorStyle, FakeToolCall, ModelError, ParsedChat, ToolSpec, Turn

__all__ = [
    "EMULATOR_TAG",
    "PROVIDER_QUIRKS",
    "ErrorStyle",
    "FakeToolCall",
    "ModelError",
    "ParsedChat",
    "ProviderQuirks",
    "ToolSpec",
    "Turn",
    "check_model_available",
    "embed_text",
    "embedding_base64",
    "embedding_dim",
    "generate",
    "is_embedding_model",
    "is_reasoning_model",
    "synthesize_from_schema",
    "usage_tokens",
]
