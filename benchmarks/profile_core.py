"""Profile the cfaig core on the sync, async-c100 and stream workloads (pyinstrument), against the
benchmark server. Writes text profiles to benchmarks/results/profile_*.txt.

    .venv/bin/python benchmarks/profile_core.py [--workload sync,async,stream] [--transport default|aiohttp]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pyinstrument import Profiler

import run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="sync,async,stream")
    ap.add_argument("--transport", default="default")
    ap.add_argument("--out", default=str(run.RESULTS))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = run.Server(64)
    try:
        wls = args.workload.split(",")
        if "sync" in wls:
            client, req = run.make_core(server), run._core_request(run.PROMPT)
            for _ in range(50):
                client.chat(req)
            p = Profiler(interval=0.0002)
            with p:
                for _ in range(2000):
                    client.chat(req)
            (out / "profile_sync.txt").write_text(p.output_text(unicode=False, color=False, show_all=True))
        if "stream" in wls:
            client, req = run.make_core(server), run._core_request("__stream_chunks__ 5000")
            for _ in client.stream_chat(req):
                pass
            p = Profiler(interval=0.0002)
            with p:
                for _ in range(5):
                    for _ in client.stream_chat(req):
                        pass
            (out / "profile_stream.txt").write_text(p.output_text(unicode=False, color=False, show_all=True))
        if "async" in wls:
            kw = {}
            if args.transport == "aiohttp":
                from httpx_aiohttp import AiohttpTransport

                kw["transport"] = AiohttpTransport()
            client, req = run.make_core_async(server, **kw), run._core_request(run.PROMPT)

            async def drive(n: int) -> None:
                it = iter(range(n))

                async def worker() -> None:
                    for _ in it:
                        await client.chat(req)

                await asyncio.gather(*(worker() for _ in range(100)))

            async def main_async() -> None:
                await drive(200)
                p = Profiler(interval=0.0005, async_mode="disabled")
                with p:
                    await drive(1000 if args.transport == "default" else 4000)
                (out / f"profile_async_{args.transport}.txt").write_text(
                    p.output_text(unicode=False, color=False, show_all=True)
                )
                await client.aclose()

            asyncio.run(main_async())
    finally:
        server.stop()


if __name__ == "__main__":
    main()
