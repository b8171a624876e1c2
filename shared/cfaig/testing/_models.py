"""Deterministic fake models behind :class:`cfaig.testing.GatewayEmulator`.

Everything in this module is pure computation: no I/O, no randomness and no clocks
(callers pass ids and timestamps in).  The replies are honest about being local -- text
answers start with ``[cfaig emulator · {provider}/{model}]`` -- and are derived from the
request so that tests can assert on them:

* plain chat echoes the last user message (``You said: …``, truncated to 200 characters,
  ``[n images]`` appended for image parts); a retrieval prompt (context, then ``Query:`` or
  ``Question:``) is answered ``From the context: <the context sentence sharing most words with the
  question>``; ``stop`` and ``max_tokens`` /
  ``max_completion_tokens`` (counted in whitespace tokens) are honoured;
* with ``tools`` the model calls tools, synthesising arguments from the JSON schemas
  (:func:`synthesize_from_schema`); after ``tool`` results it answers
  ``Based on the tool result: …`` quoting the results verbatim;
* ``response_format`` json_schema / json_object replies are JSON documents that validate;
* ``reasoning_effort`` (or a model id containing ``reasoning``, ``thinking`` or an ``r1``
  token) adds ``reasoning_content`` and ``reasoning_tokens``;
* the last user message ``__stream_chunks__ K`` yields exactly ``K`` one-word chunks
  (``tok0 tok1 …``), which benchmarks use to control stream length;
* embeddings are signed feature hashes of words and character trigrams, L2-normalised, so
  texts sharing words are close in cosine similarity;
* a model id containing ``unavailable`` (e.g. ``openai/cfaig-unavailable-model``) always
  fails with a provider 503, so fallbacks can be shown without injecting faults.

Provider-specific behaviour (parameters that real compat layers reject, Gemini's
``thought_signature`` requirement) lives in the :data:`PROVIDER_QUIRKS` table.
"""

from __future__ import annotations

import array
import base64
import hashlib
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, Literal

ErrorStyle = Literal["openai", "anthropic", "google", "cloudflare"]
"""Error body families: OpenAI ``{"error":{…}}``, Anthropic ``{"type":"error",…}``,
Google ``{"error":{"code","message","status"}}`` and the Cloudflare v4 envelope."""

EMULATOR_TAG: Final = "cfaig emulator"

# --------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------


@dataclass
class ScriptedReply:
    """A canned model reply, queued with :meth:`GatewayEmulator.script`.

    Scripted replies are consumed in order by chat-like requests (OpenAI chat, Responses,
    Anthropic Messages, Workers AI native chat) whose ``provider/model`` string contains
    ``match`` (any model when ``match`` is None).  Each reply answers ``times`` requests.

    ``tool_calls`` items are ``{"name": str, "arguments": dict | str, "id": str (optional)}``.
    ``finish_reason`` defaults to ``"tool_calls"`` when tool calls are given, else ``"stop"``.
    ``usage`` keys override the computed token usage.
    """

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    reasoning: str | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    times: int = 1
    match: str | None = None

    def __post_init__(self) -> None:
        if self.times < 1:
            raise ValueError("ScriptedReply.times must be at least 1")


class ModelError(Exception):
    """A request the fake provider rejects.

    ``bad_format`` marks structural problems (missing ``messages`` …) that the compat
    endpoint reports as gateway error 2019 instead of a provider error.  ``style`` forces
    an error body family (quirks of Google models answer in Google's format).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        param: str | None = None,
        style: ErrorStyle | None = None,
        bad_format: bool = False,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param
        self.style = style
        self.bad_format = bad_format
        self.code = code


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


@dataclass
class ToolSpec:
    """A function tool in provider-neutral form."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChatRequest:
    """A chat request normalised from any wire format (OpenAI-shaped ``messages``)."""

    provider: str
    model: str
    messages: list[dict[str, Any]]
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    forced_tool: str | None = None
    parallel_tool_calls: bool = True
    response_format: dict[str, Any] | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    n: int = 1
    reasoning: bool = False


@dataclass
class ToolCall:
    """A tool call the fake model made (``arguments`` is JSON text)."""

    id: str
    name: str
    arguments: str
    thought_signature: str | None = None


@dataclass
class Turn:
    """One generated assistant turn (one choice)."""

    content: str | None
    tool_calls: list[ToolCall]
    reasoning: str | None
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0
    stop_sequence: str | None = None
    usage_override: dict[str, Any] | None = None


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

_STATUS_MESSAGES: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "Invalid request",
        401: "Invalid authentication credentials",
        403: "Permission denied",
        404: "Not found",
        408: "Request timed out",
        409: "Conflict",
        413: "Request too large",
        422: "Unprocessable request",
        429: "Rate limit reached for requests",
        500: "The server had an error while processing your request",
        502: "Bad gateway",
        503: "The service is temporarily overloaded, please try again later",
        504: "Gateway timeout",
        529: "Overloaded",
    }
)
_OPENAI_TYPES: Final[Mapping[int, str]] = MappingProxyType(
    {
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        408: "timeout_error",
        409: "conflict_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }
)
_ANTHROPIC_TYPES: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        529: "overloaded_error",
    }
)
_GOOGLE_STATUS: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        409: "ABORTED",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    }
)
_CLOUDFLARE_CODES: Final[Mapping[int, int]] = MappingProxyType(
    {400: 5006, 401: 10000, 404: 3042, 408: 3007, 413: 3006, 429: 3040, 500: 3043, 503: 3040}
)


def status_message(status: int) -> str:
    """A realistic default error message for an HTTP status."""
    if status in _STATUS_MESSAGES:
        return _STATUS_MESSAGES[status]
    return "Invalid request" if status < 500 else "Upstream error"


def provider_error_body(
    style: ErrorStyle,
    status: int,
    message: str | None = None,
    *,
    param: str | None = None,
    code: int | None = None,
) -> dict[str, Any]:
    """Render a provider error body in one of the :data:`ErrorStyle` families.

    ``code`` overrides the numeric code of the Cloudflare v4 envelope.
    """
    text = message if message is not None else status_message(status)
    if style == "google":
        return {
            "error": {
                "code": status,
                "message": text,
                "status": _GOOGLE_STATUS.get(status, "INVALID_ARGUMENT" if status < 500 else "INTERNAL"),
            }
        }
    if style == "anthropic":
        kind = _ANTHROPIC_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
        return {"type": "error", "error": {"type": kind, "message": text}}
    if style == "cloudflare":
        number = code if code is not None else _CLOUDFLARE_CODES.get(status, 5006 if status < 500 else 3043)
        return {"result": None, "success": False, "errors": [{"code": number, "message": text}], "messages": []}
    kind = _OPENAI_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": text, "type": kind, "param": param, "code": None}}


# --------------------------------------------------------------------------------------
# Small text helpers
# --------------------------------------------------------------------------------------

_WORD_CHUNK_RE: Final = re.compile(r"\s*\S+")
_STREAM_CHUNKS_RE: Final = re.compile(r"__stream_chunks__\s+(\d+)")
_R1_RE: Final = re.compile(r"(?:^|[-_/.:@])r1(?:$|[-_/.:])")
_STOPWORDS: Final = frozenset(
    {
        *("about", "after", "again", "also", "based", "been", "before", "being", "below", "between"),
        *("both", "call", "calls", "could", "does", "doing", "down", "during", "each", "from"),
        *("further", "have", "having", "here", "into", "just", "like", "make", "more", "most"),
        *("much", "must", "only", "other", "over", "please", "same", "should", "show", "some"),
        *("such", "tell", "than", "that", "their", "them", "then", "there", "these", "they"),
        *("this", "those", "through", "under", "until", "using", "very", "what", "when", "where"),
        *("which", "while", "will", "with", "would", "your", "yours"),
    }
)
_MAX_ECHO_CHARS: Final = 200
_MAX_STREAM_CHUNKS: Final = 100_000


def count_tokens(text: str | None) -> int:
    """Whitespace token count, the emulator's unit for usage and ``max_tokens``."""
    return len(text.split()) if text else 0


def word_chunks(text: str) -> list[str]:
    """Split ``text`` into chunks of one word each (leading whitespace attached).

    ``"".join(word_chunks(t)) == t`` for every string.
    """
    chunks = _WORD_CHUNK_RE.findall(text)
    consumed = sum(len(c) for c in chunks)
    if consumed < len(text):
        tail = text[consumed:]
        if chunks:
            chunks[-1] += tail
        else:
            chunks.append(tail)
    return chunks


def content_text(content: Any) -> tuple[str, int]:
    """Text of an OpenAI-style message ``content`` and its number of image parts."""
    if content is None:
        return "", 0
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        return str(content), 0
    texts: list[str] = []
    images = 0
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            kind = part.get("type")
            if kind in ("image_url", "input_image", "image"):
                images += 1
            elif isinstance(part.get("text"), str):
                texts.append(part["text"])
    return " ".join(texts), images


def _message_tokens(message: Mapping[str, Any]) -> int:
    text, _ = content_text(message.get("content"))
    tokens = count_tokens(text) + 1
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                tokens += count_tokens(str(function.get("arguments", ""))) + 1
    return tokens


def _normalise_space(text: str) -> str:
    return " ".join(text.split())


def _content_words(text: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text).lower()
    words: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", spaced):
        if len(word) < 4 or word in _STOPWORDS:
            continue
        words.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return words


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text, re.IGNORECASE) is not None


def _short_hash(*parts: object, length: int = 24) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:length]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def is_reasoning_model(model: str) -> bool:
    """Whether a model id looks like a reasoning model (``reasoning``, ``thinking``, ``r1``)."""
    lowered = model.lower()
    return "reasoning" in lowered or "thinking" in lowered or _R1_RE.search(lowered) is not None


# --------------------------------------------------------------------------------------
# JSON schema synthesis
# --------------------------------------------------------------------------------------

_NUMBER_RE: Final = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w|\.\d)")
_QUOTED_RE: Final = re.compile(r'"([^"\n]{1,200})"|“([^”\n]{1,200})”|(?<!\w)\'([^\'\n]{1,200})\'(?!\w)')
_ASSIGN_RE: Final = re.compile(r"\b([A-Za-z_]\w*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;)]+)")
_ARG_SPLIT_RE: Final = re.compile(r"\s*(\"[^\"]*\"|'[^']*'|[^,]+)\s*(?:,|$)")
_MISSING: Final = object()
_MAX_SCHEMA_DEPTH: Final = 8
_FORMAT_EXAMPLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "date": "2024-01-01",
        "date-time": "2024-01-01T00:00:00Z",
        "time": "12:00:00",
        "email": "user@example.com",
        "uri": "https://example.com/",
        "url": "https://example.com/",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "hostname": "example.com",
        "ipv4": "192.0.2.1",
    }
)


def _parse_literal(raw: str) -> Any:
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    try:
        return json.loads(text)
    except ValueError:
        return text


class _Literals:
    """Values mentioned in a user message, handed out to schema properties in order."""

    def __init__(self, text: str, call_name: str | None) -> None:
        self.text = text
        self.words = {w.lower() for w in re.findall(r"[\w-]+", text)}
        self.numbers: list[Any] = [_parse_literal(m) for m in _NUMBER_RE.findall(text)]
        self.quoted: list[str] = [next(g for g in groups if g) for groups in _QUOTED_RE.findall(text)]
        self.assignments: dict[str, Any] = {k: _parse_literal(v) for k, v in _ASSIGN_RE.findall(text)}
        self.positional: list[Any] = []
        self.named: dict[str, Any] = {}
        if call_name:
            call = re.search(rf"(?<![\w]){re.escape(call_name)}\s*\(([^()]*)\)", text)
            if call:
                for arg in _ARG_SPLIT_RE.findall(call.group(1)):
                    key, sep, value = arg.partition("=")
                    quoted = arg.lstrip()[:1] in ('"', "'")
                    if sep and not quoted and re.fullmatch(r"\s*[A-Za-z_]\w*\s*", key):
                        self.named[key.strip()] = _parse_literal(value)
                    elif arg.strip():
                        self.positional.append(_parse_literal(arg))


def _schema_type(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        non_null = [t for t in declared if t != "null"]
        return str(non_null[0]) if non_null else "null"
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        first = enum[0]
        if isinstance(first, bool):
            return "boolean"
        if isinstance(first, int):
            return "integer"
        if isinstance(first, float):
            return "number"
    return "string"


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    kind = _schema_type(schema)
    result: Any = _MISSING
    if kind == "integer":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result = int(value)
        elif isinstance(value, str):
            try:
                result = int(float(value))
            except ValueError:
                result = _MISSING
    elif kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result = value
        elif isinstance(value, str):
            try:
                result = float(value)
            except ValueError:
                result = _MISSING
    elif kind == "boolean":
        if isinstance(value, bool):
            result = value
        elif str(value).lower() in ("true", "yes", "1"):
            result = True
        elif str(value).lower() in ("false", "no", "0"):
            result = False
    elif kind == "string":
        result = value if isinstance(value, str) else _dumps(value)
    elif kind == "array":
        result = value if isinstance(value, list) else _MISSING
    elif kind == "object":
        result = value if isinstance(value, dict) else _MISSING
    enum = schema.get("enum")
    if result is not _MISSING and isinstance(enum, list) and enum and result not in enum:
        return _MISSING
    return result


class _SchemaSynthesizer:
    def __init__(self, root: Mapping[str, Any], literals: _Literals) -> None:
        self._root = root
        self._lit = literals

    def resolve(self, schema: Any) -> dict[str, Any]:
        current: dict[str, Any] = dict(schema) if isinstance(schema, Mapping) else {}
        for _ in range(32):
            ref = current.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                target: Any = self._root
                for token in ref[1:].split("/"):
                    if not token:
                        continue
                    key = token.replace("~1", "/").replace("~0", "~")
                    target = target.get(key, {}) if isinstance(target, Mapping) else {}
                siblings = {k: v for k, v in current.items() if k != "$ref"}
                current = {**(dict(target) if isinstance(target, Mapping) else {}), **siblings}
                continue
            all_of = current.get("allOf")
            if isinstance(all_of, list) and all_of:
                merged: dict[str, Any] = {k: v for k, v in current.items() if k != "allOf"}
                for part in all_of:
                    resolved = self.resolve(part)
                    props = {**merged.get("properties", {}), **resolved.get("properties", {})}
                    required = [*merged.get("required", []), *resolved.get("required", [])]
                    merged = {**resolved, **merged}
                    if props:
                        merged["properties"] = props
                    if required:
                        merged["required"] = list(dict.fromkeys(required))
                current = merged
                continue
            for key in ("anyOf", "oneOf"):
                options = current.get(key)
                if isinstance(options, list) and options:
                    chosen = next(
                        (o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")),
                        options[0],
                    )
                    rest = {k: v for k, v in current.items() if k not in ("anyOf", "oneOf")}
                    current = {**rest, **(dict(chosen) if isinstance(chosen, Mapping) else {})}
                    break
            else:
                return current
        return current

    def top_level(self) -> Any:
        schema = self.resolve(self._root)
        if _schema_type(schema) == "object":
            return self._object(schema, depth=0, top=True)
        return self.value(schema, "value", depth=0, index=0)

    def _literal_for(self, name: str, position: int, schema: Mapping[str, Any]) -> Any:
        lit = self._lit
        candidates: list[Any] = []
        if name in lit.named:
            candidates.append(lit.named[name])
        if position < len(lit.positional):
            candidates.append(lit.positional[position])
        if name in lit.assignments:
            candidates.append(lit.assignments[name])
        for candidate in candidates:
            coerced = _coerce(candidate, schema)
            if coerced is not _MISSING:
                return coerced
        kind = _schema_type(schema)
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            for option in enum:
                if isinstance(option, str) and option.lower() in lit.words:
                    return option
            return _MISSING
        if kind in ("integer", "number") and lit.numbers:
            coerced = _coerce(lit.numbers[0], schema)
            if coerced is not _MISSING:
                lit.numbers.pop(0)
                return coerced
        if kind == "string" and "format" not in schema and lit.quoted:
            return lit.quoted.pop(0)
        return _MISSING

    def _object(self, schema: Mapping[str, Any], *, depth: int, top: bool) -> dict[str, Any]:
        properties = schema.get("properties")
        result: dict[str, Any] = {}
        if isinstance(properties, Mapping):
            for position, (name, raw) in enumerate(properties.items()):
                sub = self.resolve(raw)
                if top:
                    literal = self._literal_for(str(name), position, sub)
                    if literal is not _MISSING:
                        result[str(name)] = literal
                        continue
                result[str(name)] = self.value(sub, str(name), depth=depth + 1, index=0)
        required = schema.get("required")
        if isinstance(required, list):
            for name in required:
                if isinstance(name, str) and name not in result:
                    result[name] = f"{name}-value"
        return result

    def value(self, schema: Mapping[str, Any], name: str, *, depth: int, index: int) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[min(index, len(enum) - 1)]
        kind = _schema_type(schema)
        if kind == "object":
            return {} if depth > _MAX_SCHEMA_DEPTH else self._object(schema, depth=depth, top=False)
        if kind == "array":
            return self._array(schema, name, depth=depth)
        if kind == "integer":
            return int(_clamp(3 + index, schema, integral=True))
        if kind == "number":
            return float(_clamp(3.0 + index, schema, integral=False))
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return _string_value(schema, name, index)

    def _array(self, schema: Mapping[str, Any], name: str, *, depth: int) -> list[Any]:
        if depth > _MAX_SCHEMA_DEPTH:
            return []
        min_items = schema.get("minItems")
        max_items = schema.get("maxItems")
        count = max(1, min_items if isinstance(min_items, int) else 1)
        if isinstance(max_items, int):
            count = min(count, max_items)
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        out: list[Any] = []
        for i in range(count):
            if isinstance(prefix, list) and i < len(prefix):
                sub: Any = prefix[i]
            else:
                sub = items if isinstance(items, Mapping) else {}
            out.append(self.value(self.resolve(sub), name, depth=depth + 1, index=i))
        if isinstance(prefix, list) and len(prefix) > count and not isinstance(max_items, int):
            out.extend(
                self.value(self.resolve(prefix[i]), name, depth=depth + 1, index=i) for i in range(count, len(prefix))
            )
        return out


def _clamp(value: float, schema: Mapping[str, Any], *, integral: bool) -> float:
    low = schema.get("minimum")
    high = schema.get("maximum")
    ex_low = schema.get("exclusiveMinimum")
    ex_high = schema.get("exclusiveMaximum")
    step = 1 if integral else 0.5
    if isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool) and value <= ex_low:
        value = ex_low + step
    if isinstance(low, (int, float)) and not isinstance(low, bool) and value < low:
        value = low
    if isinstance(ex_high, (int, float)) and not isinstance(ex_high, bool) and value >= ex_high:
        value = ex_high - step
    if isinstance(high, (int, float)) and not isinstance(high, bool) and value > high:
        value = high
    if integral and value != math.floor(value):
        up = math.ceil(value)
        value = up if not isinstance(high, (int, float)) or up <= high else math.floor(value)
    return value


def _string_value(schema: Mapping[str, Any], name: str, index: int) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_EXAMPLES:
        text = _FORMAT_EXAMPLES[fmt]
    else:
        text = f"{name}-value" if index == 0 else f"{name}-value-{index}"
    min_length = schema.get("minLength")
    max_length = schema.get("maxLength")
    if isinstance(min_length, int) and len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    if isinstance(max_length, int) and len(text) > max_length:
        text = text[:max_length]
    return text


def synthesize_from_schema(schema: Mapping[str, Any], *, text: str = "", call_name: str | None = None) -> Any:
    """Build a value that validates against a JSON schema.

    Values mentioned in ``text`` are preferred for top-level properties: ``call_name(1, b=2)``
    call syntax, ``prop=value`` assignments, numbers (for integer/number properties, in
    order), enum values named in the text, and quoted strings (for string properties).
    Otherwise integers are 3, numbers 3.0, booleans true, strings ``"<prop>-value"`` (the
    first value of an enum, or an example for a known ``format``), arrays hold one item
    (``minItems`` respected) and objects recurse.  ``$ref``/``$defs``, ``allOf``, ``anyOf``
    and ``oneOf`` are resolved; every property is included.
    """
    synthesizer = _SchemaSynthesizer(schema, _Literals(text, call_name))
    return synthesizer.top_level()


# --------------------------------------------------------------------------------------
# Request normalisation
# --------------------------------------------------------------------------------------

_ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _tools_from_openai(raw: Any, *, flat: bool = False) -> list[ToolSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ModelError("'tools' must be an array", param="tools")
    tools: list[ToolSpec] = []
    for item in raw:
        if not isinstance(item, dict):
            raise ModelError("each tool must be an object", param="tools")
        function = item if flat or "function" not in item else item.get("function")
        if item.get("type", "function") != "function" or not isinstance(function, dict):
            continue
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise ModelError("each function tool needs a 'name'", param="tools")
        params = function.get("parameters", function.get("input_schema"))
        tools.append(
            ToolSpec(
                name=name,
                description=str(function.get("description") or ""),
                parameters=dict(params)
                if isinstance(params, dict) and params
                else {"type": "object", "properties": {}},
            )
        )
    return tools


ToolChoice = Literal["auto", "none", "required", "function"]


def _tool_choice(raw: Any, tools: Sequence[ToolSpec]) -> tuple[ToolChoice, str | None]:
    if raw is None or raw == "auto":
        return ("auto" if tools else "none"), None
    if raw == "none":
        return "none", None
    if raw in ("required", "any"):
        return "required", None
    if isinstance(raw, dict):
        function = raw.get("function")
        name = function.get("name") if isinstance(function, dict) else raw.get("name")
        if isinstance(name, str):
            if name not in {t.name for t in tools}:
                raise ModelError(f"tool_choice names unknown function '{name}'", param="tool_choice")
            return "function", name
    raise ModelError("invalid 'tool_choice'", param="tool_choice")


def _response_format(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ModelError("'response_format' must be an object", param="response_format")
    kind = raw.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        spec = raw.get("json_schema", raw)
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ModelError("response_format.json_schema.schema must be an object", param="response_format")
        return {"type": "json_schema", "schema": schema, "strict": bool(spec.get("strict", False))}
    raise ModelError(f"unsupported response_format type {kind!r}", param="response_format")


def _positive_int(body: Mapping[str, Any], *names: str, maximum: int | None = None) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ModelError(f"'{name}' must be a positive integer", param=name)
        if maximum is not None and value > maximum:
            raise ModelError(f"'{name}' must be at most {maximum}", param=name)
        return value
    return None


def _stops(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,) if raw else ()
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return tuple(s for s in raw if s)
    raise ModelError("'stop' must be a string or an array of strings", param="stop")


def _check_quirks(request: ChatRequest, body: Mapping[str, Any]) -> None:
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


def parse_openai_chat(body: Mapping[str, Any], *, provider: str, model: str) -> ChatRequest:
    """Validate an OpenAI Chat Completions body (raising :class:`ModelError`)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ModelError("'messages' must be a non-empty array", param="messages", bad_format=True)
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise ModelError("each message needs a valid 'role'", param="messages", bad_format=True)
    tools = _tools_from_openai(body.get("tools"))
    choice, forced = _tool_choice(body.get("tool_choice"), tools)
    effort = body.get("reasoning_effort")
    request = ChatRequest(
        provider=provider,
        model=model,
        messages=messages,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        response_format=_response_format(body.get("response_format")),
        max_tokens=_positive_int(body, "max_completion_tokens", "max_tokens"),
        stop=_stops(body.get("stop")),
        n=_positive_int(body, "n", maximum=128) or 1,
        reasoning=(effort is not None and effort != "none") or is_reasoning_model(model),
    )
    _check_quirks(request, body)
    return request


def parse_anthropic_messages(body: Mapping[str, Any], *, model: str) -> ChatRequest:
    """Validate an Anthropic Messages body and convert it to OpenAI-shaped messages."""
    if _positive_int(body, "max_tokens") is None:
        raise ModelError("max_tokens: Field required", param="max_tokens")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise ModelError("messages: at least one message is required", param="messages")
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": content_text(system)[0]})
    for message in raw_messages:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise ModelError("messages: roles must be 'user' or 'assistant'", param="messages")
        content = message.get("content")
        if isinstance(content, str):
            messages.append({"role": message["role"], "content": content})
            continue
        if not isinstance(content, list):
            raise ModelError("messages: content must be a string or an array", param="messages")
        parts: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text":
                parts.append({"type": "text", "text": str(block.get("text", ""))})
            elif kind in ("image", "document"):
                parts.append({"type": "image_url", "image_url": {"url": "anthropic-source"}})
            elif kind == "tool_use":
                calls.append(
                    {
                        "id": str(block.get("id", "")),
                        "type": "function",
                        "function": {"name": str(block.get("name", "")), "arguments": _dumps(block.get("input", {}))},
                    }
                )
            elif kind == "tool_result":
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": str(block.get("tool_use_id", "")),
                        "content": content_text(block.get("content"))[0],
                    }
                )
        if parts or calls:
            entry: dict[str, Any] = {"role": message["role"], "content": parts or None}
            if calls:
                entry["tool_calls"] = calls
            messages.append(entry)
    tools = _tools_from_openai(
        [t for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t], flat=True
    )
    raw_choice = body.get("tool_choice")
    parallel = True
    choice_value: Any = None
    if isinstance(raw_choice, dict):
        parallel = not raw_choice.get("disable_parallel_tool_use", False)
        kind = raw_choice.get("type")
        choice_value = {"name": raw_choice.get("name")} if kind == "tool" else kind
    choice, forced = _tool_choice(choice_value, tools)
    thinking = body.get("thinking")
    return ChatRequest(
        provider="anthropic",
        model=model,
        messages=messages,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        parallel_tool_calls=parallel,
        max_tokens=_positive_int(body, "max_tokens"),
        stop=_stops(body.get("stop_sequences")),
        reasoning=isinstance(thinking, dict) and thinking.get("type") == "enabled",
    )


def parse_responses(body: Mapping[str, Any], *, provider: str, model: str) -> ChatRequest:
    """Validate an OpenAI Responses API body and convert it to OpenAI-shaped messages."""
    raw_input = body.get("input")
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    if isinstance(raw_input, str):
        messages.append({"role": "user", "content": raw_input})
    elif isinstance(raw_input, list):
        for item in raw_input:
            if not isinstance(item, dict):
                raise ModelError("input items must be objects", param="input")
            kind = item.get("type", "message")
            if kind == "message" and item.get("role") in _ROLES:
                messages.append({"role": item["role"], "content": item.get("content")})
            elif kind == "function_call":
                call = {
                    "id": str(item.get("call_id", "")),
                    "type": "function",
                    "function": {"name": str(item.get("name", "")), "arguments": str(item.get("arguments", "{}"))},
                }
                last = messages[-1] if messages else None
                if last is not None and last.get("role") == "assistant" and "tool_calls" in last:
                    last["tool_calls"].append(call)
                else:
                    messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            elif kind == "function_call_output":
                output = item.get("output")
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": str(item.get("call_id", "")),
                        "content": output if isinstance(output, str) else content_text(output)[0],
                    }
                )
    if not any(m["role"] != "system" for m in messages):
        raise ModelError("'input' must be a string or a non-empty array of items", param="input")
    tools = _tools_from_openai(body.get("tools"), flat=True)
    choice, forced = _tool_choice(body.get("tool_choice"), tools)
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    response_format = None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        response_format = _response_format({"type": "json_schema", "json_schema": fmt})
    elif isinstance(fmt, dict):
        response_format = _response_format(fmt)
    reasoning = body.get("reasoning")
    request = ChatRequest(
        provider=provider,
        model=model,
        messages=messages,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        response_format=response_format,
        max_tokens=_positive_int(body, "max_output_tokens"),
        reasoning=isinstance(reasoning, dict) or is_reasoning_model(model),
    )
    _check_quirks(request, body)
    return request


def parse_workers_chat(body: Mapping[str, Any], *, model: str) -> ChatRequest:
    """Validate a Workers AI native text-generation body (``messages`` or ``prompt``)."""
    messages = body.get("messages")
    prompt = body.get("prompt")
    if isinstance(messages, list) and messages:
        converted = [dict(m) for m in messages if isinstance(m, dict) and m.get("role") in _ROLES]
    elif isinstance(prompt, str):
        converted = [{"role": "user", "content": prompt}]
    else:
        raise ModelError("Error: required properties at '/' are 'messages' or 'prompt'", style="cloudflare")
    tools = _tools_from_openai(body.get("tools"))
    return ChatRequest(
        provider="workers-ai",
        model=model,
        messages=converted,
        tools=tools,
        tool_choice="auto" if tools else "none",
        max_tokens=_positive_int(body, "max_tokens"),
        reasoning=is_reasoning_model(model),
    )


UNAVAILABLE_MARKER: Final = "unavailable"


def check_model_available(provider: str, model: str, *, style: ErrorStyle = "openai") -> None:
    """Raise a provider 503 for model ids containing :data:`UNAVAILABLE_MARKER`."""
    if UNAVAILABLE_MARKER in model.lower():
        raise ModelError(
            f"The model `{provider}/{model}` is currently unavailable "
            f"(cfaig emulator: model ids containing '{UNAVAILABLE_MARKER}' always fail)",
            status=503,
            style=style,
        )


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------


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
        for groups in re.findall(r"`([A-Za-z_][\w-]{0,40})`|\"([A-Za-z_][\w-]{0,40})\"|'([A-Za-z_][\w-]{0,40})'", text):
            key = next(g for g in groups if g)
            if key not in keys:
                keys.append(key)
    return keys


def _select_tools(request: ChatRequest, user_text: str) -> list[ToolSpec]:
    by_name = {t.name: t for t in request.tools}
    if request.forced_tool is not None:
        return [by_name[request.forced_tool]]
    mentioned = [t for t in request.tools if _mentions(user_text, t.name)]
    if mentioned:
        return mentioned if request.parallel_tool_calls else mentioned[:1]
    words = _content_words(user_text)
    for tool in request.tools:
        if words & (_content_words(tool.name) | _content_words(tool.description)):
            return [tool]
    return [request.tools[0]]


def thought_signature(model: str, call_id: str, name: str, arguments: str) -> str:
    """The deterministic stand-in for Gemini's opaque ``thought_signature``."""
    digest = hashlib.sha256(f"{model}\x1f{call_id}\x1f{name}\x1f{arguments}".encode()).digest()
    return base64.b64encode(b"cfaig-emulator-signature:" + digest).decode()


def _apply_limits(content: str, request: ChatRequest, finish: str) -> tuple[str, str, str | None]:
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


def _echo_text(request: ChatRequest, prefix: str, choice: int) -> str:
    user_text, images = _last_user(request.messages)
    stream_chunks = _STREAM_CHUNKS_RE.fullmatch(user_text.strip())
    if stream_chunks:
        count = min(int(stream_chunks.group(1)), _MAX_STREAM_CHUNKS)
        return " ".join(f"tok{i}" for i in range(count))
    grounded = _answer_from_context(user_text)
    if grounded is not None:
        return f"{prefix}From the context: {grounded}"
    said = _normalise_space(user_text)
    if len(said) > _MAX_ECHO_CHARS:
        said = said[: _MAX_ECHO_CHARS - 1].rstrip() + "…"
    if images:
        said = f"{said} [{images} image{'s' if images != 1 else ''}]".strip()
    text = f"{prefix}You said: {said}" if said else f"{prefix}Hello! No user message was given."
    return text if choice == 0 else f"{text} (choice {choice + 1})"


_CONTEXT_START = re.compile(r"context information is below\.?|context:", re.IGNORECASE)
_QUESTION = re.compile(r"(?:query|question)\s*:\s*(.+?)(?:\n\s*answer\s*:|$)", re.IGNORECASE | re.DOTALL)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")


def _answer_from_context(prompt: str) -> str | None:
    """A retrieval prompt (context, then a question): the context sentence sharing most words with it.

    This is what makes RAG pipelines testable offline: the answer is extractive and deterministic,
    so a test can check that the retrieved document, not another, was used.
    """
    start = _CONTEXT_START.search(prompt)
    questions = list(_QUESTION.finditer(prompt))
    if start is None or not questions or questions[-1].start() < start.end():
        return None
    question = questions[-1]
    wanted = _content_words(question.group(1))
    if not wanted:
        return None
    context = prompt[start.end() : question.start()]
    best, best_score = None, 0
    for sentence in _SENTENCE.split(context):
        cleaned = _normalise_space(sentence.strip(" -#*"))
        if not cleaned or ":" in cleaned.split(" ", 1)[0]:  # skip metadata lines such as "file_path: ..."
            continue
        score = len(wanted & _content_words(cleaned))
        if score > best_score:
            best, best_score = cleaned, score
    if best is None:
        return None
    return best if len(best) <= _MAX_ECHO_CHARS else best[: _MAX_ECHO_CHARS - 1].rstrip() + "…"


def _tool_result_text(results: Sequence[str], prefix: str) -> str:
    if len(results) == 1:
        return f"{prefix}Based on the tool result: {results[0]}"
    return f"{prefix}Based on the tool results: " + "; ".join(results)


def _scripted_turn(request: ChatRequest, script: ScriptedReply, prompt_tokens: int, choice: int) -> Turn:
    quirks = PROVIDER_QUIRKS.get(request.provider)
    calls: list[ToolCall] = []
    for k, raw in enumerate(script.tool_calls or []):
        name = str(raw.get("name", ""))
        arguments = raw.get("arguments", {})
        args_text = arguments if isinstance(arguments, str) else _dumps(arguments)
        call_id = str(raw.get("id") or "call_" + _short_hash(request.model, name, args_text, choice, k, "script"))
        signature = (
            thought_signature(request.model, call_id, name, args_text)
            if quirks is not None and quirks.requires_thought_signature
            else None
        )
        calls.append(ToolCall(call_id, name, args_text, signature))
    reasoning = script.reasoning
    reasoning_tokens = count_tokens(reasoning)
    completion = count_tokens(script.content) + sum(count_tokens(c.arguments) + 1 for c in calls) + reasoning_tokens
    return Turn(
        content=script.content,
        tool_calls=calls,
        reasoning=reasoning,
        finish_reason=script.finish_reason or ("tool_calls" if calls else "stop"),
        prompt_tokens=prompt_tokens,
        completion_tokens=max(completion, 1),
        reasoning_tokens=reasoning_tokens,
        usage_override=dict(script.usage) if script.usage else None,
    )


def _generated_turn(request: ChatRequest, prompt_tokens: int, choice: int) -> Turn:
    prefix = f"[{EMULATOR_TAG} · {request.provider}/{request.model}] "
    user_text, _ = _last_user(request.messages)
    tool_results = _trailing_tool_results(request.messages)
    quirks = PROVIDER_QUIRKS.get(request.provider)
    content: str | None = None
    calls: list[ToolCall] = []
    finish = "stop"
    stop_hit: str | None = None
    if request.tools and request.tool_choice != "none" and not tool_results:
        for k, tool in enumerate(_select_tools(request, user_text)):
            value = synthesize_from_schema(tool.parameters, text=user_text, call_name=tool.name)
            arguments = _dumps(value if isinstance(value, dict) else {})
            call_id = "call_" + _short_hash(request.model, tool.name, arguments, choice, k, len(request.messages))
            signature = (
                thought_signature(request.model, call_id, tool.name, arguments)
                if quirks is not None and quirks.requires_thought_signature
                else None
            )
            calls.append(ToolCall(call_id, tool.name, arguments, signature))
        finish = "tool_calls"
        reasoning = f"The user asked: {_normalise_space(user_text)[:80]}. I will call " + ", ".join(
            c.name for c in calls
        )
    else:
        text = _tool_result_text(tool_results, prefix) if tool_results else _echo_text(request, prefix, choice)
        if request.response_format is not None:
            if request.response_format["type"] == "json_schema":
                value = synthesize_from_schema(request.response_format["schema"], text=user_text)
            else:
                keys = _mentioned_keys(request.messages, user_text)
                value = {k: f"{k}-value" for k in keys} if keys else {"answer": text}
            text = json.dumps(value, ensure_ascii=False)
        content, finish, stop_hit = _apply_limits(text, request, finish)
        reasoning = f"The user asked: {_normalise_space(user_text)[:80]}. I will answer directly."
    reasoning_text = reasoning if request.reasoning else None
    reasoning_tokens = count_tokens(reasoning_text)
    completion = count_tokens(content) + sum(count_tokens(c.arguments) + 1 for c in calls) + reasoning_tokens
    return Turn(
        content=content,
        tool_calls=calls,
        reasoning=reasoning_text,
        finish_reason=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=max(completion, 1),
        reasoning_tokens=reasoning_tokens,
        stop_sequence=stop_hit,
    )


def generate(request: ChatRequest, script: ScriptedReply | None = None) -> list[Turn]:
    """Generate ``request.n`` deterministic assistant turns (or the scripted one)."""
    prompt_tokens = sum(_message_tokens(m) for m in request.messages)
    if script is not None:
        return [_scripted_turn(request, script, prompt_tokens, i) for i in range(request.n)]
    return [_generated_turn(request, prompt_tokens, i) for i in range(request.n)]


# --------------------------------------------------------------------------------------
# Rendering: OpenAI Chat Completions
# --------------------------------------------------------------------------------------


def openai_usage(turns: Sequence[Turn]) -> dict[str, Any]:
    """OpenAI ``usage`` for a set of choices (prompt counted once)."""
    prompt = turns[0].prompt_tokens
    completion = sum(t.completion_tokens for t in turns)
    reasoning = sum(t.reasoning_tokens for t in turns)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    override = turns[0].usage_override
    if override:
        usage.update(override)
        if "total_tokens" not in override:
            usage["total_tokens"] = int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
    return usage


def _openai_tool_call(call: ToolCall) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if call.thought_signature is not None:
        rendered["extra_content"] = {"google": {"thought_signature": call.thought_signature}}
    return rendered


def openai_chat_completion(turns: Sequence[Turn], *, completion_id: str, created: int, model: str) -> dict[str, Any]:
    """A ``chat.completion`` object."""
    choices = []
    for index, turn in enumerate(turns):
        message: dict[str, Any] = {"role": "assistant", "content": turn.content}
        if turn.reasoning is not None:
            message["reasoning_content"] = turn.reasoning
        if turn.tool_calls:
            message["tool_calls"] = [_openai_tool_call(c) for c in turn.tool_calls]
        choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": turn.finish_reason})
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": openai_usage(turns),
    }


def _split_arguments(arguments: str) -> list[str]:
    if len(arguments) < 4:
        return [arguments]
    pieces = 3 if len(arguments) >= 12 else 2
    size = math.ceil(len(arguments) / pieces)
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]


def openai_chat_chunks(
    turns: Sequence[Turn], *, completion_id: str, created: int, model: str, include_usage: bool
) -> list[dict[str, Any]]:
    """``chat.completion.chunk`` objects for a stream (without the ``[DONE]`` marker)."""
    chunks: list[dict[str, Any]] = []

    def emit(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
        chunks.append(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )

    for index, turn in enumerate(turns):
        first = len(chunks)
        if turn.reasoning:
            for piece in word_chunks(turn.reasoning):
                emit(index, {"reasoning_content": piece})
        if turn.content:
            for piece in word_chunks(turn.content):
                emit(index, {"content": piece})
        for k, call in enumerate(turn.tool_calls):
            head: dict[str, Any] = {
                "index": k,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            if call.thought_signature is not None:
                head["extra_content"] = {"google": {"thought_signature": call.thought_signature}}
            emit(index, {"tool_calls": [head]})
            for fragment in _split_arguments(call.arguments):
                emit(index, {"tool_calls": [{"index": k, "function": {"arguments": fragment}}]})
        if len(chunks) == first:
            emit(index, {"content": ""})
        first_delta = chunks[first]["choices"][0]["delta"]
        chunks[first]["choices"][0]["delta"] = {"role": "assistant", **first_delta}
        emit(index, {}, turn.finish_reason)
    if include_usage:
        chunks.append(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": openai_usage(turns),
            }
        )
    return chunks


# --------------------------------------------------------------------------------------
# Rendering: Anthropic Messages
# --------------------------------------------------------------------------------------

_ANTHROPIC_STOP: Final[Mapping[str, str]] = MappingProxyType(
    {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
)


def _anthropic_tool_id(call: ToolCall) -> str:
    return "toolu_" + call.id.removeprefix("call_") if call.id.startswith("call_") else call.id


def _anthropic_stop_reason(turn: Turn) -> str:
    if turn.stop_sequence is not None:
        return "stop_sequence"
    return _ANTHROPIC_STOP.get(turn.finish_reason, "end_turn")


def _json_object(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return {}


def anthropic_message(turn: Turn, *, message_id: str, model: str) -> dict[str, Any]:
    """An Anthropic ``message`` object."""
    content: list[dict[str, Any]] = []
    if turn.reasoning is not None:
        content.append(
            {"type": "thinking", "thinking": turn.reasoning, "signature": _short_hash(message_id, length=32)}
        )
    if turn.content:
        content.append({"type": "text", "text": turn.content})
    content.extend(
        {"type": "tool_use", "id": _anthropic_tool_id(call), "name": call.name, "input": _json_object(call.arguments)}
        for call in turn.tool_calls
    )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _anthropic_stop_reason(turn),
        "stop_sequence": turn.stop_sequence,
        "usage": {"input_tokens": turn.prompt_tokens, "output_tokens": turn.completion_tokens},
    }


def anthropic_stream_events(turn: Turn, *, message_id: str, model: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` pairs of an Anthropic Messages stream."""
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": turn.prompt_tokens, "output_tokens": 1},
                },
            },
        )
    ]
    index = 0

    def block(start: dict[str, Any], deltas: Iterable[dict[str, Any]]) -> None:
        nonlocal index
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
        events.extend(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}) for delta in deltas
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1

    if turn.reasoning is not None:
        block(
            {"type": "thinking", "thinking": "", "signature": ""},
            [
                *({"type": "thinking_delta", "thinking": p} for p in word_chunks(turn.reasoning)),
                {"type": "signature_delta", "signature": _short_hash(message_id, length=32)},
            ],
        )
    if turn.content:
        block({"type": "text", "text": ""}, ({"type": "text_delta", "text": p} for p in word_chunks(turn.content)))
    for call in turn.tool_calls:
        block(
            {"type": "tool_use", "id": _anthropic_tool_id(call), "name": call.name, "input": {}},
            ({"type": "input_json_delta", "partial_json": p} for p in _split_arguments(call.arguments)),
        )
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _anthropic_stop_reason(turn), "stop_sequence": turn.stop_sequence},
                "usage": {"output_tokens": turn.completion_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


# --------------------------------------------------------------------------------------
# Rendering: OpenAI Responses
# --------------------------------------------------------------------------------------


def _responses_usage(turn: Turn) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": turn.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": turn.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
        "total_tokens": turn.prompt_tokens + turn.completion_tokens,
    }
    if turn.usage_override:
        usage.update(turn.usage_override)
    return usage


def _responses_output(turn: Turn, response_id: str) -> list[dict[str, Any]]:
    suffix = response_id.removeprefix("resp_")
    output: list[dict[str, Any]] = []
    if turn.reasoning is not None:
        output.append(
            {"type": "reasoning", "id": f"rs_{suffix}", "summary": [{"type": "summary_text", "text": turn.reasoning}]}
        )
    if turn.content is not None:
        output.append(
            {
                "type": "message",
                "id": f"msg_{suffix}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": turn.content, "annotations": []}],
            }
        )
    for k, call in enumerate(turn.tool_calls):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{suffix}_{k}",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
        )
    return output


def responses_object(turn: Turn, *, response_id: str, created: int, model: str) -> dict[str, Any]:
    """An OpenAI Responses API ``response`` object."""
    incomplete = turn.finish_reason == "length"
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "error": None,
        "model": model,
        "output": _responses_output(turn, response_id),
        "usage": _responses_usage(turn),
    }


def responses_stream_events(
    turn: Turn, *, response_id: str, created: int, model: str
) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` pairs of a Responses API stream."""
    final = responses_object(turn, response_id=response_id, created=created, model=model)
    pending = {**final, "status": "in_progress", "incomplete_details": None, "output": [], "usage": None}
    events: list[tuple[str, dict[str, Any]]] = [("response.created", {"response": pending})]
    for index, item in enumerate(final["output"]):
        kind = item["type"]
        if kind == "message":
            text = item["content"][0]["text"]
            added = {**item, "status": "in_progress", "content": []}
            events.append(("response.output_item.added", {"output_index": index, "item": added}))
            part = {"type": "output_text", "text": "", "annotations": []}
            base = {"item_id": item["id"], "output_index": index, "content_index": 0}
            events.append(("response.content_part.added", {**base, "part": part}))
            events.extend(("response.output_text.delta", {**base, "delta": piece}) for piece in word_chunks(text))
            events.append(("response.output_text.done", {**base, "text": text}))
            events.append(("response.content_part.done", {**base, "part": item["content"][0]}))
        elif kind == "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
            events.append(("response.output_item.added", {"output_index": index, "item": added}))
            base = {"item_id": item["id"], "output_index": index}
            events.extend(
                ("response.function_call_arguments.delta", {**base, "delta": piece})
                for piece in _split_arguments(item["arguments"])
            )
            events.append(("response.function_call_arguments.done", {**base, "arguments": item["arguments"]}))
        else:
            events.append(("response.output_item.added", {"output_index": index, "item": item}))
        events.append(("response.output_item.done", {"output_index": index, "item": item}))
    done = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    events.append((done, {"response": final}))
    return [(name, {"type": name, "sequence_number": seq, **data}) for seq, (name, data) in enumerate(events)]


# --------------------------------------------------------------------------------------
# Rendering: Workers AI native
# --------------------------------------------------------------------------------------


def _workers_usage(turn: Turn) -> dict[str, int]:
    return {
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": turn.completion_tokens,
        "total_tokens": turn.prompt_tokens + turn.completion_tokens,
    }


def workers_result(turn: Turn) -> dict[str, Any]:
    """The ``result`` of a Workers AI native text-generation call."""
    result: dict[str, Any] = {"response": turn.content if not turn.tool_calls else None}
    if turn.tool_calls:
        result["tool_calls"] = [{"name": c.name, "arguments": _json_object(c.arguments)} for c in turn.tool_calls]
    result["usage"] = _workers_usage(turn)
    return result


def workers_stream_events(turn: Turn) -> list[dict[str, Any]]:
    """``data:`` payloads of a Workers AI native stream (without ``[DONE]``)."""
    events: list[dict[str, Any]] = [
        {"response": piece, "p": "abcdefghijklmnopqrstuvwxyz"[: 1 + len(piece) % 26]}
        for piece in word_chunks(turn.content or "")
    ]
    if turn.tool_calls:
        events.append(
            {"tool_calls": [{"name": c.name, "arguments": _json_object(c.arguments)} for c in turn.tool_calls]}
        )
    events.append({"response": "", "usage": _workers_usage(turn)})
    return events


# --------------------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------------------

_EMBEDDING_DIMS: Final[tuple[tuple[str, int], ...]] = (
    ("text-embedding-3-large", 3072),
    ("text-embedding-3-small", 1536),
    ("text-embedding-ada-002", 1536),
    ("bge-small", 384),
    ("bge-base", 768),
    ("bge-large", 1024),
    ("bge-m3", 1024),
    ("gemini-embedding", 3072),
    ("mistral-embed", 1024),
    ("embed-english", 1024),
    ("embed-multilingual", 1024),
)
DEFAULT_EMBEDDING_DIM: Final = 768
OPENAI_MAX_EMBEDDING_INPUTS: Final = 2048
WORKERS_MAX_EMBEDDING_INPUTS: Final = 100
_TOKEN_RE: Final = re.compile(r"\w+")


def embedding_dim(model: str) -> int:
    """Vector size the emulator uses for an embedding model id."""
    lowered = model.lower()
    for key, dim in _EMBEDDING_DIMS:
        if key in lowered:
            return dim
    return DEFAULT_EMBEDDING_DIM


def is_embedding_model(model: str) -> bool:
    """Whether a Workers AI model id names an embedding model."""
    lowered = model.lower()
    return "bge" in lowered or "embed" in lowered


@lru_cache(maxsize=1 << 16)
def _feature(feature: str) -> int:
    return int.from_bytes(hashlib.sha1(feature.encode(), usedforsecurity=False).digest()[:8], "little")


def embed_text(text: str, dim: int) -> array.array[float]:
    """Feature-hashed, L2-normalised embedding (float32) of ``text``."""
    vector = [0.0] * dim
    words = _TOKEN_RE.findall(text.lower())
    for word in words or ["<empty>"]:
        h = _feature("w:" + word)
        vector[h % dim] += 1.0 if h >> 63 else -1.0
        padded = f"#{word}#"
        for i in range(len(padded) - 2):
            h = _feature("t:" + padded[i : i + 3])
            vector[h % dim] += 0.5 if h >> 63 else -0.5
    norm = math.sqrt(math.fsum(x * x for x in vector)) or 1.0
    return array.array("f", [x / norm for x in vector])


def embedding_base64(vector: array.array[float]) -> str:
    """Base64 of the little-endian float32 bytes, like OpenAI's ``encoding_format=base64``."""
    if sys.byteorder == "big":
        vector = array.array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode()


def _embedding_inputs(raw: Any, *, limit: int, name: str) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
            return [" ".join(str(x) for x in raw)]
        texts: list[str] = []
        for item in raw:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, list) and all(isinstance(x, int) for x in item):
                texts.append(" ".join(str(x) for x in item))
            else:
                raise ModelError(f"'{name}' items must be strings or token arrays", param=name)
        if len(texts) > limit:
            raise ModelError(f"'{name}' must have at most {limit} items, got {len(texts)}", param=name)
        return texts
    raise ModelError(f"'{name}' must be a string or a non-empty array", param=name)


def openai_embeddings(body: Mapping[str, Any], *, provider: str, model: str) -> dict[str, Any]:
    """Validate an OpenAI embeddings body and build the ``list`` response."""
    workers = provider == "workers-ai" or model.startswith(("@cf/", "@hf/"))
    texts = _embedding_inputs(
        body.get("input"),
        limit=WORKERS_MAX_EMBEDDING_INPUTS if workers else OPENAI_MAX_EMBEDDING_INPUTS,
        name="input",
    )
    dim = embedding_dim(model)
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if workers or "ada-002" in model:
            raise ModelError(f"This model does not support specifying dimensions: {model}", param="dimensions")
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= dim:
            raise ModelError(f"'dimensions' must be an integer between 1 and {dim}", param="dimensions")
        dim = dimensions
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise ModelError("'encoding_format' must be 'float' or 'base64'", param="encoding_format")
    data = []
    for index, text in enumerate(texts):
        vector = embed_text(text, dim)
        rendered: Any = embedding_base64(vector) if encoding == "base64" else vector.tolist()
        data.append({"object": "embedding", "index": index, "embedding": rendered})
    tokens = sum(max(count_tokens(t), 1) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def workers_embeddings(body: Mapping[str, Any], *, model: str) -> dict[str, Any]:
    """Validate a Workers AI native embeddings body (``{"text": …}``) and build ``result``."""
    try:
        texts = _embedding_inputs(body.get("text"), limit=WORKERS_MAX_EMBEDDING_INPUTS, name="text")
    except ModelError as exc:
        raise ModelError(exc.message, param="text", style="cloudflare") from exc
    dim = embedding_dim(model)
    return {
        "shape": [len(texts), dim],
        "data": [embed_text(t, dim).tolist() for t in texts],
        "pooling": "cls" if "bge-m3" in model else "mean",
    }
