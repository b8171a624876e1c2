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
    blocked: bool = False
    """Guardrails or DLP blocked the prompt or the answer: a ``ContentBlockedError`` whatever the status."""
    falls_back: bool = True
    """Whether the next fallback model can succeed: not when the gateway or the credentials are wrong."""
    retries: bool = True
    """Whether trying again can succeed, when the status says it might (``RetryPolicy`` decides the rest)."""
    diagnosis: str | None = None
    """What ``cfaig doctor`` reports as the problem when its probe is refused with this code."""
    probe_passed: bool = False
    """For doctor's empty-body probe: this refusal means the gateway exists and accepted the credentials."""


GATEWAY_CODES: Final[dict[int, GatewayCode]] = {
    2001: GatewayCode(
        "gateway '{gateway}' does not exist in this account; create it in the dashboard or use 'default'",
        diagnosis="the gateway does not exist in this account: create it or use --gateway-id default",
        falls_back=False,
        retries=False,
    ),
    2003: GatewayCode("the gateway's rate limit was reached; slow down or raise the limit in the gateway settings"),
    2009: GatewayCode(
        "this gateway is authenticated: set cf_aig_token (env CF_AIG_TOKEN) to a token with AI Gateway Run "
        "permission; it is sent as cf-aig-authorization",
        diagnosis="the gateway is authenticated and the token is missing or wrong: set CF_AIG_TOKEN",
        falls_back=False,
        retries=False,
    ),
    2015: GatewayCode("the gateway's request timeout (request_timeout_ms) passed before the provider answered"),
    2016: GatewayCode("the prompt was blocked by the gateway's guardrails", blocked=True),
    2017: GatewayCode("the response was blocked by the gateway's guardrails", blocked=True),
    2019: GatewayCode(
        "the unified endpoint needs model='{{provider}}/{{model}}', e.g. 'openai/gpt-5-mini'", probe_passed=True
    ),
    2021: GatewayCode("Unified Billing has no credits for this; add credits or use your own provider key (BYOK)"),
    2029: GatewayCode("the request was blocked by a DLP policy", blocked=True),
    2030: GatewayCode("the response was blocked by a DLP policy", blocked=True),
    2040: GatewayCode("no stored provider key (BYOK) has that alias; check byok_alias"),
    2045: GatewayCode("a spend limit of this gateway was exceeded"),
    3040: GatewayCode("Workers AI is out of capacity right now; retry later"),
    3036: GatewayCode("the daily free Workers AI allocation is used up"),
    5007: GatewayCode("Workers AI has no such model; check the @cf/... id"),
    7003: GatewayCode("the model was not found, or its input failed validation", probe_passed=True),
    10000: GatewayCode(
        "the Cloudflare API token is missing, invalid, or lacks Workers AI permission: the REST surface's "
        "/ai/... routes need a token with Workers AI Read (a token with only AI Gateway permissions is refused "
        "with 10000); set CLOUDFLARE_API_TOKEN to such a token",
        diagnosis="the Cloudflare API token is missing, invalid, or lacks Workers AI Read for the REST surface: "
        "set CLOUDFLARE_API_TOKEN",
        falls_back=False,
        retries=False,
    ),
}


def gateway_code(code: int | str | None) -> GatewayCode | None:
    """The documented meaning of an error's ``code``, or ``None`` (a provider's code, or none at all)."""
    return GATEWAY_CODES.get(code) if isinstance(code, int) else None
