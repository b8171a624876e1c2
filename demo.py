"""The main job: everything cfaig does, step by step, in one run.

    python3 run.py demo          # installs what it needs, then runs this file

With no Cloudflare credentials in the environment it runs against the project's own local gateway
emulator (on 127.0.0.1, deterministic fake models, no network). With ``CLOUDFLARE_ACCOUNT_ID`` and a
token (``CF_AIG_TOKEN``, or ``CLOUDFLARE_API_TOKEN`` for the REST surface) it runs against your gateway:
its models need provider keys stored in the gateway (BYOK) or Unified Billing, or a provider key in
``CF_AIG_PROVIDER_API_KEY``. A free probe runs first; a gateway that cannot be reached stops the demo with
one message. Models for a real run: ``CFAIG_DEMO_MODEL`` and ``CFAIG_DEMO_ALT_MODEL``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parent
DOCS = ROOT / "examples" / "data"


EMULATED = (
    "Emulated here: the gateway (auth, cache, logs, fallbacks, errors) and every model (replies echo the prompt; "
    "tool arguments come from the prompt or are placeholders). A real gateway needs CLOUDFLARE_ACCOUNT_ID and "
    "CF_AIG_TOKEN, and provider keys stored in it (BYOK) or Unified Billing, or a provider key in "
    "CF_AIG_PROVIDER_API_KEY."
)


class Setup(BaseModel):
    """Where the demo runs and with which models."""

    where: str
    note: str
    fields: dict[str, Any]
    model: str
    alt_model: str
    embed_model: str
    emulator: Any = None


class CityFacts(BaseModel):
    """Facts about a city."""

    city: str = Field(description="the city's name")
    country: str = Field(description="the country it is in")
    population_millions: float = Field(description="population in millions")


@contextlib.contextmanager
def gateway() -> Iterator[Setup]:
    """The user's gateway when credentials are set, else the local emulator served on loopback."""
    account = os.environ.get("CLOUDFLARE_ACCOUNT_ID")
    token = os.environ.get("CF_AIG_TOKEN") or os.environ.get("CLOUDFLARE_API_TOKEN")
    if account and token:
        # CF_AIG_SURFACE=rest|gateway picks the surface (read by cfaig itself); a CLOUDFLARE_API_TOKEN alone means REST.
        surface = os.environ.get("CF_AIG_SURFACE") or ("rest" if not os.environ.get("CF_AIG_TOKEN") else "gateway")
        gateway_id = os.environ.get("CLOUDFLARE_GATEWAY_ID", "default")
        key = (
            "a provider key from CF_AIG_PROVIDER_API_KEY"
            if os.environ.get("CF_AIG_PROVIDER_API_KEY")
            else (
                "no provider key (CF_AIG_PROVIDER_API_KEY unset): the models need keys stored in the gateway or "
                "Unified Billing"
            )
        )
        yield Setup(
            where=f"your Cloudflare AI Gateway (account {account[:6]}…, gateway '{gateway_id}', surface {surface})",
            note=f"Real requests, billed by your providers, with {key}.",
            fields={"surface": surface},
            model=os.environ.get("CFAIG_DEMO_MODEL", "workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
            alt_model=os.environ.get("CFAIG_DEMO_ALT_MODEL", "openai/gpt-5-mini"),
            embed_model=os.environ.get("CFAIG_DEMO_EMBED_MODEL", "workers-ai/@cf/baai/bge-base-en-v1.5"),
        )
        return
    from cfaig.testing import EMULATOR_ACCOUNT_ID, EMULATOR_TOKEN, GatewayEmulator, serve

    emulator = GatewayEmulator()
    with serve(emulator) as server:
        yield Setup(
            where=f"the local gateway emulator at {server.base_url} (no CLOUDFLARE_ACCOUNT_ID/token set; "
            "deterministic fake models, nothing leaves this machine)",
            note=EMULATED,
            fields={
                "account_id": EMULATOR_ACCOUNT_ID,
                "cf_aig_token": EMULATOR_TOKEN,  # Workers AI routes authenticate with the Cloudflare token
                "base_url": server.base_url,
                "api_base_url": server.api_base_url,
            },
            model="openai/gpt-5-mini",
            alt_model="anthropic/claude-sonnet-4-5",
            embed_model="workers-ai/@cf/baai/bge-base-en-v1.5",
            emulator=emulator,
        )


class GatewayUnreachableError(Exception):
    """The gateway cannot be reached at all: every further step would fail the same way."""


class Demo:
    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.results: list[tuple[str, str, float]] = []
        self.steps = 10

    def step(self, title: str, body: Callable[[], str]) -> None:
        from cfaig.errors import GatewayConnectionError, GatewayTimeoutError

        number = len(self.results) + 1
        print(f"\n[{number}/{self.steps}] {title}")
        started = time.perf_counter()
        try:
            outcome = body()
        except (GatewayConnectionError, GatewayTimeoutError) as exc:
            if exc.status_code is None:  # no answer at all, not a gateway's 5xx or 504
                raise GatewayUnreachableError(str(exc)) from exc
            outcome = f"FAILED: {type(exc).__name__}: {exc}"
            print(f"    {outcome}")
        except Exception as exc:
            outcome = f"FAILED: {type(exc).__name__}: {exc}"
            print(f"    {outcome}")
        self.results.append((title, outcome, time.perf_counter() - started))

    def preflight(self) -> None:
        """Against a real gateway: one free request (``cfaig doctor``'s probe) before any step."""
        from cfaig import GatewayClient
        from cfaig.errors import GatewayConnectionError, GatewayTimeoutError

        if self.setup.emulator is not None:
            return
        with GatewayClient(**self.setup.fields, max_retries=0) as client:
            try:
                client.probe(self.setup.model)
            except (GatewayConnectionError, GatewayTimeoutError) as exc:
                raise GatewayUnreachableError(str(exc)) from exc

    def chat_model(self, **kwargs: Any) -> Any:
        from langchain_cfaig import ChatCloudflareAIGateway

        return ChatCloudflareAIGateway(**{"model": self.setup.model, **self.setup.fields, **kwargs})

    # --- the steps ------------------------------------------------------------------------------------

    @staticmethod
    def prompt() -> Any:
        from langchain_core.prompts import ChatPromptTemplate

        return ChatPromptTemplate.from_messages(
            [("system", "You answer in one short sentence."), ("user", "What does an AI gateway do for {who}?")]
        )

    def chain(self) -> str:
        from langchain_core.output_parsers import StrOutputParser

        chain = self.prompt() | self.chat_model() | StrOutputParser()
        answer = chain.invoke({"who": "a team running LLM apps"})
        print(f"    model: {self.setup.model}\n    answer: {answer}")
        return "answered"

    def switch_provider(self) -> str:
        from langchain_core.output_parsers import StrOutputParser

        chain = self.prompt() | self.chat_model(model=self.setup.alt_model) | StrOutputParser()
        answer = chain.invoke({"who": "a team running LLM apps"})
        print(f"    same chain, model string changed to {self.setup.alt_model}\n    answer: {answer}")
        return f"answered by {self.setup.alt_model}"

    def stream(self) -> str:
        model = self.chat_model()
        print("    ", end="")
        chunks = 0
        usage = None
        for chunk in model.stream("Name three things a gateway log records, one word each."):
            print(chunk.content, end="", flush=True)
            chunks += 1
            usage = chunk.usage_metadata or usage
        print(f"\n    {chunks} chunks; usage reported once at the end: {usage}")
        return f"{chunks} chunks, usage {usage['total_tokens'] if usage else '?'} tokens"

    def agent(self) -> str:
        from langchain.agents import create_agent
        from langchain_core.tools import tool

        @tool
        def multiply(a: int, b: int) -> int:
            """Multiply two integers."""
            return a * b

        agent = create_agent(self.chat_model(), tools=[multiply], system_prompt="Use the tools to compute.")
        state = agent.invoke({"messages": [("user", "What is 6 times 7? Use multiply(6, 7).")]})
        for message in state["messages"]:
            for call in getattr(message, "tool_calls", None) or ():
                print(f"    tool call: {call['name']}({call['args']})")
            if message.type == "tool":
                print(f"    tool result: {message.content}")
        print(f"    final answer: {state['messages'][-1].content}")
        return "tool called, answer built from its result"

    def structured(self) -> str:
        model = self.chat_model().with_structured_output(CityFacts)
        facts = model.invoke("Give me facts about Lisbon, Portugal.")
        print(f"    {type(facts).__name__}: {facts!r}")
        return f"validated {type(facts).__name__}"

    def cache(self) -> str:
        model = self.chat_model(cache_ttl=300, gateway_metadata={"demo": "cache"})
        statuses = []
        for attempt in (1, 2):
            reply = model.invoke("What is the capital of France? (cache demo)")
            meta = reply.response_metadata
            statuses.append(meta.get("cf_aig_cache_status"))
            print(f"    call {attempt}: cache {meta.get('cf_aig_cache_status')}, log id {meta.get('cf_aig_log_id')}")
        return " then ".join(str(status) for status in statuses)

    def fallback(self) -> str:
        if self.setup.emulator is not None:
            from cfaig.testing import Fault

            primary = self.setup.model
            # The primary provider is down: its try and both client-side retries answer 503, then the fallback runs
            # (fallback_mode="client", the default; the deprecated Universal Endpoint is not needed).
            self.setup.emulator.inject(Fault(status=503, times=3))
            print(f"    (emulator: {primary} answers 503 for this request)")
        else:
            primary = "openai/cfaig-demo-model-that-does-not-exist"
        model = self.chat_model(model=primary, fallbacks=[self.setup.alt_model])
        reply = model.invoke("Say hello from whichever model answers.")
        meta = reply.response_metadata
        print(f"    asked {primary}, fallbacks=[{self.setup.alt_model}]")
        print(f"    served by {meta['model_name']} (cf-aig-step {meta.get('cf_aig_step')}): {reply.content}")
        return f"step {meta.get('cf_aig_step')} served: {meta['model_name']}"

    def rag(self) -> str:
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

        from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

        documents = SimpleDirectoryReader(str(DOCS)).load_data()
        embed = CloudflareAIGatewayEmbedding(model_name=self.setup.embed_model, **self.setup.fields)
        llm = CloudflareAIGatewayLLM(model=self.setup.model, **self.setup.fields)
        index = VectorStoreIndex.from_documents(documents, embed_model=embed)
        engine = index.as_query_engine(llm=llm, similarity_top_k=1)
        question = "Which header tells that an answer came from the cache?"
        response = engine.query(question)
        source = response.source_nodes[0]
        name = Path(source.node.metadata.get("file_name", "?")).name
        print(f"    {len(documents)} documents indexed with {self.setup.embed_model}")
        print(f"    question: {question}\n    answer: {str(response)[:160]}")
        print(f"    source: {name} (score {source.score:.3f})")
        return f"answered from {name}"

    def responses(self) -> str:
        """A reasoning model on the OpenAI Responses API: a reasoning summary, a tool call, the answer from it."""
        from langchain_core.messages import HumanMessage, ToolMessage
        from langchain_core.tools import tool

        @tool
        def get_weather(city: str) -> str:
            """Current weather for a city."""
            return f"sunny and 24C in {city}"

        on_rest = self.setup.fields.get("surface") == "rest"
        default = "workers-ai/@cf/openai/gpt-oss-120b" if on_rest else "openai/gpt-5-mini"
        name = os.environ.get("CFAIG_DEMO_REASONING_MODEL", default)
        reasoning = {"effort": "low", "summary": "auto"}
        model = self.chat_model(model=name, use_responses_api=True, reasoning=reasoning).bind_tools([get_weather])
        question = HumanMessage('What is the weather in "Lisbon"?')
        called = model.invoke([question])
        call = called.tool_calls[0]
        print(f"    model: {name} (Responses API)\n    reasoning: {called.additional_kwargs.get('reasoning_content')}")
        print(f"    tool call: {call['name']}({call['args']})")
        answer = model.invoke(
            [question, called, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
        )
        tokens = (answer.usage_metadata or {}).get("output_token_details", {}).get("reasoning")
        print(f"    answer: {answer.text}\n    reasoning tokens: {tokens}")
        return f"reasoned, called {call['name']}, answered"

    def typed_error(self) -> str:
        from cfaig.errors import BadRequestError, ConfigurationError

        try:
            self.chat_model(model="gpt-4o")
        except ConfigurationError as exc:
            print(f"    ConfigurationError before any request: {str(exc)[:150]}…")
        try:
            self.chat_model(gateway_id="no-such-gateway").invoke("hi")
        except BadRequestError as exc:
            print(f"    {type(exc).__name__}: status {exc.status_code}, gateway code {exc.code}")
            print(f"    hint: {exc.hint}")
            return f"{type(exc).__name__} code {exc.code}, with a hint"
        return "no error raised"

    def run(self) -> int:
        print(f"cfaig demo — running against {self.setup.where}")
        print(self.setup.note)
        try:
            self.preflight()
            self.steps_in_order()
        except GatewayUnreachableError as exc:
            print(f"\nStopped: the gateway cannot be reached, so every step would fail the same way.\n    {exc}")
            print("Check the network, proxies and CF_AIG_BASE_URL; `cfaig doctor` shows the exact URL and probes it.")
            return 1
        failed = [title for title, outcome, _ in self.results if outcome.startswith("FAILED")]
        width = max(len(title) for title, _, _ in self.results)
        print("\nSummary")
        for title, outcome, seconds in self.results:
            mark = "FAIL" if outcome.startswith("FAILED") else " ok "
            print(f"  {mark}  {title:<{width}}  {outcome} ({seconds:.2f}s)")
        where = self.setup.where.split(" (")[0]
        print(f"\n{len(self.results) - len(failed)} of {len(self.results)} steps ran against {where}.")
        return 1 if failed else 0

    def steps_in_order(self) -> None:
        self.step("A LangChain chain: prompt | ChatCloudflareAIGateway | StrOutputParser()", self.chain)
        self.step("The same chain on another provider: only the model string changes", self.switch_provider)
        self.step("A streamed answer, token by token", self.stream)
        self.step("An agent that calls a tool (langchain.agents.create_agent)", self.agent)
        self.step("Structured output into a pydantic class", self.structured)
        self.step("A cached call, repeated (cf-aig-cache-ttl)", self.cache)
        self.step("A fallback served by the second model (tried client-side, in turn)", self.fallback)
        self.step("A LlamaIndex RAG query over the bundled documents", self.rag)
        self.step("A reasoning model with a tool on the Responses API", self.responses)
        self.step("A typed error from a bad request, explained", self.typed_error)


def main() -> int:
    with gateway() as setup:
        return Demo(setup).run()


if __name__ == "__main__":
    sys.exit(main())
