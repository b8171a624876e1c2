"""LangChain integration for Cloudflare AI Gateway, built on the ``cfaig`` core.

The two public classes are imported on first access (PEP 562), so ``import langchain_cfaig`` is cheap and
an embeddings-only user never loads LangChain's chat-model stack (``BaseChatModel`` pulls in tracing,
LangSmith, runnables and output parsers).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_cfaig.chat_models import ChatCloudflareAIGateway
    from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings

__all__ = ["ChatCloudflareAIGateway", "CloudflareAIGatewayEmbeddings"]

_LAZY = {
    "ChatCloudflareAIGateway": "langchain_cfaig.chat_models",
    "CloudflareAIGatewayEmbeddings": "langchain_cfaig.embeddings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
