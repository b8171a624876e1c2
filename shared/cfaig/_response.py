"""Pure response parsers: status, headers and body in; typed results or typed errors out."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cfaig._constants import H_CACHE_STATUS, H_DLP, H_EVENT_ID, H_LOG_ID, H_MODEL, H_PROVIDER, H_REQUEST_ID, H_STEP
from cfaig._redact import excerpt
from cfaig.errors import MalformedResponseError
from cfaig.types import ChatCompletion, EmbeddingResponse, GatewayMeta

__all__ = ["parse_chat", "parse_embeddings", "parse_meta", "small_int"]

_M = TypeVar("_M", bound=BaseModel)


def small_int(raw: str | None, max_digits: int = 6) -> int | None:
    """``raw`` as an int when it is a short run of ASCII digits (surrounding spaces allowed), else None.

    For values a server or proxy controls (``cf-aig-step``, error codes): ``str.isdigit`` accepts
    Unicode digits such as ``²`` that ``int()`` refuses, and ``int()`` refuses more than 4,300 digits.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def parse_meta(
    headers: Mapping[str, str],
    status_code: int,
    *,
    requested: str,
    step_models: tuple[str, ...] = (),
    client_step: int | None = None,
) -> GatewayMeta:
    """Read the ``cf-aig-*`` response headers, and work out which model answered."""
    step = small_int(headers.get(H_STEP))
    served_by = requested
    if step_models:
        if step is not None and step < len(step_models):
            served_by = step_models[step]
    elif client_step is not None:
        step = client_step
    model = headers.get(H_MODEL)
    provider = headers.get(H_PROVIDER)
    if model:
        served_by = model if (provider is None or model.startswith(f"{provider}/")) else f"{provider}/{model}"
    return GatewayMeta(
        log_id=headers.get(H_LOG_ID),
        cache_status=headers.get(H_CACHE_STATUS),
        step=step,
        event_id=headers.get(H_EVENT_ID),
        request_id=headers.get(H_REQUEST_ID),
        model=model,
        provider=provider,
        served_by=served_by,
        status_code=status_code,
        dlp=headers.get(H_DLP),
    )


def _malformed(message: str, body: bytes, meta: GatewayMeta, *, hint: str | None = None) -> MalformedResponseError:
    """A 2xx whose body breaks the protocol, with the gateway's evidence and a scrubbed excerpt of the body."""
    return MalformedResponseError(
        message,
        status_code=meta.status_code,
        log_id=meta.log_id,
        body_excerpt=excerpt(body.decode("utf-8", errors="replace")),
        hint=hint,
    )


def _check_json(content_type: str, body: bytes, meta: GatewayMeta) -> None:
    if "json" not in content_type and body.lstrip()[:1] not in (b"{", b"["):
        raise _malformed(
            f"expected a JSON body, got {content_type or 'no content type'}",
            body,
            meta,
            hint="something between you and the gateway (a proxy, a captive portal) answered instead",
        )


def _validate(model: type[_M], body: bytes, meta: GatewayMeta, what: str) -> _M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)[:3]
        )
        raise _malformed(f"the {what} body does not have the expected shape ({problems})", body, meta) from None


def parse_chat(body: bytes, content_type: str, meta: GatewayMeta) -> ChatCompletion:
    _check_json(content_type, body, meta)
    completion = _validate(ChatCompletion, body, meta, "chat completion")
    if not completion.choices:
        raise _malformed("the chat completion has no choices", body, meta)
    completion.gateway = meta
    return completion


def _decode_base64_vector(value: str) -> list[float]:
    raw = base64.b64decode(value, validate=True)
    if len(raw) % 4:
        raise ValueError("a base64 embedding must hold whole float32 values")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def parse_embeddings(
    body: bytes, content_type: str, meta: GatewayMeta, *, expected: int | None = None
) -> EmbeddingResponse:
    """An embeddings answer; with ``expected`` (the number of inputs) its vectors are checked against it."""
    _check_json(content_type, body, meta)
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise _malformed("the embeddings body is not valid JSON", body, meta) from None
    if isinstance(data, dict) and isinstance(data.get("result"), dict):  # a Cloudflare v4 envelope
        result = data["result"]
        if "data" in result and isinstance(result.get("shape"), list):  # Workers AI native {shape, data}
            data = {"data": [{"index": i, "embedding": vector} for i, vector in enumerate(result["data"])]}
        else:
            data = result
    try:
        for item in data.get("data") or ():
            if isinstance(item.get("embedding"), str):
                item["embedding"] = _decode_base64_vector(item["embedding"])
        response = EmbeddingResponse.model_validate(data)
    except (AttributeError, ValueError, ValidationError, struct.error) as exc:
        detail = exc.errors(include_input=False)[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise _malformed(f"the embeddings body does not have the expected shape ({detail})", body, meta) from None
    _check_vectors(response, expected, body, meta)
    response.gateway = meta
    return response


def _check_vectors(response: EmbeddingResponse, expected: int | None, body: bytes, meta: GatewayMeta) -> None:
    """One vector per input, indices ``0..n-1`` once each, all of one non-zero size.

    Vector stores pair ``texts[i]`` with ``vectors[i]``: a missing, extra, duplicated or ragged vector
    would attach documents to the wrong embeddings, silently. Items that carry no ``index`` at all are
    taken in the order they came.
    """
    data = response.data
    if not any("index" in item.model_fields_set for item in data):
        for position, item in enumerate(data):
            item.index = position
    if expected is not None and len(data) != expected:
        inputs = "input" if expected == 1 else "inputs"
        raise _malformed(f"the embeddings answer has {len(data)} vectors for {expected} {inputs}", body, meta)
    if sorted(item.index for item in data) != list(range(len(data))):
        raise _malformed(
            f"the embeddings answer's indices are not 0..{len(data) - 1} once each "
            f"(got {sorted(item.index for item in data)[:10]})",
            body,
            meta,
        )
    sizes = sorted({len(item.embedding) for item in data})
    if len(sizes) > 1 or sizes == [0]:
        raise _malformed(f"the embeddings answer's vectors have different or no sizes ({sizes[:10]})", body, meta)
