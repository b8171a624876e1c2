"""vcrpy settings that keep Cloudflare credentials and account ids out of cassettes."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from cfaig._constants import ENV_API_TOKEN, ENV_CF_AIG_TOKEN, ENV_PROVIDER_API_KEY
from cfaig._redact import SENSITIVE_HEADERS  # the core's one list (a standard-library module)

REDACTED: Final = "REDACTED"
"""What a credential header's value becomes in a cassette."""
_ACCOUNT_ID_RE: Final = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])")
_STRIPPED_RESPONSE_HEADERS: Final = frozenset({"set-cookie"})
_SECRET_ENV: Final = (ENV_CF_AIG_TOKEN, ENV_PROVIDER_API_KEY, ENV_API_TOKEN)
_BEARER_RE: Final = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]{6,}")
_MIN_SECRET: Final = 6
"""Shorter values are not treated as secrets in bodies (they would replace ordinary words)."""


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


class _Scrubber:
    """Shared state of one :func:`vcr_config`: the account ids and credentials seen so far.

    Credentials come from the environment (``CF_AIG_TOKEN``, ``CF_AIG_PROVIDER_API_KEY``,
    ``CLOUDFLARE_API_TOKEN``), from ``vcr_config(secrets=...)``, and from every credential header and
    Universal step header recorded; a response body that echoes one (a 401 quoting the key, an echo
    service) is recorded with ``REDACTED`` in its place, as is any ``Bearer ...`` token.
    """

    def __init__(self, placeholder: str, secrets: Iterable[str] = ()) -> None:
        self.placeholder = placeholder
        self.account_ids: set[str] = set()
        self.secrets: set[str] = set()
        configured = os.environ.get("CLOUDFLARE_ACCOUNT_ID", "").strip()
        if configured:
            self.account_ids.add(configured)
        for secret in [*(os.environ.get(name, "") for name in _SECRET_ENV), *secrets]:
            self.learn(secret)

    def learn(self, value: Any) -> None:
        """Remember a credential (a header value, with or without its ``Bearer`` prefix)."""
        if not isinstance(value, str):
            return
        value = value.strip()
        token = value[7:].strip() if value[:7].lower() == "bearer " else value
        for secret in (value, token):
            if len(secret) >= _MIN_SECRET:
                self.secrets.add(secret)

    def redact_header(self, key: str, value: Any, request: Any) -> str:
        """vcrpy ``filter_headers`` callback: learn the credential, record ``REDACTED``."""
        for item in value if isinstance(value, list) else [value]:
            self.learn(item)
        return REDACTED

    def scrub_text(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        text = _BEARER_RE.sub(r"\1" + REDACTED, text)
        for account_id in sorted(self.account_ids, key=len, reverse=True):
            text = text.replace(account_id, self.placeholder)
        return text

    def redact_step_headers(self, value: Any) -> Any:
        """Redact (and learn) credentials inside Universal Endpoint step ``headers`` objects."""
        if isinstance(value, list):
            return [self.redact_step_headers(item) for item in value]
        if isinstance(value, dict):
            result: dict[str, Any] = {}
            for key, item in value.items():
                if key == "headers" and isinstance(item, dict):
                    result[key] = {
                        name: self.redact_header(name, header, None)
                        if str(name).lower() in SENSITIVE_HEADERS
                        else header
                        for name, header in item.items()
                    }
                else:
                    result[key] = item
            return result
        return value

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
                redacted = self.redact_step_headers(parsed)
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


def vcr_config(*, account_id_placeholder: str = "ACCOUNT_ID", secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR(...)`` / ``use_cassette(...)`` (or pytest-recording).

    * credential headers (``cf-aig-authorization``, ``authorization``, ``proxy-authorization``,
      ``x-api-key``, ``x-goog-api-key``, ``api-key``) are recorded as ``REDACTED``, also inside
      Universal Endpoint step ``headers``;
    * those credentials, the ones in ``CF_AIG_TOKEN`` / ``CF_AIG_PROVIDER_API_KEY`` /
      ``CLOUDFLARE_API_TOKEN``, the ``secrets`` you pass, and any ``Bearer ...`` token become
      ``REDACTED`` in recorded bodies and headers too (a 401 or an echo service may quote the key);
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
    if isinstance(secrets, (str, bytes)):
        raise TypeError("secrets is a list of strings, not one string")
    scrubber = _Scrubber(account_id_placeholder, secrets)
    before_request: Callable[[Any], Any] = scrubber.before_record_request
    before_response: Callable[[Any], Any] = scrubber.before_record_response
    return {
        "filter_headers": [(name, scrubber.redact_header) for name in sorted(SENSITIVE_HEADERS)],
        "before_record_request": before_request,
        "before_record_response": before_response,
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
        "record_mode": "once" if os.environ.get("CFAIG_RECORD") == "1" else "none",
    }
