"""Turn generation: the deterministic assistant turns (echo, RAG answer, tool calls, JSON) for a parsed chat."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._types import ScriptedReply
from .providers import signs_tool_calls, thought_signature
from .schema import synthesize_from_schema
from .text import (
    answer_from_context,
    clip,
    content_text,
    content_words,
    count_tokens,
    dumps,
    mentions,
    message_tokens,
    normalise_space,
    short_hash,
)
from .types import EMULATOR_TAG, FakeToolCall, ParsedChat, ToolSpec, Turn

_STREAM_CHUNKS_RE: Final = re.compile(r"__stream_chunks__\s+(\d+)")
_MAX_STREAM_CHUNKS: Final = 100_000
_KEY_RE: Final = re.compile(r"`([A-Za-z_][\w-]{0,40})`|\"([A-Za-z_][\w-]{0,40})\"|'([A-Za-z_][\w-]{0,40})'")


def generate(request: ParsedChat, script: ScriptedReply | None = None) -> list[Turn]:
    """Generate ``request.n`` deterministic assistant turns (or the scripted one)."""
    prompt_tokens = sum(message_tokens(m) for m in request.messages)
    if script is not None:
        return [_scripted_turn(request, script, prompt_tokens, i) for i in range(request.n)]
    return [_generated_turn(request, prompt_tokens, i) for i in range(request.n)]


def usage_tokens(turns: Sequence[Turn]) -> tuple[int, int]:
    """Prompt tokens (counted once) and completion tokens of all choices."""
    return turns[0].prompt_tokens, sum(t.completion_tokens for t in turns)


def _last_user(messages: Sequence[Mapping[str, Any]]) -> tuple[str, int]:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return "", 0


def _trailing_tool_results(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") not in ("tool", "function"):
            break
        results.append(content_text(message.get("content"))[0])
    return list(reversed(results))


def _mentioned_keys(messages: Sequence[Mapping[str, Any]], user_text: str) -> list[str]:
    texts = [content_text(m.get("content"))[0] for m in messages if m.get("role") in ("system", "developer")]
    texts.append(user_text)
    keys: list[str] = []
    for text in texts:
        for groups in _KEY_RE.findall(text):
            key = next(g for g in groups if g)
            if key not in keys:
                keys.append(key)
    return keys


def _select_tools(request: ParsedChat, user_text: str) -> list[ToolSpec]:
    by_name = {t.name: t for t in request.tools}
    if request.forced_tool is not None:
        return [by_name[request.forced_tool]]
    mentioned = [t for t in request.tools if mentions(user_text, t.name)]
    if mentioned:
        return mentioned if request.parallel_tool_calls else mentioned[:1]
    words = content_words(user_text)
    for tool in request.tools:
        if words & (content_words(tool.name) | content_words(tool.description)):
            return [tool]
    return [request.tools[0]]


def _tool_call(request: ParsedChat, call_id: str, name: str, arguments: str) -> FakeToolCall:
    signed = signs_tool_calls(request.provider)
    signature = thought_signature(request.model, call_id, name, arguments) if signed else None
    return FakeToolCall(call_id, name, arguments, signature)


def _apply_limits(content: str, request: ParsedChat, finish: str) -> tuple[str, str, str | None]:
    stop_hit: str | None = None
    if request.stop:
        positions = [(content.find(s), s) for s in request.stop if s in content]
        if positions:
            index, stop_hit = min(positions)
            content = content[:index]
            finish = "stop"
    if request.max_tokens is not None and count_tokens(content) > request.max_tokens:
        content = " ".join(content.split()[: request.max_tokens])
        finish = "length"
        stop_hit = None
    return content, finish, stop_hit


def _echo_text(request: ParsedChat, prefix: str, choice: int) -> str:
    user_text, images = _last_user(request.messages)
    stream_chunks = _STREAM_CHUNKS_RE.fullmatch(user_text.strip())
    if stream_chunks:
        count = min(int(stream_chunks.group(1)), _MAX_STREAM_CHUNKS)
        return " ".join(f"tok{i}" for i in range(count))
    grounded = answer_from_context(user_text)
    if grounded is not None:
        return f"{prefix}From the context: {grounded}"
    said = clip(normalise_space(user_text))
    if images:
        said = f"{said} [{images} image{'s' if images != 1 else ''}]".strip()
    text = f"{prefix}You said: {said}" if said else f"{prefix}Hello! No user message was given."
    return text if choice == 0 else f"{text} (choice {choice + 1})"


def _tool_result_text(results: Sequence[str], prefix: str) -> str:
    if len(results) == 1:
        return f"{prefix}Based on the tool result: {results[0]}"
    return f"{prefix}Based on the tool results: " + "; ".join(results)


def _completion_tokens(content: str | None, calls: Sequence[FakeToolCall], reasoning_tokens: int) -> int:
    return max(count_tokens(content) + sum(count_tokens(c.arguments) + 1 for c in calls) + reasoning_tokens, 1)


def _scripted_turn(request: ParsedChat, script: ScriptedReply, prompt_tokens: int, choice: int) -> Turn:
    calls: list[FakeToolCall] = []
    for k, raw in enumerate(script.tool_calls or []):
        name = str(raw.get("name", ""))
        arguments = raw.get("arguments", {})
        args_text = arguments if isinstance(arguments, str) else dumps(arguments)
        call_id = str(raw.get("id") or "call_" + short_hash(request.model, name, args_text, choice, k, "script"))
        calls.append(_tool_call(request, call_id, name, args_text))
    reasoning_tokens = count_tokens(script.reasoning)
    return Turn(
        content=script.content,
        tool_calls=calls,
        reasoning=script.reasoning,
        finish_reason=script.finish_reason or ("tool_calls" if calls else "stop"),
        prompt_tokens=prompt_tokens,
        completion_tokens=_completion_tokens(script.content, calls, reasoning_tokens),
        reasoning_tokens=reasoning_tokens,
        usage_override=dict(script.usage) if script.usage else None,
    )


def _tool_calls_for(request: ParsedChat, user_text: str, choice: int) -> list[FakeToolCall]:
    calls: list[FakeToolCall] = []
    for k, tool in enumerate(_select_tools(request, user_text)):
        value = synthesize_from_schema(tool.parameters, text=user_text, call_name=tool.name)
        arguments = dumps(value if isinstance(value, dict) else {})
        call_id = "call_" + short_hash(request.model, tool.name, arguments, choice, k, len(request.messages))
        calls.append(_tool_call(request, call_id, tool.name, arguments))
    return calls


def _answer_text(request: ParsedChat, user_text: str, tool_results: list[str], prefix: str, choice: int) -> str:
    text = _tool_result_text(tool_results, prefix) if tool_results else _echo_text(request, prefix, choice)
    if request.response_format is None:
        return text
    if request.response_format["type"] == "json_schema":
        value = synthesize_from_schema(request.response_format["schema"], text=user_text)
    else:
        keys = _mentioned_keys(request.messages, user_text)
        value = {k: f"{k}-value" for k in keys} if keys else {"answer": text}
    return json.dumps(value, ensure_ascii=False)


def _generated_turn(request: ParsedChat, prompt_tokens: int, choice: int) -> Turn:
    prefix = f"[{EMULATOR_TAG} · {request.provider}/{request.model}] "
    user_text, _ = _last_user(request.messages)
    tool_results = _trailing_tool_results(request.messages)
    content: str | None = None
    calls: list[FakeToolCall] = []
    stop_hit: str | None = None
    asked = normalise_space(user_text)[:80]
    if request.tools and request.tool_choice != "none" and not tool_results:
        calls = _tool_calls_for(request, user_text, choice)
        finish = "tool_calls"
        reasoning = f"The user asked: {asked}. I will call " + ", ".join(c.name for c in calls)
    else:
        text = _answer_text(request, user_text, tool_results, prefix, choice)
        content, finish, stop_hit = _apply_limits(text, request, "stop")
        reasoning = f"The user asked: {asked}. I will answer directly."
    reasoning_text = reasoning if request.reasoning else None
    reasoning_tokens = count_tokens(reasoning_text)
    return Turn(
        content=content,
        tool_calls=calls,
        reasoning=reasoning_text,
        finish_reason=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=_completion_tokens(content, calls, reasoning_tokens),
        reasoning_tokens=reasoning_tokens,
        stop_sequence=stop_hit,
    )
