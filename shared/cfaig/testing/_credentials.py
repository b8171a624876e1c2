"""Provider credentials as the real gateway and providers treat them: whose key reaches whom, and Workers AI's token.

Two documented rules, enforced on every model attempt (a request, or one try of one Universal step):

* A provider key on a request is forwarded to the provider unchanged, and then stored keys (BYOK) and
  Unified Billing are not consulted
  (https://developers.cloudflare.com/ai-gateway/features/unified-billing/, "Credential precedence"). So a
  key the emulator knows as provider Y's, sent to provider X, is refused by X the way X refuses a wrong
  key: 401 in X's error format.
* Workers AI provider routes on the gateway host (``/workers-ai/...``, and Universal steps whose provider
  is ``workers-ai``) authenticate with ``Authorization: Bearer <Cloudflare API token>``
  (https://developers.cloudflare.com/ai-gateway/usage/providers/workersai/). Without a valid token there,
  the answer is Cloudflare's v4 envelope, 401 with code 10000 "Authentication error"
  (https://developers.cloudflare.com/workers-ai/platform/errors/ lists 10000; the body shape is the one
  reported in https://github.com/anomalyco/opencode/issues/32051).

Every attempt's credential is recorded on the request (:attr:`RecordedRequest.credentials`), so a test can
say which key went to which step and route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from ._routes import Route
from ._types import CODE_AUTHENTICATION, SeenCredential
from .fake.providers import PROVIDER_QUIRKS
from .fake.types import ErrorStyle, ModelError

WORKERS_AI: Final = "workers-ai"
_STYLES: Final[Mapping[str, ErrorStyle]] = {"anthropic": "anthropic"}


def key_owners(provider_keys: Mapping[str, str | Iterable[str]] | None) -> dict[str, str]:
    """``{provider: key or keys}`` as ``{key: provider}``; a key given to two providers is refused."""
    owners: dict[str, str] = {}
    for provider, keys in (provider_keys or {}).items():
        for key in [keys] if isinstance(keys, str) else keys:
            if owners.get(key, provider) != provider:
                raise ValueError("a provider key belongs to one provider only")
            owners[key] = provider
    return owners


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _style(provider: str, route: Route) -> ErrorStyle:
    if route.naming == "provider":
        return route.style
    quirks = PROVIDER_QUIRKS.get(provider)
    return _STYLES.get(provider) or (quirks.error_style if quirks is not None else "openai")


def inspect_credentials(
    route: Route,
    provider: str,
    headers: Mapping[str, str],
    *,
    owners: Mapping[str, str],
    cloudflare_tokens: Iterable[str],
) -> tuple[SeenCredential, ModelError | None]:
    """What this attempt carried, and the refusal the provider (or Workers AI) would answer, if any."""
    header = headers.get("authorization")
    token = bearer(header)
    seen = SeenCredential(route.label, provider, header, owners.get(token) if token else None)
    if route.provider == WORKERS_AI and route.naming in ("provider", "native"):
        if token is None or (token not in cloudflare_tokens and seen.owner != WORKERS_AI):
            return seen, ModelError("Authentication error", status=401, style="cloudflare", code=CODE_AUTHENTICATION)
        return seen, None
    if seen.owner is not None and seen.owner != provider:
        message = f"Incorrect API key provided: the key sent to {provider} is {seen.owner}'s (cfaig emulator)"
        return seen, ModelError(message, status=401, style=_style(provider, route))
    return seen, None
