"""Issue 12, defect 5: a server that echoes the credentials puts them into no error, cassette or frame local.

A proxy, a captive portal or a misrouted ``base_url`` (an echo service) may answer 200 with the request's
key in the body. Every error a call raises passes through one boundary that scrubs the known secrets
(``cfaig._error_mapping.map_transport_errors``): status errors, malformed 2xx bodies, stream events,
embeddings and Responses bodies alike. Request objects keep credential header values as ``SecretStr``
until the I/O call, so error trackers that capture frame locals see no ``Bearer`` token.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import SecretStr

from cfaig import AsyncGatewayClient, GatewayClient
from cfaig.errors import (
    CfaigError,
    GatewayConnectionError,
    GatewayError,
    MalformedResponseError,
    UnexpectedRedirectError,
)
from cfaig.testing import vcr_config
from tests.core._raw_server import RawServer, chunk_event, http, sse
from tests.faults._harness import LAYERS, MODES, CallSettings, Layer, Mode, closed_port_url, run_call

pytestmark = pytest.mark.usefixtures("fresh_shared_clients")

TOKEN = "cfaigSECRETtoken123"
KEY = "sk-cfaigPROVIDERkey456"
ACCOUNT = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SETTINGS = CallSettings(account_id=ACCOUNT, cf_aig_token=TOKEN, api_key=KEY, max_retries=0, timeout=5)
ECHO = {"received": {"cf-aig-authorization": f"Bearer {TOKEN}", "authorization": f"Bearer {KEY}"}, "bare": KEY}
REQUEST: Any = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _fields(base_url: str) -> dict[str, Any]:
    return {"account_id": ACCOUNT, "base_url": base_url, "cf_aig_token": TOKEN, "api_key": KEY, "max_retries": 0}


def assert_clean(text: str) -> None:
    for secret in (TOKEN, KEY, TOKEN[:8], KEY[:10]):  # nor a truncated prefix of one
        assert secret not in text, f"{secret!r} leaked into: {text[:600]}"


def everything(error: BaseException) -> str:
    """What a user or a log handler could see of an exception, causes included."""
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    parts.extend(repr(value) for value in vars(error).values())
    return "\n".join(parts)


def with_locals(error: BaseException) -> str:
    """What an error tracker that captures frame locals (Sentry's default) sees of an exception."""
    return "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())


def _failure(mode: str, base_url: str, method: str, request: Any, **call: Any) -> BaseException:
    """The error one call (with the keywords ``call``) of the sync or the async core client raises."""
    if mode == "sync":
        with GatewayClient(**_fields(base_url)) as client, pytest.raises(CfaigError) as caught:
            getattr(client, method)(request, **call)
        return caught.value

    async def run() -> None:
        async with AsyncGatewayClient(**_fields(base_url)) as client:
            await getattr(client, method)(request, **call)

    with pytest.raises(CfaigError) as caught:
        asyncio.run(run())
    return caught.value


# --- a 200 that echoes the credentials -------------------------------------------------------------


def _echo_reply(mode: Mode) -> bytes:
    if mode in ("stream", "astream"):
        event = json.dumps({"choices": "not a list", **ECHO}).encode()  # not a chat chunk
        return sse(chunk_event("hi") + b"data: " + event + b"\n\n" + b"data: [DONE]\n\n")
    return http(json.dumps(ECHO).encode())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layer", LAYERS)
def test_a_200_echoing_the_credentials_does_not_leak_them(layer: Layer, mode: Mode) -> None:
    with RawServer(_echo_reply(mode)) as server:
        result = run_call(layer, mode, server.base_url, SETTINGS)
        assert TOKEN.encode() in server.requests[0]  # the credentials were sent, and echoed
    assert isinstance(result.error, MalformedResponseError), repr(result.error)
    assert_clean(everything(result.error))


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_a_stream_event_that_is_not_json_does_not_leak_them(mode: Mode) -> None:
    reply = sse(chunk_event("hi") + f"data: echo Bearer {TOKEN} {KEY}\n\n".encode() + b"data: [DONE]\n\n")
    with RawServer(reply) as server:
        result = run_call("core", mode, server.base_url, SETTINGS)
    assert isinstance(result.error, MalformedResponseError), repr(result.error)
    assert_clean(everything(result.error))


def test_a_long_body_cut_inside_a_secret_leaks_no_prefix_of_it() -> None:
    body = json.dumps({"padding": "x" * 180, "key": KEY}).encode()  # the excerpt ends inside the key
    with RawServer(http(body)) as server:
        error = _failure("sync", server.base_url, "chat", REQUEST)
    assert isinstance(error, MalformedResponseError), repr(error)
    assert_clean(everything(error))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_redirect_whose_location_echoes_the_credentials_does_not_leak_them(mode: str) -> None:
    """A 3xx is an UnexpectedRedirectError whose ``location`` is scrubbed like its message (issue 12, 2 and 5)."""
    location = f"https://elsewhere.example/login?token={TOKEN}&key={KEY}"
    reply = http(json.dumps(ECHO).encode(), "302 Found", extra=f"location: {location}\r\n")
    with RawServer(reply) as server:
        error = _failure(mode, server.base_url, "chat", REQUEST)
    assert isinstance(error, UnexpectedRedirectError), repr(error)
    assert error.location is not None and error.location.startswith("https://elsewhere.example/login?token=")
    assert_clean(everything(error))


_EMBEDDING_ECHOES = {
    "bad base64": {"object": "list", "data": [{"index": 0, "embedding": KEY}]},
    "wrong count": {"object": "list", "data": [], "echo": f"Bearer {TOKEN} {KEY}"},
    "not a list": {"object": "list", "data": f"token {TOKEN} key {KEY}"},
}


@pytest.mark.parametrize("case", _EMBEDDING_ECHOES)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_embeddings_body_echoing_the_credentials_does_not_leak_them(mode: str, case: str) -> None:
    reply = http(json.dumps(_EMBEDDING_ECHOES[case]).encode())
    request: Any = {"model": "openai/text-embedding-3-small", "input": ["a"]}
    with RawServer(reply) as server:
        error = _failure(mode, server.base_url, "embed", request)
    assert isinstance(error, MalformedResponseError), repr(error)
    assert_clean(everything(error))


def _responses_sync(base_url: str) -> object:
    with GatewayClient(**_fields(base_url)) as client:
        return client.responses({"model": "openai/gpt-4o-mini", "input": "hi"})


def _responses_stream(base_url: str) -> object:
    with GatewayClient(**_fields(base_url)) as client:
        return list(client.stream_responses({"model": "openai/gpt-4o-mini", "input": "hi"}))


def _responses_async(base_url: str) -> object:
    async def run() -> object:
        async with AsyncGatewayClient(**_fields(base_url)) as client:
            return await client.responses({"model": "openai/gpt-4o-mini", "input": "hi"})

    return asyncio.run(run())


RESPONSES: dict[str, tuple[Callable[[str], object], bytes]] = {
    "malformed body": (_responses_sync, http(json.dumps({"output": ECHO}).encode())),
    "failed response": (
        _responses_async,
        http(json.dumps({"status": "failed", "error": {"code": "server_error", "message": f"key {KEY}"}}).encode()),
    ),
    "malformed event": (
        _responses_stream,
        sse(b"event: response.created\ndata: " + json.dumps({"type": 5, "echo": ECHO}).encode() + b"\n\n"),
    ),
}


@pytest.mark.parametrize("case", RESPONSES)
def test_a_responses_answer_echoing_the_credentials_does_not_leak_them(case: str) -> None:
    call, reply = RESPONSES[case]
    with RawServer(reply) as server, pytest.raises(GatewayError) as caught:
        call(server.base_url)
    assert_clean(everything(caught.value))


# --- request objects and frame locals --------------------------------------------------------------


def test_prepared_requests_show_no_credentials() -> None:
    client = GatewayClient(account_id=ACCOUNT, cf_aig_token=TOKEN, api_key=KEY)
    prepared = client._prepare_chat(REQUEST, None, ["anthropic/claude-3-5-haiku"], False, "unified")  # Universal
    single = client._prepare_chat(REQUEST, None, None, True, "unified")
    feedback = client._builder.feedback("abc", {"feedback": 1})
    for request in (prepared, single, feedback):
        for text in (repr(request), str(request), repr(request.targets), repr(request.targets[0].headers)):
            assert "Bearer" not in text or "**" in text
            assert_clean(text)
    sent = single.targets[0].headers["cf-aig-authorization"]
    assert not isinstance(sent, str)  # a wrapper until the I/O call unwraps it


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("status", ["500 Internal Server Error", "200 OK"])
def test_frame_locals_of_a_failed_call_show_no_credentials(mode: str, status: str) -> None:
    reply = http(b'{"error": {"message": "boom"}}', status)  # nothing echoed: only the request holds them
    with RawServer(reply) as server:
        error = _failure(mode, server.base_url, "chat", REQUEST)
    assert_clean(with_locals(error))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_frame_locals_of_a_call_with_its_own_provider_keys_show_no_credentials(mode: str) -> None:
    """A call's provider_keys (given as SecretStr: a plain dict the caller passes is the caller's own frame
    local): the attempt's Authorization stays wrapped, and the call's keys kept for scrubbing are a masked
    ``Secrets`` (the request object is a frame local of every attempt)."""
    call_key = "sk-ant-cfaigCALLkey789"
    reply = http(b'{"error": {"message": "boom"}}', "500 Internal Server Error")
    request = {**REQUEST, "model": "anthropic/claude-3-5-haiku"}
    with RawServer(reply) as server:
        error = _failure(mode, server.base_url, "chat", request, provider_keys={"anthropic": SecretStr(call_key)})
    text = with_locals(error)
    assert_clean(text)
    assert call_key not in text and call_key[:12] not in text


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_frame_locals_of_a_connection_cut_while_sending_show_no_credentials(mode: str) -> None:
    """The server answers once and closes, so the client-side fallback's attempt is cut while its request is
    written: the traceback then runs through the transport's write frames, whose locals hold the request bytes."""
    reply = http(b'{"error": {"message": "boom"}}', "500 Internal Server Error")
    with RawServer(reply) as server:
        error = _failure(mode, server.base_url, "chat", REQUEST, fallbacks=["anthropic/claude-3-5-haiku"])
    assert_clean(with_locals(error))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_exception_the_caller_was_handling_keeps_its_locals(mode: str) -> None:
    """Only the transport's frames are cleared: the caller's own exception, chained as the context, is theirs."""

    def callers_code() -> None:
        evidence = "the caller's own local"  # noqa: F841 - what the caller's error tracker should still see
        raise KeyError("the caller's error")

    handled: BaseException | None = None
    try:
        callers_code()
    except KeyError as exc:
        handled, error = exc, _failure(mode, closed_port_url(), "chat", REQUEST)
    chain = [error]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(cast(BaseException, chain[-1].__cause__ or chain[-1].__context__))
    assert handled is not None and handled in chain
    assert "the caller's own local" in with_locals(handled)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_frame_locals_of_a_refused_connection_show_no_credentials(mode: str) -> None:
    """The traceback then runs through httpx/httpcore or aiohttp frames, whose header dicts hold the values."""
    error = _failure(mode, closed_port_url(), "chat", REQUEST)
    assert isinstance(error, GatewayConnectionError), repr(error)
    assert_clean(with_locals(error))


# --- cassettes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["200 OK", "401 Unauthorized"])
def test_cassettes_scrub_credentials_echoed_in_response_bodies(
    status: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vcr

    monkeypatch.setenv("CFAIG_RECORD", "1")
    cassette = tmp_path / "echo.yaml"
    with RawServer(http(json.dumps(ECHO).encode(), status)) as server:
        recorder = vcr.VCR(**vcr_config())
        with (
            recorder.use_cassette(str(cassette)),
            GatewayClient(**_fields(server.base_url)) as client,
            pytest.raises(GatewayError),
        ):
            client.chat(REQUEST)
    text = cassette.read_text()
    assert "received" in text  # the body was recorded
    assert TOKEN not in text and KEY not in text


def test_cassettes_scrub_the_configured_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vcr

    monkeypatch.setenv("CFAIG_RECORD", "1")
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    monkeypatch.setenv("CF_AIG_PROVIDER_API_KEY", KEY)
    config = vcr_config()
    response = {"status": {"code": 200}, "headers": {}, "body": {"string": f"echo {TOKEN} and {KEY}".encode()}}
    assert config["before_record_response"](response)["body"]["string"] == b"echo REDACTED and REDACTED"
    with pytest.raises(TypeError):
        vcr_config(secrets="not-a-list")
    extra = vcr_config(secrets=["my-own-secret-value"])
    response = {"status": {"code": 200}, "headers": {}, "body": {"string": "a my-own-secret-value b"}}
    assert extra["before_record_response"](response)["body"]["string"] == "a REDACTED b"
    assert TOKEN not in cassette_text(tmp_path, vcr)


def cassette_text(tmp_path: Path, vcr: Any) -> str:
    """A cassette recorded with the environment's credentials, a server echoing them in a 200 body."""
    cassette = tmp_path / "env.yaml"
    with (
        RawServer(http(json.dumps(ECHO).encode())) as server,
        vcr.VCR(**vcr_config()).use_cassette(str(cassette)),
        GatewayClient(account_id=ACCOUNT, base_url=server.base_url) as client,
        pytest.raises(GatewayError),
    ):
        client.chat(REQUEST)
    return cassette.read_text()


def test_a_cloudflare_access_secret_in_default_headers_is_scrubbed_and_wrapped() -> None:
    access = "cfACCESSclientSECRET789"
    options = {"default_headers": {"CF-Access-Client-Id": "id.access", "CF-Access-Client-Secret": access}}
    reply = http(json.dumps({"echo": access}).encode())
    with RawServer(reply) as server, GatewayClient(options=options, **_fields(server.base_url)) as client:
        prepared = client._prepare_chat(REQUEST, None, None, False, "unified")
        assert access not in repr(prepared) and access not in repr(prepared.targets[0].headers)
        with pytest.raises(MalformedResponseError) as caught:
            client.chat(REQUEST)
        assert access.encode() in server.requests[0]  # sent as given
    assert access not in everything(caught.value)
