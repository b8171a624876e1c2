"""Credentials never leak, plain http is refused for them, and TLS is verified by default.

Distinctive values are used so a leak anywhere (repr, str, errors, logs, serialization, cassettes) is
found by a plain substring search.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cfaig import AsyncGatewayClient, GatewayClient, GatewayConfig
from cfaig.errors import CfaigError, ConfigurationError
from cfaig.testing import EmulatorServer, Fault, GatewayEmulator, GatewaySettings, serve, vcr_config
from tests.faults._harness import (
    EXPECTED_TEXT,
    FALLBACK_MODEL,
    LAYERS,
    MODEL,
    MODES,
    CallSettings,
    Layer,
    Mode,
    clear_shared,
    close_shared_async,
    closed_port_url,
    fast_retries,
    run_call,
)

TOKEN = "cfaigSECRETtoken123"
KEY = "sk-cfaigPROVIDERkey456"
ACCOUNT = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"  # a real-looking 32-hex account id
SECRETS = (TOKEN, KEY)
CREDENTIALS = CallSettings(account_id=ACCOUNT, cf_aig_token=TOKEN, api_key=KEY, max_retries=1)


def assert_clean(text: str, *, also: tuple[str, ...] = ()) -> None:
    for secret in (*SECRETS, *also):
        assert secret not in text, f"{secret!r} leaked into: {text[:500]}"


def describe(error: BaseException) -> str:
    """Everything a user or a log handler could see of an exception, causes included."""
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    parts.extend(repr(value) for value in vars(error).values())
    return "\n".join(parts)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    emulator = GatewayEmulator(
        account_id=ACCOUNT,
        gateways={"default": GatewaySettings(authentication=True, cache_ttl=0)},
        tokens=(TOKEN,),
    )
    with serve(emulator) as served:
        yield served


@pytest.fixture
def emulator(server: EmulatorServer) -> Iterator[GatewayEmulator]:
    server.emulator.reset()
    yield server.emulator
    server.emulator.reset()


@pytest.fixture(autouse=True)
def _clean_shared_clients() -> Iterator[None]:
    clear_shared()
    with fast_retries():
        yield
    clear_shared()


# --- repr / str ------------------------------------------------------------------------------------


def _objects() -> list[Any]:
    from langchain_cfaig import ChatCloudflareAIGateway
    from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings
    from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

    fields: dict[str, Any] = {"account_id": ACCOUNT, "cf_aig_token": TOKEN, "api_key": KEY}
    config = GatewayConfig(**fields)
    return [
        config,
        GatewayClient(config),
        AsyncGatewayClient(config),
        ChatCloudflareAIGateway(model=MODEL, **fields),
        CloudflareAIGatewayEmbeddings(model="openai/text-embedding-3-small", **fields),
        CloudflareAIGatewayLLM(model=MODEL, **fields),
        CloudflareAIGatewayEmbedding(model_name="openai/text-embedding-3-small", **fields),
    ]


@pytest.mark.parametrize("index", range(7))
def test_repr_and_str_never_show_credentials(index: int) -> None:
    obj = _objects()[index]
    assert_clean(repr(obj))
    assert_clean(str(obj))
    assert_clean(format(obj))
    if hasattr(obj, "model_dump"):
        assert_clean(repr(obj.model_dump()))
        assert_clean(obj.model_dump_json())


def test_the_config_still_sends_the_credentials() -> None:
    config = GatewayConfig(account_id=ACCOUNT, cf_aig_token=TOKEN, api_key=KEY)
    assert config.cf_aig_token is not None and config.cf_aig_token.get_secret_value() == TOKEN
    assert config.api_key is not None and config.api_key.get_secret_value() == KEY


# --- exceptions ------------------------------------------------------------------------------------

_FAILURES: dict[str, tuple[list[Fault], CallSettings]] = {
    "401": ([Fault(status=401, times=5)], CREDENTIALS),
    "500": ([Fault(status=500, times=5)], CREDENTIALS),
    "timeout": ([Fault(status=200, delay=0.5, times=5)], CallSettings(**{**vars(CREDENTIALS), "timeout": 0.15})),
}


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("failure", [*_FAILURES, "wrong-token", "refused"])
def test_errors_never_show_credentials(
    failure: str, mode: Mode, layer: Layer, server: EmulatorServer, emulator: GatewayEmulator
) -> None:
    base_url = server.base_url
    if failure == "wrong-token":  # a real 401 from the authenticated gateway; the key is still sent
        settings = CallSettings(**{**vars(CREDENTIALS), "cf_aig_token": "cfaigWRONGtoken789"})
    elif failure == "refused":
        settings, base_url = CREDENTIALS, closed_port_url()
    else:
        faults, settings = _FAILURES[failure]
        for fault in faults:
            emulator.inject(fault)
    result = run_call(layer, mode, base_url, settings)
    assert isinstance(result.error, CfaigError), repr(result.error)
    assert_clean(describe(result.error), also=("cfaigWRONGtoken789",))


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("mode", MODES)
def test_a_server_echoing_the_key_does_not_leak_it(
    mode: Mode, layer: Layer, server: EmulatorServer, emulator: GatewayEmulator
) -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error"}}
    emulator.inject(Fault(status=401, body=echo))
    result = run_call(layer, mode, server.base_url, CREDENTIALS)
    assert isinstance(result.error, CfaigError), repr(result.error)
    assert_clean(describe(result.error))


@pytest.mark.parametrize(
    "fields",
    [
        {"base_url": "http://gateway.example.com/v1"},  # credentials over plain http
        {"account_id": "not a valid id!"},
        {"gateway_id": "x" * 65},
        {"timeout": -1},
        {"surface": "rest", "api_base_url": "https://api.example.com"},  # api_key on the REST surface
        {"cf_aig_token": TOKEN + "\n", "api_key": "sk-cfaig PROVIDERkey456"},  # a pasted newline / space
    ],
)
def test_configuration_errors_never_show_credentials(fields: dict[str, Any]) -> None:
    values = {"account_id": ACCOUNT, "cf_aig_token": TOKEN, "api_key": KEY, **fields}
    with pytest.raises(ConfigurationError) as caught:
        GatewayConfig(**values)
    assert_clean(describe(caught.value), also=("PROVIDERkey456",))


# --- logs ------------------------------------------------------------------------------------------


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.args))


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[_Everything]:
    root = logging.getLogger()
    handler = _Everything()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("cfaig", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize("layer", LAYERS)
def test_logs_at_debug_never_show_credentials(
    layer: Layer,
    server: EmulatorServer,
    emulator: GatewayEmulator,
    all_logs: _Everything,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for mode in MODES:
        assert run_call(layer, mode, server.base_url, CREDENTIALS).error is None
        emulator.inject(Fault(status=503, times=1))  # a retried failure: the retry is logged
        assert run_call(layer, mode, server.base_url, CREDENTIALS).error is None
        emulator.inject(Fault(status=500, times=5))
        assert run_call(layer, mode, server.base_url, CREDENTIALS).error is not None
        emulator.reset()
    fallback = CallSettings(**{**vars(CREDENTIALS), "fallbacks": (FALLBACK_MODEL,)})
    emulator.inject(Fault(status=500, step=0))  # a Universal request whose first step fails
    assert run_call(layer, "sync", server.base_url, fallback).error is None

    assert any(record.name.startswith("httpcore") for record in caplog.records), "httpcore was not captured"
    assert any("retrying" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        assert_clean(record.getMessage())
    assert_clean(caplog.text)
    assert_clean("\n".join(all_logs.lines))


# --- serialization ---------------------------------------------------------------------------------


def test_langchain_serialization_keeps_only_secret_references() -> None:
    from langchain_core.load import dumpd, dumps

    from langchain_cfaig import ChatCloudflareAIGateway

    model = ChatCloudflareAIGateway(model=MODEL, account_id=ACCOUNT, cf_aig_token=TOKEN, api_key=KEY)
    data = dumpd(model)
    assert data["kwargs"]["cf_aig_token"] == {"lc": 1, "type": "secret", "id": ["CF_AIG_TOKEN"]}
    assert data["kwargs"]["api_key"]["type"] == "secret"
    assert_clean(json.dumps(data))
    assert_clean(dumps(model))
    assert_clean(json.dumps(model.to_json(), default=repr))


def test_llamaindex_serialization_never_shows_credentials() -> None:
    from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

    fields: dict[str, Any] = {"account_id": ACCOUNT, "cf_aig_token": TOKEN, "api_key": KEY}
    for obj in (
        CloudflareAIGatewayLLM(model=MODEL, **fields),
        CloudflareAIGatewayEmbedding(model_name="openai/text-embedding-3-small", **fields),
    ):
        assert_clean(json.dumps(obj.to_dict(), default=repr))
        assert_clean(obj.to_json())
        assert_clean(repr(obj))
    llm = CloudflareAIGatewayLLM(model=MODEL, **fields)
    assert_clean(json.dumps(llm.to_payload(), default=repr))


# --- cassettes -------------------------------------------------------------------------------------


def test_cassettes_hold_neither_credentials_nor_the_account_id(
    tmp_path: Path, server: EmulatorServer, emulator: GatewayEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vcr

    monkeypatch.setenv("CFAIG_RECORD", "1")
    cassette = tmp_path / "secrets.yaml"
    recorder = vcr.VCR(**vcr_config())
    with recorder.use_cassette(str(cassette)):
        for mode in ("sync", "stream"):
            assert run_call("core", mode, server.base_url, CREDENTIALS).error is None
        assert run_call("langchain", "sync", server.base_url, CREDENTIALS).error is None
        universal = CallSettings(**{**vars(CREDENTIALS), "fallbacks": (FALLBACK_MODEL,)})
        assert run_call("core", "sync", server.base_url, universal).error is None  # step headers in the body
        emulator.inject(Fault(status=401))
        assert run_call("core", "sync", server.base_url, CREDENTIALS).error is not None
    text = cassette.read_text()
    assert "REDACTED" in text and EXPECTED_TEXT in text  # something real was recorded
    assert_clean(text, also=(ACCOUNT,))


# --- plain http, TLS, injected httpx clients -------------------------------------------------------

_INSECURE = "http://gateway.internal.example/v1"


def _construct(kind: str, **fields: Any) -> Any:
    from langchain_cfaig import ChatCloudflareAIGateway
    from langchain_cfaig.embeddings import CloudflareAIGatewayEmbeddings
    from llamaindex_cfaig import CloudflareAIGatewayEmbedding, CloudflareAIGatewayLLM

    base = {"account_id": ACCOUNT, "cf_aig_token": TOKEN, **fields}
    factories: dict[str, Any] = {
        "config": lambda: GatewayConfig(**base),
        "core": lambda: GatewayClient(**base),
        "core-async": lambda: AsyncGatewayClient(**base),
        "langchain-chat": lambda: ChatCloudflareAIGateway(model=MODEL, **base),
        "langchain-embeddings": lambda: CloudflareAIGatewayEmbeddings(model="openai/text-embedding-3-small", **base),
        "llamaindex-llm": lambda: CloudflareAIGatewayLLM(model=MODEL, **base),
        "llamaindex-embedding": lambda: CloudflareAIGatewayEmbedding(
            model_name="openai/text-embedding-3-small", **base
        ),
    }
    return factories[kind]()


_KINDS = [
    "config",
    "core",
    "core-async",
    "langchain-chat",
    "langchain-embeddings",
    "llamaindex-llm",
    "llamaindex-embedding",
]


@pytest.mark.parametrize("kind", _KINDS)
def test_credentials_over_plain_http_to_a_remote_host_are_refused(kind: str) -> None:
    with pytest.raises(ConfigurationError, match="allow_insecure_http") as caught:
        _construct(kind, base_url=_INSECURE)
    assert_clean(describe(caught.value))


@pytest.mark.parametrize("kind", _KINDS)
def test_plain_http_to_loopback_is_allowed(kind: str) -> None:
    _construct(kind, base_url="http://127.0.0.1:8787/v1")


@pytest.mark.parametrize("kind", _KINDS)
def test_plain_http_to_a_remote_host_needs_the_opt_in(kind: str) -> None:
    _construct(kind, base_url=_INSECURE, allow_insecure_http=True)


def _assert_verifies(http: Any) -> None:
    """The TLS context of an httpx client, or of the async client's aiohttp session, verifies."""
    if isinstance(http, AsyncGatewayClient):
        assert http.backend == "aiohttp"
        pool: Any = http._pools.current()
        context: ssl.SSLContext = pool.session.connector._ssl
    else:
        transport: Any = http._transport
        context = transport._pool._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_tls_is_verified_by_default_sync() -> None:
    from langchain_cfaig import ChatCloudflareAIGateway
    from llamaindex_cfaig import CloudflareAIGatewayLLM

    with GatewayClient(account_id=ACCOUNT, cf_aig_token=TOKEN) as client:
        _assert_verifies(client.http_client)
    fields: dict[str, Any] = {"account_id": ACCOUNT, "cf_aig_token": TOKEN}
    _assert_verifies(ChatCloudflareAIGateway(model=MODEL, **fields).client.http_client)
    _assert_verifies(CloudflareAIGatewayLLM(model=MODEL, **fields).client.http_client)


def test_tls_is_verified_by_default_async() -> None:
    async def check() -> None:
        client = AsyncGatewayClient(account_id=ACCOUNT, cf_aig_token=TOKEN)
        _assert_verifies(client)
        await client.aclose()
        from llamaindex_cfaig import CloudflareAIGatewayLLM

        _assert_verifies(CloudflareAIGatewayLLM(model=MODEL, account_id=ACCOUNT).async_client)
        await close_shared_async()

    asyncio.run(check())


class _Counting(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response: httpx.Response = self.inner.handle_request(request)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response: httpx.Response = await self.inner.handle_async_request(request)
        return response


def test_a_user_supplied_httpx_client_is_used_and_left_open() -> None:
    emulator = GatewayEmulator(account_id=ACCOUNT)
    transport = _Counting(emulator.transport())
    user_client = httpx.Client(transport=transport)
    client = GatewayClient(account_id=ACCOUNT, base_url=emulator.base_url, cf_aig_token=TOKEN, http_client=user_client)
    completion = client.chat({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert EXPECTED_TEXT in completion.text
    assert len(transport.requests) == 1
    sent = transport.requests[0]
    assert sent.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(sent.url) and TOKEN.encode() not in sent.content  # only ever in a header
    client.close()
    assert not user_client.is_closed  # the caller owns it
    user_client.close()


async def test_a_user_supplied_async_httpx_client_is_used_and_left_open() -> None:
    emulator = GatewayEmulator(account_id=ACCOUNT)
    transport = _Counting(emulator.transport())
    user_client = httpx.AsyncClient(transport=transport)
    client = AsyncGatewayClient(
        account_id=ACCOUNT, base_url=emulator.base_url, cf_aig_token=TOKEN, http_client=user_client
    )
    completion = await client.chat({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert EXPECTED_TEXT in completion.text
    assert len(transport.requests) == 1
    await client.aclose()
    assert not user_client.is_closed
    await user_client.aclose()


def test_passing_both_an_http_client_and_a_transport_is_refused() -> None:
    with httpx.Client() as user_client, pytest.raises(ConfigurationError):
        GatewayClient(account_id=ACCOUNT, http_client=user_client, transport=httpx.MockTransport(lambda r: None))  # type: ignore[arg-type]
