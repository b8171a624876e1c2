"""Scaling sweeps: how the client CPU of our classes and of the peers grows with the work and with load.

    .venv/bin/python benchmarks/run.py --sweeps [--quick] [--only history,stream,...]

Every client talks to the same loopback server as the main benchmarks (``run.py``). Per sweep point the
clients are interleaved, each timed until it has spent a small CPU budget, over several rounds (medians).
CPU is this process's (``time.process_time``; the server is another process; with threads it is all of
them). Sweeps:

- ``history``: one sync call with a history of N messages (user / assistant turns), N = 1 -> 1,000
- ``stream``: one sync stream of K chunks, K = 10 -> 100,000
- ``tools``: one sync call with T tools offered, T = 0 -> 128 (LangChain: bound once; LlamaIndex:
  ``chat_with_tools``, which converts them per call, as its contract has it)
- ``embed``: embed N texts, N = 10 -> 100,000 (each client's default batching)
- ``async``: calls at concurrency C on one event loop, C = 1 -> 1,000 (per-call CPU should stay flat)
- ``threads``: sync calls from T threads sharing one client, T = 1 -> 64 (per-call CPU should stay flat)

Reported per client: the cost at each point, the slope per unit (least squares over the points), and for
the work sweeps the growth exponent of the cost above the first point between the two largest points
(1 = linear; flagged super-linear above 1.3); for the load sweeps, the last point's per-call CPU over the
first's (flagged above 1.5). Outputs: ``scaling.md``, ``scaling.json``, ``scaling.png``. Measurement only.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import run

cpu = time.process_time

SUPER_LINEAR = 1.3
"""A growth exponent above this flags a work sweep as super-linear."""
NOISE = 0.25
"""Cost growth below this fraction of the first point's cost is taken as noise (no exponent reported)."""
LOAD_GROWTH = 1.5
"""A per-call CPU at the highest load above this many times the lowest flags a load sweep."""


@dataclass
class Sweep:
    key: str
    title: str
    unit: str  # what x counts
    cost: str  # what y is
    kind: str  # "work" (cost should grow linearly) or "load" (per-call cost should stay flat)
    sizes: list[int]
    results: dict[str, list[float | None]] = field(default_factory=dict)  # client -> median cost per size
    skipped: dict[str, str] = field(default_factory=dict)


FULL_SIZES = {
    "history": [1, 10, 100, 300, 1000],
    "stream": [10, 100, 1000, 10_000, 100_000],
    "tools": [0, 1, 8, 32, 128],
    "embed": [10, 100, 1000, 10_000, 100_000],
    "async": [1, 10, 100, 300, 1000],
    "threads": [1, 4, 16, 64],
}
QUICK_SIZES = {
    "history": [1, 10, 100],
    "stream": [10, 100, 1000],
    "tools": [0, 8, 32],
    "embed": [10, 100, 1000],
    "async": [1, 10, 100],
    "threads": [1, 4],
}


# --- workloads: client name -> factory(server) -> fn(size) that does one unit of work at that size ------


def _history_lc(n: int) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage

    turns: list[Any] = []
    for i in range(n - 1):
        turns.append(HumanMessage(f"question {i}: {run.PROMPT}") if i % 2 == 0 else AIMessage(f"answer {i}"))
    return [*turns, HumanMessage(run.PROMPT)]


def _history_li(n: int) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    turns = [
        ChatMessage(role="user" if i % 2 == 0 else "assistant", content=f"question {i}: {run.PROMPT}")
        for i in range(n - 1)
    ]
    return [*turns, ChatMessage(role="user", content=run.PROMPT)]


def _history_wire(n: int) -> list[dict[str, Any]]:
    turns = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"question {i}: {run.PROMPT}"} for i in range(n - 1)
    ]
    return [*turns, {"role": "user", "content": run.PROMPT}]


def _memo(build: Callable[[int], Any]) -> Callable[[int], Any]:
    """Inputs are built once per size, outside the timed work (the history a program already holds)."""
    cache: dict[int, Any] = {}

    def get(n: int) -> Any:
        if n not in cache:
            cache[n] = build(n)
        return cache[n]

    return get


def history_clients() -> dict[str, Callable[[run.Server], Callable[[int], Any]]]:
    def bare(server: run.Server) -> Callable[[int], Any]:
        import httpx

        client, url = httpx.Client(), run._compat_url(server)
        headers = {"content-type": "application/json", "authorization": "Bearer dummy"}
        wire = _memo(_history_wire)

        def call(n: int) -> Any:
            body = json.dumps({"model": run.CHAT_MODEL, "messages": wire(n)}).encode()
            return json.loads(client.post(url, content=body, headers=headers).content)

        return call

    lc_msgs, li_msgs = _memo(_history_lc), _memo(_history_li)
    return {
        "httpx (bare)": bare,
        **_framework_clients(
            lambda llm, n: llm.invoke(lc_msgs(n)).content, lambda llm, n: llm.chat(li_msgs(n)).message.content
        ),
    }


def _framework_clients(
    lc_call: Callable[[Any, int], Any], li_call: Callable[[Any, int], Any]
) -> dict[str, Callable[[run.Server], Callable[[int], Any]]]:
    """Ours, the peer and the floor of each framework, each doing ``call(llm, size)``."""

    def wrap(
        make: Callable[[run.Server], Any], call: Callable[[Any, int], Any]
    ) -> Callable[[run.Server], Callable[[int], Any]]:
        def factory(server: run.Server) -> Callable[[int], Any]:
            llm = make(server)
            return lambda n: call(llm, n)

        return factory

    return {
        "ChatCloudflareAIGateway": wrap(run.make_lc_ours, lc_call),
        "ChatOpenAI": wrap(run.make_chat_openai, lc_call),
        run.LC_FLOOR: wrap(run.make_lc_floor, lc_call),
        "CloudflareAIGatewayLLM": wrap(run.make_li_ours, li_call),
        "OpenAILike": wrap(run.make_openai_like, li_call),
        run.LI_FLOOR: wrap(run.make_li_floor, li_call),
    }


def stream_clients() -> dict[str, Callable[[run.Server], Callable[[int], Any]]]:
    def bare(server: run.Server) -> Callable[[int], Any]:
        import httpx

        client, url = httpx.Client(), run._compat_url(server)
        headers = {"content-type": "application/json", "authorization": "Bearer dummy"}

        def call(k: int) -> int:
            payload = {**run._core_request(f"__stream_chunks__ {k}"), "stream": True}
            count = 0
            with client.stream("POST", url, content=json.dumps(payload).encode(), headers=headers) as r:
                for line in r.iter_lines():
                    if line.startswith("data: ") and line[6:] != "[DONE]":
                        json.loads(line[6:])
                        count += 1
            return count

        return call

    lc_msgs = _memo(lambda k: run._lc_messages(f"__stream_chunks__ {k}"))
    li_msgs = _memo(lambda k: run._li_messages(f"__stream_chunks__ {k}"))
    return {
        "httpx (bare)": bare,
        **_framework_clients(
            lambda llm, k: sum(1 for _ in llm.stream(lc_msgs(k))),
            lambda llm, k: sum(1 for _ in llm.stream_chat(li_msgs(k))),
        ),
    }


def _tool_dicts(n: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": f"tool_{i}",
                "description": f"Tool number {i}: looks something up.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["city"],
                },
            },
        }
        for i in range(n)
    ]


def _li_tools(n: int) -> list[Any]:
    from llama_index.core.tools import FunctionTool

    def lookup(city: str, days: int = 1) -> str:
        """Looks something up."""
        return city

    return [FunctionTool.from_defaults(fn=lookup, name=f"tool_{i}") for i in range(n)]


def tools_clients() -> dict[str, Callable[[run.Server], Callable[[int], Any]]]:
    def lc(make: Callable[[run.Server], Any]) -> Callable[[run.Server], Callable[[int], Any]]:
        def factory(server: run.Server) -> Callable[[int], Any]:
            llm, msgs = make(server), run._lc_messages(run.PROMPT)
            bound = _memo(lambda n: llm.bind_tools(_tool_dicts(n)) if n else llm)  # bound once, as programs do
            return lambda n: bound(n).invoke(msgs).content

        return factory

    def li(make: Callable[[run.Server], Any]) -> Callable[[run.Server], Callable[[int], Any]]:
        def factory(server: run.Server) -> Callable[[int], Any]:
            llm, tools = make(server), _memo(_li_tools)
            return lambda n: llm.chat_with_tools(tools(n), user_msg=run.PROMPT).message.content

        return factory

    return {
        "ChatCloudflareAIGateway": lc(run.make_lc_ours),
        "ChatOpenAI": lc(run.make_chat_openai),
        "CloudflareAIGatewayLLM": li(run.make_li_ours),
        "OpenAILike": li(run.make_openai_like),
    }


def embed_clients() -> dict[str, Callable[[run.Server], Callable[[int], Any]]]:
    out: dict[str, Callable[[run.Server], Callable[[int], Any]]] = {}
    texts = _memo(lambda n: [f"short text number {i}" for i in range(n)])
    for name, factory in run.embed_clients().items():
        if name == "cfaig core":
            continue

        def make(server: run.Server, factory: Any = factory) -> Callable[[int], Any]:
            embed = factory(server, 1000)
            return lambda n: len(embed(texts(n)))

        out[name] = make
    return out


def async_clients() -> dict[str, Callable[[run.Server], tuple[Callable[[], Any], Callable[[], Any]]]]:
    wanted = ("aiohttp (bare)", "ChatCloudflareAIGateway", "ChatOpenAI", "CloudflareAIGatewayLLM", "OpenAILike")
    return {name: f for name, f in run.async_clients().items() if name in wanted}


def thread_clients() -> dict[str, Callable[[run.Server], Callable[[], Any]]]:
    wanted = ("httpx (bare)", "ChatCloudflareAIGateway", "ChatOpenAI", "CloudflareAIGatewayLLM", "OpenAILike")
    return {name: f for name, f in run.sync_clients().items() if name in wanted}


# --- measurement -----------------------------------------------------------------------------------


class Sweeper:
    def __init__(self, server: run.Server, loop: asyncio.AbstractEventLoop, quick: bool, only: set[str] | None) -> None:
        self.server, self.loop, self.quick, self.only = server, loop, quick, only
        self.sizes = QUICK_SIZES if quick else FULL_SIZES
        self.rounds = 2 if quick else 3
        self.budget = 0.05 if quick else 0.2  # CPU seconds per client, point and round (at least one unit)
        self.sweeps: list[Sweep] = []

    def _timed(self, fn: Callable[[], Any]) -> float:
        """CPU seconds per call of ``fn``, repeated until the budget is spent."""
        n, c0 = 0, cpu()
        while True:
            fn()
            n += 1
            spent = cpu() - c0
            if spent >= self.budget:
                return spent / n

    def work_sweep(
        self,
        key: str,
        title: str,
        unit: str,
        clients: dict[str, Callable[[run.Server], Callable[[int], Any]]],
    ) -> None:
        sweep = Sweep(key, title, unit, "CPU µs per call", "work", self.sizes[key])
        self.sweeps.append(sweep)
        fns: dict[str, Callable[[int], Any]] = {}
        for name, factory in clients.items():
            try:
                fn = factory(self.server)
                fn(sweep.sizes[0])  # warm-up
                fns[name] = fn
            except Exception as exc:
                sweep.skipped[name] = run._reason(exc)
                print(f"  skip {name}: {sweep.skipped[name]}", flush=True)
        for size in sweep.sizes:
            samples: dict[str, list[float]] = {name: [] for name in fns}
            for _ in range(self.rounds):
                for name, fn in fns.items():
                    try:
                        samples[name].append(self._timed(lambda fn=fn: fn(size)) * 1e6)
                    except Exception as exc:
                        sweep.skipped[name] = run._reason(exc)
            for name in fns:
                sweep.results.setdefault(name, []).append(statistics.median(samples[name]) if samples[name] else None)
            print(
                f"  {unit}={size}: "
                + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in sweep.results.items() if v and v[-1] is not None),
                flush=True,
            )

    def async_sweep(self) -> None:
        sweep = Sweep("async", "async calls at concurrency C", "C", "CPU µs per call", "load", self.sizes["async"])
        self.sweeps.append(sweep)
        pairs: dict[str, Any] = {}
        for name, factory in async_clients().items():
            try:
                pairs[name] = factory(self.server)
            except Exception as exc:
                sweep.skipped[name] = run._reason(exc)

        async def drive(call: Callable[[], Any], conc: int, total: int) -> float:
            it = iter(range(total))

            async def worker() -> None:
                for _ in it:
                    await call()

            c0 = cpu()
            await asyncio.gather(*(worker() for _ in range(conc)))
            return (cpu() - c0) / total

        for name, pair in list(pairs.items()):
            try:
                self.loop.run_until_complete(drive(pair[0], 10, 50))
            except Exception as exc:
                sweep.skipped[name] = run._reason(exc)
                del pairs[name]
        for conc in sweep.sizes:
            total = max(conc * 2, 200 if self.quick else 500)
            samples: dict[str, list[float]] = {name: [] for name in pairs}
            for _ in range(self.rounds):
                for name, pair in pairs.items():
                    samples[name].append(self.loop.run_until_complete(drive(pair[0], conc, total)) * 1e6)
            for name in pairs:
                sweep.results.setdefault(name, []).append(statistics.median(samples[name]))
            print(f"  C={conc}: " + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in sweep.results.items()), flush=True)
        for pair in pairs.values():
            try:
                self.loop.run_until_complete(pair[1]())
            except Exception:
                pass

    def thread_sweep(self) -> None:
        sweep = Sweep("threads", "sync calls from T threads", "T", "CPU µs per call", "load", self.sizes["threads"])
        self.sweeps.append(sweep)
        calls: dict[str, Callable[[], Any]] = {}
        for name, factory in thread_clients().items():
            try:
                calls[name] = factory(self.server)
                calls[name]()
            except Exception as exc:
                sweep.skipped[name] = run._reason(exc)
                calls.pop(name, None)

        def drive(call: Callable[[], Any], threads: int, per_thread: int) -> float:
            errors: list[BaseException] = []

            def worker() -> None:
                try:
                    for _ in range(per_thread):
                        call()
                except BaseException as exc:  # reported below
                    errors.append(exc)

            pool = [threading.Thread(target=worker) for _ in range(threads)]
            c0 = cpu()
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            if errors:
                raise errors[0]
            return (cpu() - c0) / (threads * per_thread)

        for threads in sweep.sizes:
            per_thread = max(2, (60 if self.quick else 200) // threads)
            samples: dict[str, list[float]] = {name: [] for name in calls}
            for _ in range(self.rounds):
                for name, call in calls.items():
                    samples[name].append(drive(call, threads, per_thread) * 1e6)
            for name in calls:
                sweep.results.setdefault(name, []).append(statistics.median(samples[name]))
            print(f"  T={threads}: " + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in sweep.results.items()), flush=True)

    def run_all(self) -> None:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("history", lambda: self.work_sweep("history", "sync call with N messages", "N", history_clients())),
            ("stream", lambda: self.work_sweep("stream", "one stream of K chunks", "K", stream_clients())),
            ("tools", lambda: self.work_sweep("tools", "sync call with T tools", "T", tools_clients())),
            ("embed", lambda: self.work_sweep("embed", "embedding N texts", "N", embed_clients())),
            ("async", self.async_sweep),
            ("threads", self.thread_sweep),
        ]
        for key, fn in steps:
            if self.only is not None and key not in self.only:
                continue
            print(f"== sweep {key}: {self.sizes[key]}", flush=True)
            t0 = time.perf_counter()
            try:
                fn()
            except Exception:
                traceback.print_exc()
            print(f"   ({time.perf_counter() - t0:.1f}s)", flush=True)


# --- analysis and reporting ------------------------------------------------------------------------


def slope(xs: list[int], ys: list[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs``."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def exponent(xs: list[int], ys: list[float]) -> float | None:
    """How the cost above the first point grows between the two largest points: 1 = linear, 2 = quadratic."""
    if len(xs) < 3:
        return None
    a, b = ys[-2] - ys[0], ys[-1] - ys[0]
    if a <= NOISE * ys[0] or b <= 0 or xs[-2] <= 0:
        return None  # the growth up to the second-largest point is within the noise: no exponent to tell
    return math.log(b / a) / math.log(xs[-1] / xs[-2])


def analyse(sweep: Sweep) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, values in sweep.results.items():
        points = [(x, y) for x, y in zip(sweep.sizes, values) if y is not None]
        if len(points) < 2:
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        info: dict[str, Any] = {"slope": slope(xs, ys)}
        if sweep.kind == "work":
            e = exponent(xs, ys)
            info["exponent"] = e
            info["flag"] = "SUPER-LINEAR" if e is not None and e > SUPER_LINEAR else ""
        else:
            growth = ys[-1] / ys[0] if ys[0] else float("nan")
            info["growth"] = growth
            info["flag"] = "GROWS WITH LOAD" if growth > LOAD_GROWTH else ""
        out[name] = info
    return out


def render(sweeps: list[Sweep], meta: dict[str, Any]) -> str:
    lines = ["# cfaig scaling sweeps", ""]
    lines.append(f"- {meta['when']} · {meta['mode']} · Python {meta['python']} · {meta['cpus']} CPUs")
    lines.append(
        "- client CPU (`time.process_time`) per call, medians over interleaved rounds; slope = least squares "
        "over the points; exponent = growth of the cost above the first point between the two largest points "
        f"(1 linear, 2 quadratic; flagged above {SUPER_LINEAR}; blank when that growth is within the noise); load sweeps: last point / first point per-call "
        f"CPU (flagged above {LOAD_GROWTH}x)"
    )
    lines.append("")
    for sweep in sweeps:
        stats = analyse(sweep)
        lines.append(f"## {sweep.title} ({sweep.cost})")
        lines.append("")
        head = " | ".join(f"{sweep.unit}={x:,}" for x in sweep.sizes)
        tail = "slope (µs per unit) | exponent | flag" if sweep.kind == "work" else "slope | last / first | flag"
        lines.append(f"| client | {head} | {tail} |")
        lines.append("|---|" + "---:|" * len(sweep.sizes) + "---:|---:|---|")
        for name, values in sweep.results.items():
            cells = " | ".join("" if v is None else f"{v:,.0f}" for v in values)
            info = stats.get(name)
            if info is None:
                lines.append(f"| {name} | {cells} | | | |")
                continue
            if sweep.kind == "work":
                e = info["exponent"]
                extra = f"{info['slope']:,.2f} | {'' if e is None else f'{e:.2f}'} | {info['flag']}"
            else:
                extra = f"{info['slope']:,.3f} | {info['growth']:.2f}x | {info['flag']}"
            lines.append(f"| {name} | {cells} | {extra} |")
        for name, reason in sweep.skipped.items():
            lines.append(f"| {name} | skipped: {reason} |")
        lines.append("")
    return "\n".join(lines)


def chart(sweeps: list[Sweep], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 3
    rows_n = max(1, (len(sweeps) + cols - 1) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(18, 5 * rows_n))
    flat = list(axes.flat) if hasattr(axes, "flat") else [axes]
    for ax, sweep in zip(flat, sweeps):
        for name, values in sweep.results.items():
            points = [(max(x, 0.5), y) for x, y in zip(sweep.sizes, values) if y is not None]
            if not points:
                continue
            ours = "cloudflare" in name.lower() or "cfaig" in name.lower()
            style = "-" if ours else ":" if ("bare" in name or "floor" in name) else "--"
            ax.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                style,
                marker="o",
                label=name,
                linewidth=2 if ours else 1,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{sweep.title}")
        ax.set_xlabel(sweep.unit + (" (0 drawn at 0.5)" if 0 in sweep.sizes else ""))
        ax.set_ylabel(sweep.cost)
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    for ax in flat[len(sweeps) :]:
        ax.axis("off")
    fig.suptitle("cfaig scaling (solid: ours, dashed: peers, dotted: bare transport / framework floor)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(out: Path, quick: bool, only: set[str] | None, dim: int) -> None:
    import os
    import platform

    server = run.Server(dim)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sweeper = Sweeper(server, loop, quick, only)
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "mode": "quick" if quick else "full",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    started = time.perf_counter()
    try:
        sweeper.run_all()
    finally:
        server.stop()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    meta["elapsed_s"] = time.perf_counter() - started
    report = render(sweeper.sweeps, meta)
    print()
    print(report)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scaling.md").write_text(report)
    payload = {
        "meta": meta,
        "sweeps": [
            {
                "key": s.key,
                "title": s.title,
                "unit": s.unit,
                "cost": s.cost,
                "kind": s.kind,
                "sizes": s.sizes,
                "results": s.results,
                "analysis": analyse(s),
                "skipped": s.skipped,
            }
            for s in sweeper.sweeps
        ],
    }
    (out / "scaling.json").write_text(json.dumps(payload, indent=2, default=str))
    try:
        chart(sweeper.sweeps, out / "scaling.png")
    except Exception:
        traceback.print_exc()
    print(f"wrote {out / 'scaling.md'}, {out / 'scaling.json'}, {out / 'scaling.png'} in {meta['elapsed_s']:.0f}s")
