"""Request builders, SSE readers and constants shared by the emulator tests."""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

import httpx

TOKEN = "test-cf-aig-token"
CF_AUTH = {"authorization": f"Bearer {TOKEN}"}
"""The Cloudflare token as ``Authorization``: what Workers AI provider routes authenticate with."""
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CHAT = "/compat/chat/completions"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two integers",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def user(text: str = "Hello there") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def chat_body(text: str = "Hello there", model: str = "openai/gpt-5-mini", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": user(text), **extra}


def sse_data(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.split("\n") if line.startswith("data: ")]


def sse_json(text: str) -> list[dict[str, Any]]:
    return [json.loads(d) for d in sse_data(text) if d != "[DONE]"]


def content_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


def universal_steps() -> list[dict[str, Any]]:
    return [
        {
            "provider": "workers-ai",
            "endpoint": "@cf/meta/llama-3.1-8b-instruct",
            "headers": {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            "query": {"messages": user("What is Cloudflare?")},
        },
        {
            "provider": "openai",
            "endpoint": "chat/completions",
            "headers": {"Authorization": "Bearer sk-openai"},
            "query": {"model": "gpt-4o-mini", "messages": user("What is Cloudflare?")},
        },
        {
            "provider": "compat",
            "endpoint": "chat/completions",
            "headers": {},
            "query": {"model": "anthropic/claude-haiku-4-5", "messages": user("What is Cloudflare?")},
        },
    ]


async def timed_call(coro: Any) -> tuple[Any, tuple[float, float]]:
    """The result of ``coro`` and the (start, end) of its run, to check that runs overlap."""
    start = time.perf_counter()
    result = await coro
    return result, (start, time.perf_counter())


async def timed_post(client: httpx.AsyncClient, url: str, body: Any) -> tuple[httpx.Response, tuple[float, float]]:
    return await timed_call(client.post(url, json=body))


def max_overlap(spans: list[tuple[float, float]]) -> int:
    """The largest number of spans open at one instant: an ordering property, not a speed threshold."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    open_now = peak = 0
    for _, change in events:
        open_now += change
        peak = max(peak, open_now)
    return peak
