"""Token counts without a download: tiktoken for OpenAI-family models when it can count offline, an estimate otherwise.

LangChain's default counter needs ``transformers`` and then downloads GPT-2's tokenizer (it hangs
offline); ChatOpenAI's tiktoken downloads its encoding on first use. A count here never reaches the
network:

* **tiktoken** (``pip install "langchain-cfaig[tiktoken]"``) counts for OpenAI-family models (``openai/...``
  and OpenAI's open models on other providers, ``.../openai/gpt-oss-*``) when the encoding file is already
  in tiktoken's cache (``TIKTOKEN_CACHE_DIR``, ``DATA_GYM_CACHE_DIR`` or the temp folder, tiktoken's own
  rule). Fetch it once with ``python -c "import tiktoken; tiktoken.get_encoding('o200k_base')"``, or point
  ``TIKTOKEN_CACHE_DIR`` at a copy.
* **the estimate** otherwise: one token per 4 bytes of UTF-8 text, rounded up. That is OpenAI's rule of
  thumb (about 4 characters per token) for English, and more tokens per character for scripts that take
  several bytes per character, where tokenizers also spend more tokens: it errs towards counting more,
  which is the safe side for trimming a history to fit.

Messages are counted as OpenAI's cookbook counts a chat request, over the messages as they are sent:
3 tokens per message, its role and text, 1 more for a ``name``, a tool call's name and arguments, 3 for
a ``tool_call_id``, and 3 for the reply's priming; an image part counts 85 tokens at ``detail: low`` and
765 otherwise (a 1024x1024 image at high detail; no image is fetched to measure it); audio and file
parts are not counted. Bound tools, when given, count the tokens of their JSON schemas.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cfaig.errors import ConfigurationError
from cfaig.model_ref import parse_model
from cfaig.types import ChatMessageParam

__all__ = ["TextCounter", "count_messages", "encoding_name", "estimate_tokens", "text_counter", "token_ids"]

logger = logging.getLogger("langchain_cfaig")

TextCounter = Callable[[str], int]

_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_TOKENS_PER_TOOL_CALL_ID = 3
_REPLY_PRIMING = 3
_IMAGE_LOW_DETAIL = 85
_IMAGE_OTHERWISE = 765
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "chatgpt-4o", "o1", "o3", "o4")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")
_ENCODING_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


def estimate_tokens(text: str) -> int:
    """The documented estimate: one token per 4 bytes of UTF-8, rounded up."""
    return math.ceil(len(text.encode("utf-8")) / 4)


def encoding_name(model: str) -> str | None:
    """The tiktoken encoding of an OpenAI-family model string, or ``None`` for any other model."""
    try:
        ref = parse_model(model)
    except ConfigurationError:
        return None
    if ref.provider != "openai" and "openai/" not in ref.model:
        return None
    name = ref.model.rsplit("/", 1)[-1].lower()
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"  # OpenAI's current models all use it


def _cache_dir() -> str:
    """Where tiktoken keeps its encoding files (its own rule; ``""`` means it caches nothing)."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
    return os.path.join(tempfile.gettempdir(), "data-gym-cache") if cache_dir is None else cache_dir


@functools.lru_cache(maxsize=8)
def _tiktoken(encoding: str, cache_dir: str) -> Any | None:
    """The tiktoken ``Encoding``, or ``None`` (not installed, or its file would have to be downloaded)."""
    try:
        import tiktoken
    except ImportError:
        return None
    key = hashlib.sha1(_ENCODING_URL.format(encoding).encode()).hexdigest()  # noqa: S324 - tiktoken's cache key
    if not cache_dir or not os.path.exists(os.path.join(cache_dir, key)):
        logger.warning(
            "tiktoken's %s encoding is not in its cache, so token counts are estimated; fetch it once with "
            "python -c \"import tiktoken; tiktoken.get_encoding('%s')\" (or set TIKTOKEN_CACHE_DIR)",
            encoding,
            encoding,
        )
        return None
    return tiktoken.get_encoding(encoding)


def _encoder(model: str) -> Any | None:
    name = encoding_name(model)
    return _tiktoken(name, _cache_dir()) if name is not None else None


def text_counter(model: str, custom: Callable[[str], list[int]] | None = None) -> TextCounter:
    """How to count a text's tokens for ``model``: ``custom`` token ids, tiktoken, or the estimate."""
    if custom is not None:
        return lambda text: len(custom(text))
    encoder = _encoder(model)
    if encoder is None:
        return estimate_tokens
    encode: Callable[[str], list[int]] = encoder.encode
    return lambda text: len(encode(text))


def token_ids(model: str, text: str) -> list[int]:
    """tiktoken's ids for ``text``; a :class:`ConfigurationError` when no tokenizer can give them offline."""
    encoder = _encoder(model)
    if encoder is None:
        raise ConfigurationError(
            f"no tokenizer gives {model}'s token ids offline: get_num_tokens() counts them (tiktoken for "
            "OpenAI-family models when it is installed, langchain-cfaig[tiktoken], and its encoding is cached; "
            "an estimate otherwise); pass custom_get_token_ids=... for the ids of another tokenizer"
        )
    ids: list[int] = encoder.encode(text)
    return ids


def _part_tokens(part: Any, count: TextCounter) -> int:
    if isinstance(part, str):
        return count(part)
    if not isinstance(part, Mapping):
        return 0
    kind = part.get("type")
    if kind == "text":
        return count(str(part.get("text", "")))
    if kind == "image_url":
        image = part.get("image_url")
        detail = image.get("detail") if isinstance(image, Mapping) else None
        return _IMAGE_LOW_DETAIL if detail == "low" else _IMAGE_OTHERWISE
    return 0  # audio and files: not counted


def _value_tokens(key: str, value: Any, count: TextCounter) -> int:
    if key == "tool_call_id":
        return _TOKENS_PER_TOOL_CALL_ID
    if key == "tool_calls":
        total = 0
        for call in value or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                total += count(str(function.get("name", ""))) + count(str(function.get("arguments", "")))
        return total
    if isinstance(value, list):
        return sum(_part_tokens(part, count) for part in value)
    if not value:
        return 0
    tokens = count(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return tokens + (_TOKENS_PER_NAME if key == "name" else 0)


def count_messages(
    messages: Sequence[ChatMessageParam], count: TextCounter, tools: Iterable[Mapping[str, Any]] = ()
) -> int:
    """The tokens of a chat request's messages (and tool schemas), counted as the module docstring says."""
    total = _REPLY_PRIMING
    for message in messages:
        total += _TOKENS_PER_MESSAGE
        for key, value in message.items():
            total += _value_tokens(key, value, count)
    for tool in tools:
        total += count(json.dumps(tool.get("function", tool), ensure_ascii=False, separators=(",", ":")))
    return total
