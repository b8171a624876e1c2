"""``from llama_index.llms.cfaig import CloudflareAIGatewayLLM``: LlamaIndex's import path for our LLMs.

``llama_index`` and ``llama_index.llms`` are namespace packages (PEP 420) shared with llama-index-core and
every ``llama-index-llms-*`` integration, so this distribution ships no ``__init__.py`` above this one. The
classes are :class:`llamaindex_cfaig.CloudflareAIGatewayLLM` and
:class:`llamaindex_cfaig.CloudflareAIGatewayResponses` (the same objects under both paths; the Responses class
loads on first access, as from ``llamaindex_cfaig``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfaig._lazy import lazy_exports
from llamaindex_cfaig.llms import CloudflareAIGatewayLLM

if TYPE_CHECKING:
    from llamaindex_cfaig.responses import CloudflareAIGatewayResponses

__all__ = ["CloudflareAIGatewayLLM", "CloudflareAIGatewayResponses"]

__getattr__, __dir__ = lazy_exports(__name__, {"CloudflareAIGatewayResponses": "llamaindex_cfaig.responses"}, __all__)
