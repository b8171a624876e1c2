"""cfaig: the transport core for Cloudflare AI Gateway.

One client speaks the whole gateway protocol (unified chat completions, provider endpoints, Universal
fallbacks, the REST surface, embeddings, log feedback), sync and async, with typed errors. It knows
nothing of LangChain or LlamaIndex; ``langchain-cfaig`` and ``llama-index-cfaig`` build on it.
"""

from __future__ import annotations

from cfaig import errors
from cfaig._client import AsyncGatewayClient, GatewayClient
from cfaig._request import Endpoint
from cfaig._retry import RetryPolicy
from cfaig._shared import shared_async_client, shared_client
from cfaig._streaming import AsyncChatStream, ChatAccumulator, ChatStream
from cfaig._version import __version__
from cfaig.config import GatewayConfig
from cfaig.errors import CfaigError, ConfigurationError, GatewayError
from cfaig.model_ref import PROVIDERS, ModelRef, parse_model
from cfaig.options import OPTION_FIELDS, CustomCost, GatewayOptions
from cfaig.types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatRequest,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayMeta,
)

__all__ = [
    "OPTION_FIELDS",
    "PROVIDERS",
    "AsyncChatStream",
    "AsyncGatewayClient",
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
    "RetryPolicy",
    "__version__",
    "errors",
    "parse_model",
    "shared_async_client",
    "shared_client",
]
