"""cfaig: the transport core for Cloudflare AI Gateway.

One client speaks the whole gateway protocol (unified chat completions, provider endpoints, Universal
fallbacks, the REST surface, the OpenAI Responses API, embeddings, log feedback), sync and async, with
typed errors. It knows nothing of LangChain or LlamaIndex; ``langchain-cfaig`` and ``llama-index-cfaig`` build on it.

Names are imported on first use (PEP 562), so ``import cfaig`` costs a few milliseconds and a program
pays for httpx, pydantic and aiohttp only when it touches a client or a type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfaig._lazy import lazy_exports
from cfaig._version import __version__

if TYPE_CHECKING:
    from cfaig import errors
    from cfaig._client import AsyncGatewayClient, GatewayClient
    from cfaig._client_cache import shared_async_client, shared_client
    from cfaig._request import Endpoint, RequestPreview
    from cfaig._responses_stream import AsyncResponsesStream, ResponsesAccumulator, ResponsesStream
    from cfaig._retry import RetryPolicy
    from cfaig._streaming import AsyncChatStream, ChatAccumulator, ChatStream
    from cfaig.config import GatewayConfig
    from cfaig.errors import CfaigError, ConfigurationError, GatewayError
    from cfaig.model_ref import ModelRef, parse_model
    from cfaig.options import OPTION_FIELDS, CustomCost, GatewayOptions
    from cfaig.providers import PROVIDERS
    from cfaig.responses_types import ResponsesEvent, ResponsesRequest, ResponsesResult
    from cfaig.types import (
        ChatCompletion,
        ChatCompletionChunk,
        ChatRequest,
        EmbeddingRequest,
        EmbeddingResponse,
        GatewayMeta,
    )

_EXPORTS: dict[str, str] = {
    "AsyncGatewayClient": "cfaig._client",
    "GatewayClient": "cfaig._client",
    "Endpoint": "cfaig._request",
    "RequestPreview": "cfaig._request",
    "RetryPolicy": "cfaig._retry",
    "AsyncResponsesStream": "cfaig._responses_stream",
    "ResponsesAccumulator": "cfaig._responses_stream",
    "ResponsesStream": "cfaig._responses_stream",
    "shared_async_client": "cfaig._client_cache",
    "shared_client": "cfaig._client_cache",
    "AsyncChatStream": "cfaig._streaming",
    "ChatAccumulator": "cfaig._streaming",
    "ChatStream": "cfaig._streaming",
    "GatewayConfig": "cfaig.config",
    "CfaigError": "cfaig.errors",
    "ConfigurationError": "cfaig.errors",
    "GatewayError": "cfaig.errors",
    "ModelRef": "cfaig.model_ref",
    "parse_model": "cfaig.model_ref",
    "OPTION_FIELDS": "cfaig.options",
    "CustomCost": "cfaig.options",
    "GatewayOptions": "cfaig.options",
    "PROVIDERS": "cfaig.providers",
    "ChatCompletion": "cfaig.types",
    "ChatCompletionChunk": "cfaig.types",
    "ChatRequest": "cfaig.types",
    "EmbeddingRequest": "cfaig.types",
    "EmbeddingResponse": "cfaig.types",
    "GatewayMeta": "cfaig.types",
    "ResponsesEvent": "cfaig.responses_types",
    "ResponsesRequest": "cfaig.responses_types",
    "ResponsesResult": "cfaig.responses_types",
}

__all__ = [
    "OPTION_FIELDS",
    "PROVIDERS",
    "AsyncChatStream",
    "AsyncGatewayClient",
    "AsyncResponsesStream",
    "CfaigError",
    "ChatAccumulator",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatRequest",
    "ChatStream",
    "ConfigurationError",
    "CustomCost",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "Endpoint",
    "GatewayClient",
    "GatewayConfig",
    "GatewayError",
    "GatewayMeta",
    "GatewayOptions",
    "ModelRef",
    "RequestPreview",
    "ResponsesAccumulator",
    "ResponsesEvent",
    "ResponsesRequest",
    "ResponsesResult",
    "ResponsesStream",
    "RetryPolicy",
    "__version__",
    "errors",
    "parse_model",
    "shared_async_client",
    "shared_client",
]


__getattr__, __dir__ = lazy_exports(__name__, {**_EXPORTS, "errors": "cfaig.errors"}, __all__)
