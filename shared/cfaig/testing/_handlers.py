"""The model routes: resolve the model a request names, then answer it with the fake models or forward it upstream."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import to_json

from ._pipeline import Attempt, Context, GatewayRefusalError, Reply, envelope_reply, is_streaming, parse_json
from ._responses_store import ResponseStore, StoredResponse
from ._routes import COMPAT_PROVIDERS, DYNAMIC_ROUTE_TARGET, REST_CATALOG_AUTHORS, Route, is_custom
from ._types import CODE_BAD_CHAT_FORMAT, CODE_COULD_NOT_ROUTE, CODE_TIMEOUT, ScriptedReply
from ._upstream import Forward, Forwarded
from .fake import check_model_available, generate, is_embedding_model, usage_tokens
from .fake.text import message_tokens
from .fake.types import ModelError
from .wire import (
    anthropic_message,
    anthropic_stream_events,
    api_success,
    openai_chat_chunks,
    openai_chat_completion,
    openai_embeddings,
    parse_anthropic_messages,
    parse_openai_chat,
    parse_workers_chat,
    provider_error_body,
    workers_embedding_tokens,
    workers_embeddings,
    workers_result,
    workers_stream_events,
)
from .wire.common import JSON_TYPE, SSE_DONE, SSE_TYPE, sse_event
from .wire.openai_responses import (
    conversation_after,
    parse_responses_request,
    reasoning_display,
    reasoning_inputs,
    responses_object,
    responses_stream_events,
    verify_encrypted_reasoning,
)

ScriptFor = Callable[[str, str], "ScriptedReply | None"]
"""The next scripted reply for ``(provider, model)``, if one is queued."""

_ids = random.Random(os.urandom(16))  # ids need uniqueness, not secrecy; no syscall per request
_BAD_FORMAT = "Chat completion bad format"


def _random_id(prefix: str) -> str:
    return f"{prefix}{_ids.getrandbits(96):024x}"


def answer_model(
    ctx: Context,
    attempt: Attempt,
    *,
    upstream: str | None,
    script_for: ScriptFor,
    stored: ResponseStore | None = None,
) -> Reply | Forward:
    """Answer a model route (raising :class:`ModelError` or :class:`GatewayRefusalError`), or say what to forward."""
    route, headers, body = attempt.route, attempt.headers, attempt.body
    if not isinstance(body, dict):
        if route.naming == "compat":
            raise GatewayRefusalError(400, CODE_BAD_CHAT_FORMAT, _BAD_FORMAT)
        raise ModelError("The request body must be a JSON object")
    provider, model, extra = resolve_model(route, body)
    check_model_available(provider, model, style=route.style)
    if route.kind in ("chat", "embeddings") and upstream is not None:
        endpoint = "chat/completions" if route.kind == "chat" else "embeddings"
        return _forward_to_upstream(ctx, f"{upstream}/{endpoint}", body, provider, model, headers, extra)
    if route.kind == "chat":
        return _chat(route, body, provider, model, extra, script_for)
    if route.kind == "embeddings":
        payload = openai_embeddings(body, provider=provider, model=model)
        tokens = int(payload["usage"]["prompt_tokens"])
        return Reply(body=to_json(payload), provider=provider, model=model, tokens_in=tokens, tokens_out=0)
    if route.kind == "responses":
        return _responses(body, provider, model, script_for, stored if stored is not None else ResponseStore())
    if route.kind == "messages":
        return _messages(body, provider, model, script_for)
    return _native(body, model, script_for)


def resolve_model(route: Route, body: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    """``(provider, model, extra response headers)`` for the model a body names on this route."""
    raw = body.get("model")
    if route.naming == "native":
        return "workers-ai", route.native_model or "", []
    if route.naming == "compat":
        return _compat_model(raw)
    if route.naming == "provider":
        if not isinstance(raw, str) or not raw:
            raise ModelError("you must provide a model parameter", param="model")
        return route.provider or "", raw, []
    return _rest_model(raw)


def _compat_model(raw: Any) -> tuple[str, str, list[tuple[str, str]]]:
    if not isinstance(raw, str):
        raise GatewayRefusalError(400, CODE_BAD_CHAT_FORMAT, _BAD_FORMAT)
    prefix, _, name = raw.partition("/")
    if prefix == "dynamic" and name:
        provider, model = DYNAMIC_ROUTE_TARGET
        return provider, model, [("cf-aig-model", model), ("cf-aig-provider", provider)]
    if not name or (prefix not in COMPAT_PROVIDERS and not is_custom(prefix)):
        raise GatewayRefusalError(400, CODE_BAD_CHAT_FORMAT, _BAD_FORMAT)
    return prefix, name, []


def _rest_model(raw: Any) -> tuple[str, str, list[tuple[str, str]]]:
    """REST catalog names: ``author/model`` or ``@cf/…``."""
    if not isinstance(raw, str) or not raw:
        raise GatewayRefusalError(
            400, CODE_COULD_NOT_ROUTE, "Model execution failed (User Input Error): 'model' is required"
        )
    if raw.startswith(("@cf/", "@hf/")):
        return "workers-ai", raw, []
    prefix, _, name = raw.partition("/")
    if prefix in ("google-ai-studio", "grok"):
        raise GatewayRefusalError(
            400,
            CODE_COULD_NOT_ROUTE,
            f"Model execution failed (User Input Error): '{raw}' uses a gateway compat prefix; "
            "use google/… / xai/… on the REST API",
        )
    if not name:
        raise GatewayRefusalError(400, CODE_COULD_NOT_ROUTE, f"Model not found: {raw} (expected 'author/model')")
    if prefix not in REST_CATALOG_AUTHORS and not is_custom(prefix):
        raise GatewayRefusalError(404, CODE_COULD_NOT_ROUTE, f"Model not found: {raw}")
    return prefix, name, []


def _forward_to_upstream(
    ctx: Context,
    url: str,
    body: Mapping[str, Any],
    provider: str,
    model: str,
    headers: Mapping[str, str],
    extra: list[tuple[str, str]],
) -> Forward:
    payload = dict(body)
    payload["model"] = model
    out = {"content-type": JSON_TYPE, "accept": headers.get("accept", f"{JSON_TYPE}, {SSE_TYPE}")}
    if ctx.surface == "gateway" and "authorization" in headers:
        out["authorization"] = headers["authorization"]
    return Forward(
        url=url,
        headers=out,
        body=to_json(payload),
        stream=payload.get("stream") is True,
        provider=provider,
        model=model,
        extra_headers=extra,
    )


def reply_from_forwarded(ctx: Context, forward: Forward, result: Forwarded) -> Reply:
    """The gateway's reply for what the upstream answered (a 504 on timeout, a 502 on a transport error)."""
    if result.timed_out:
        return envelope_reply(ctx.surface, 504, CODE_TIMEOUT, "Request timed out")
    if result.error is not None:
        body = provider_error_body("openai", 502, f"Upstream request failed: {result.error}")
        return Reply(status=502, body=to_json(body), provider=forward.provider, model=forward.model)
    reply = Reply(
        status=result.status,
        content_type=result.content_type,
        body=result.body,
        upstream=result.stream,
        headers=list(forward.extra_headers),
        provider=forward.provider,
        model=forward.model,
    )
    parsed = parse_json(result.body) if result.stream is None else None
    usage = parsed.get("usage") if isinstance(parsed, dict) else None
    if isinstance(usage, dict):
        reply.tokens_in = _maybe_int(usage.get("prompt_tokens"))
        reply.tokens_out = _maybe_int(usage.get("completion_tokens"))
    return reply


def _maybe_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _chat(
    route: Route,
    body: Mapping[str, Any],
    provider: str,
    model: str,
    extra: list[tuple[str, str]],
    script_for: ScriptFor,
) -> Reply:
    try:
        request = parse_openai_chat(body, provider=provider, model=model)
    except ModelError as err:
        if err.bad_format and route.naming == "compat":
            raise GatewayRefusalError(400, CODE_BAD_CHAT_FORMAT, _BAD_FORMAT) from err
        raise
    turns = generate(request, script_for(provider, model))
    tokens_in, tokens_out = usage_tokens(turns)
    completion_id = _random_id("chatcmpl-")
    created = int(time.time())
    reply = Reply(headers=list(extra), provider=provider, model=model, tokens_in=tokens_in, tokens_out=tokens_out)
    if is_streaming(body):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        chunks = openai_chat_chunks(
            turns, completion_id=completion_id, created=created, model=model, include_usage=include_usage
        )
        _stream(reply, [sse_event(chunk) for chunk in chunks], SSE_DONE)
    else:
        completion = openai_chat_completion(turns, completion_id=completion_id, created=created, model=model)
        reply.body = to_json(completion)
    return reply


def _stream(reply: Reply, events: list[bytes], terminator: bytes | None = None) -> None:
    reply.content_type = SSE_TYPE
    reply.events = events
    reply.terminator = terminator


def _responses(
    body: Mapping[str, Any], provider: str, model: str, script_for: ScriptFor, stored: ResponseStore
) -> Reply:
    history, cached = _previous_conversation(body, stored)
    _check_reasoning_inputs(body, stored)
    request = parse_responses_request(body, provider=provider, model=model, history=history)
    turns = generate(request, script_for(provider, model))
    tokens_in, tokens_out = usage_tokens(turns)
    response_id = _random_id("resp_")
    created = int(time.time())
    reply = Reply(provider=provider, model=model, tokens_in=tokens_in, tokens_out=tokens_out)
    payload = responses_object(
        turns[0],
        response_id=response_id,
        created=created,
        model=model,
        display=reasoning_display(body, model),
        cached_tokens=cached,
        previous_response_id=body.get("previous_response_id"),
    )
    if is_streaming(body):
        _stream(reply, [sse_event(data, name) for name, data in responses_stream_events(payload)])
    else:
        reply.body = to_json(payload)
    if body.get("store") is not False:
        ids = frozenset(str(item["id"]) for item in payload["output"])
        stored.put(response_id, StoredResponse(tuple(conversation_after(request, body, turns[0])), ids))
    return reply


def _previous_conversation(body: Mapping[str, Any], stored: ResponseStore) -> tuple[list[dict[str, Any]], int]:
    """The conversation ``previous_response_id`` continues and its input tokens (reported as cached: prompt
    caching serves a repeated prefix; OpenAI's 1024-token minimum is not emulated)."""
    previous = body.get("previous_response_id")
    if previous is None:
        return [], 0
    found = stored.get(previous) if isinstance(previous, str) else None
    if found is None:
        raise ModelError(
            f"Previous response with id '{previous}' not found.",
            status=404,
            param="previous_response_id",
            code="previous_response_not_found",
        )
    history = [dict(message) for message in found.messages]
    return history, sum(message_tokens(message) for message in history)


def _check_reasoning_inputs(body: Mapping[str, Any], stored: ResponseStore) -> None:
    """A reasoning item sent back carries its encrypted content, or names an item of a stored response."""
    for item in reasoning_inputs(body):
        item_id = str(item.get("id", ""))
        encrypted = item.get("encrypted_content")
        if encrypted is not None:
            if not verify_encrypted_reasoning(encrypted):
                raise ModelError(
                    f"The encrypted content for item {item_id} could not be verified.",
                    param="input",
                    code="invalid_encrypted_content",
                )
        elif not stored.has_item(item_id):
            raise ModelError(
                f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to false. "
                "Try again with `store` set to true, or remove this item from your input.",
                status=404,
                param="input",
            )


def _messages(body: Mapping[str, Any], provider: str, model: str, script_for: ScriptFor) -> Reply:
    request = parse_anthropic_messages(body, model=model)
    request.provider = provider
    turns = generate(request, script_for(provider, model))
    tokens_in, tokens_out = usage_tokens(turns)
    message_id = _random_id("msg_")
    reply = Reply(provider=provider, model=model, tokens_in=tokens_in, tokens_out=tokens_out)
    if is_streaming(body):
        events = anthropic_stream_events(turns[0], message_id=message_id, model=model)
        _stream(reply, [sse_event(data, name) for name, data in events])
    else:
        reply.body = to_json(anthropic_message(turns[0], message_id=message_id, model=model))
    return reply


def _native(body: Mapping[str, Any], model: str, script_for: ScriptFor) -> Reply:
    if not model.startswith(("@cf/", "@hf/")):
        raise ModelError(f"No such model {model} or task", style="cloudflare", code=5007)
    if is_embedding_model(model):
        result = workers_embeddings(body, model=model)
        tokens = workers_embedding_tokens(body)
        return Reply(body=api_success(result), provider="workers-ai", model=model, tokens_in=tokens, tokens_out=0)
    request = parse_workers_chat(body, model=model)
    turns = generate(request, script_for("workers-ai", model))
    tokens_in, tokens_out = usage_tokens(turns)
    reply = Reply(provider="workers-ai", model=model, tokens_in=tokens_in, tokens_out=tokens_out)
    if is_streaming(body):
        _stream(reply, [sse_event(event) for event in workers_stream_events(turns[0])], SSE_DONE)
    else:
        reply.body = api_success(workers_result(turns[0]))
    return reply
