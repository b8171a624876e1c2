"""What the fake providers accept and require: compat-layer quirks, reasoning models, unavailable models."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from .types import ErrorStyle, ModelError, ParsedChat

UNAVAILABLE_MARKER: Final = "unavailable"
_R1_RE: Final = re.compile(r"(?:^|[-_/.:@])r1(?:$|[-_/.:])")


@dataclass(frozen=True)
class ProviderQuirks:
    """What a provider's OpenAI-compatible layer rejects or requires."""

    rejects_tool_choice_required: bool = False
    rejects_parallel_tool_calls: bool = False
    rejects_json_schema: bool = False
    requires_thought_signature: bool = False
    error_style: ErrorStyle = "openai"


_GOOGLE: Final = ProviderQuirks(rejects_parallel_tool_calls=True, requires_thought_signature=True, error_style="google")
_NO_STRICT_TOOLS: Final = ProviderQuirks(
    rejects_tool_choice_required=True, rejects_parallel_tool_calls=True, rejects_json_schema=True
)

PROVIDER_QUIRKS: Final[Mapping[str, ProviderQuirks]] = MappingProxyType(
    {
        # Gemini: no ``parallel_tool_calls`` parameter; tool calls carry
        # ``extra_content.google.thought_signature`` that must be replayed verbatim.
        "google-ai-studio": _GOOGLE,
        "google-vertex-ai": _GOOGLE,
        "google": _GOOGLE,  # REST API catalog name for Gemini models
        # No forced tool use, no ``parallel_tool_calls``, no json_schema response format.
        "perplexity": _NO_STRICT_TOOLS,
        "perplexity-ai": _NO_STRICT_TOOLS,  # provider-route slug of the same provider
        "cohere": _NO_STRICT_TOOLS,
        # json_object is accepted, json_schema is not.
        "deepseek": ProviderQuirks(rejects_json_schema=True),
        "workers-ai": ProviderQuirks(rejects_json_schema=True),
    }
)
"""Per-provider rejections emulating real compat layers (keys are compat prefixes,
provider-route slugs and REST catalog authors)."""


def is_reasoning_model(model: str) -> bool:
    """Whether a model id looks like a reasoning model (``reasoning``, ``thinking``, ``r1``)."""
    lowered = model.lower()
    return "reasoning" in lowered or "thinking" in lowered or _R1_RE.search(lowered) is not None


_OPENAI_REASONING_RE: Final = re.compile(r"(?:^|/)(?:gpt-5(?!-chat)|o\d|gpt-oss)(?:$|[-.:_])")
_RAW_REASONING_RE: Final = re.compile(r"(?:^|/)gpt-oss(?:$|[-.:_])")


def reasons_on_responses(model: str) -> bool:
    """Whether a model reasons on the Responses API: OpenAI's gpt-5 family (not ``gpt-5-chat``), the o-series
    (``o1``, ``o3``, ``o4-mini``), the open-weight ``gpt-oss`` models, and any :func:`is_reasoning_model`.

    OpenAI's reasoning guide (https://platform.openai.com/docs/guides/reasoning) lists the families; other
    models refuse a ``reasoning`` parameter.
    """
    return _OPENAI_REASONING_RE.search(model.lower()) is not None or is_reasoning_model(model)


def shows_raw_reasoning(model: str) -> bool:
    """Whether a model returns its raw reasoning text (``reasoning_text`` content): the open-weight gpt-oss
    models do (https://cookbook.openai.com/articles/gpt-oss/handle-raw-cot); OpenAI's hosted models give at
    most a summary."""
    return _RAW_REASONING_RE.search(model.lower()) is not None


def check_model_available(provider: str, model: str, *, style: ErrorStyle = "openai") -> None:
    """Raise a provider 503 for model ids containing :data:`UNAVAILABLE_MARKER`."""
    if UNAVAILABLE_MARKER in model.lower():
        raise ModelError(
            f"The model `{provider}/{model}` is currently unavailable "
            f"(cfaig emulator: model ids containing '{UNAVAILABLE_MARKER}' always fail)",
            status=503,
            style=style,
        )


def signs_tool_calls(provider: str) -> bool:
    """Whether the provider's tool calls carry a ``thought_signature`` (Gemini)."""
    quirks = PROVIDER_QUIRKS.get(provider)
    return quirks is not None and quirks.requires_thought_signature


def thought_signature(model: str, call_id: str, name: str, arguments: str) -> str:
    """The deterministic stand-in for Gemini's opaque ``thought_signature``."""
    digest = hashlib.sha256(f"{model}\x1f{call_id}\x1f{name}\x1f{arguments}".encode()).digest()
    return base64.b64encode(b"cfaig-emulator-signature:" + digest).decode()


def check_quirks(request: ParsedChat, body: Mapping[str, Any]) -> None:
    """Reject what the request's provider rejects (see :data:`PROVIDER_QUIRKS`)."""
    quirks = PROVIDER_QUIRKS.get(request.provider)
    if quirks is None:
        return
    style = quirks.error_style
    who = request.provider
    if quirks.rejects_tool_choice_required and request.tools and request.tool_choice == "required":
        raise ModelError(f"{who} does not support tool_choice='required'", param="tool_choice", style=style)
    if quirks.rejects_parallel_tool_calls and "parallel_tool_calls" in body:
        raise ModelError(
            f"{who} does not support the 'parallel_tool_calls' parameter", param="parallel_tool_calls", style=style
        )
    if quirks.rejects_json_schema and request.response_format and request.response_format["type"] == "json_schema":
        raise ModelError(
            f"{who} does not support response_format of type 'json_schema' (use 'json_object')",
            param="response_format",
            style=style,
        )
    if quirks.requires_thought_signature:
        _check_thought_signatures(request.messages, style)


def _check_thought_signatures(messages: Sequence[Mapping[str, Any]], style: ErrorStyle) -> None:
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for position, message in enumerate(messages[last_user + 1 :], start=last_user + 1):
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        if not isinstance(calls, list):
            continue
        for call in calls:
            extra = call.get("extra_content") if isinstance(call, dict) else None
            google = extra.get("google") if isinstance(extra, dict) else None
            signature = google.get("thought_signature") if isinstance(google, dict) else None
            if not isinstance(signature, str) or not signature:
                function = call.get("function") if isinstance(call, dict) else None
                name = function.get("name") if isinstance(function, dict) else "unknown"
                raise ModelError(
                    "Function call is missing a thought_signature in functionCall parts. This is required "
                    "for tools to work correctly, and missing thought_signature may lead to degraded model "
                    f"performance. Additional data, function call `default_api:{name}` , position "
                    f"{position + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
                    "for more details.",
                    style=style,
                )
