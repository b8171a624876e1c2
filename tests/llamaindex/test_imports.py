"""The public surface of llamaindex_cfaig is exactly these names."""

from __future__ import annotations

import pytest
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


def test_importing_and_building_the_classes_loads_no_core_client() -> None:
    """Importing and building the classes loads neither the core clients nor aiohttp (LlamaIndex loads
    httpx itself): they load when an instance first sends."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM\n"
        "CloudflareAIGatewayLLM(model='openai/gpt-5-mini', account_id='a')\n"
        "CloudflareAIGatewayEmbedding(model='openai/text-embedding-3-small', account_id='a')\n"
        "print(sorted({'aiohttp', 'cfaig._client', 'cfaig._streaming'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert out.strip() == "[]"


@pytest.mark.parametrize("field", ["gateway_client", "async_gateway_client"])
def test_an_injected_client_of_the_wrong_type_is_a_configuration_error(field: str) -> None:
    from cfaig import AsyncGatewayClient, GatewayClient
    from cfaig.errors import ConfigurationError

    expected = "AsyncGatewayClient" if field.startswith("async") else "GatewayClient"
    wrong = GatewayClient(account_id="a") if field.startswith("async") else AsyncGatewayClient(account_id="a")
    for cls, model in ((CloudflareAIGatewayLLM, "openai/gpt-5-mini"), (CloudflareAIGatewayEmbedding, "openai/x")):
        for value in (object(), wrong):
            with pytest.raises(ConfigurationError, match=rf"{field}: Input should be an instance of {expected}$"):
                cls(model=model, account_id="a", **{field: value})
