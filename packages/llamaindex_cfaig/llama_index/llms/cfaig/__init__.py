"""``from llama_index.llms.cfaig import CloudflareAIGatewayLLM``: LlamaIndex's import path for our LLM.

``llama_index`` and ``llama_index.llms`` are namespace packages (PEP 420) shared with llama-index-core and
every ``llama-index-llms-*`` integration, so this distribution ships no ``__init__.py`` above this one. The
class is :class:`llamaindex_cfaig.CloudflareAIGatewayLLM` (the same object under both paths).
"""

from __future__ import annotations

from llamaindex_cfaig.llms import CloudflareAIGatewayLLM

__all__ = ["CloudflareAIGatewayLLM"]
