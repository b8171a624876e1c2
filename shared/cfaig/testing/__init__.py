"""A local Cloudflare AI Gateway emulator for tests (yours and ours).

``cfaig.testing`` emulates the gateway host (``/v1/{account}/{gateway}/…``: compat chat
and embeddings, provider routes, the Universal Endpoint) and the Cloudflare REST API
(``/client/v4/accounts/{account}/ai/…`` and log feedback) with deterministic fake models,
gateway features (authentication, caching, logs and metadata, rate limits, request
timeouts) and injectable faults. It depends only on the standard library, httpx, h11 and
pydantic, and never contacts Cloudflare.

Where Cloudflare documents a rule, the emulator enforces it, so a client that breaks it fails a test:

- REST surface (https://developers.cloudflare.com/ai-gateway/usage/rest-api/): ``Authorization: Bearer``
  with a Cloudflare token is required (401, code 10000 otherwise, also for a token with AI Gateway permissions
  only: ``gateway_only_tokens``, https://github.com/cloudflare/cloudflare-docs/pull/32574); the gateway is the
  ``cf-aig-gateway-id`` header (``default`` when omitted, and a bare ``@cf/...`` model without it runs outside
  any gateway: no log); model names are the catalog's ``{author}/{model}``: the compat prefixes
  ``google-ai-studio/`` and ``grok/`` are refused (400 / 7003) and an author outside the catalog is 404 / 7003.
- Custom domains (https://developers.cloudflare.com/ai-gateway/configuration/custom-domains/):
  ``GatewayEmulator(custom_domains={"ai.example.com": "my-gateway"})`` serves that host as the gateway's root,
  with no account or gateway in the path (``/compat/chat/completions``, ``/openai/...``,
  ``/workers-ai/v1/embeddings``, and the Universal Endpoint at ``/``, which the page does not mention).
- Provider credentials are enforced as the real gateway treats them (``_credentials``): a provider key the
  emulator knows as one provider's (``GatewayEmulator(provider_keys={"openai": "sk-..."})``) sent to another
  provider is refused by that provider (401, its error format), since Cloudflare forwards a request's key
  unchanged; Workers AI's own routes (``/workers-ai/...`` and Workers AI Universal steps) answer 401 / 10000
  (Cloudflare's v4 envelope) without a Cloudflare token as ``Authorization``. Each model attempt's credential
  is recorded in :attr:`RecordedRequest.credentials` (a :class:`SeenCredential`). Sources: docs/protocol.md.

In-process::

    from cfaig.testing import GatewayEmulator

    emu = GatewayEmulator()
    with httpx.Client(transport=emu.transport(), base_url=emu.gateway_url()) as client:
        reply = client.post("/compat/chat/completions", json={
            "model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})

Over a real loopback socket::

    from cfaig.testing import serve

    with serve() as server:
        print(server.base_url)   # http://127.0.0.1:PORT/v1

From a shell: ``python -m cfaig.testing --port 8787``.

In pytest, through the fixtures of :mod:`cfaig.testing.pytest_plugin` (loaded automatically)::

    def test_fallback(cfaig_client, cfaig_emulator):
        cfaig_emulator.inject(Fault(status=500, step=0))
        ...

The rooms: ``_gateway`` (:class:`GatewayEmulator` and its pipeline), ``_routes``, ``_handlers``,
``_cache``, ``_universal``, ``_faults``, ``_logs``, ``_responses_store`` (stored Responses API answers),
``_upstream``, ``_transport``, ``_server``;
:mod:`cfaig.testing.fake` (the deterministic models) and :mod:`cfaig.testing.wire` (each wire
format's parse and render side by side).
"""

from __future__ import annotations

from ._gateway import GatewayEmulator
from ._server import EmulatorServer, serve
from ._transport import EmulatorTransport
from ._types import DEFAULT_TOKEN as EMULATOR_TOKEN
from ._types import EMULATOR_ACCOUNT_ID, Fault, GatewaySettings, RecordedRequest, ScriptedReply, SeenCredential
from ._vcr import vcr_config
from .fake.providers import PROVIDER_QUIRKS, ProviderQuirks

__all__ = [
    "EMULATOR_ACCOUNT_ID",
    "EMULATOR_TOKEN",
    "PROVIDER_QUIRKS",
    "EmulatorServer",
    "EmulatorTransport",
    "Fault",
    "GatewayEmulator",
    "GatewaySettings",
    "ProviderQuirks",
    "RecordedRequest",
    "ScriptedReply",
    "SeenCredential",
    "serve",
    "vcr_config",
]
