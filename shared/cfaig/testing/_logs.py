"""Gateway logs: the ``cf-aig-*`` response headers and log entry of each proxied request, and log feedback."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from datetime import datetime, timezone
from typing import Any

from ._pipeline import Context, Reply, envelope_reply, header_flag, parse_json
from ._types import CODE_API_INVALID, CODE_API_NOT_FOUND
from .wire.errors import api_success

_ids = random.Random(os.urandom(16))  # ids need uniqueness, not secrecy; no syscall per request


def uuid7() -> str:
    """A UUIDv7 (time-ordered), the shape of Cloudflare's log ids."""
    millis = time.time_ns() // 1_000_000
    rand = _ids.getrandbits(74)
    value = (
        (millis & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | ((rand >> 62) & 0xFFF) << 64
        | 0b10 << 62
        | (rand & ((1 << 62) - 1))
    )
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def parse_metadata(raw: str | None) -> dict[str, str | int | float | bool]:
    """Apply the gateway's ``cf-aig-metadata`` rules.

    The first five entries of a JSON object with scalar values are kept; anything else
    (not JSON, not an object, or any null / nested value) drops the metadata entirely.
    """
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    scalars: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        if not isinstance(item, (str, int, float, bool)):
            return {}
        scalars[str(key)] = item
    return dict(list(scalars.items())[:5])


def stamp_and_log(ctx: Context, reply: Reply) -> dict[str, Any] | None:
    """Add the gateway's ``cf-aig-*`` headers to a proxied reply; return its log entry (None: not collected)."""
    log_id = uuid7()
    headers = ctx.inc.headers
    event_id = headers.get("cf-aig-event-id") or log_id
    reply.headers.extend((("cf-aig-log-id", log_id), ("cf-aig-request-id", log_id), ("cf-aig-event-id", event_id)))
    if reply.cache_status is not None:
        reply.headers.append(("cf-aig-cache-status", reply.cache_status))
    reply.headers.append(("cf-aig-step", str(reply.step)))
    collect = header_flag(headers, "cf-aig-collect-log")
    if collect is None:
        collect = ctx.settings.collect_logs if ctx.settings is not None else True
    if not collect:
        return None
    custom_cost = parse_json(headers.get("cf-aig-custom-cost", "").encode())
    return {
        "id": log_id,
        "gateway_id": ctx.gateway_id,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "surface": ctx.surface,
        "route": ctx.record.route,
        "path": ctx.inc.path,
        "provider": reply.provider,
        "model": reply.model,
        "status": reply.status,
        "success": 200 <= reply.status < 400,
        "cached": reply.cache_status == "HIT",
        "step": reply.step,
        "event_id": event_id,
        "metadata": parse_metadata(headers.get("cf-aig-metadata")),
        "feedback": None,
        "score": None,
        "tokens_in": reply.tokens_in,
        "tokens_out": reply.tokens_out,
        "duration_ms": round((time.perf_counter() - ctx.started) * 1000, 3),
        "custom_cost": custom_cost if isinstance(custom_cost, dict) else None,
        "cf_headers": {k: v for k, v in headers.items() if k.startswith("cf-aig-") and k != "cf-aig-authorization"},
    }


def feedback(ctx: Context, body: Any, logs: dict[str, dict[str, Any]], lock: threading.Lock) -> Reply:
    """``GET`` a log entry, or ``PATCH`` its feedback, score and metadata (REST ``…/gateways/{id}/logs/{log}``)."""
    gateway_id, log_id = ctx.params
    with lock:
        entry = logs.get(log_id)
        known = entry is not None and entry["gateway_id"] == gateway_id
        snapshot = dict(entry) if entry is not None and known else None
    if snapshot is None:
        return envelope_reply("rest", 404, CODE_API_NOT_FOUND, f"Log {log_id} not found in gateway {gateway_id}")
    if ctx.inc.method == "GET":
        return Reply(body=api_success(snapshot))
    updates = _feedback_updates(body)
    if isinstance(updates, Reply):
        return updates
    with lock:
        stored = logs.get(log_id)
        if stored is None:
            return envelope_reply("rest", 404, CODE_API_NOT_FOUND, f"Log {log_id} not found")
        stored.update(updates)
        result = dict(stored)
    return Reply(body=api_success(result))


def _invalid(message: str) -> Reply:
    return envelope_reply("rest", 400, CODE_API_INVALID, message)


def _feedback_updates(body: Any) -> dict[str, Any] | Reply:
    """The fields a feedback ``PATCH`` sets, or the 400 reply for an invalid one."""
    if not isinstance(body, dict):
        return _invalid("Request body must be a JSON object")
    updates: dict[str, Any] = {}
    if "feedback" in body:
        value = body["feedback"]
        if isinstance(value, bool) or value not in (-1, 1):
            return _invalid("feedback must be -1 or 1")
        updates["feedback"] = value
    if "score" in body:
        score = body["score"]
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            return _invalid("score must be a number")
        updates["score"] = score
    if "metadata" in body:
        metadata = body["metadata"]
        if not isinstance(metadata, dict) or not all(isinstance(v, (str, int, float, bool)) for v in metadata.values()):
            return _invalid("metadata must be an object of string, number or boolean values")
        updates["metadata"] = dict(metadata)
    return updates
