"""CPU profiles (cProfile, process CPU time) of one client on one workload, against the benchmark server:
where the CPU of a call or of a streamed chunk goes, next to the framework floor's.

    .venv/bin/python benchmarks/profile_classes.py --client lc --workload stream [--n 3] [--top 40]

Clients: ``lc`` / ``li`` (our LangChain / LlamaIndex class), ``lc-floor`` / ``li-floor`` (the no-op
framework models of ``floors.py``), ``core``. Workloads: ``sync`` (N*500 calls), ``async`` (N*2000 calls at
concurrency 100), ``stream`` (N streams of 5,000 chunks). Prints the CPU µs per unit, then the functions by
own time and by cumulative time. Measurement only.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run

FACTORIES = {
    "lc": (run.make_lc_ours, run._lc_messages),
    "li": (run.make_li_ours, run._li_messages),
    "lc-floor": (run.make_lc_floor, run._lc_messages),
    "li-floor": (run.make_li_floor, run._li_messages),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", default="li", choices=[*FACTORIES, "core"])
    ap.add_argument("--workload", default="stream", choices=["sync", "async", "stream"])
    ap.add_argument("--n", type=int, default=2)
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--chunks", type=int, default=5000)
    args = ap.parse_args()
    server = run.Server(64)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        units, work = _workload(args, server, loop)
        work(1)  # warm-up
        profiler = cProfile.Profile(time.process_time)
        c0 = time.process_time()
        profiler.enable()
        work(args.n)
        profiler.disable()
        spent = time.process_time() - c0
        print(f"{args.client} {args.workload}: {spent * 1e6 / (units * args.n):.1f} CPU µs per unit (profiled)")
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())
    finally:
        server.stop()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _workload(args: argparse.Namespace, server: run.Server, loop: asyncio.AbstractEventLoop) -> tuple[int, Any]:
    k = args.chunks
    if args.client == "core":
        client, aclient = run.make_core(server), run.make_core_async(server)
        req, sreq = run._core_request(run.PROMPT), run._core_request(f"__stream_chunks__ {k}")
        sync_call, stream_call = (lambda: client.chat(req)), (lambda: client.stream_chat(sreq))

        async def acall() -> Any:
            return await aclient.chat(req)
    else:
        make, messages = FACTORIES[args.client]
        llm = make(server)
        msgs, smsgs = messages(run.PROMPT), messages(f"__stream_chunks__ {k}")
        lc = args.client.startswith("lc")
        sync_call = (lambda: llm.invoke(msgs)) if lc else (lambda: llm.chat(msgs))
        stream_call = (lambda: llm.stream(smsgs)) if lc else (lambda: llm.stream_chat(smsgs))

        async def acall() -> Any:
            return await (llm.ainvoke(msgs) if lc else llm.achat(msgs))

    if args.workload == "sync":

        def work(n: int) -> None:
            for _ in range(500 * n):
                sync_call()

        return 500, work
    if args.workload == "stream":

        def work(n: int) -> None:
            for _ in range(n):
                for _chunk in stream_call():
                    pass

        return k, work

    async def drive(total: int) -> None:
        it = iter(range(total))

        async def worker() -> None:
            for _ in it:
                await acall()

        await asyncio.gather(*(worker() for _ in range(100)))

    return 2000, lambda n: loop.run_until_complete(drive(2000 * n))


if __name__ == "__main__":
    main()
