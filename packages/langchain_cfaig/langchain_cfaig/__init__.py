"""LangChain integration for Cloudflare AI Gateway, built on the ``cfaig`` core."""

from __future__ import annotations

from langchain_cfaig.chat_models import ChatCloudflareAIGateway
from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings

__all__ = ["ChatCloudflareAIGateway", "CloudflareAIGatewayEmbeddings"]
