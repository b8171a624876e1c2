"""Text helpers of the fake models: token counts, word chunks, message text, and the RAG answer from context."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

_WORD_CHUNK_RE: Final = re.compile(r"\s*\S+")
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
MAX_ECHO_CHARS: Final = 200
"""Longest echoed user text (and extracted context sentence) before it is cut with an ellipsis."""

_CONTEXT_START: Final = re.compile(r"context information is below\.?|context:", re.IGNORECASE)
_QUESTION: Final = re.compile(r"(?:query|question)\s*:\s*(.+?)(?:\n\s*answer\s*:|$)", re.IGNORECASE | re.DOTALL)
_SENTENCE: Final = re.compile(r"(?<=[.!?])\s+|\n{2,}")


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


def split_arguments(arguments: str) -> list[str]:
    """Tool-call arguments in two or three fragments, as providers stream them."""
    if len(arguments) < 4:
        return [arguments]
    pieces = 3 if len(arguments) >= 12 else 2
    size = math.ceil(len(arguments) / pieces)
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]


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


def message_tokens(message: Mapping[str, Any]) -> int:
    """Prompt tokens of one OpenAI-shaped message (its text, one per message, and tool-call arguments)."""
    text, _ = content_text(message.get("content"))
    tokens = count_tokens(text) + 1
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                tokens += count_tokens(str(function.get("arguments", ""))) + 1
    return tokens


def normalise_space(text: str) -> str:
    """``text`` with every run of white space folded to one space."""
    return " ".join(text.split())


def content_words(text: str) -> set[str]:
    """The meaningful words of ``text``: lower-cased, camelCase split, stop words and plurals dropped."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text).lower()
    words: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", spaced):
        if len(word) < 4 or word in _STOPWORDS:
            continue
        words.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return words


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as a whole word (case-insensitive)."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text, re.IGNORECASE) is not None


def short_hash(*parts: object, length: int = 24) -> str:
    """A deterministic hex id derived from ``parts``."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:length]


def dumps(value: Any) -> str:
    """Compact JSON text (non-ASCII kept), as providers send tool arguments."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_object(arguments: str) -> Any:
    """Tool-call arguments parsed back to JSON (``{}`` when they do not parse)."""
    try:
        return json.loads(arguments)
    except ValueError:
        return {}


def clip(text: str) -> str:
    """``text`` cut to :data:`MAX_ECHO_CHARS` characters, ending with an ellipsis when cut."""
    return text if len(text) <= MAX_ECHO_CHARS else text[: MAX_ECHO_CHARS - 1].rstrip() + "…"


def answer_from_context(prompt: str) -> str | None:
    """A retrieval prompt (context, then a question): the context sentence sharing most words with it.

    This is what makes RAG pipelines testable offline: the answer is extractive and deterministic,
    so a test can check that the retrieved document, not another, was used.
    """
    start = _CONTEXT_START.search(prompt)
    questions = list(_QUESTION.finditer(prompt))
    if start is None or not questions or questions[-1].start() < start.end():
        return None
    question = questions[-1]
    wanted = content_words(question.group(1))
    if not wanted:
        return None
    context = prompt[start.end() : question.start()]
    best, best_score = None, 0
    for sentence in _SENTENCE.split(context):
        cleaned = normalise_space(sentence.strip(" -#*"))
        if not cleaned or ":" in cleaned.split(" ", 1)[0]:  # skip metadata lines such as "file_path: ..."
            continue
        score = len(wanted & content_words(cleaned))
        if score > best_score:
            best, best_score = cleaned, score
    return None if best is None else clip(best)
