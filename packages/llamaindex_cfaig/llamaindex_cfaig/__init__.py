"""llama-index-cfaig: LlamaIndex's LLM and embedding model for Cloudflare AI Gateway, built on ``cfaig``.

The public classes are imported on first access (PEP 562), so ``import llamaindex_cfaig`` is cheap;
``llama_index.core`` (whose package import pulls in SQLAlchemy, NumPy and the rest) loads with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfaig._lazy import lazy_exports
from llamaindex_cfaig._version import __version__ as __version__

if TYPE_CHECKING:
    from llamaindex_cfaig.embeddings import CloudflareAIGatewayEmbedding
    from llamaindex_cfaig.llms import CloudflareAIGatewayLLM
    from llamaindex_cfaig.responses import CloudflareAIGatewayResponses

__all__ = ["CloudflareAIGatewayEmbedding", "CloudflareAIGatewayLLM", "CloudflareAIGatewayResponses"]

_LAZY = {
    "CloudflareAIGatewayEmbedding": "llamaindex_cfaig.embeddings",
    "CloudflareAIGatewayLLM": "llamaindex_cfaig.llms",
    "CloudflareAIGatewayResponses": "llamaindex_cfaig.responses",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
