"""The public surface is pinned: a new name is a decision, made here and in __all__ together."""

from __future__ import annotations

import cfaig
from cfaig import errors


def test_cfaig_all() -> None:
    assert sorted(cfaig.__all__) == sorted(
        [
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
    )
    for name in cfaig.__all__:
        assert hasattr(cfaig, name), name


def test_errors_all_are_exceptions_or_helpers() -> None:
    for name in errors.__all__:
        value = getattr(errors, name)
        assert callable(value), name
    assert issubclass(errors.ConfigurationError, ValueError)
    for name in (
        "AuthenticationError",
        "RateLimitError",
        "ServerError",
        "SpendLimitError",
        "GatewayTimeoutError",
        "GatewayConnectionError",
    ):
        assert issubclass(getattr(errors, name), errors.GatewayError)


def test_importing_cfaig_pulls_no_framework() -> None:
    import subprocess
    import sys

    code = "import sys, cfaig; bad = [m for m in sys.modules if m.startswith(('langchain', 'llama_index'))]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert out.strip() == "[]"


def test_errors_all_is_the_class_tree() -> None:
    for name in errors.__all__:
        value = getattr(errors, name)
        assert isinstance(value, type), name
        assert issubclass(value, errors.CfaigError), name
    for helper in ("make_status_error", "map_transport_errors", "parse_retry_after", "scrub", "excerpt"):
        assert helper not in errors.__all__
        assert not hasattr(errors, helper), helper


def test_importing_cfaig_loads_no_http_or_model_library() -> None:
    import subprocess
    import sys

    code = "import sys, cfaig; print(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'pydantic', 'aiohttp'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert out.strip() == "[]"
