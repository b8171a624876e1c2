from __future__ import annotations

import langchain_cfaig

EXPECTED_ALL = ["ChatCloudflareAIGateway", "CloudflareAIGatewayEmbeddings"]


def test_all_imports() -> None:
    assert sorted(langchain_cfaig.__all__) == sorted(EXPECTED_ALL)
    for name in EXPECTED_ALL:
        assert getattr(langchain_cfaig, name) is not None
