"""Async transport sweep for the cfaig core at concurrency 100: default pool vs tuned httpx pools vs
httpx_aiohttp.AiohttpTransport (and bare aiohttp as the ceiling). Prints calls/s, median of 3.

    .venv/bin/python benchmarks/transport_sweep.py [--calls 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import httpx

import run


async def drive(call, n: int, conc: int = 100) -> float:
    it = iter(range(n))

    async def worker() -> None:
        for _ in it:
            await call()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return n / (time.perf_counter() - t0)


def variants():
    def pool(mc, mk):
        return lambda: httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=mc, max_keepalive_connections=mk))

    def aio(limit):
        def make():
            from httpx_aiohttp import AiohttpTransport

            return AiohttpTransport(limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit))

        return make

    return {
        "core default (200/100)": None,
        "core httpx pool 100/100": pool(100, 100),
        "core httpx pool 100/20 (httpx default)": pool(100, 20),
        "core httpx pool 50/50": pool(50, 50),
        "core httpx pool 20/20": pool(20, 20),
        "core httpx pool 10/10": pool(10, 10),
        "core AiohttpTransport limit 100": aio(100),
        "core AiohttpTransport limit 20": aio(20),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    server = run.Server(64)
    results: dict[str, list[float]] = {}

    async def main_async() -> None:
        clients = {}
        for name, make in variants().items():
            kw = {} if make is None else {"transport": make()}
            client = run.make_core_async(server, **kw)
            req = run._core_request(run.PROMPT)
            clients[name] = (lambda c=client, r=req: c.chat(r), client)
        import aiohttp

        session = aiohttp.ClientSession()
        url, body = run._compat_url(server), json.dumps(run._core_request(run.PROMPT)).encode()

        async def bare() -> None:
            async with session.post(url, data=body, headers={"content-type": "application/json"}) as r:
                json.loads(await r.read())

        clients["aiohttp (bare)"] = (bare, None)
        for name, (call, _) in clients.items():
            await drive(call, 200)
        for _ in range(args.rounds):
            for name, (call, _) in clients.items():
                n = args.calls if "default" not in name and "100/" not in name else max(300, args.calls // 5)
                results.setdefault(name, []).append(await drive(call, n))
        for name, (_, client) in clients.items():
            if client is not None:
                await client.aclose()
        await session.close()

    try:
        asyncio.run(main_async())
    finally:
        server.stop()
    base = statistics.median(results["aiohttp (bare)"])
    for name, vals in results.items():
        med = statistics.median(vals)
        print(f"{name:42s} {med:8.0f} calls/s   {med / base:5.2f}x bare aiohttp   samples {[round(v) for v in vals]}")


if __name__ == "__main__":
    main()
