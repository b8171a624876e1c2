"""What each provider behind the unified endpoint accepts, and the request adjustments that follow.

Compat layers reject some OpenAI parameters outright (a 400 for the whole request). The builder applies
:func:`adapt_for_provider` to every request and every fallback step, so a parameter a provider rejects
is never sent to it; each adjustment is logged at WARNING once per provider and parameter. For OpenAI,
``max_tokens`` is sent as ``max_completion_tokens`` (what its reasoning models require).

==================  ====================  ======================  ===========  ==========================
provider            parallel_tool_calls   tool_choice="required"  json_schema  structured output default
==================  ====================  ======================  ===========  ==========================
openai              yes                   yes                     yes          json_schema
anthropic           yes                   yes                     no           function_calling
google-ai-studio    no (dropped)          yes                     yes          json_schema
google-vertex-ai    no (dropped)          yes                     yes          json_schema
workers-ai          yes                   yes                     no           function_calling
groq                yes                   yes                     yes          function_calling
mistral             yes                   yes                     yes          json_schema
cohere              no (dropped)          no ("auto")             no           function_calling
perplexity          no (dropped)          no ("auto")             no           json_mode
grok                yes                   yes                     yes          json_schema
deepseek            yes                   yes                     no           function_calling
cerebras            yes                   yes                     yes          json_schema
others / dynamic    yes                   yes                     no           function_calling
==================  ====================  ======================  ===========  ==========================
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from cfaig.model_ref import ModelRef, parse_model

__all__ = ["ProviderCapabilities", "StructuredMethod", "adapt_for_provider", "capabilities"]

StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]

logger = logging.getLogger("cfaig")


@dataclass(frozen=True, slots=True)
class ProviderCapabilities:
    parallel_tool_calls: bool = True
    tool_choice_required: bool = True
    json_schema: bool = False
    structured_output_method: StructuredMethod = "function_calling"
    max_completion_tokens: bool = False
    """The provider wants ``max_completion_tokens``: ``max_tokens`` is renamed (OpenAI's reasoning models
    reject ``max_tokens``; OpenAI deprecated it for every chat model)."""


_TABLE: dict[str, ProviderCapabilities] = {
    "openai": ProviderCapabilities(
        json_schema=True, structured_output_method="json_schema", max_completion_tokens=True
    ),
    "anthropic": ProviderCapabilities(),
    "google-ai-studio": ProviderCapabilities(
        parallel_tool_calls=False, json_schema=True, structured_output_method="json_schema"
    ),
    "google-vertex-ai": ProviderCapabilities(
        parallel_tool_calls=False, json_schema=True, structured_output_method="json_schema"
    ),
    "workers-ai": ProviderCapabilities(),
    "groq": ProviderCapabilities(json_schema=True),
    "mistral": ProviderCapabilities(json_schema=True, structured_output_method="json_schema"),
    "cohere": ProviderCapabilities(parallel_tool_calls=False, tool_choice_required=False),
    "perplexity": ProviderCapabilities(
        parallel_tool_calls=False, tool_choice_required=False, structured_output_method="json_mode"
    ),
    "grok": ProviderCapabilities(json_schema=True, structured_output_method="json_schema"),
    "deepseek": ProviderCapabilities(),
    "cerebras": ProviderCapabilities(json_schema=True, structured_output_method="json_schema"),
}
_DEFAULT = ProviderCapabilities()
_warned: set[tuple[str, str]] = set()


def capabilities(model: str | ModelRef) -> ProviderCapabilities:
    """The capabilities of the provider a model string routes to."""
    ref = parse_model(model) if isinstance(model, str) else model
    return _TABLE.get(ref.provider, _DEFAULT)


def _warn(provider: str, what: str) -> None:
    if (provider, what) not in _warned:
        _warned.add((provider, what))
        logger.warning("%s does not accept %s through the gateway; %s", provider, *what.split("|", 1))


def adapt_for_provider(body: dict[str, Any], ref: ModelRef) -> dict[str, Any]:
    """``body`` adjusted for ``ref``'s provider (a copy when anything changes)."""
    caps = _TABLE.get(ref.provider, _DEFAULT)
    rename_max_tokens = caps.max_completion_tokens and "max_tokens" in body
    if caps.parallel_tool_calls and caps.tool_choice_required and not rename_max_tokens:
        return body
    changed = dict(body)
    if rename_max_tokens:
        value = changed.pop("max_tokens")
        changed.setdefault("max_completion_tokens", value)
    if not caps.parallel_tool_calls and "parallel_tool_calls" in changed:
        del changed["parallel_tool_calls"]
        _warn(ref.provider, "parallel_tool_calls|it was left out of the request")
    if not caps.tool_choice_required and changed.get("tool_choice") == "required":
        changed["tool_choice"] = "auto"
        _warn(ref.provider, "tool_choice='required'|'auto' was sent instead")
    return changed
