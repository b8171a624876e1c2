"""The public surface of llamaindex_cfaig is exactly these names."""

from __future__ import annotations

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms.function_calling import FunctionCallingLLM

import llamaindex_cfaig
from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM


def test_all_is_pinned() -> None:
    assert sorted(llamaindex_cfaig.__all__) == [
        "CloudflareAIGatewayEmbedding",
        "CloudflareAIGatewayLLM",
        "CloudflareAIGatewayResponses",
    ]


def test_base_classes() -> None:
    assert FunctionCallingLLM.__name__ in [base.__name__ for base in CloudflareAIGatewayLLM.__mro__]
    assert BaseEmbedding.__name__ in [base.__name__ for base in CloudflareAIGatewayEmbedding.__mro__]


def test_class_names() -> None:
    assert CloudflareAIGatewayLLM.class_name() == "CloudflareAIGatewayLLM"
    assert CloudflareAIGatewayEmbedding.class_name() == "CloudflareAIGatewayEmbedding"


def test_no_http_library_in_the_package() -> None:
    from pathlib import Path

    package = Path(llamaindex_cfaig.__file__).parent
    for source in package.glob("*.py"):
        assert "httpx" not in source.read_text(), source.name
