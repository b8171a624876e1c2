"""LangChain integration for Cloudflare AI Gateway, built on the ``cfaig`` core.

The two public classes are imported on first access (PEP 562), so ``import langchain_cfaig`` is cheap and
an embeddings-only user never loads LangChain's chat-model stack (``BaseChatModel`` pulls in tracing,
LangSmith, runnables and output parsers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfaig._lazy import lazy_exports
from langchain_cfaig._version import __version__ as __version__

if TYPE_CHECKING:
    from langchain_cfaig.chat_models import ChatCloudflareAIGateway
    from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings

__all__ = ["ChatCloudflareAIGateway", "CloudflareAIGatewayEmbeddings"]

_LAZY = {
    "ChatCloudflareAIGateway": "langchain_cfaig.chat_models",
    "CloudflareAIGatewayEmbeddings": "langchain_cfaig.embeddings",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
