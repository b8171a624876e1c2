"""llama-index-cfaig: LlamaIndex's LLM and embedding model for Cloudflare AI Gateway, built on ``cfaig``."""

from __future__ import annotations

from llamaindex_cfaig.embeddings import CloudflareAIGatewayEmbedding
from llamaindex_cfaig.llms import CloudflareAIGatewayLLM

__all__ = ["CloudflareAIGatewayEmbedding", "CloudflareAIGatewayLLM"]
