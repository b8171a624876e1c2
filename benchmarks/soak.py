"""Soak run: many concurrent async requests through every layer against the loopback gateway emulator.

    .venv/bin/python benchmarks/soak.py                                  # 20,000 requests per layer, C=200
    .venv/bin/python benchmarks/soak.py --requests 2000 --concurrency 100 --stream-share 0.5 --layers core,langchain

For each layer (the core ``AsyncGatewayClient``, LangChain ``ainvoke``/``astream``, LlamaIndex
``achat``/``astream_chat``) it sends ``--requests`` requests, ``--stream-share`` of them streamed, at most
``--concurrency`` at a time, checks every answer echoes its own prompt, and reports failures, throughput,
peak RSS and open file descriptors before and after (after closing the clients and a gc). The emulator is
served in this process (``cfaig.testing.serve``) on 127.0.0.1. ``tests/faults/test_soak.py`` runs a
CI-sized version of :func:`run_soak` and asserts zero failures and no file-descriptor growth.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "shared", ROOT / "packages" / "langchain_cfaig", ROOT / "packages" / "llamaindex_cfaig"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

import cfaig._client_cache  # noqa: E402
from cfaig import AsyncGatewayClient  # noqa: E402
from cfaig.testing import EMULATOR_ACCOUNT_ID, EmulatorServer, GatewayEmulator, GatewaySettings, serve  # noqa: E402

LAYERS = ("core", "langchain", "llamaindex")
MODEL = "openai/gpt-4o-mini"

Call = Callable[[str, bool], Awaitable[str]]
"""``call(prompt, stream)`` -> the answer's text."""


@dataclass
class LayerReport:
    layer: str
    requests: int
    streams: int
    failures: int
    seconds: float
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class SoakReport:
    layers: list[LayerReport]
    fds_before: int
    fds_after: int
    peak_rss_mb: float

    @property
    def failures(self) -> int:
        return sum(layer.failures for layer in self.layers)

    def render(self) -> str:
        lines = [
            "| layer | requests | streams | failures | seconds | req/s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in self.layers:
            lines.append(
                f"| {r.layer} | {r.requests} | {r.streams} | {r.failures} | {r.seconds:.2f} | {r.throughput:.0f} |"
            )
            lines.extend(f"|   {error} x {count} | | | | | |" for error, count in r.errors.most_common(5))
        lines.append("")
        lines.append(f"open file descriptors: before {self.fds_before}, after {self.fds_after}")
        lines.append(f"peak RSS: {self.peak_rss_mb:.1f} MiB")
        return "\n".join(lines)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# --- the three layers, as (call, close) ------------------------------------------------------------


def _core(base_url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    client = AsyncGatewayClient(account_id=EMULATOR_ACCOUNT_ID, base_url=base_url)

    async def call(prompt: str, stream: bool) -> str:
        request: Any = {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}
        if not stream:
            return (await client.chat(request)).text
        async with await client.stream_chat(request) as chat_stream:
            async for _ in chat_stream:
                pass
        return chat_stream.get_final_completion().text

    return call, client.aclose


def _langchain(base_url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    from langchain_cfaig import ChatCloudflareAIGateway

    model = ChatCloudflareAIGateway(model=MODEL, account_id=EMULATOR_ACCOUNT_ID, base_url=base_url)

    async def call(prompt: str, stream: bool) -> str:
        if not stream:
            return str((await model.ainvoke(prompt)).content)
        return "".join([str(chunk.content) async for chunk in model.astream(prompt)])

    return call, _close_shared


def _llamaindex(base_url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    from llama_index.core.llms import ChatMessage

    from llamaindex_cfaig import CloudflareAIGatewayLLM

    llm = CloudflareAIGatewayLLM(model=MODEL, account_id=EMULATOR_ACCOUNT_ID, base_url=base_url)

    async def call(prompt: str, stream: bool) -> str:
        messages = [ChatMessage(role="user", content=prompt)]
        if not stream:
            return (await llm.achat(messages)).message.content or ""
        return "".join([response.delta or "" async for response in await llm.astream_chat(messages)])

    return call, _close_shared


async def _close_shared() -> None:
    for client in list(cfaig._client_cache._async.values()):
        await client.aclose()
    cfaig._client_cache._async.clear()


_FACTORIES: dict[str, Callable[[str], tuple[Call, Callable[[], Awaitable[None]]]]] = {
    "core": _core,
    "langchain": _langchain,
    "llamaindex": _llamaindex,
}


# --- the run ---------------------------------------------------------------------------------------


async def _soak_layer(
    layer: str, base_url: str, requests: int, concurrency: int, stream_share: float, seed: int
) -> LayerReport:
    call, close = _FACTORIES[layer](base_url)
    rng = random.Random(seed)
    plan = [rng.random() < stream_share for _ in range(requests)]
    report = LayerReport(layer=layer, requests=requests, streams=sum(plan), failures=0, seconds=0.0)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int, stream: bool) -> None:
        prompt = f"soak {layer} {index}"
        async with semaphore:
            try:
                text = await call(prompt, stream)
            except Exception as exc:  # counted and reported, never raised: a soak run reports
                report.failures += 1
                report.errors[type(exc).__name__] += 1
                return
        if not text.endswith(f"You said: {prompt}"):
            report.failures += 1
            report.errors["wrong answer"] += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(one(index, stream) for index, stream in enumerate(plan)))
    finally:
        report.seconds = time.perf_counter() - started
        await close()
    return report


def _make_emulator() -> GatewayEmulator:
    return GatewayEmulator(
        account_id=EMULATOR_ACCOUNT_ID,
        gateways={"default": GatewaySettings(authentication=False, cache_ttl=0)},
    )


def _settle_fds(limit: int, timeout: float = 5.0) -> int:
    """Open fds once the server has seen the clients' FINs (its sockets live in this process too)."""
    deadline = time.monotonic() + timeout
    count = open_fds()
    while count > limit and time.monotonic() < deadline:
        time.sleep(0.05)
        gc.collect()
        count = open_fds()
    return count


def run_soak(
    *,
    requests: int = 20_000,
    concurrency: int = 200,
    stream_share: float = 0.25,
    layers: Sequence[str] = LAYERS,
    server: EmulatorServer | None = None,
    seed: int = 1,
    fd_slack: int = 10,
) -> SoakReport:
    """Run the soak against ``server`` (or a fresh loopback emulator) and return the report."""
    unknown = set(layers) - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown layers: {sorted(unknown)}; choose from {', '.join(LAYERS)}")
    if not 0.0 <= stream_share <= 1.0:
        raise ValueError("stream_share must be between 0 and 1")
    for layer in layers:  # import the framework modules before counting descriptors
        if layer != "core":
            _FACTORIES[layer]("http://127.0.0.1:1/v1")
    own_server = serve(_make_emulator()) if server is None else None
    active = own_server.start() if own_server is not None else server
    assert active is not None
    try:
        gc.collect()
        fds_before = open_fds()
        reports = []
        for offset, layer in enumerate(layers):
            reports.append(
                asyncio.run(_soak_layer(layer, active.base_url, requests, concurrency, stream_share, seed + offset))
            )
            active.emulator.reset()  # recorded requests and logs: do not let them pile up across layers
        gc.collect()
        fds_after = _settle_fds(fds_before + fd_slack)
    finally:
        if own_server is not None:
            own_server.stop()
    return SoakReport(layers=reports, fds_before=fds_before, fds_after=fds_after, peak_rss_mb=peak_rss_mb())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per layer (default 20000)")
    parser.add_argument("--concurrency", type=int, default=200, help="requests in flight (default 200)")
    parser.add_argument("--stream-share", type=float, default=0.25, help="share of streamed requests (0.25)")
    parser.add_argument("--layers", default=",".join(LAYERS), help="comma-separated: core,langchain,llamaindex")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    layers = [name.strip() for name in args.layers.split(",") if name.strip()]
    report = run_soak(
        requests=args.requests,
        concurrency=args.concurrency,
        stream_share=args.stream_share,
        layers=layers,
        seed=args.seed,
    )
    print(report.render())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
