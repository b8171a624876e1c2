"""Issue 11 parts 1 and 2: each target carries its own provider's key (or none), Workers AI routes the token.

The emulator knows which key belongs to which provider (``GatewayEmulator(provider_keys=...)``): a key sent
to another provider is refused as that provider would (401), and each model attempt's credential is recorded
(``RecordedRequest.credentials``), so these tests read which key reached which step and route. Models whose
id contains ``unavailable`` always fail (503), so a Universal request walks to the next step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from cfaig import GatewayClient, GatewayConfig, shared_client
from cfaig.errors import AuthenticationError, ConfigurationError
from cfaig.provider_keys import ProviderKeys
from cfaig.testing import EMULATOR_TOKEN, Fault, GatewayEmulator, SeenCredential
from tests.core.conftest import Driver, user

OPENAI_KEY = "sk-openai-test-111"
ANTHROPIC_KEY = "sk-ant-test-222"
GROQ_KEY = "gsk-groq-test-333"
KNOWN = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY, "groq": GROQ_KEY}
FAILING_PRIMARY = "openai/gpt-5-unavailable"
KNOWN_KEYS = pytest.mark.cfaig_emulator(provider_keys=KNOWN)
UNIVERSAL = {"fallback_mode": "universal"}  # fallbacks as one Universal-endpoint request (client-side is the default)


def _steps(driver: Driver) -> list[dict[str, Any]]:
    body = driver.emu.requests[-1].json
    assert isinstance(body, list), "expected a Universal-endpoint request"
    return body


def _step_auth(driver: Driver) -> list[str | None]:
    return [step["headers"].get("Authorization") for step in _steps(driver)]


# --- part 1: the rule, for every target ---------------------------------------------------------------


@KNOWN_KEYS
def test_each_universal_step_sends_its_own_providers_key(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(api_key=OPENAI_KEY, provider_keys={"anthropic": ANTHROPIC_KEY}, options=UNIVERSAL)
    fallbacks = ["anthropic/claude-unavailable-4-5", "groq/llama-3.1-8b-instant"]
    completion = driver.call("chat", {"model": FAILING_PRIMARY, "messages": user()}, fallbacks=fallbacks)
    assert completion.gateway.step == 2
    assert _step_auth(driver) == [f"Bearer {OPENAI_KEY}", f"Bearer {ANTHROPIC_KEY}", None]
    assert driver.emu.requests[-1].credentials == [
        SeenCredential("compat.chat", "openai", f"Bearer {OPENAI_KEY}", "openai"),
        SeenCredential("compat.chat", "anthropic", f"Bearer {ANTHROPIC_KEY}", "anthropic"),
        SeenCredential("compat.chat", "groq", None, None),  # no key: the gateway's stored key / Unified Billing
    ]
    assert "authorization" not in driver.emu.requests[-1].headers  # never on the outer request


@KNOWN_KEYS
def test_api_key_reaches_only_the_primary_models_provider(make_driver: Callable[..., Driver]) -> None:
    """Before: the one api_key went into every step, so Anthropic got the OpenAI key and refused (401)."""
    driver = make_driver(api_key=OPENAI_KEY, options=UNIVERSAL)
    completion = driver.call(
        "chat", {"model": FAILING_PRIMARY, "messages": user()}, fallbacks=["anthropic/claude-sonnet-4-5"]
    )
    assert completion.gateway.served_by == "anthropic/claude-sonnet-4-5"
    assert _step_auth(driver) == [f"Bearer {OPENAI_KEY}", None]


@KNOWN_KEYS
def test_a_key_sent_to_another_provider_is_refused_by_the_emulator(make_driver: Callable[..., Driver]) -> None:
    """The emulator enforces the rule: an OpenAI key at Anthropic is refused as Anthropic refuses a bad key."""
    driver = make_driver(provider_keys={"anthropic": OPENAI_KEY})  # the user's mistake: a key of the wrong provider
    with pytest.raises(AuthenticationError) as info:
        driver.call("chat", {"model": "anthropic/claude-sonnet-4-5", "messages": user()})
    assert info.value.status_code == 401
    assert OPENAI_KEY not in str(info.value)
    assert driver.emu.requests[-1].credentials[0].owner == "openai"


@KNOWN_KEYS
def test_a_single_request_sends_its_providers_key(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(api_key="sk-other-primary", provider_keys={"anthropic": ANTHROPIC_KEY})
    driver.call("chat", {"model": "anthropic/claude-sonnet-4-5", "messages": user()})
    assert driver.emu.requests[-1].headers["authorization"] == f"Bearer {ANTHROPIC_KEY}"
    driver.call("chat", {"model": "openai/gpt-5-mini", "messages": user()}, endpoint="provider")
    assert driver.emu.requests[-1].headers["authorization"] == "Bearer sk-other-primary"  # api_key: the primary


@KNOWN_KEYS
def test_per_call_provider_keys_replace_the_configurations(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(provider_keys={"openai": "sk-configured", "anthropic": ANTHROPIC_KEY}, options=UNIVERSAL)
    driver.call(
        "chat",
        {"model": FAILING_PRIMARY, "messages": user()},
        fallbacks=["anthropic/claude-sonnet-4-5"],
        provider_keys={"openai": OPENAI_KEY},
    )
    assert _step_auth(driver) == [f"Bearer {OPENAI_KEY}", f"Bearer {ANTHROPIC_KEY}"]


def test_a_calls_own_key_is_scrubbed_from_its_errors(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver()
    secret = "sk-only-on-this-call-987"
    driver.emu.inject(Fault(status=401, body={"error": {"message": f"Incorrect API key provided: {secret}"}}))
    with pytest.raises(AuthenticationError) as info:
        driver.call("chat", {"model": "openai/gpt-5-mini", "messages": user()}, provider_keys={"openai": secret})
    assert secret not in f"{info.value} {info.value!r} {info.value.body_excerpt}"


@KNOWN_KEYS
def test_embeddings_send_their_providers_key(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(api_key="sk-primary-unused", provider_keys={"openai": OPENAI_KEY})
    driver.call("embed", {"model": "openai/text-embedding-3-small", "input": ["a"]})
    assert driver.emu.requests[-1].headers["authorization"] == f"Bearer {OPENAI_KEY}"
    driver.call("embed", {"model": "openai/text-embedding-3-small", "input": ["a"]}, provider_keys={"openai": "sk-x"})
    assert driver.emu.requests[-1].headers["authorization"] == "Bearer sk-x"


@KNOWN_KEYS
def test_responses_steps_send_the_openai_key(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(api_key="sk-not-for-openai", provider_keys={"openai": OPENAI_KEY}, options=UNIVERSAL)
    driver.call("responses", {"model": "openai/gpt-5-unavailable", "input": "hi"}, fallbacks=["openai/gpt-5-mini"])
    assert _step_auth(driver) == [f"Bearer {OPENAI_KEY}", f"Bearer {OPENAI_KEY}"]
    driver.call("responses", {"model": "openai/gpt-5-mini", "input": "hi"}, provider_keys={"openai": "sk-call"})
    assert driver.emu.requests[-1].headers["authorization"] == "Bearer sk-call"


def test_streams_send_the_same_keys(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(api_key=OPENAI_KEY, options=UNIVERSAL)
    chunks, _ = driver.stream({"model": FAILING_PRIMARY, "messages": user()}, fallbacks=["anthropic/claude-sonnet-4-5"])
    assert chunks
    assert _step_auth(driver) == [f"Bearer {OPENAI_KEY}", None]


# --- part 1 in client mode (the default): each client-side attempt takes its own target's key ---------------


def _attempt_auth(driver: Driver) -> list[tuple[str, str | None]]:
    """``(model as sent, Authorization)`` of each client-side attempt, in order, a retried attempt once."""
    seen: list[tuple[str, str | None]] = []
    for request in driver.emu.requests:
        assert isinstance(request.json, dict), "expected one request per target, not a Universal request"
        pair = (request.json["model"], request.headers.get("authorization"))
        if pair not in seen:
            seen.append(pair)
    return seen


def _credentials(driver: Driver) -> list[SeenCredential]:
    seen: list[SeenCredential] = []
    for request in driver.emu.requests:
        seen += [credential for credential in request.credentials if credential not in seen]
    return seen


@KNOWN_KEYS
def test_each_client_side_attempt_sends_its_own_providers_key(make_driver: Callable[..., Driver]) -> None:
    """Client mode is the default: each fallback is its own request, and each carries its own target's key
    (provider_keys, else api_key for the primary's provider only, else none): never the primary's key."""
    driver = make_driver(api_key=OPENAI_KEY, provider_keys={"anthropic": ANTHROPIC_KEY})
    fallbacks = ["anthropic/claude-unavailable-4-5", "groq/llama-3.1-8b-instant"]
    completion = driver.call("chat", {"model": FAILING_PRIMARY, "messages": user()}, fallbacks=fallbacks)
    assert (completion.gateway.step, completion.gateway.served_by) == (2, "groq/llama-3.1-8b-instant")
    assert _attempt_auth(driver) == [
        (FAILING_PRIMARY, f"Bearer {OPENAI_KEY}"),
        ("anthropic/claude-unavailable-4-5", f"Bearer {ANTHROPIC_KEY}"),
        ("groq/llama-3.1-8b-instant", None),  # no key: the gateway's stored key / Unified Billing
    ]
    assert _credentials(driver) == [
        SeenCredential("compat.chat", "openai", f"Bearer {OPENAI_KEY}", "openai"),
        SeenCredential("compat.chat", "anthropic", f"Bearer {ANTHROPIC_KEY}", "anthropic"),
        SeenCredential("compat.chat", "groq", None, None),
    ]


@KNOWN_KEYS
def test_a_client_side_fallback_without_a_key_sends_no_authorization(make_driver: Callable[..., Driver]) -> None:
    """The primary's api_key never goes to another provider's attempt (the emulator would refuse it as
    Anthropic does: 401), so the fallback without a key of its own sends no Authorization."""
    driver = make_driver(api_key=OPENAI_KEY)
    completion = driver.call(
        "chat", {"model": FAILING_PRIMARY, "messages": user()}, fallbacks=["anthropic/claude-sonnet-4-5"]
    )
    assert completion.gateway.served_by == "anthropic/claude-sonnet-4-5"
    assert _attempt_auth(driver) == [(FAILING_PRIMARY, f"Bearer {OPENAI_KEY}"), ("anthropic/claude-sonnet-4-5", None)]


@KNOWN_KEYS
def test_client_side_attempts_take_per_call_keys_and_streams_the_same(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(api_key="sk-configured", provider_keys={"anthropic": "sk-ant-configured"})
    driver.call(
        "chat",
        {"model": FAILING_PRIMARY, "messages": user()},
        fallbacks=["anthropic/claude-sonnet-4-5"],
        provider_keys={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
    )
    assert _attempt_auth(driver) == [
        (FAILING_PRIMARY, f"Bearer {OPENAI_KEY}"),
        ("anthropic/claude-sonnet-4-5", f"Bearer {ANTHROPIC_KEY}"),
    ]
    driver.emu.reset()
    keyless = make_driver(api_key=OPENAI_KEY)
    chunks, stream = keyless.stream(
        {"model": FAILING_PRIMARY, "messages": user()}, fallbacks=["anthropic/claude-sonnet-4-5"]
    )
    assert chunks
    assert stream.meta.served_by == "anthropic/claude-sonnet-4-5"
    assert _attempt_auth(keyless) == [(FAILING_PRIMARY, f"Bearer {OPENAI_KEY}"), ("anthropic/claude-sonnet-4-5", None)]


def _workers_ai_fallback(driver: Driver) -> Any:
    """A failing OpenAI primary (``api_key``) falling back to Workers AI on its own route."""
    return driver.call(
        "chat",
        {"model": FAILING_PRIMARY, "messages": user()},
        fallbacks=["workers-ai/@cf/meta/llama-3.1-8b-instruct"],
        endpoint="provider",
    )


def test_a_client_side_workers_ai_attempt_sends_the_cloudflare_token(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(cf_aig_token=EMULATOR_TOKEN, api_key=OPENAI_KEY)
    assert _workers_ai_fallback(driver).gateway.step == 1
    assert _attempt_auth(driver) == [
        ("gpt-5-unavailable", f"Bearer {OPENAI_KEY}"),
        ("@cf/meta/llama-3.1-8b-instruct", f"Bearer {EMULATOR_TOKEN}"),
    ]
    assert driver.emu.requests[-1].route.startswith("provider.workers-ai")


@KNOWN_KEYS
def test_responses_client_side_attempts_send_the_openai_key(make_driver: Callable[..., Driver]) -> None:
    """The Responses API's models are all OpenAI's: each client-side attempt (a different model string each)
    takes provider_keys['openai'] over api_key, api_key alone when that is all there is, else nothing."""
    request = {"model": "openai/gpt-5-unavailable", "input": "hi"}
    fallbacks = ["openai/gpt-5-mini"]
    keyed = make_driver(api_key="sk-not-for-openai", provider_keys={"openai": OPENAI_KEY})
    result = keyed.call("responses", request, fallbacks=fallbacks)
    assert (result.gateway.step, result.gateway.served_by) == (1, "openai/gpt-5-mini")
    assert _attempt_auth(keyed) == [
        ("gpt-5-unavailable", f"Bearer {OPENAI_KEY}"),
        ("gpt-5-mini", f"Bearer {OPENAI_KEY}"),
    ]
    assert {r.path.rsplit("/", 2)[-2:] == ["openai", "responses"] for r in keyed.emu.requests} == {True}
    keyed.emu.reset()
    api_key_only = make_driver(api_key=OPENAI_KEY)
    _, stream = api_key_only.stream(request, method="stream_responses", fallbacks=fallbacks)
    assert stream.meta.step == 1
    assert _attempt_auth(api_key_only) == [
        ("gpt-5-unavailable", f"Bearer {OPENAI_KEY}"),
        ("gpt-5-mini", f"Bearer {OPENAI_KEY}"),
    ]
    api_key_only.emu.reset()
    per_call = make_driver(api_key=OPENAI_KEY)
    per_call.call("responses", request, fallbacks=fallbacks, provider_keys={"openai": "sk-call"})
    assert _attempt_auth(per_call) == [("gpt-5-unavailable", "Bearer sk-call"), ("gpt-5-mini", "Bearer sk-call")]
    per_call.emu.reset()
    keyless = make_driver()
    keyless.call("responses", request, fallbacks=fallbacks)
    assert _attempt_auth(keyless) == [("gpt-5-unavailable", None), ("gpt-5-mini", None)]


# --- part 1: the configuration -----------------------------------------------------------------------


def test_provider_keys_config_masks_normalises_and_hashes() -> None:
    config = GatewayConfig(account_id="a", provider_keys={"openai": OPENAI_KEY, "google": "g-key-1", "xai": "x-1"})
    assert set(config.provider_keys) == {"openai", "google-ai-studio", "grok"}  # REST spellings are accepted
    assert isinstance(config.provider_keys["openai"], SecretStr)
    for shown in (repr(config), str(config), config.model_dump_json(), repr(config.model_dump())):
        assert OPENAI_KEY not in shown and "g-key-1" not in shown
    assert shared_client(config) is shared_client(GatewayConfig(**config.__dict__))  # hashable: a cache key
    assert ProviderKeys({"openai": OPENAI_KEY}) == ProviderKeys({"OpenAI": SecretStr(OPENAI_KEY)})


@pytest.mark.parametrize(
    "text",
    [json.dumps({"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}), f"openai={OPENAI_KEY}, anthropic={ANTHROPIC_KEY}"],
)
def test_provider_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("CF_AIG_PROVIDER_KEYS", text)
    keys = GatewayConfig(account_id="a").provider_keys
    assert {name: keys[name].get_secret_value() for name in keys} == {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
    assert not GatewayConfig(account_id="a", surface="rest").provider_keys  # not read on the REST surface


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"antropic": "k"}, "'antropic' is not a provider name"),
        ({"sk-abc123": "openai"}, "an entry is not a provider name"),  # a swapped name and key is never echoed
        ({"openai": "two words"}, "printable ASCII"),
        ({"openai": "k", "OPENAI": "k2"}, "twice"),
        ("openai", "name=key pairs"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_provider_keys_are_configuration_errors(value: Any, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words) as info:
        GatewayConfig(account_id="a", provider_keys=value)
    assert "sk-abc123" not in str(info.value) and "two words" not in str(info.value)


def test_the_rest_surface_takes_no_provider_keys() -> None:
    with pytest.raises(ConfigurationError, match="REST surface"):
        GatewayConfig(account_id="a", surface="rest", provider_keys={"openai": "k"})
    client = GatewayClient(account_id="a", surface="rest", cf_aig_token="t")
    with pytest.raises(ConfigurationError, match="REST surface"):
        client.describe_chat({"model": "openai/gpt-5-mini", "messages": user()}, provider_keys={"openai": "k"})


# --- part 2: Workers AI on the gateway host --------------------------------------------------------------


def test_workers_ai_routes_send_the_cloudflare_token(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(cf_aig_token=EMULATOR_TOKEN)
    driver.call("embed", {"model": "workers-ai/@cf/baai/bge-base-en-v1.5", "input": ["a"]})
    sent = driver.emu.requests[-1]
    assert sent.route == "provider.workers-ai.embeddings"
    assert sent.headers["authorization"] == f"Bearer {EMULATOR_TOKEN}"
    assert sent.headers["cf-aig-authorization"] == f"Bearer {EMULATOR_TOKEN}"
    driver.call("chat", {"model": "workers-ai/@cf/meta/llama-3.1-8b-instruct", "messages": user()}, endpoint="provider")
    assert driver.emu.requests[-1].headers["authorization"] == f"Bearer {EMULATOR_TOKEN}"


def test_a_workers_ai_universal_step_sends_the_cloudflare_token(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(cf_aig_token=EMULATOR_TOKEN, api_key=OPENAI_KEY, options=UNIVERSAL)
    assert _workers_ai_fallback(driver).gateway.step == 1
    assert [step["provider"] for step in _steps(driver)] == ["openai", "workers-ai"]
    assert _step_auth(driver) == [f"Bearer {OPENAI_KEY}", f"Bearer {EMULATOR_TOKEN}"]


def test_compat_workers_ai_gets_no_automatic_token(make_driver: Callable[..., Driver]) -> None:
    """The docs show the token only on Workers AI's own routes; on compat the gateway reaches Workers AI itself."""
    driver = make_driver(cf_aig_token=EMULATOR_TOKEN)
    driver.call("chat", {"model": "workers-ai/@cf/meta/llama-3.1-8b-instruct", "messages": user()})
    assert driver.emu.requests[-1].route == "compat.chat"
    assert "authorization" not in driver.emu.requests[-1].headers


def test_a_workers_ai_key_or_cloudflare_api_token_wins(
    make_driver: Callable[..., Driver], monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = make_driver(cf_aig_token=EMULATOR_TOKEN, provider_keys={"workers-ai": "cf-workers-ai-token"})
    driver.emu.tokens.add("cf-workers-ai-token")
    driver.call("embed", {"model": "workers-ai/@cf/baai/bge-base-en-v1.5", "input": ["a"]})
    assert driver.emu.requests[-1].headers["authorization"] == "Bearer cf-workers-ai-token"
    assert driver.emu.requests[-1].headers["cf-aig-authorization"] == f"Bearer {EMULATOR_TOKEN}"
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "cf-workers-ai-token")
    from_env = make_driver(cf_aig_token=EMULATOR_TOKEN)
    from_env.call("embed", {"model": "workers-ai/@cf/baai/bge-base-en-v1.5", "input": ["a"]})
    assert from_env.emu.requests[-1].headers["authorization"] == "Bearer cf-workers-ai-token"


def test_a_workers_ai_route_without_a_token_is_refused_with_10000(make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(cf_aig_token=None)
    with pytest.raises(AuthenticationError) as info:
        driver.call("embed", {"model": "workers-ai/@cf/baai/bge-base-en-v1.5", "input": ["a"]})
    assert (info.value.status_code, info.value.code) == (401, 10000)
    assert "Workers AI Read" in (info.value.hint or "")
    assert len(driver.emu.requests) == 1  # a credential problem is not retried


@pytest.mark.cfaig_emulator(gateway_only_tokens=["gateway-run-only"])
def test_a_gateway_only_token_on_a_workers_ai_route_names_the_missing_permission(
    make_driver: Callable[..., Driver],
) -> None:
    """One 10000 hint for both surfaces: the gateway host's Workers AI routes, like REST, need Workers AI Read."""
    driver = make_driver(cf_aig_token="gateway-run-only")
    with pytest.raises(AuthenticationError) as info:
        driver.call("embed", {"model": "workers-ai/@cf/baai/bge-base-en-v1.5", "input": ["a"]})
    assert (info.value.status_code, info.value.code) == (401, 10000)
    hint = info.value.hint or ""
    assert "Workers AI Read" in hint and "CLOUDFLARE_API_TOKEN" in hint and "REST" in hint
    assert "gateway-run-only" not in str(info.value)


def test_the_emulator_answers_a_workers_ai_route_without_authorization_as_cloudflare(
    cfaig_emulator: GatewayEmulator,
) -> None:
    import httpx

    with httpx.Client(transport=cfaig_emulator.transport(), base_url=cfaig_emulator.gateway_url()) as http:
        refused = http.post("/workers-ai/v1/embeddings", json={"model": "@cf/baai/bge-base-en-v1.5", "input": "a"})
        wrong = http.post(
            "/workers-ai/v1/embeddings",
            json={"model": "@cf/baai/bge-base-en-v1.5", "input": "a"},
            headers={"authorization": "Bearer not-a-cloudflare-token"},
        )
    for answer in (refused, wrong):
        assert answer.status_code == 401
        assert answer.json() == {
            "result": None,
            "success": False,
            "errors": [{"code": 10000, "message": "Authentication error"}],
            "messages": [],
        }


# --- part 7 through the client: a spend limit is not retried, sync and async ------------------------------


def test_a_spend_limit_is_raised_at_once(make_driver: Callable[..., Driver]) -> None:
    from cfaig.errors import SpendLimitError

    spend = {"success": False, "error": [{"code": 2045, "message": "Spend limit exceeded: rule 'daily'"}]}
    driver = make_driver(max_retries=3)
    driver.emu.inject(Fault(status=429, body=spend, times=4))
    with pytest.raises(SpendLimitError) as info:
        driver.call("chat", {"model": "openai/gpt-5-mini", "messages": user()})
    assert info.value.code == 2045
    assert len(driver.emu.requests) == 1  # a plain 429 is retried max_retries times; a spend limit is not


@given(text=st.text(max_size=60))
def test_any_provider_keys_text_is_parsed_or_refused_without_echoing_a_key(text: str) -> None:
    try:
        keys = ProviderKeys.coerce("openai=KEYsecret" + text)
    except ConfigurationError as exc:
        refusal = str(exc)
        keys = None
    if keys is None:
        assert "KEYsecret" not in refusal
        return
    assert "KEYsecret" not in repr(keys)
    assert keys["openai"].get_secret_value().startswith("KEYsecret")
