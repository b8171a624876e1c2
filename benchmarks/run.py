"""cfaig benchmark suite: the core, the LangChain and LlamaIndex classes vs bare httpx/aiohttp and the peers.

    .venv/bin/python benchmarks/run.py            # full run (~10 min on 2 cores), into build/bench/
    .venv/bin/python benchmarks/run.py --quick    # ~1-2 min smoke run, into build/bench/
    .venv/bin/python benchmarks/run.py --save     # a full run that replaces the committed benchmarks/results/
    .venv/bin/python benchmarks/run.py --sweeps [--quick] [--save]   # the scaling sweeps (scaling.md/.png)

Every client talks to the same loopback server (benchmarks/server.py, a separate process), clients are
interleaved A B A B over several rounds, and medians (and p99 of per-call latency) are reported.
Outputs: results.md (table + ratios + PASS/MISS per target), results.json (raw samples), results.png
(chart), in build/bench/ (untracked) unless --save (the committed reference in benchmarks/results/, from a
full run only) or --out says otherwise. This is measurement: nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
"""The committed reference results: written only with --save, by a full run."""
SCRATCH = ROOT / "build" / "bench"
"""Where a run writes by default: untracked (build/ is ignored)."""
# the framework packages may not be installed in the venv yet: make them importable from the workspace
EXTRA_PATHS = [
    str(ROOT / "shared"),
    str(ROOT / "packages" / "langchain_cfaig"),
    str(ROOT / "packages" / "llamaindex_cfaig"),
]
for _p in EXTRA_PATHS:
    if _p not in sys.path:
        sys.path.append(_p)

PROMPT = "Say hello."
CHAT_MODEL = "openai/gpt-5-mini"
EMBED_MODEL = "openai/text-embedding-3-small"
ACCOUNT = "bench"
perf = time.perf_counter
cpu = time.process_time
"""CPU seconds of this process (the server is another): what the "vs limit" ratios compare."""


@dataclass
class Sizes:
    rounds: int
    sync_calls: int
    async_calls: int
    concurrency: int
    stream_chunks: int
    stream_repeats: int
    embed_texts: int
    embed_batch: int
    import_reps: int
    construct_n: int
    rss_points: tuple[int, int]


FULL = Sizes(3, 300, 2000, 100, 5000, 2, 10_000, 1000, 5, 1000, (1000, 10_000))
QUICK = Sizes(2, 100, 600, 100, 5000, 1, 3000, 1000, 3, 200, (500, 2000))


# --- the server ------------------------------------------------------------------------------------


class Server:
    def __init__(self, dim: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "server.py"), "--port", "0", "--dim", str(dim)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("PORT "):
            raise RuntimeError(f"server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.root = f"http://127.0.0.1:{self.port}"
        self.v1 = f"{self.root}/v1"

    def stats(self) -> dict[str, float]:
        with urllib.request.urlopen(f"{self.root}/__stats") as r:  # noqa: S310 (loopback)
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def _raw_burst(port: int, conns: int, per_conn: int, pipeline: int) -> float:
    """Raw-socket keep-alive client: the cheapest client possible, to show the server's own capacity."""
    req = (
        b"POST /v1/bench/default/compat/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
    )

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        while done < per_conn:
            writer.write(req * pipeline)
            for _ in range(pipeline):
                head = await reader.readuntil(b"\r\n\r\n")
                i = head.find(b"content-length: ")
                n = int(head[i + 16 : head.find(b"\r\n", i)])
                await reader.readexactly(n)
            done += pipeline
        writer.close()

    t0 = perf()
    await asyncio.gather(*(one() for _ in range(conns)))
    return conns * per_conn / (perf() - t0)


def server_capacity(server: Server, loop: asyncio.AbstractEventLoop) -> dict[str, float]:
    out = {}
    s0 = server.stats()
    t0 = perf()
    out["raw_c100_req_per_s"] = loop.run_until_complete(_raw_burst(server.port, 100, 60, 1))
    s1 = server.stats()
    out["raw_c100_server_cpu_frac"] = (s1["cpu"] - s0["cpu"]) / (perf() - t0)
    s0 = server.stats()
    t0 = perf()
    out["pipelined_req_per_s"] = loop.run_until_complete(_raw_burst(server.port, 20, 1000, 50))
    s1 = server.stats()
    out["pipelined_server_cpu_frac"] = (s1["cpu"] - s0["cpu"]) / (perf() - t0)
    # server CPU per request, from the pipelined burst: its ceiling is 1 / that
    out["server_ceiling_req_per_s"] = (s1["requests"] - s0["requests"]) / max(s1["cpu"] - s0["cpu"], 1e-9)
    return out


# --- clients ---------------------------------------------------------------------------------------
# Each factory returns the thing to time, or raises (the client is then skipped, with the reason).


def _lc_messages(text: str) -> list[Any]:
    from langchain_core.messages import HumanMessage

    return [HumanMessage(text)]


def _li_messages(text: str) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role="user", content=text)]


def _core_request(text: str) -> dict[str, Any]:
    return {"model": CHAT_MODEL, "messages": [{"role": "user", "content": text}]}


def _compat_url(server: Server) -> str:
    return f"{server.v1}/{ACCOUNT}/default/compat/chat/completions"


def make_chat_openai(server: Server) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model="gpt-5-mini", base_url=server.v1, api_key="dummy", stream_usage=True)


def make_openai_like(server: Server) -> Any:
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(model="gpt-5-mini", api_base=server.v1, api_key="dummy", is_chat_model=True)


def make_core(server: Server, **kw: Any) -> Any:
    from cfaig import GatewayClient

    return GatewayClient(account_id=ACCOUNT, base_url=server.v1, **kw)


def make_core_async(server: Server, **kw: Any) -> Any:
    from cfaig import AsyncGatewayClient

    return AsyncGatewayClient(account_id=ACCOUNT, base_url=server.v1, **kw)


def make_lc_ours(server: Server) -> Any:
    from langchain_cfaig import ChatCloudflareAIGateway

    return ChatCloudflareAIGateway(account_id=ACCOUNT, base_url=server.v1, model=CHAT_MODEL)


def make_li_ours(server: Server) -> Any:
    from llamaindex_cfaig import CloudflareAIGatewayLLM

    return CloudflareAIGatewayLLM(account_id=ACCOUNT, base_url=server.v1, model=CHAT_MODEL)


def make_lc_floor(server: Server) -> Any:
    from floors import NoopChatModel

    return NoopChatModel()


def make_li_floor(server: Server) -> Any:
    from floors import NoopLLM

    return NoopLLM()


LC_FLOOR = "LangChain floor (no-op BaseChatModel)"
LI_FLOOR = "LlamaIndex floor (no-op FunctionCallingLLM)"
LC_EMBED_FLOOR = "LangChain floor (no-op Embeddings)"
LI_EMBED_FLOOR = "LlamaIndex floor (no-op BaseEmbedding)"


# sync invoke: name -> factory(server) -> call()
def sync_clients() -> dict[str, Callable[[Server], Callable[[], Any]]]:
    def bare_httpx(server: Server) -> Callable[[], Any]:
        import httpx

        client = httpx.Client()
        url = _compat_url(server)
        payload = _core_request(PROMPT)
        headers = {"content-type": "application/json", "authorization": "Bearer dummy"}

        def call() -> Any:
            r = client.post(url, content=json.dumps(payload).encode(), headers=headers)
            return json.loads(r.content)["choices"][0]["message"]["content"]

        return call

    def chat_openai(server: Server) -> Callable[[], Any]:
        llm, msgs = make_chat_openai(server), _lc_messages(PROMPT)
        return lambda: llm.invoke(msgs).content

    def openai_like(server: Server) -> Callable[[], Any]:
        llm, msgs = make_openai_like(server), _li_messages(PROMPT)
        return lambda: llm.chat(msgs).message.content

    def core(server: Server) -> Callable[[], Any]:
        client, req = make_core(server), _core_request(PROMPT)
        return lambda: client.chat(req).text

    def lc_ours(server: Server) -> Callable[[], Any]:
        llm, msgs = make_lc_ours(server), _lc_messages(PROMPT)
        return lambda: llm.invoke(msgs).content

    def li_ours(server: Server) -> Callable[[], Any]:
        llm, msgs = make_li_ours(server), _li_messages(PROMPT)
        return lambda: llm.chat(msgs).message.content

    def lc_floor(server: Server) -> Callable[[], Any]:
        llm, msgs = make_lc_floor(server), _lc_messages(PROMPT)
        return lambda: llm.invoke(msgs).content

    def li_floor(server: Server) -> Callable[[], Any]:
        llm, msgs = make_li_floor(server), _li_messages(PROMPT)
        return lambda: llm.chat(msgs).message.content

    return {
        "httpx (bare)": bare_httpx,
        "ChatOpenAI": chat_openai,
        "OpenAILike": openai_like,
        "cfaig core": core,
        "ChatCloudflareAIGateway": lc_ours,
        "CloudflareAIGatewayLLM": li_ours,
        LC_FLOOR: lc_floor,
        LI_FLOOR: li_floor,
    }


# async invoke: name -> factory(server) -> (async call(), async close())
def async_clients() -> dict[str, Callable[[Server], tuple[Callable[[], Any], Callable[[], Any]]]]:
    async def _noop() -> None:
        return None

    def bare_httpx(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
        import httpx

        client = httpx.AsyncClient()
        url, payload = _compat_url(server), _core_request(PROMPT)
        headers = {"content-type": "application/json", "authorization": "Bearer dummy"}

        async def call() -> Any:
            r = await client.post(url, content=json.dumps(payload).encode(), headers=headers)
            return json.loads(r.content)["choices"][0]["message"]["content"]

        return call, client.aclose

    def bare_aiohttp(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
        import aiohttp

        session: list[Any] = []
        url, payload = _compat_url(server), _core_request(PROMPT)
        headers = {"content-type": "application/json", "authorization": "Bearer dummy"}

        async def call() -> Any:
            if not session:
                session.append(aiohttp.ClientSession())
            async with session[0].post(url, data=json.dumps(payload).encode(), headers=headers) as r:
                return json.loads(await r.read())["choices"][0]["message"]["content"]

        async def close() -> None:
            if session:
                await session[0].close()

        return call, close

    def chat_openai(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
        llm, msgs = make_chat_openai(server), _lc_messages(PROMPT)

        async def call() -> Any:
            return (await llm.ainvoke(msgs)).content

        return call, _noop

    def openai_like(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
        llm, msgs = make_openai_like(server), _li_messages(PROMPT)

        async def call() -> Any:
            return (await llm.achat(msgs)).message.content

        return call, _noop

    def core_with(**kw: Any) -> Callable[[Server], tuple[Callable[[], Any], Callable[[], Any]]]:
        def factory(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
            extra = {k: v() for k, v in kw.items()}
            client, req = make_core_async(server, **extra), _core_request(PROMPT)

            async def call() -> Any:
                return (await client.chat(req)).text

            return call, client.aclose

        return factory

    def _aiohttp_transport() -> Any:
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport()

    def _tuned_httpx_transport() -> Any:
        import httpx

        # see README "async transport": fewer, fully reused connections keep httpcore's pool scan short
        return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=20, max_keepalive_connections=20))

    def lc_ours(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
        llm, msgs = make_lc_ours(server), _lc_messages(PROMPT)

        async def call() -> Any:
            return (await llm.ainvoke(msgs)).content

        return call, _noop

    def li_ours(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
        llm, msgs = make_li_ours(server), _li_messages(PROMPT)

        async def call() -> Any:
            return (await llm.achat(msgs)).message.content

        return call, _noop

    def lc_floor(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
        llm, msgs = make_lc_floor(server), _lc_messages(PROMPT)

        async def call() -> Any:
            return (await llm.ainvoke(msgs)).content

        return call, _noop

    def li_floor(server: Server) -> tuple[Callable[[], Any], Callable[[], Any]]:
        llm, msgs = make_li_floor(server), _li_messages(PROMPT)

        async def call() -> Any:
            return (await llm.achat(msgs)).message.content

        return call, _noop

    return {
        "httpx (bare)": bare_httpx,
        "aiohttp (bare)": bare_aiohttp,
        "ChatOpenAI": chat_openai,
        "OpenAILike": openai_like,
        "cfaig core": core_with(),
        "cfaig core + AiohttpTransport": core_with(transport=_aiohttp_transport),
        "cfaig core + httpx pool 20": core_with(transport=_tuned_httpx_transport),
        "ChatCloudflareAIGateway": lc_ours,
        "CloudflareAIGatewayLLM": li_ours,
        LC_FLOOR: lc_floor,
        LI_FLOOR: li_floor,
    }


# stream: name -> factory(server, k) -> fn() returning an iterator of chunks
def stream_clients() -> dict[str, Callable[[Server, int], Callable[[], Any]]]:
    def bare_httpx(server: Server, k: int) -> Callable[[], Any]:
        import httpx

        client = httpx.Client()
        url = _compat_url(server)
        payload = {**_core_request(f"__stream_chunks__ {k}"), "stream": True, "stream_options": {"include_usage": True}}
        headers = {"content-type": "application/json", "authorization": "Bearer dummy"}

        def gen() -> Any:
            with client.stream("POST", url, content=json.dumps(payload).encode(), headers=headers) as r:
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        data = line[6:]
                        if data == "[DONE]":
                            break
                        yield json.loads(data)

        return gen

    def chat_openai(server: Server, k: int) -> Callable[[], Any]:
        llm, msgs = make_chat_openai(server), _lc_messages(f"__stream_chunks__ {k}")
        return lambda: llm.stream(msgs)

    def openai_like(server: Server, k: int) -> Callable[[], Any]:
        llm, msgs = make_openai_like(server), _li_messages(f"__stream_chunks__ {k}")
        return lambda: llm.stream_chat(msgs)

    def core(server: Server, k: int) -> Callable[[], Any]:
        client, req = make_core(server), _core_request(f"__stream_chunks__ {k}")
        return lambda: client.stream_chat(req)

    def lc_ours(server: Server, k: int) -> Callable[[], Any]:
        llm, msgs = make_lc_ours(server), _lc_messages(f"__stream_chunks__ {k}")
        return lambda: llm.stream(msgs)

    def li_ours(server: Server, k: int) -> Callable[[], Any]:
        llm, msgs = make_li_ours(server), _li_messages(f"__stream_chunks__ {k}")
        return lambda: llm.stream_chat(msgs)

    def lc_floor(server: Server, k: int) -> Callable[[], Any]:
        llm, msgs = make_lc_floor(server), _lc_messages(f"__stream_chunks__ {k}")
        return lambda: llm.stream(msgs)

    def li_floor(server: Server, k: int) -> Callable[[], Any]:
        llm, msgs = make_li_floor(server), _li_messages(f"__stream_chunks__ {k}")
        return lambda: llm.stream_chat(msgs)

    return {
        "httpx (bare)": bare_httpx,
        "ChatOpenAI": chat_openai,
        "OpenAILike": openai_like,
        "cfaig core": core,
        "ChatCloudflareAIGateway": lc_ours,
        "CloudflareAIGatewayLLM": li_ours,
        LC_FLOOR: lc_floor,
        LI_FLOOR: li_floor,
    }


# embeddings: name -> factory(server, batch) -> fn(texts) -> vectors
def embed_clients() -> dict[str, Callable[[Server, int], Callable[[list[str]], Any]]]:
    def bare_httpx(server: Server, batch: int) -> Callable[[list[str]], Any]:
        import httpx

        client = httpx.Client()
        url = f"{server.v1}/{ACCOUNT}/default/openai/embeddings"
        headers = {"content-type": "application/json", "authorization": "Bearer dummy"}

        def embed(texts: list[str]) -> Any:
            out: list[Any] = []
            for i in range(0, len(texts), batch):
                body = json.dumps({"model": "text-embedding-3-small", "input": texts[i : i + batch]}).encode()
                r = client.post(url, content=body, headers=headers)
                out.extend(item["embedding"] for item in json.loads(r.content)["data"])
            return out

        return embed

    def openai_embeddings(server: Server, batch: int) -> Callable[[list[str]], Any]:
        from langchain_openai import OpenAIEmbeddings

        emb = OpenAIEmbeddings(
            model="text-embedding-3-small", base_url=server.v1, api_key="dummy", check_embedding_ctx_length=False
        )
        return emb.embed_documents

    def openai_embedding_li(server: Server, batch: int) -> Callable[[list[str]], Any]:
        from llama_index.embeddings.openai import OpenAIEmbedding

        emb = OpenAIEmbedding(model="text-embedding-3-small", api_base=server.v1, api_key="dummy")
        return emb.get_text_embedding_batch

    def core(server: Server, batch: int) -> Callable[[list[str]], Any]:
        client = make_core(server)

        def embed(texts: list[str]) -> Any:
            out: list[Any] = []
            for i in range(0, len(texts), batch):
                out.extend(client.embed({"model": EMBED_MODEL, "input": texts[i : i + batch]}).vectors)
            return out

        return embed

    def lc_ours(server: Server, batch: int) -> Callable[[list[str]], Any]:
        from langchain_cfaig import CloudflareAIGatewayEmbeddings

        emb = CloudflareAIGatewayEmbeddings(account_id=ACCOUNT, base_url=server.v1, model=EMBED_MODEL)
        return emb.embed_documents

    def li_ours(server: Server, batch: int) -> Callable[[list[str]], Any]:
        from llamaindex_cfaig import CloudflareAIGatewayEmbedding

        emb = CloudflareAIGatewayEmbedding(account_id=ACCOUNT, base_url=server.v1, model=EMBED_MODEL)
        return emb.get_text_embedding_batch

    def lc_floor(server: Server, batch: int) -> Callable[[list[str]], Any]:
        from floors import NoopEmbeddings

        return NoopEmbeddings().embed_documents

    def li_floor(server: Server, batch: int) -> Callable[[list[str]], Any]:
        from floors import NoopEmbedding

        return NoopEmbedding().get_text_embedding_batch

    return {
        "httpx (bare)": bare_httpx,
        "OpenAIEmbeddings": openai_embeddings,
        "OpenAIEmbedding (LI)": openai_embedding_li,
        "cfaig core": core,
        "CloudflareAIGatewayEmbeddings": lc_ours,
        "CloudflareAIGatewayEmbedding": li_ours,
        LC_EMBED_FLOOR: lc_floor,
        LI_EMBED_FLOOR: li_floor,
    }


CLASS_IMPORTS = {
    "langchain": ("first use: ChatCloudflareAIGateway", "first use: ChatOpenAI"),
    "llamaindex": ("first use: CloudflareAIGatewayLLM", "first use: OpenAILike"),
}
"""The cold-import rows compared in the ratios and targets: a class's first use, ours vs the peer's."""
BASE_IMPORTS = {
    "langchain": "base class: langchain_core BaseChatModel",
    "llamaindex": "base class: llama_index FunctionCallingLLM",
}
"""The cold-import rows of the frameworks' base classes: ours may cost at most 150 ms more."""

IMPORTS = {
    "httpx (bare)": "httpx",
    "aiohttp (bare)": "aiohttp",
    "cfaig core": "cfaig",
    # package imports are not alike: ours are lazy (no class loaded), the peers' load their classes
    "langchain_openai (package: loads ChatOpenAI)": "langchain_openai",
    "llama_index.llms.openai_like (package: loads OpenAILike)": "llama_index.llms.openai_like",
    "langchain_cfaig (package only: lazy, no class)": "langchain_cfaig",
    "llamaindex_cfaig (package only: lazy, no class)": "llamaindex_cfaig",
    # like with like: what a program pays on first use of a class, ours and the peers'
    "cfaig: from cfaig import GatewayClient": "from cfaig import AsyncGatewayClient, GatewayClient",
    CLASS_IMPORTS["langchain"][0]: "from langchain_cfaig import ChatCloudflareAIGateway",
    CLASS_IMPORTS["langchain"][1]: "from langchain_openai import ChatOpenAI",
    CLASS_IMPORTS["llamaindex"][0]: "from llamaindex_cfaig import CloudflareAIGatewayLLM",
    CLASS_IMPORTS["llamaindex"][1]: "from llama_index.llms.openai_like import OpenAILike",
    # the framework's own base class: what any integration pays before its first line
    BASE_IMPORTS["langchain"]: "from langchain_core.language_models import BaseChatModel",
    BASE_IMPORTS["llamaindex"]: "from llama_index.core.llms.function_calling import FunctionCallingLLM",
}


def construct_clients() -> dict[str, Callable[[Server], Callable[[], Any]]]:
    def httpx_client(server: Server) -> Callable[[], Any]:
        import httpx

        # a shared TLS context, as the core does: a fresh one costs ~30 ms per client
        ctx = httpx.create_ssl_context()
        return lambda: httpx.Client(verify=ctx)

    return {
        "httpx.Client (bare)": httpx_client,
        "ChatOpenAI": lambda s: lambda: make_chat_openai(s),
        "OpenAILike": lambda s: lambda: make_openai_like(s),
        "cfaig core": lambda s: lambda: make_core(s),
        "ChatCloudflareAIGateway": lambda s: lambda: make_lc_ours(s),
        "CloudflareAIGatewayLLM": lambda s: lambda: make_li_ours(s),
    }


# --- measurement -----------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))]


@dataclass
class Row:
    workload: str
    client: str
    unit: str
    higher_is_better: bool
    samples: list[float] = field(default_factory=list)  # one per round
    latencies_ms: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    cpu_us: list[float] = field(default_factory=list)  # client CPU µs per unit (call, chunk, text), per sample

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def p99_ms(self) -> float:
        return pct(self.latencies_ms, 0.99)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


class Bench:
    def __init__(self, sizes: Sizes, server: Server, loop: asyncio.AbstractEventLoop, only: set[str] | None) -> None:
        self.sizes = sizes
        self.server = server
        self.loop = loop
        self.only = only
        self.rows: dict[str, dict[str, Row]] = {}
        self.server_cpu: dict[str, dict[str, float]] = {}

    def wanted(self, workload: str) -> bool:
        return self.only is None or workload in self.only

    def _rows(self, workload: str, names: list[str], unit: str, hib: bool) -> dict[str, Row]:
        rows = {n: Row(workload, n, unit, hib) for n in names}
        self.rows[workload] = rows
        return rows

    def _server_window(self, workload: str, client: str, fn: Callable[[], Any]) -> Any:
        s0, t0 = self.server.stats(), perf()
        out = fn()
        s1, dt = self.server.stats(), perf() - t0
        frac = (s1["cpu"] - s0["cpu"]) / dt
        prev = self.server_cpu.setdefault(workload, {})
        prev[client] = max(prev.get(client, 0.0), frac)
        return out

    @staticmethod
    def _setup(rows: dict[str, Row], name: str, factory: Callable[[], Any]) -> Any:
        try:
            return factory()
        except Exception as exc:
            rows[name].skipped = _reason(exc)
            print(f"  skip {name}: {rows[name].skipped}", flush=True)
            return None

    # sequential sync invoke
    def sync_invoke(self) -> None:
        n = self.sizes.sync_calls
        clients = sync_clients()
        rows = self._rows("sync invoke", list(clients), "ms/call", False)
        calls = {name: self._setup(rows, name, lambda f=f: f(self.server)) for name, f in clients.items()}
        for name, call in calls.items():  # warm-up (connections, lazy imports, caches)
            if call is not None:
                try:
                    for _ in range(20):
                        call()
                except Exception as exc:
                    rows[name].skipped = _reason(exc)
                    calls[name] = None
                    print(f"  skip {name}: {rows[name].skipped}", flush=True)
        block = 50  # clients alternate every 50 calls: a burst of outside load hits every client alike
        for rnd in range(self.sizes.rounds):
            for _b in range(max(1, n // block)):
                for name, call in calls.items():
                    if call is None:
                        continue
                    lat = rows[name].latencies_ms

                    def run(call: Callable[[], Any] = call, lat: list[float] = lat, row: Row = rows[name]) -> float:
                        c_start, t_start = cpu(), perf()
                        for _ in range(block):
                            t0 = perf()
                            call()
                            lat.append((perf() - t0) * 1e3)
                        row.cpu_us.append((cpu() - c_start) * 1e6 / block)
                        return (perf() - t_start) * 1e3 / block

                    rows[name].samples.append(self._server_window("sync invoke", name, run))
            print(
                f"  round {rnd + 1}: " + ", ".join(f"{k} {v.samples[-1]:.3f}" for k, v in rows.items() if v.samples),
                flush=True,
            )

    # async invoke at concurrency C
    def async_invoke(self) -> None:
        n, conc = self.sizes.async_calls, self.sizes.concurrency
        clients = async_clients()
        wl = f"async invoke c{conc}"
        rows = self._rows(wl, list(clients), "calls/s", True)
        calls: dict[str, Any] = {
            name: self._setup(rows, name, lambda f=f: f(self.server)) for name, f in clients.items()
        }

        async def drive(call: Callable[[], Any], total: int, lat: list[float] | None, row: Row | None = None) -> float:
            it = iter(range(total))
            c0 = cpu()

            async def worker() -> None:
                for _ in it:
                    t0 = perf()
                    await call()
                    if lat is not None:
                        lat.append((perf() - t0) * 1e3)

            t0 = perf()
            await asyncio.gather(*(worker() for _ in range(conc)))
            rate = total / (perf() - t0)
            if row is not None:
                row.cpu_us.append((cpu() - c0) * 1e6 / total)
            return rate

        for name, pair in calls.items():
            if pair is None:
                continue
            try:
                self.loop.run_until_complete(drive(pair[0], conc * 2, None))
            except Exception as exc:
                rows[name].skipped = _reason(exc)
                calls[name] = None
                print(f"  skip {name}: {rows[name].skipped}", flush=True)
        for rnd in range(self.sizes.rounds):
            for name, pair in calls.items():
                if pair is None:
                    continue
                row = rows[name]
                gc.collect()
                row.samples.append(
                    self._server_window(
                        wl, name, lambda: self.loop.run_until_complete(drive(pair[0], n, row.latencies_ms, row))
                    )
                )
            print(
                f"  round {rnd + 1}: " + ", ".join(f"{k} {v.samples[-1]:.0f}" for k, v in rows.items() if v.samples),
                flush=True,
            )
        for name, pair in calls.items():
            if pair is not None:
                try:
                    self.loop.run_until_complete(pair[1]())
                except Exception:
                    pass

    # one long stream
    def stream(self) -> None:
        k = self.sizes.stream_chunks
        clients = stream_clients()
        wl = f"stream {k} chunks"
        rows = self._rows(wl, list(clients), "chunks/s", True)
        fns = {name: self._setup(rows, name, lambda f=f: f(self.server, k)) for name, f in clients.items()}
        for name, fn in fns.items():  # warm-up with a short stream
            if fn is None:
                continue
            try:
                for _ in fn():
                    pass
            except Exception as exc:
                rows[name].skipped = _reason(exc)
                fns[name] = None
                print(f"  skip {name}: {rows[name].skipped}", flush=True)
        for rnd in range(self.sizes.rounds):
            for _ in range(self.sizes.stream_repeats):
                for name, fn in fns.items():
                    if fn is None:
                        continue
                    row = rows[name]

                    def run(fn: Callable[[], Any] = fn, row: Row = row) -> float:
                        c0, t0 = cpu(), perf()
                        first = None
                        count = 0
                        for _chunk in fn():
                            if first is None:
                                first = perf()
                            count += 1
                        dt = perf() - t0
                        row.cpu_us.append((cpu() - c0) * 1e6 / k)
                        row.latencies_ms.append(((first or perf()) - t0) * 1e3)  # time to first chunk
                        row.extra["items_yielded"] = count
                        return k / dt

                    gc.collect()
                    row.samples.append(self._server_window(wl, name, run))
            print(
                f"  round {rnd + 1}: " + ", ".join(f"{k_} {v.samples[-1]:.0f}" for k_, v in rows.items() if v.samples),
                flush=True,
            )

    def embeddings(self) -> None:
        n, batch = self.sizes.embed_texts, self.sizes.embed_batch
        texts = [f"short text number {i}" for i in range(n)]
        clients = embed_clients()
        wl = f"embeddings {n} texts"
        rows = self._rows(wl, list(clients), "texts/s", True)
        fns = {name: self._setup(rows, name, lambda f=f: f(self.server, batch)) for name, f in clients.items()}
        for name, fn in fns.items():
            if fn is None:
                continue
            try:
                vecs = fn(texts[:50])
                assert len(vecs) == 50 and len(vecs[0]) > 0, "wrong number of vectors"
                rows[name].extra["dim"] = len(vecs[0])
            except Exception as exc:
                rows[name].skipped = _reason(exc)
                fns[name] = None
                print(f"  skip {name}: {rows[name].skipped}", flush=True)
        for rnd in range(self.sizes.rounds):
            for name, fn in fns.items():
                if fn is None:
                    continue
                row = rows[name]

                def run(fn: Callable[[list[str]], Any] = fn, row: Row = row) -> float:
                    c0, t0 = cpu(), perf()
                    vecs = fn(texts)
                    dt = perf() - t0
                    row.cpu_us.append((cpu() - c0) * 1e6 / n)
                    assert len(vecs) == n
                    row.latencies_ms.append(dt * 1e3)
                    return n / dt

                gc.collect()
                row.samples.append(self._server_window(wl, name, run))
            print(
                f"  round {rnd + 1}: " + ", ".join(f"{k} {v.samples[-1]:.0f}" for k, v in rows.items() if v.samples),
                flush=True,
            )

    def imports(self) -> None:
        rows = self._rows("cold import", list(IMPORTS), "s", False)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(EXTRA_PATHS + [os.environ.get("PYTHONPATH", "")])}
        for _rep in range(self.sizes.import_reps):
            for name, mod in IMPORTS.items():
                if rows[name].skipped:
                    continue
                t0, c0 = perf(), _children_cpu()
                proc = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        mod
                        if mod.startswith("from ")
                        else f"import {mod} as m; assert getattr(m, '__file__', None), 'namespace package only'",
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                dt, child_cpu = perf() - t0, _children_cpu() - c0
                if proc.returncode != 0:
                    rows[name].skipped = (proc.stderr.strip().splitlines() or ["failed"])[-1][:160]
                    print(f"  skip {name}: {rows[name].skipped}", flush=True)
                    continue
                rows[name].samples.append(dt)
                rows[name].cpu_us.append(child_cpu * 1e6)  # the child's own CPU: what load on the machine spares
        # the interpreter alone, to subtract if wanted
        t = []
        for _ in range(self.sizes.import_reps):
            t0 = perf()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            t.append(perf() - t0)
        self.rows["cold import"]["(python -c pass)"] = Row("cold import", "(python -c pass)", "s", False, t)
        print("  " + ", ".join(f"{k} {v.median:.3f}" for k, v in rows.items() if v.samples), flush=True)

    def construction(self) -> None:
        n = self.sizes.construct_n
        clients = construct_clients()
        rows = self._rows("construction", list(clients), "µs", False)
        fns = {name: self._setup(rows, name, lambda f=f: f(self.server)) for name, f in clients.items()}
        for name, fn in fns.items():
            if fn is None:
                continue
            try:
                fn()
            except Exception as exc:
                rows[name].skipped = _reason(exc)
                fns[name] = None
                print(f"  skip {name}: {rows[name].skipped}", flush=True)
        for _rnd in range(self.sizes.rounds):
            for name, fn in fns.items():
                if fn is None:
                    continue
                times = []
                keep = []
                deadline = perf() + 10.0  # a slow constructor gets fewer samples, not minutes
                for _ in range(n):
                    if perf() > deadline:
                        break
                    t0 = time.perf_counter_ns()
                    obj = fn()
                    times.append((time.perf_counter_ns() - t0) / 1e3)
                    keep.append(obj)
                    if len(keep) > 50:
                        keep.clear()
                rows[name].samples.append(statistics.median(times))
                rows[name].latencies_ms.extend(t / 1e3 for t in times)
        print("  " + ", ".join(f"{k} {v.median:.1f}" for k, v in rows.items() if v.samples), flush=True)

    def rss(self) -> None:
        n1, n2 = self.sizes.rss_points
        rows = self._rows("RSS", ["cfaig core", "ChatCloudflareAIGateway", "CloudflareAIGatewayLLM"], "MB", False)
        for name, kind in (("cfaig core", "core"), ("ChatCloudflareAIGateway", "lc"), ("CloudflareAIGatewayLLM", "li")):
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--rss-child",
                    kind,
                    "--port",
                    str(self.server.port),
                    "--rss-points",
                    f"{n1},{n2}",
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                rows[name].skipped = (proc.stderr.strip().splitlines() or ["failed"])[-1][:160]
                print(f"  skip {name}: {rows[name].skipped}", flush=True)
                continue
            data = json.loads(proc.stdout.strip().splitlines()[-1])
            rows[name].samples = [data["rss_n1_mb"], data["rss_n2_mb"]]
            rows[name].extra = data
            print(f"  {name}: {data}", flush=True)


def rss_child(kind: str, port: int, n1: int, n2: int) -> None:
    server = Server.__new__(Server)
    server.port, server.root, server.v1 = port, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/v1"
    if kind == "core":
        client, req = make_core(server), _core_request(PROMPT)

        def call() -> Any:
            return client.chat(req).text
    elif kind == "lc":
        llm, msgs = make_lc_ours(server), _lc_messages(PROMPT)

        def call() -> Any:
            return llm.invoke(msgs).content
    else:
        llm, msgs = make_li_ours(server), _li_messages(PROMPT)

        def call() -> Any:
            return llm.chat(msgs).message.content

    def rss_mb() -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    for _ in range(50):
        call()
    base = rss_mb()
    for _ in range(n1):
        call()
    gc.collect()
    r1 = rss_mb()
    for _ in range(n2 - n1):
        call()
    gc.collect()
    r2 = rss_mb()
    print(
        json.dumps(
            {
                "rss_start_mb": base,
                "rss_n1_mb": r1,
                "rss_n2_mb": r2,
                "n1": n1,
                "n2": n2,
                "growth_pct": (r2 - r1) / r1 * 100,
            }
        )
    )


# --- reporting -------------------------------------------------------------------------------------


def _get(bench: Bench, workload_prefix: str, client: str) -> float | None:
    for wl, rows in bench.rows.items():
        if wl.startswith(workload_prefix) and client in rows and rows[client].samples and not rows[client].skipped:
            return rows[client].median
    return None


@dataclass(frozen=True)
class LimitPath:
    """A path compared against its limit: client CPU per unit, ``limit = bare transport + framework floor``."""

    label: str
    workload: str  # prefix of the workload name
    bare: str
    unit: str
    floors: dict[str, str]  # framework -> its no-op floor row
    target: float | None  # at most this many times the limit (None: reported only)


FRAMEWORK_OF = {
    "ChatCloudflareAIGateway": "LangChain",
    "ChatOpenAI": "LangChain",
    "CloudflareAIGatewayEmbeddings": "LangChain",
    "OpenAIEmbeddings": "LangChain",
    "CloudflareAIGatewayLLM": "LlamaIndex",
    "OpenAILike": "LlamaIndex",
    "CloudflareAIGatewayEmbedding": "LlamaIndex",
    "OpenAIEmbedding (LI)": "LlamaIndex",
}
PEER_OF = {
    "ChatCloudflareAIGateway": "ChatOpenAI",
    "CloudflareAIGatewayLLM": "OpenAILike",
    "CloudflareAIGatewayEmbeddings": "OpenAIEmbeddings",
    "CloudflareAIGatewayEmbedding": "OpenAIEmbedding (LI)",
}
OURS = ("cfaig core", *PEER_OF)
CHAT_FLOORS = {"LangChain": LC_FLOOR, "LlamaIndex": LI_FLOOR}
LIMIT_PATHS = [
    LimitPath("sync call", "sync invoke", "httpx (bare)", "µs/call", CHAT_FLOORS, 1.1),
    LimitPath("async call", "async invoke", "aiohttp (bare)", "µs/call", CHAT_FLOORS, 1.2),
    LimitPath("per streamed chunk", "stream", "httpx (bare)", "µs/chunk", CHAT_FLOORS, 1.2),
    LimitPath(
        "per embedded text",
        "embeddings",
        "httpx (bare)",
        "µs/text",
        {"LangChain": LC_EMBED_FLOOR, "LlamaIndex": LI_EMBED_FLOOR},
        None,
    ),
]


def _cpu_rows(bench: Bench, prefix: str) -> dict[str, Row]:
    for wl, rows in bench.rows.items():
        if wl.startswith(prefix):
            return {n: r for n, r in rows.items() if r.cpu_us and not r.skipped}
    return {}


def limit_ratio(rows: dict[str, Row], client: str, bare: str, floor: str | None) -> tuple[float, float, float] | None:
    """(client CPU, limit CPU, ratio): medians of the per-sample ratios (samples are interleaved, so a burst
    of outside load hits the client, the bare transport and the floor of one sample alike)."""
    if client not in rows or bare not in rows or (floor is not None and floor not in rows):
        return None
    mine, base = rows[client].cpu_us, rows[bare].cpu_us
    extra = rows[floor].cpu_us if floor is not None else [0.0] * len(base)
    ours_med = statistics.median(mine)
    limit_med = statistics.median(base) + statistics.median(extra)
    if len(mine) == len(base) == len(extra):
        ratio = statistics.median(m / (b + f) for m, b, f in zip(mine, base, extra))
    else:
        ratio = ours_med / limit_med
    return ours_med, limit_med, ratio


def limits_table(bench: Bench) -> list[str]:
    lines = [
        "| path | client | CPU | limit (bare + floor) | vs limit | peer CPU | vs peer |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for path in LIMIT_PATHS:
        rows = _cpu_rows(bench, path.workload)
        if path.bare not in rows:
            continue
        floors = set(path.floors.values())
        for name, row in rows.items():
            if name == path.bare or name in floors or name.startswith(("httpx", "aiohttp")):
                continue
            framework = FRAMEWORK_OF.get(name)
            floor = path.floors.get(framework) if framework else None
            got = limit_ratio(rows, name, path.bare, floor)
            if got is None:
                continue
            mine, limit, ratio = got
            base = statistics.median(rows[path.bare].cpu_us)
            floor_txt = f" + {statistics.median(rows[floor].cpu_us):,.1f}" if floor else " + 0"
            peer = PEER_OF.get(name)
            peer_cpu = vs_peer = ""
            if peer in rows:
                p = statistics.median(rows[peer].cpu_us)
                peer_cpu, vs_peer = f"{p:,.1f}", f"{mine / p:.2f}x"
            lines.append(
                f"| {path.label} ({path.unit}) | {name} | {mine:,.1f} | {limit:,.1f} = {base:,.1f}{floor_txt} "
                f"| {ratio:.2f}x | {peer_cpu} | {vs_peer} |"
            )
    return lines


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _import_overheads(bench: Bench) -> list[tuple[str, float, float]]:
    """(framework, our class's first-use import, its base class's import), seconds of the child's CPU (the
    median over repetitions; wall time when CPU was not measured): CPU, unlike wall time, does not grow when
    other work shares the machine."""
    out = []
    rows = bench.rows.get("cold import", {})
    for framework, base in BASE_IMPORTS.items():
        a, b = rows.get(CLASS_IMPORTS[framework][0]), rows.get(base)
        if a is None or b is None or not a.samples or not b.samples or a.skipped or b.skipped:
            continue
        if a.cpu_us and b.cpu_us:
            out.append((framework, statistics.median(a.cpu_us) / 1e6, statistics.median(b.cpu_us) / 1e6))
        else:
            out.append((framework, a.median, b.median))
    return out


def targets(bench: Bench) -> list[tuple[str, str, str, float | None, str]]:
    """(target, status, detail, value, rule) per target."""
    out = []
    for path in LIMIT_PATHS:
        rows = _cpu_rows(bench, path.workload)
        if path.target is None:
            continue
        for name in PEER_OF:
            framework = FRAMEWORK_OF[name]
            got = limit_ratio(rows, name, path.bare, path.floors[framework])
            if got is None:
                continue
            r = got[2]
            out.append(
                (
                    f"{path.label} CPU: {name} <= {path.target}x limit",
                    "PASS" if r <= path.target else "MISS",
                    f"{got[0]:,.1f} / ({path.bare} + {framework} floor = {got[1]:,.1f}) {path.unit} = {r:.2f}x",
                    r,
                    f"<= {path.target}x",
                )
            )
    for framework, ours, base in _import_overheads(bench):
        over = (ours - base) * 1e3
        out.append(
            (
                f"cold import (child CPU), {framework} class <= 150 ms over its base class",
                "PASS" if over <= 150 else "MISS",
                f"{ours * 1e3:.0f} ms - {base * 1e3:.0f} ms = {over:+.0f} ms",
                over,
                "<= 150 ms",
            )
        )

    def ratio(wl: str, a: str, b: str, op: str, limit: float, label: str, invert: bool = False) -> None:
        va, vb = _get(bench, wl, a), _get(bench, wl, b)
        if va is None or vb is None:
            missing = a if va is None else b
            out.append((label, "N/A", f"{missing} not measured", None, f"{op} {limit}"))
            return
        r = va / vb
        ok = r <= limit if op == "<=" else r >= limit
        out.append((label, "PASS" if ok else "MISS", f"{a} / {b} = {r:.2f}x", r, f"{op} {limit}x"))

    ratio("sync invoke", "cfaig core", "httpx (bare)", "<=", 1.15, "sync per-call: core <= 1.15x bare httpx")
    ratio(
        "sync invoke",
        "ChatCloudflareAIGateway",
        "ChatOpenAI",
        "<=",
        0.5,
        "sync per-call: LangChain class <= 0.5x ChatOpenAI",
    )
    ratio(
        "sync invoke",
        "CloudflareAIGatewayLLM",
        "OpenAILike",
        "<=",
        0.5,
        "sync per-call: LlamaIndex class <= 0.5x OpenAILike",
    )
    ratio("async invoke", "cfaig core", "aiohttp (bare)", ">=", 0.7, "async c100 calls/s: core >= 0.7x bare aiohttp")
    ratio(
        "async invoke",
        "ChatCloudflareAIGateway",
        "ChatOpenAI",
        ">=",
        10,
        "async c100 calls/s: LangChain class >= 10x ChatOpenAI",
    )
    ratio(
        "async invoke",
        "CloudflareAIGatewayLLM",
        "OpenAILike",
        ">=",
        10,
        "async c100 calls/s: LlamaIndex class >= 10x OpenAILike",
    )
    ratio(
        "stream", "ChatCloudflareAIGateway", "ChatOpenAI", ">=", 3, "stream chunks/s: LangChain class >= 3x ChatOpenAI"
    )
    ratio(
        "stream",
        "cfaig core",
        "httpx (bare)",
        ">=",
        0.6,
        "stream chunks/s: core >= 0.6x bare httpx iter_lines+json.loads",
    )
    ratio(
        "embeddings",
        "CloudflareAIGatewayEmbeddings",
        "OpenAIEmbeddings",
        ">=",
        2,
        "embeddings texts/s: LangChain class >= 2x OpenAIEmbeddings",
    )
    ratio(
        "embeddings",
        "CloudflareAIGatewayEmbedding",
        "OpenAIEmbedding (LI)",
        ">=",
        2,
        "embeddings texts/s: LlamaIndex class >= 2x OpenAIEmbedding",
    )
    for name in ("CloudflareAIGatewayEmbeddings", "CloudflareAIGatewayEmbedding"):
        ratio("embeddings", name, "httpx (bare)", ">=", 0.9, f"embeddings texts/s: {name} >= 0.9x bare httpx")
    for framework, (ours, peer) in CLASS_IMPORTS.items():
        ratio("cold import", ours, peer, "<=", 0.7, f"cold import, {framework} class's first use <= 0.7x the peer's")
    v = _get(bench, "cold import", "cfaig core")
    out.append(
        (
            "import cfaig <= 150 ms",
            "N/A" if v is None else ("PASS" if v <= 0.150 else "MISS"),
            "not measured" if v is None else f"{v * 1e3:.0f} ms (incl. interpreter start)",
            v,
            "<= 150 ms",
        )
    )
    for name in ("cfaig core", "ChatCloudflareAIGateway", "CloudflareAIGatewayLLM"):
        v = _get(bench, "construction", name)
        out.append(
            (
                f"construction {name} <= 1 ms",
                "N/A" if v is None else ("PASS" if v <= 1000 else "MISS"),
                "not measured" if v is None else f"{v:.0f} µs",
                v,
                "<= 1000 µs",
            )
        )
    for name in ("cfaig core", "ChatCloudflareAIGateway", "CloudflareAIGatewayLLM"):
        row = bench.rows.get("RSS", {}).get(name)
        if row is None or not row.samples:
            out.append((f"RSS flat {name}", "N/A", "not measured", None, "within 5%"))
            continue
        g = row.extra["growth_pct"]
        out.append(
            (
                f"RSS flat {name} ({row.extra['n1']} -> {row.extra['n2']} calls)",
                "PASS" if abs(g) <= 5 else "MISS",
                f"{row.extra['rss_n1_mb']:.1f} -> {row.extra['rss_n2_mb']:.1f} MB ({g:+.1f}%)",
                g,
                "within 5%",
            )
        )
    return out


def render(bench: Bench, meta: dict[str, Any]) -> str:
    lines = ["# cfaig benchmark results", ""]
    lines.append(
        f"- {meta['when']} · {meta['mode']} · Python {meta['python']} · {meta['machine']} · {meta['cpus']} CPUs"
    )
    lines.append(
        f"- rounds: {bench.sizes.rounds} (clients interleaved A B A B); medians over rounds, p99 over all per-call latencies"
    )
    cap = meta.get("server_capacity", {})
    if cap:
        lines.append(
            f"- server capacity: raw-socket client c100 {cap['raw_c100_req_per_s']:.0f} req/s (server CPU {cap['raw_c100_server_cpu_frac'] * 100:.0f}%), "
            f"pipelined {cap['pipelined_req_per_s']:.0f} req/s; server CPU ceiling {cap['server_ceiling_req_per_s']:.0f} req/s"
        )
    lines.append("")
    lines.append("| workload | client | median | unit | p99 | vs bare httpx | server CPU |")
    lines.append("|---|---|---:|---|---:|---:|---:|")
    for wl, rows in bench.rows.items():
        base = None
        for b in ("httpx (bare)", "httpx.Client (bare)"):
            if b in rows and rows[b].samples:
                base = rows[b].median
        for name, row in rows.items():
            if row.skipped or not row.samples:
                lines.append(f"| {wl} | {name} | skipped | | | | {row.skipped or 'not run'} |")
                continue
            med = row.median
            if wl == "RSS":
                lines.append(
                    f"| {wl} | {name} | {row.samples[0]:.1f} -> {row.samples[1]:.1f} | MB ({row.extra['n1']} -> {row.extra['n2']} calls) | | | {row.extra['growth_pct']:+.1f}% |"
                )
                continue
            fmt = (
                (lambda v: f"{v:,.3f}")
                if row.unit in ("ms/call", "s")
                else (lambda v: f"{v:,.1f}")
                if row.unit == "µs"
                else (lambda v: f"{v:,.0f}")
            )
            if wl.startswith("stream"):
                p99 = f"TTFC {statistics.median(row.latencies_ms):.2f} ms"
            elif wl.startswith("embeddings") or wl in ("cold import",):
                p99 = ""
            elif wl == "construction":
                p99 = f"{pct(row.latencies_ms, 0.99) * 1e3:.1f} µs"
            else:
                p99 = f"{row.p99_ms:.2f} ms"
            vs = ""
            if base and name not in ("httpx (bare)", "httpx.Client (bare)"):
                vs = f"{med / base:.2f}x"
            srv = bench.server_cpu.get(wl, {}).get(name)
            lines.append(
                f"| {wl} | {name} | {fmt(med)} | {row.unit} | {p99} | {vs} | {'' if srv is None else f'{srv * 100:.0f}%'} |"
            )
    lines.append("")
    lines.append("## Against the limit (client CPU per unit)")
    lines.append("")
    lines.append(
        "limit = the bare transport (httpx for sync and streams, aiohttp for async) + the framework floor (a no-op "
        "model of the framework, `benchmarks/floors.py`); CPU is this process's (`time.process_time`), the server "
        "being another; ratios are medians of per-round ratios (rounds interleave the clients)."
    )
    lines.append("")
    lines.extend(limits_table(bench))
    for framework, ours, base in _import_overheads(bench):
        lines.append(
            f"- cold import (child CPU), {framework}: {CLASS_IMPORTS[framework][0]} {ours * 1e3:.0f} ms vs "
            f"{BASE_IMPORTS[framework]} {base * 1e3:.0f} ms: {(ours - base) * 1e3:+.0f} ms"
        )
    lines.append("")
    lines.append("## Ratios")
    lines.append("")
    pairs = [
        ("sync invoke", "cfaig core", ["httpx (bare)"]),
        ("sync invoke", "ChatCloudflareAIGateway", ["ChatOpenAI", "httpx (bare)"]),
        ("sync invoke", "CloudflareAIGatewayLLM", ["OpenAILike", "httpx (bare)"]),
        ("async invoke", "cfaig core", ["httpx (bare)", "aiohttp (bare)"]),
        ("async invoke", "cfaig core + AiohttpTransport", ["cfaig core", "aiohttp (bare)"]),
        ("async invoke", "cfaig core + httpx pool 20", ["cfaig core", "aiohttp (bare)"]),
        ("async invoke", "ChatCloudflareAIGateway", ["ChatOpenAI"]),
        ("async invoke", "CloudflareAIGatewayLLM", ["OpenAILike"]),
        ("stream", "cfaig core", ["httpx (bare)"]),
        ("stream", "ChatCloudflareAIGateway", ["ChatOpenAI"]),
        ("stream", "CloudflareAIGatewayLLM", ["OpenAILike"]),
        ("embeddings", "cfaig core", ["httpx (bare)", "OpenAIEmbeddings"]),
        ("embeddings", "CloudflareAIGatewayEmbeddings", ["OpenAIEmbeddings"]),
        ("embeddings", "CloudflareAIGatewayEmbedding", ["OpenAIEmbedding (LI)"]),
        ("cold import", "cfaig core", ["httpx (bare)"]),
        *(("cold import", ours, [peer]) for ours, peer in CLASS_IMPORTS.values()),
        ("construction", "cfaig core", ["httpx.Client (bare)"]),
        ("construction", "ChatCloudflareAIGateway", ["ChatOpenAI"]),
        ("construction", "CloudflareAIGatewayLLM", ["OpenAILike"]),
    ]
    for wl, ours, others in pairs:
        va = _get(bench, wl, ours)
        for other in others:
            vb = _get(bench, wl, other)
            if va is None or vb is None:
                continue
            lines.append(f"- {wl}: {ours} / {other} = {va / vb:.2f}x")
    lines.append("")
    lines.append("## Targets")
    lines.append("")
    for label, status, detail, _v, rule in targets(bench):
        lines.append(f"- **{status}** {label} — {detail}")
    lines.append("")
    return "\n".join(lines)


def chart(bench: Bench, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [wl for wl in bench.rows if wl != "RSS"]
    cols = 3
    rows_n = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows_n, cols, figsize=(18, 5 * rows_n))
    flat = list(axes.flat) if hasattr(axes, "flat") else [axes]
    for ax, wl in zip(flat, panels):
        rows = [(n, r) for n, r in bench.rows[wl].items() if r.samples and not r.skipped]
        names = [n for n, _ in rows]
        vals = [r.median for _, r in rows]
        colors = [
            "#f6821f"
            if ("cfaig" in n.lower() or "cloudflare" in n.lower())
            else "#7f7f7f"
            if "bare" in n or "python" in n or "floor" in n
            else "#4c72b0"
            for n in names
        ]
        ax.barh(names, vals, color=colors)
        ax.invert_yaxis()
        unit = rows[0][1].unit if rows else ""
        hib = rows[0][1].higher_is_better if rows else True
        ax.set_title(f"{wl} ({unit}, {'higher' if hib else 'lower'} is better)")
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:,.3g}", va="center", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
    for ax in flat[len(panels) :]:
        ax.axis("off")
    fig.suptitle("cfaig benchmarks (orange: ours, blue: peers, grey: bare HTTP)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="~1-2 minute smoke run (fewer calls and rounds)")
    parser.add_argument("--rounds", type=int, help="override the number of interleaved rounds")
    parser.add_argument(
        "--only",
        help="comma-separated workloads: sync,async,stream,embed,import,construct,rss "
        "(with --sweeps: history,stream,tools,embed,async,threads)",
    )
    parser.add_argument(
        "--sweeps",
        action="store_true",
        help="run the scaling sweeps instead (benchmarks/sweeps.py): history, stream length, tools, embeddings, "
        "async concurrency, threads; writes scaling.md/.json/.png (--quick: small sizes)",
    )
    parser.add_argument("--dim", type=int, default=64, help="embedding dimension served (default 64)")
    parser.add_argument("--out", help=f"output directory (default {SCRATCH.relative_to(ROOT)}, untracked)")
    parser.add_argument(
        "--save",
        action="store_true",
        help=f"write the committed reference results, {RESULTS.relative_to(ROOT)} (a full run only)",
    )
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rss-points", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.save and (args.quick or args.only or args.rounds or args.out):
        parser.error(
            "--save replaces the committed reference results: a full run, without --quick/--only/--rounds/--out"
        )
    return args


def output_dir(args: argparse.Namespace) -> Path:
    """``--out``, else the committed results with ``--save``, else the untracked scratch folder."""
    return Path(args.out) if args.out else RESULTS if args.save else SCRATCH


def main() -> None:
    args = parse_arguments(sys.argv[1:])
    if args.rss_child:
        n1, n2 = (int(x) for x in args.rss_points.split(","))
        rss_child(args.rss_child, args.port, n1, n2)
        return

    if args.sweeps:
        import sweeps

        sweeps.main(output_dir(args), args.quick, set(args.only.split(",")) if args.only else None, args.dim)
        return
    sizes = QUICK if args.quick else FULL
    if args.rounds:
        sizes.rounds = args.rounds
    only = set(args.only.split(",")) if args.only else None
    out = output_dir(args)
    out.mkdir(parents=True, exist_ok=True)
    started = perf()
    server = Server(args.dim)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    meta: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "mode": "quick" if args.quick else "full",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "sizes": sizes.__dict__,
        "server_port": server.port,
    }
    bench = Bench(sizes, server, loop, None)
    try:
        print(f"server on port {server.port}; measuring its capacity ...", flush=True)
        meta["server_capacity"] = server_capacity(server, loop)
        print(f"  {meta['server_capacity']}", flush=True)
        steps = [
            ("sync", "sequential sync invoke", bench.sync_invoke),
            ("async", f"async invoke at concurrency {sizes.concurrency}", bench.async_invoke),
            ("stream", f"one stream of {sizes.stream_chunks} chunks", bench.stream),
            ("embed", f"embeddings of {sizes.embed_texts} texts", bench.embeddings),
            ("import", "cold import", bench.imports),
            ("construct", "construction", bench.construction),
            ("rss", "RSS over calls", bench.rss),
        ]
        for key, title, fn in steps:
            if only is not None and key not in only:
                continue
            print(f"== {title}", flush=True)
            t0 = perf()
            try:
                fn()
            except Exception:
                traceback.print_exc()
            print(f"   ({perf() - t0:.1f}s)", flush=True)
    finally:
        server.stop()
        loop.run_until_complete(loop.shutdown_asyncgens())  # closes the clients' per-loop pools
        loop.close()
    meta["elapsed_s"] = perf() - started
    report = render(bench, meta)
    print()
    print(report)
    (out / "results.md").write_text(report)
    payload = {
        "meta": meta,
        "server_cpu_frac": bench.server_cpu,
        "workloads": {
            wl: {
                name: {
                    "unit": r.unit,
                    "higher_is_better": r.higher_is_better,
                    "median": None if not r.samples else r.median,
                    "samples": r.samples,
                    "p99_ms": None if not r.latencies_ms else r.p99_ms,
                    "p50_ms": None if not r.latencies_ms else pct(r.latencies_ms, 0.5),
                    "extra": r.extra,
                    "skipped": r.skipped,
                    "cpu_us": r.cpu_us,
                }
                for name, r in rows.items()
            }
            for wl, rows in bench.rows.items()
        },
        "targets": [
            {"target": t, "status": s, "detail": d, "value": v, "rule": rule} for t, s, d, v, rule in targets(bench)
        ],
    }
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=str))
    try:
        chart(bench, out / "results.png")
    except Exception:
        traceback.print_exc()
    print(f"wrote {out / 'results.md'}, {out / 'results.json'}, {out / 'results.png'} in {meta['elapsed_s']:.0f}s")


if __name__ == "__main__":
    main()
