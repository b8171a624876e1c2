"""What an answer carries besides its message, for both frameworks: gateway keys, token counts, key names.

Each framework puts these in its own place (LangChain's ``response_metadata`` and ``usage_metadata``,
LlamaIndex's ``ChatResponse.additional_kwargs``); the names, the None policy and the arithmetic are
decided here, once.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from cfaig.types import GatewayMeta, Usage

__all__ = ["EXTRA_CONTENT_KEY", "REASONING_KEY", "TokenCounts", "gateway_fields", "token_counts"]

REASONING_KEY: Final = "reasoning_content"
"""``additional_kwargs`` key of a message holding the model's reasoning text."""
EXTRA_CONTENT_KEY: Final = "tool_call_extra_content"
"""``additional_kwargs`` key of a message holding ``{tool_call_id: extra_content}``: provider fields of each
tool call (Gemini's thought signatures) that must be sent back with the history."""


def gateway_fields(meta: GatewayMeta) -> dict[str, Any]:
    """The gateway's answer headers as ``cf_aig_*`` keys (log id, cache status, step, event id).

    A key is present only when the gateway sent its header, so a key never holds ``None``: ``"cf_aig_step"
    in answer`` means the gateway said which step served.
    """
    fields: dict[str, Any] = {}
    if meta.log_id is not None:
        fields["cf_aig_log_id"] = meta.log_id
    if meta.cache_status is not None:
        fields["cf_aig_cache_status"] = meta.cache_status
    if meta.step is not None:
        fields["cf_aig_step"] = meta.step
    if meta.event_id is not None:
        fields["cf_aig_event_id"] = meta.event_id
    return fields


class TokenCounts(NamedTuple):
    """Token counts of one answer; the details are ``None`` when the provider did not report them."""

    input: int
    output: int
    total: int
    cache_read: int | None = None
    cache_creation: int | None = None
    input_audio: int | None = None
    reasoning: int | None = None
    output_audio: int | None = None


def token_counts(usage: Usage) -> TokenCounts:
    """The counts in ``usage``; ``total`` is the reported one, or input + output when none was reported."""
    prompt = usage.prompt_tokens_details
    completion = usage.completion_tokens_details
    return TokenCounts(
        input=usage.prompt_tokens,
        output=usage.completion_tokens,
        total=usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
        cache_read=prompt.cached_tokens if prompt is not None else None,
        cache_creation=prompt.cache_creation_tokens if prompt is not None else None,
        input_audio=prompt.audio_tokens if prompt is not None else None,
        reasoning=completion.reasoning_tokens if completion is not None else None,
        output_audio=completion.audio_tokens if completion is not None else None,
    )
