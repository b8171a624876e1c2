"""vcrpy settings that keep Cloudflare credentials and account ids out of cassettes."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from cfaig._redact import SENSITIVE_HEADERS  # the core's one list (a standard-library module)

REDACTED: Final = "REDACTED"
"""What a credential header's value becomes in a cassette."""
_ACCOUNT_ID_RE: Final = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])")
_STRIPPED_RESPONSE_HEADERS: Final = frozenset({"set-cookie"})


def _as_text(body: Any) -> tuple[str | None, bool]:
    """Body as text, and whether it was bytes (None for absent / undecodable bodies)."""
    if body is None:
        return None, False
    if isinstance(body, str):
        return body, False
    if isinstance(body, (bytes, bytearray)):
        try:
            return bytes(body).decode("utf-8"), True
        except UnicodeDecodeError:
            return None, True
    return None, False


def _redact_step_headers(value: Any) -> Any:
    """Redact credentials inside Universal Endpoint step ``headers`` objects."""
    if isinstance(value, list):
        return [_redact_step_headers(item) for item in value]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key == "headers" and isinstance(item, dict):
                result[key] = {
                    name: REDACTED if str(name).lower() in SENSITIVE_HEADERS else header
                    for name, header in item.items()
                }
            else:
                result[key] = item
        return result
    return value


class _Scrubber:
    """Shared state of one :func:`vcr_config`: the account ids seen so far."""

    def __init__(self, placeholder: str) -> None:
        self.placeholder = placeholder
        self.account_ids: set[str] = set()
        configured = os.environ.get("CLOUDFLARE_ACCOUNT_ID", "").strip()
        if configured:
            self.account_ids.add(configured)

    def scrub_text(self, text: str) -> str:
        for account_id in sorted(self.account_ids, key=len, reverse=True):
            text = text.replace(account_id, self.placeholder)
        return text

    def scrub_path(self, path: str) -> str:
        for match in _ACCOUNT_ID_RE.findall(path):
            self.account_ids.add(match)
        return self.scrub_text(path)

    def before_record_request(self, request: Any) -> Any:
        uri = getattr(request, "uri", None)
        if isinstance(uri, str):
            parts = urlsplit(uri)
            request.uri = urlunsplit(parts._replace(path=self.scrub_path(parts.path)))
        text, was_bytes = _as_text(getattr(request, "body", None))
        if text is not None:
            try:
                parsed = json.loads(text)
            except ValueError:
                scrubbed = self.scrub_text(text)
            else:
                redacted = _redact_step_headers(parsed)
                scrubbed = self.scrub_text(json.dumps(redacted, separators=(",", ":")) if redacted != parsed else text)
            if scrubbed != text:
                request.body = scrubbed.encode("utf-8") if was_bytes else scrubbed
        return request

    def before_record_response(self, response: Any) -> Any:
        if not isinstance(response, dict):
            return response
        result = dict(response)
        headers = result.get("headers")
        if isinstance(headers, dict):
            result["headers"] = {
                name: self._scrub_header(value)
                for name, value in headers.items()
                if str(name).lower() not in _STRIPPED_RESPONSE_HEADERS
            }
        body = result.get("body")
        if isinstance(body, dict):
            text, was_bytes = _as_text(body.get("string"))
            if text is not None:
                scrubbed = self.scrub_text(text)
                if scrubbed != text:
                    result["body"] = {**body, "string": scrubbed.encode("utf-8") if was_bytes else scrubbed}
        return result

    def _scrub_header(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.scrub_text(v) if isinstance(v, str) else v for v in value]
        return self.scrub_text(value) if isinstance(value, str) else value


def vcr_config(*, account_id_placeholder: str = "ACCOUNT_ID") -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR(...)`` / ``use_cassette(...)`` (or pytest-recording).

    * credential headers (``cf-aig-authorization``, ``authorization``, ``proxy-authorization``,
      ``x-api-key``, ``x-goog-api-key``, ``api-key``) are recorded as ``REDACTED``, also inside
      Universal Endpoint step ``headers``;
    * 32-hex account ids in URL paths, and the ``CLOUDFLARE_ACCOUNT_ID`` environment
      value, become ``account_id_placeholder`` in URLs and bodies;
    * ``Set-Cookie`` response headers are dropped and compressed bodies are decoded;
    * requests match on method, scheme, host, port, path, query and body;
    * ``record_mode`` is ``"none"`` (replay only) unless ``CFAIG_RECORD=1`` (``"once"``).

    With pytest-recording::

        @pytest.fixture(scope="module")
        def vcr_config():
            return cfaig.testing.vcr_config()
    """
    scrubber = _Scrubber(account_id_placeholder)
    before_request: Callable[[Any], Any] = scrubber.before_record_request
    before_response: Callable[[Any], Any] = scrubber.before_record_response
    return {
        "filter_headers": [(name, REDACTED) for name in sorted(SENSITIVE_HEADERS)],
        "before_record_request": before_request,
        "before_record_response": before_response,
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
        "record_mode": "once" if os.environ.get("CFAIG_RECORD") == "1" else "none",
    }
