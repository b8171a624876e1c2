"""The gateway's documented error codes: what each means for the user, for retries and fallbacks, and for doctor.

Read by the error mapping (hint, error class), the attempt flow (may the next fallback or a retry help?)
and ``cfaig doctor`` (its diagnosis of a probe). Hints are user-facing copy; they are ``str.format``-ed
with ``gateway=``, so a literal brace is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["GATEWAY_CODES", "GatewayCode", "gateway_code"]


@dataclass(frozen=True, slots=True)
class GatewayCode:
    hint: str
    """What to do about it, in plain words (``{gateway}`` is the gateway id)."""
    source: str
    """Where the code and its meaning are documented (a Cloudflare page), or who observed it when Cloudflare
    documents only the status: every hint has a source (docs/protocol.md, "Errors")."""
    blocked: bool = False
    """Guardrails or DLP blocked the prompt or the answer: a ``ContentBlockedError`` whatever the status."""
    falls_back: bool = True
    """Whether the next fallback model can succeed: not when the gateway or the credentials are wrong."""
    retries: bool = True
    """Whether trying again can succeed, when the status says it might (``RetryPolicy`` decides the rest)."""
    spend_limit: bool = False
    """A spend limit or budget: a ``SpendLimitError``, never retried client-side (the window must reset)."""
    diagnosis: str | None = None
    """What ``cfaig doctor`` reports as the problem when its probe is refused with this code."""
    probe_passed: bool = False
    """For doctor's empty-body probe: this refusal means the gateway exists and accepted the credentials."""


_OBSERVED: Final = "code observed by third parties (../shared/spec/gateway-protocol.md section 6.5)"
_AUTH: Final = "https://developers.cloudflare.com/ai-gateway/configuration/authentication/"
_GUARDRAILS: Final = "https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/"
_DLP: Final = "https://developers.cloudflare.com/ai-gateway/features/dlp/set-up-dlp/"
_WORKERS_AI_ERRORS: Final = "https://developers.cloudflare.com/workers-ai/platform/errors/"

GATEWAY_CODES: Final[dict[int, GatewayCode]] = {
    2001: GatewayCode(
        "gateway '{gateway}' does not exist in this account; create it in the dashboard or use 'default'",
        "https://github.com/cloudflare/ai/blob/main/packages/ai-gateway-provider/src/index.ts "
        "(AiGatewayDoesNotExist); https://developers.cloudflare.com/ai-gateway/reference/limits/",
        diagnosis="the gateway does not exist in this account: create it or use --gateway-id default",
        falls_back=False,
        retries=False,
    ),
    2003: GatewayCode(
        "the gateway's rate limit was reached; slow down or raise the limit in the gateway settings",
        f"https://developers.cloudflare.com/ai-gateway/features/rate-limiting/ (status 429); {_OBSERVED}",
    ),
    2009: GatewayCode(
        "unauthorized: either this gateway is authenticated and cf_aig_token (env CF_AIG_TOKEN) is missing or "
        "wrong (a token with AI Gateway Run permission, sent as cf-aig-authorization), or the provider rejected "
        "the credentials (check provider_keys / api_key, or the key stored in the gateway)",
        f"{_AUTH}; https://developers.cloudflare.com/changelog/2026-10-05-provider-credential-errors/ "
        "(provider credentials rejected); "
        "https://github.com/cloudflare/ai/blob/main/packages/ai-gateway-provider/src/index.ts",
        diagnosis="the gateway is authenticated and the token is missing or wrong (set CF_AIG_TOKEN), or the "
        "provider rejected the credentials",
        falls_back=False,
        retries=False,
    ),
    2016: GatewayCode("the prompt was blocked by the gateway's guardrails", _GUARDRAILS, blocked=True),
    2017: GatewayCode("the response was blocked by the gateway's guardrails", _GUARDRAILS, blocked=True),
    2019: GatewayCode(
        "the unified endpoint needs model='{{provider}}/{{model}}', e.g. 'openai/gpt-5-mini'",
        f"{_OBSERVED}; the model format: https://developers.cloudflare.com/ai-gateway/usage/chat-completion/",
        probe_passed=True,
    ),
    2021: GatewayCode(
        "not enough credits: Unified Billing (or the guardrail scanner, which also runs on credits) has none "
        "left for this; add credits, or use your own provider key (BYOK)",
        f"https://developers.cloudflare.com/ai-gateway/features/unified-billing/; {_GUARDRAILS} (402 / 2021)",
    ),
    2029: GatewayCode("the request was blocked by a DLP policy", _DLP, blocked=True),
    2030: GatewayCode("the response was blocked by a DLP policy", _DLP, blocked=True),
    2040: GatewayCode(
        "no stored provider key (BYOK) has that alias; check byok_alias",
        f"https://developers.cloudflare.com/ai-gateway/configuration/bring-your-own-keys/ (aliases); {_OBSERVED}",
    ),
    2045: GatewayCode(
        "a spend limit of this gateway was exceeded; it is not retried (the limit's window must reset first): "
        "raise the limit, or fall back to a model the limit does not cover",
        f"https://developers.cloudflare.com/ai-gateway/features/spend-limits/ (status 429); {_OBSERVED}",
        retries=False,
        spend_limit=True,
    ),
    3040: GatewayCode("Workers AI is out of capacity right now; retry later", _WORKERS_AI_ERRORS),
    3036: GatewayCode("the daily free Workers AI allocation is used up", _WORKERS_AI_ERRORS),
    5007: GatewayCode("Workers AI has no such model; check the @cf/... id", _WORKERS_AI_ERRORS),
    7003: GatewayCode(
        "the model was not found, or its input failed validation",
        f"{_OBSERVED} (the REST /ai/run catalog)",
        probe_passed=True,
    ),
    7013: GatewayCode(
        "the gateway's guardrail scanner is unavailable and a guardrail rule is set to Block, so the request "
        "was not served; retry later, or change the rule to Flag",
        f"{_GUARDRAILS} (503 / 7013)",
        falls_back=False,
    ),
    10000: GatewayCode(
        "the Cloudflare API token is missing, invalid or lacks Workers AI Read permission: the REST surface's "
        "/ai/... routes and the gateway host's Workers AI routes need it (a token with only AI Gateway "
        "permissions, e.g. AI Gateway Run, is refused with 10000); set CLOUDFLARE_API_TOKEN to such a token (on "
        "Workers AI routes it is sent as Authorization: provider_keys['workers-ai'], CLOUDFLARE_API_TOKEN or "
        "cf_aig_token)",
        f"{_WORKERS_AI_ERRORS}; https://developers.cloudflare.com/ai-gateway/usage/providers/workersai/; "
        "https://github.com/cloudflare/cloudflare-docs/pull/32574 (Workers AI Read for /ai/*)",
        diagnosis="the Cloudflare API token is missing, invalid or lacks Workers AI Read permission (the REST "
        "surface and Workers AI routes need it): set CLOUDFLARE_API_TOKEN",
        falls_back=False,
        retries=False,
    ),
}


def gateway_code(code: int | str | None) -> GatewayCode | None:
    """The documented meaning of an error's ``code``, or ``None`` (a provider's code, or none at all)."""
    return GATEWAY_CODES.get(code) if isinstance(code, int) else None
