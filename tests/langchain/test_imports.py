from __future__ import annotations

import pytest

import langchain_cfaig

EXPECTED_ALL = ["ChatCloudflareAIGateway", "CloudflareAIGatewayEmbeddings"]


def test_all_imports() -> None:
    assert sorted(langchain_cfaig.__all__) == sorted(EXPECTED_ALL)
    for name in EXPECTED_ALL:
        assert getattr(langchain_cfaig, name) is not None


def test_importing_and_building_the_classes_loads_no_http_stack() -> None:
    """Importing and building the classes loads neither the core clients nor httpx / aiohttp: they load
    when an instance first sends."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from langchain_cfaig import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings\n"
        "ChatCloudflareAIGateway(model='openai/gpt-5-mini', account_id='a')\n"
        "CloudflareAIGatewayEmbeddings(model='openai/text-embedding-3-small', account_id='a')\n"
        "print(sorted({'httpx', 'aiohttp', 'cfaig._client', 'cfaig._streaming'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert out.strip() == "[]"


@pytest.mark.parametrize("field", ["gateway_client", "async_gateway_client"])
def test_an_injected_client_of_the_wrong_type_is_a_configuration_error(field: str) -> None:
    from cfaig import AsyncGatewayClient, GatewayClient
    from cfaig.errors import ConfigurationError
    from langchain_cfaig import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings

    expected = "AsyncGatewayClient" if field.startswith("async") else "GatewayClient"
    wrong = GatewayClient(account_id="a") if field.startswith("async") else AsyncGatewayClient(account_id="a")
    for cls in (ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings):
        for value in (object(), wrong):
            with pytest.raises(ConfigurationError, match=rf"{field}: Input should be an instance of {expected}$"):
                cls(model="openai/gpt-5-mini", account_id="a", **{field: value})
