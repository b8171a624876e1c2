"""The gateway-code table: one row per documented code, read by errors, the attempt flow and doctor."""

from __future__ import annotations

import json

from cfaig._error_mapping import make_status_error
from cfaig._gateway_codes import GATEWAY_CODES, gateway_code
from cfaig.errors import ContentBlockedError


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
