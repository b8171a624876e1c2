"""llama-index-cfaig: LlamaIndex's LLM and embedding model for Cloudflare AI Gateway, built on ``cfaig``.

The two public classes are imported on first access (PEP 562), so ``import llamaindex_cfaig`` is cheap;
``llama_index.core`` (whose package import pulls in SQLAlchemy, NumPy and the rest) loads with them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llamaindex_cfaig.embeddings import CloudflareAIGatewayEmbedding
    from llamaindex_cfaig.llms import CloudflareAIGatewayLLM

__all__ = ["CloudflareAIGatewayEmbedding", "CloudflareAIGatewayLLM"]

_LAZY = {
    "CloudflareAIGatewayEmbedding": "llamaindex_cfaig.embeddings",
    "CloudflareAIGatewayLLM": "llamaindex_cfaig.llms",
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
