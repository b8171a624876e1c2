"""LangChain's standard test suites, unit (no network) and integration (the emulator on loopback)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests, EmbeddingsIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests, EmbeddingsUnitTests

from cfaig.testing import EMULATOR_ACCOUNT_ID, EMULATOR_TOKEN, EmulatorServer, ScriptedReply
from langchain_cfaig import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings

_UNIT_BASE_URL = "http://127.0.0.1:9/v1"  # never contacted: the unit suites make no request


def _unicode_customer_replies() -> list[ScriptedReply]:
    return [
        ScriptedReply(
            tool_calls=[{"name": "unicode_customer", "arguments": {"customer_name": name, "description": what}}]
        )
        for name, what in (("你好啊集团", "technology company"), ("こんにちは株式会社", "Japanese company"))
    ]


_JOKE = ScriptedReply(
    content=json.dumps({"setup": "Why did the cat sit on the computer?", "punchline": "To keep an eye on the mouse."})
)

# Replies a real model would give after reading the prompt, recorded here as a cassette would be: the
# emulator synthesises tool arguments and JSON from the request's schema, but cannot read the prompt.
_SCRIPTS: dict[str, Callable[[], list[ScriptedReply]]] = {
    # The model must copy the Chinese / Japanese company names from the prompt into the tool arguments.
    "test_unicode_tool_call_integration": _unicode_customer_replies,
    # JSON mode has no schema in the request: the keys (setup, punchline) are only named in the prompt.
    "test_json_mode": lambda: [ScriptedReply(content=_JOKE.content, times=4)],
}


class _OnLoopbackGateway:
    """The integration suites run against the plugin's loopback emulator, reset for every test.

    The suites read model params from properties, not fixtures: this autouse fixture hands the
    server to the test instance first, and scripts the replies of the tests that need a model's judgment.
    """

    gateway: EmulatorServer

    @pytest.fixture(autouse=True)
    def _on_loopback_gateway(self, request: pytest.FixtureRequest, cfaig_gateway: EmulatorServer) -> None:
        self.gateway = cfaig_gateway
        script = _SCRIPTS.get(getattr(request.node, "originalname", request.node.name), list)
        for reply in script():
            cfaig_gateway.emulator.script(reply)


_ENV = {
    "CLOUDFLARE_ACCOUNT_ID": "test-account",
    "CLOUDFLARE_GATEWAY_ID": "test-gateway",
    "CF_AIG_TOKEN": "test-cf-aig-token",
    "CF_AIG_PROVIDER_API_KEY": "test",  # lc_secrets name of api_key, read back by load(secrets_from_env=True)
}


class _OurChatModel:
    """What the unit and the integration suites both say about our chat model."""

    @property
    def chat_model_class(self) -> type[ChatCloudflareAIGateway]:
        return ChatCloudflareAIGateway

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "anthropic/claude-sonnet-4-5"


class TestChatCloudflareAIGatewayUnit(_OurChatModel, ChatModelUnitTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": "openai/gpt-5-mini",
            "account_id": "test-account",
            "gateway_id": "test-gateway",
            "cf_aig_token": "test-cf-aig-token",
            "base_url": _UNIT_BASE_URL,
        }

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            _ENV,
            {"model": "openai/gpt-5-mini"},
            {"account_id": "test-account", "gateway_id": "test-gateway", "cf_aig_token": "test-cf-aig-token"},
        )

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @pytest.fixture(autouse=True)
    def _allow_our_class_in_load(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Let test_serdes load() our class with ``allowed_objects="all"``.

        In langchain-core 1.x "all" means "the classes in langchain-core's serialization mapping", where
        partner packages are registered; a package outside langchain's repo is not. Registering our class
        path the same way lets the upstream test_serdes run unchanged.
        """
        load_module = importlib.import_module("langchain_core.load.load")

        allowed = set(load_module._get_default_allowed_class_paths("all"))
        allowed.add(("langchain_cfaig", "chat_models", "ChatCloudflareAIGateway"))
        monkeypatch.setitem(load_module._default_class_paths_cache, "all", allowed)


class TestChatCloudflareAIGatewayIntegration(_OnLoopbackGateway, _OurChatModel, ChatModelIntegrationTests):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": "openai/gpt-5-mini",
            "account_id": EMULATOR_ACCOUNT_ID,
            "base_url": self.gateway.base_url,
        }

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        # test_image_inputs downloads its fixture image from the internet; image conversion is covered
        # offline in test_convert.py and test_chat_models.py.
        return False

    @property
    def supports_image_urls(self) -> bool:
        return False  # needs internet fixtures (a public image URL)

    # Off with their reason (the suite's own capability flags; all default to False as well):
    @property
    def supports_pdf_inputs(self) -> bool:
        return False  # test_pdf_inputs downloads its PDF from w3.org: no internet in CI

    @property
    def supports_audio_inputs(self) -> bool:
        return False  # test_audio_inputs downloads a WAV from wikimedia.org: no internet in CI

    @property
    def supports_image_tool_message(self) -> bool:
        return False  # downloads its fixture image from GitHub: no internet in CI

    @property
    def supports_pdf_tool_message(self) -> bool:
        return False  # downloads its PDF from w3.org: no internet in CI

    @property
    def supports_anthropic_inputs(self) -> bool:
        return False  # Anthropic-native content blocks; we speak the OpenAI format (and it needs internet)

    @property
    def enable_vcr_tests(self) -> bool:
        return False  # test_stream_time benchmarks VCR cassettes; this suite runs live against the emulator

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[Any]]:  # type: ignore[override]
        return {"invoke": [], "stream": []}


class TestEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[CloudflareAIGatewayEmbeddings]:
        return CloudflareAIGatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"account_id": "test-account", "base_url": _UNIT_BASE_URL}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            _ENV,
            {},
            {"account_id": "test-account", "gateway_id": "test-gateway", "cf_aig_token": "test-cf-aig-token"},
        )


class TestEmbeddingsIntegration(_OnLoopbackGateway, EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[CloudflareAIGatewayEmbeddings]:
        return CloudflareAIGatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        # the Cloudflare token, which the default (Workers AI) embedding route authenticates with
        return {"account_id": EMULATOR_ACCOUNT_ID, "cf_aig_token": EMULATOR_TOKEN, "base_url": self.gateway.base_url}
