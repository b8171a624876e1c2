"""``from llama_index.embeddings.cfaig import CloudflareAIGatewayEmbedding``: LlamaIndex's import path.

``llama_index`` and ``llama_index.embeddings`` are namespace packages (PEP 420) shared with llama-index-core
and every ``llama-index-embeddings-*`` integration, so this distribution ships no ``__init__.py`` above this
one. The class is :class:`llamaindex_cfaig.CloudflareAIGatewayEmbedding` (the same object under both paths).
"""

from __future__ import annotations

from llamaindex_cfaig.embeddings import CloudflareAIGatewayEmbedding

__all__ = ["CloudflareAIGatewayEmbedding"]
