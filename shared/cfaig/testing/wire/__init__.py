"""The wire formats the emulator speaks, each dialect's ``parse_*`` and render functions side by side.

``openai_chat`` (Chat Completions), ``openai_responses`` (Responses API), ``anthropic_messages``
(Messages), ``workers_native`` (Workers AI's run API), ``embeddings`` (OpenAI and Workers AI) and
``errors`` (provider error bodies, gateway and API envelopes).  Parsers turn a request body into a
:class:`cfaig.testing.fake.ParsedChat` (raising :class:`cfaig.testing.fake.ModelError`); renderers turn
the generated :class:`cfaig.testing.fake.Turn` objects into that dialect's JSON and SSE events.
"""

from __future__ import annotations

from .anthropic_messages import anthropic_message, anthropic_stream_events, parse_anthropic_messages
from .embeddings import openai_embeddings, workers_embedding_tokens, workers_embeddings
from .errors import api_envelope, api_success, gateway_envelope, html_page, provider_error_body, status_message
from .openai_chat import openai_chat_chunks, openai_chat_completion, openai_usage, parse_openai_chat
from .openai_responses import parse_responses_request, responses_object, responses_stream_events
from .workers_native import parse_workers_chat, workers_result, workers_stream_events

__all__ = [
    "anthropic_message",
    "anthropic_stream_events",
    "api_envelope",
    "api_success",
    "gateway_envelope",
    "html_page",
    "openai_chat_chunks",
    "openai_chat_completion",
    "openai_embeddings",
    "openai_usage",
    "parse_anthropic_messages",
    "parse_openai_chat",
    "parse_responses_request",
    "parse_workers_chat",
    "provider_error_body",
    "responses_object",
    "responses_stream_events",
    "status_message",
    "workers_embedding_tokens",
    "workers_embeddings",
    "workers_result",
    "workers_stream_events",
]
