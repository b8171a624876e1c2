"""Checks that what ``pip install`` gives a user works: the three installed wheels, used as a user uses them.

Run it in a venv that holds the built wheels (not editable installs) and the frameworks from the registry::

    python scripts/smoke_installed.py

Against the gateway emulator on a loopback socket (an authenticated gateway, as production ones are):
a LangChain ``create_agent`` agent whose model calls a tool, a LlamaIndex ``FunctionAgent`` calling a tool,
a RAG query (``VectorStoreIndex`` over our embeddings, a query engine over our LLM) and, when vcrpy is
installed (the ``cfaig-core[vcr]`` extra), a cassette recorded and replayed with the gateway gone.
Every step asserts its outcome; the exit code is 0 only when all of them pass.
"""

from __future__ import annotations

import asyncio
import importlib.metadata as metadata
import importlib.util
import json
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from cfaig.testing import GatewayEmulator

REPO = Path(__file__).resolve().parent.parent
SOURCES = (REPO / "shared", REPO / "packages")  # where an editable install would import from
DISTRIBUTIONS = {"cfaig-core": "cfaig", "langchain-cfaig": "langchain_cfaig", "llama-index-cfaig": "llamaindex_cfaig"}
FRAMEWORKS = ["langchain-core", "langchain", "langgraph", "llama-index-core", "httpx", "pydantic", "aiohttp", "vcrpy"]
TOKEN = "smoke-cf-aig-token"


class Gateway(NamedTuple):
    """Where the steps send their requests: the emulator behind a loopback socket."""

    base_url: str
    account_id: str
    emulator: GatewayEmulator


class SmokeError(AssertionError):
    """A step ran but did not produce what a user expects."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeError(what)


def installed_from_wheels() -> str:
    """Each distribution is a regular install whose modules live outside this checkout, at one version."""
    versions = set()
    for dist, module in DISTRIBUTIONS.items():
        direct_url = json.loads(metadata.distribution(dist).read_text("direct_url.json") or "{}")
        expect(not direct_url.get("dir_info", {}).get("editable"), f"{dist} is an editable install")
        spec = importlib.util.find_spec(module)
        origin = Path(spec.origin) if spec is not None and spec.origin is not None else None
        expect(origin is not None, f"{module} is not importable")
        from_source = origin is not None and any(origin.is_relative_to(folder) for folder in SOURCES)
        expect(origin is not None and not from_source, f"{module} is imported from the source tree: {origin}")
        version = metadata.version(dist)
        expect(getattr(__import__(module), "__version__", None) == version, f"{module}.__version__ != {version}")
        versions.add(version)
    expect(len(versions) == 1, f"the three distributions disagree on the version: {sorted(versions)}")
    return f"{', '.join(DISTRIBUTIONS)} {versions.pop()}, not editable"


def langchain_agent(gateway: Gateway) -> str:
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from langchain_core.tools import tool

    from langchain_cfaig import ChatCloudflareAIGateway

    @tool
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return f"Order {order_id} shipped via DHL, tracking DHL-77812."

    model = ChatCloudflareAIGateway(
        model="openai/gpt-5-mini", account_id=gateway.account_id, base_url=gateway.base_url, cf_aig_token=TOKEN
    )
    agent = create_agent(model, tools=[get_order_status], system_prompt="You are a support agent.")
    question = HumanMessage("What is the status of order A-1042? Use the tool.")
    messages = agent.invoke({"messages": [question]})["messages"]
    calls = [call for message in messages for call in getattr(message, "tool_calls", None) or []]
    expect([call["name"] for call in calls] == ["get_order_status"], f"tool calls: {calls}")
    expect(any(m.type == "tool" and "DHL-77812" in m.text for m in messages), "no tool result in the messages")
    expect(messages[-1].type == "ai" and "DHL-77812" in messages[-1].text, f"final answer: {messages[-1]!r}")
    return f"{len(messages)} messages, tool called with {calls[0]['args']}"


def llamaindex_function_agent(gateway: Gateway) -> str:
    from llama_index.core.agent.workflow import AgentOutput, FunctionAgent, ToolCallResult
    from llama_index.core.tools import FunctionTool

    from llamaindex_cfaig import CloudflareAIGatewayLLM

    def multiply(a: int, b: int) -> int:
        """Multiply two integers and return the product."""
        return a * b

    async def run() -> tuple[list[ToolCallResult], str]:
        llm = CloudflareAIGatewayLLM(
            model="anthropic/claude-sonnet-4-5",
            account_id=gateway.account_id,
            base_url=gateway.base_url,
            cf_aig_token=TOKEN,
        )
        agent = FunctionAgent(tools=[FunctionTool.from_defaults(fn=multiply)], llm=llm, system_prompt="Use the tools.")
        handler = agent.run(user_msg="What is 6 multiplied by 7?")
        results = [event async for event in handler.stream_events() if isinstance(event, ToolCallResult)]
        output: AgentOutput = await handler
        await llm.async_client.aclose()
        return results, str(output.response.content)

    results, answer = asyncio.run(run())
    expect([r.tool_name for r in results] == ["multiply"], f"tool calls: {[r.tool_name for r in results]}")
    expect(results[0].tool_kwargs == {"a": 6, "b": 7}, f"tool arguments: {results[0].tool_kwargs}")
    expect(results[0].tool_output.content == "42", f"tool output: {results[0].tool_output.content}")
    expect("42" in answer, f"final answer: {answer!r}")
    return f"multiply{results[0].tool_kwargs} -> 42"


def llamaindex_rag(gateway: Gateway) -> str:
    from llama_index.core import Document, VectorStoreIndex

    from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

    settings: dict[str, Any] = {"account_id": gateway.account_id, "base_url": gateway.base_url, "cf_aig_token": TOKEN}
    docs = [
        Document(text="The Eiffel Tower in Paris is 330 metres tall.", doc_id="eiffel"),
        Document(text="Bananas are rich in potassium and grow in tropical climates.", doc_id="bananas"),
        Document(text="The Great Barrier Reef lies off the coast of Queensland, Australia.", doc_id="reef"),
    ]
    embed = CloudflareAIGatewayEmbedding(model_name="workers-ai/@cf/baai/bge-base-en-v1.5", **settings)
    llm = CloudflareAIGatewayLLM(model="openai/gpt-5-mini", **settings)
    index = VectorStoreIndex.from_documents(docs, embed_model=embed)
    response = index.as_query_engine(llm=llm, similarity_top_k=2).query("How tall is the Eiffel Tower in Paris?")
    embed.client.close()
    llm.client.close()
    expect(response.source_nodes[0].node.ref_doc_id == "eiffel", "the best source is not the Eiffel document")
    expect("330 metres" in str(response), f"answer: {str(response)!r}")
    return f"answered from {response.source_nodes[0].node.ref_doc_id!r}"


def cassette_round_trip(gateway: Gateway) -> str:
    """Record one chat through vcr_config() against the emulator, then replay it without reaching the gateway."""
    import vcr

    from cfaig import GatewayClient
    from cfaig.testing import vcr_config

    request = {"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "Hello from a cassette"}]}
    with tempfile.TemporaryDirectory() as folder:
        cassette = str(Path(folder) / "chat.yaml")
        with (
            vcr.VCR(**{**vcr_config(), "record_mode": "once"}).use_cassette(cassette),
            GatewayClient(account_id=gateway.account_id, base_url=gateway.base_url, cf_aig_token=TOKEN) as client,
        ):
            recorded = client.chat(request).text  # type: ignore[arg-type]
        text = Path(cassette).read_text()
        expect(TOKEN not in text and gateway.account_id not in text, "the cassette holds the token or account id")
        served = len(gateway.emulator.requests)
        with (
            vcr.VCR(**vcr_config()).use_cassette(cassette),  # replay only: an unrecorded request raises
            GatewayClient(account_id=gateway.account_id, base_url=gateway.base_url, cf_aig_token=TOKEN) as client,
        ):
            replayed = client.chat(request).text  # type: ignore[arg-type]
    expect(len(gateway.emulator.requests) == served, "the replay reached the gateway")
    expect(recorded == replayed and recorded.endswith("Hello from a cassette"), f"{recorded!r} vs {replayed!r}")
    return f"vcrpy {metadata.version('vcrpy')}: recorded, scrubbed, replayed"


def main() -> int:
    from cfaig.testing import EMULATOR_ACCOUNT_ID, GatewayEmulator, GatewaySettings, serve

    print(f"python {sys.version.split()[0]}; " + ", ".join(f"{n} {_version(n)}" for n in FRAMEWORKS), flush=True)
    steps: list[tuple[str, Callable[[Gateway], str]]] = [
        ("LangChain create_agent calls a tool", langchain_agent),
        ("LlamaIndex FunctionAgent calls a tool", llamaindex_function_agent),
        ("LlamaIndex RAG query", llamaindex_rag),
    ]
    if importlib.util.find_spec("vcr") is not None:
        steps.append(("vcr cassette round trip", cassette_round_trip))
    failures = 0
    try:
        print(f"ok   installed from wheels: {installed_from_wheels()}", flush=True)
    except Exception as exc:  # every failure is reported; the exit code says it
        failures += 1
        print(f"FAIL installed from wheels: {exc}", flush=True)
    emulator = GatewayEmulator(
        account_id=EMULATOR_ACCOUNT_ID,
        gateways={"default": GatewaySettings(authentication=True, cache_ttl=0)},
        tokens=(TOKEN,),
    )
    with serve(emulator) as server:
        gateway = Gateway(str(server.base_url), EMULATOR_ACCOUNT_ID, emulator)
        for name, step in steps:
            try:
                print(f"ok   {name}: {step(gateway)}", flush=True)
            except Exception:  # noqa: PERF203 - one report per step
                failures += 1
                print(f"FAIL {name}:\n{traceback.format_exc()}", flush=True)
    total = len(steps) + 1
    print(f"smoke: {total - failures} passed, {failures} failed", flush=True)
    return 1 if failures else 0


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


if __name__ == "__main__":
    sys.exit(main())
