"""The gateway-code table: one row per documented code, read by errors, the attempt flow and doctor."""

from __future__ import annotations

import json

from cfaig._error_mapping import make_status_error
from cfaig._gateway_codes import GATEWAY_CODES, gateway_code
from cfaig._retry import RetryPolicy
from cfaig.errors import ContentBlockedError, PermissionDeniedError, RateLimitError, ServerError, SpendLimitError


def _body(code: int) -> bytes:
    return json.dumps({"success": False, "error": [{"code": code, "message": "refused"}]}).encode()


def test_every_hint_formats_with_the_gateway_id() -> None:
    for code, row in GATEWAY_CODES.items():
        error = make_status_error(400, _body(code), gateway_id="prod")
        assert error.hint == row.hint.format(gateway="prod"), code
        assert "{" not in (error.hint or "").replace("{provider}", "").replace("{model}", ""), code


def test_blocked_codes_are_content_blocked_whatever_the_status() -> None:
    blocked = {code for code, row in GATEWAY_CODES.items() if row.blocked}
    assert blocked == {2016, 2017, 2029, 2030}
    for code in blocked:
        assert isinstance(make_status_error(400, _body(code)), ContentBlockedError)


def test_a_diagnosed_code_is_one_no_fallback_or_retry_can_fix() -> None:
    diagnosed = {code for code, row in GATEWAY_CODES.items() if row.diagnosis}
    assert diagnosed == {2001, 2009, 10000}
    for code in diagnosed:
        row = GATEWAY_CODES[code]
        assert not row.falls_back and not row.retries and not row.probe_passed


def test_unknown_and_non_integer_codes_have_no_row() -> None:
    assert gateway_code(None) is None
    assert gateway_code("invalid_api_key") is None
    assert gateway_code(424242) is None
    assert gateway_code(2009) is GATEWAY_CODES[2009]


# --- issue 11 part 7: the table, from the docs ----------------------------------------------------------


def test_every_hint_has_a_source() -> None:
    for code, row in GATEWAY_CODES.items():
        assert row.source.strip(), code
        assert "https://" in row.source or "observed" in row.source, code


def test_the_codes_the_docs_give_and_only_those() -> None:
    assert 2015 not in GATEWAY_CODES  # no Cloudflare page, source or third-party report names it
    assert {7013, 2021, 2045}.issubset(GATEWAY_CODES)
    assert "guardrail scanner" in GATEWAY_CODES[2021].hint  # the credits case of the scanner
    assert "unavailable" in GATEWAY_CODES[7013].hint and not GATEWAY_CODES[7013].falls_back
    assert "provider rejected the credentials" in GATEWAY_CODES[2009].hint
    assert "Workers AI Read" in GATEWAY_CODES[10000].hint


def test_a_guardrail_scanner_outage_is_a_server_error_with_its_hint() -> None:
    error = make_status_error(503, _body(7013))
    assert isinstance(error, ServerError)
    assert error.hint == GATEWAY_CODES[7013].hint


def test_a_403_hint_names_a_policy_block() -> None:
    policy = json.dumps({"success": False, "error": {"message": "Access denied by policy"}}).encode()
    error = make_status_error(403, policy)
    assert isinstance(error, PermissionDeniedError)
    assert "policy" in (error.hint or "")


def test_a_spend_limit_429_is_its_own_error_and_not_retried() -> None:
    by_code = make_status_error(429, _body(2045))
    policy = json.dumps({"success": False, "error": {"message": "Spending limit exceeded"}}).encode()
    by_message = make_status_error(429, policy)
    rate_limited = make_status_error(429, _body(2003))
    for error in (by_code, by_message):
        assert isinstance(error, SpendLimitError) and isinstance(error, RateLimitError)
        assert not RetryPolicy().is_retryable(error)
        assert error.hint == GATEWAY_CODES[2045].hint
    assert type(rate_limited) is RateLimitError
    assert RetryPolicy().is_retryable(rate_limited)
