"""Provider keys per provider: ``{"openai": "sk-...", "anthropic": "sk-ant-..."}``, each one a ``SecretStr``.

Cloudflare forwards a provider key sent on a request unchanged, and then consults neither stored keys (BYOK)
nor Unified Billing (https://developers.cloudflare.com/ai-gateway/features/unified-billing/, "Credential
precedence"). So each target of a call (the primary model, each fallback step) carries its own provider's key
or none: :func:`cfaig._headers.provider_authorization` applies the rule, this module holds the keys.

:class:`ProviderKeys` is an immutable, hashable mapping (a :class:`cfaig.GatewayConfig` is a cache key) whose
``repr`` never shows a key. It is built from a mapping, or from the text of ``CF_AIG_PROVIDER_KEYS``: JSON
(``{"openai": "sk-..."}``) or ``openai=sk-...,anthropic=sk-ant-...``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pydantic import GetCoreSchemaHandler, SecretStr
from pydantic_core import core_schema

from cfaig.errors import ConfigurationError
from cfaig.providers import PROVIDER_TABLE, PROVIDERS

__all__ = ["WORKERS_AI", "ProviderKeys", "provider_key_name"]

WORKERS_AI: Final = "workers-ai"
"""Workers AI's provider name: its routes take a Cloudflare API token as the provider key."""
_MASK: Final = "**********"
_SHOWABLE: Final = re.compile(r"^[A-Za-z][A-Za-z-]{0,39}$")
_EXTRA_PROVIDERS: Final = ("aws-bedrock",)
_REST_SPELLINGS: Final[dict[str, str]] = {
    row.rest_prefix: row.name
    for row in PROVIDER_TABLE.values()
    if row.rest_prefix is not None and row.rest_prefix != row.name
}


def provider_key_name(name: object) -> str:
    """The provider a ``provider_keys`` entry is for, as model strings spell it (``google`` ->
    ``google-ai-studio``); a :class:`ConfigurationError` for a name no model string can route to, so a typo
    fails at construction instead of silently sending no key."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError("each provider_keys entry is named by a provider such as 'openai'")
    text = name.strip().lower()
    text = _REST_SPELLINGS.get(text, text)
    if text in PROVIDERS or text in _EXTRA_PROVIDERS or (text.startswith("custom-") and len(text) > len("custom-")):
        return text
    shown = repr(name) if _SHOWABLE.match(name) else "an entry"  # a swapped name and key is never echoed
    raise ConfigurationError(
        f"{shown} is not a provider name for provider_keys (use the model-string prefix: {', '.join(PROVIDERS)}, "
        "aws-bedrock or custom-<slug>)"
    )


def _secret(provider: str, value: object) -> SecretStr:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(raw, str):
        raise ConfigurationError(f"provider_keys[{provider!r}] must be a string or SecretStr")
    raw = raw.strip()
    if not raw or any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in raw):
        raise ConfigurationError(
            f"provider_keys[{provider!r}] must be printable ASCII without spaces (check for a pasted newline)"
        )
    return SecretStr(raw)


def _parse_text(text: str) -> dict[str, str]:
    """``CF_AIG_PROVIDER_KEYS``: a JSON object, or ``name=key`` pairs separated by commas."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigurationError('provider_keys is not valid JSON (expected {"openai": "sk-..."})') from None
        if not isinstance(data, dict):
            raise ConfigurationError("provider_keys JSON must be an object of provider name -> key")
        return data
    pairs: dict[str, str] = {}
    for item in text.split(","):
        name, sep, key = item.partition("=")
        if not item.strip():
            continue
        if not sep:
            raise ConfigurationError(
                "provider_keys text is name=key pairs separated by commas, e.g. openai=sk-...,anthropic=sk-ant-..."
            )
        pairs[name] = key
    return pairs


class ProviderKeys(Mapping[str, SecretStr]):
    """Provider name -> key, immutable and hashable; ``repr`` masks every key."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Mapping[str, Any] | None = None) -> None:
        checked: dict[str, SecretStr] = {}
        for name, value in (keys or {}).items():
            provider = provider_key_name(name)
            if provider in checked:
                raise ConfigurationError(f"provider_keys names {provider!r} twice")
            checked[provider] = _secret(provider, value)
        self._keys = checked

    @classmethod
    def coerce(cls, value: object) -> ProviderKeys:
        """From a ``ProviderKeys``, a mapping, the text form, or ``None`` (no keys)."""
        if isinstance(value, ProviderKeys):
            return value
        if value is None:
            return cls()
        if isinstance(value, SecretStr):  # the environment's text, as an integration field reads it
            value = value.get_secret_value()
        if isinstance(value, str):
            return cls(_parse_text(value))
        if isinstance(value, Mapping):
            return cls(value)
        raise ConfigurationError("provider_keys must be a dict of provider name -> key")

    def merged(self, other: Mapping[str, Any] | None) -> ProviderKeys:
        """These keys with ``other``'s (a call's) replacing them provider by provider."""
        if not other:
            return self
        combined = ProviderKeys.coerce(other)
        keys = ProviderKeys()
        keys._keys = {**self._keys, **combined._keys}
        return keys

    def secret_values(self) -> tuple[str, ...]:
        """The keys themselves, for scrubbing them out of errors."""
        return tuple(secret.get_secret_value() for secret in self._keys.values())

    def __getitem__(self, name: str) -> SecretStr:
        return self._keys[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __hash__(self) -> int:
        return hash(frozenset((name, secret.get_secret_value()) for name, secret in self._keys.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ProviderKeys):
            return self._keys == other._keys
        return NotImplemented

    def __repr__(self) -> str:
        return f"ProviderKeys({{{', '.join(f'{name!r}: {_MASK!r}' for name in self._keys)}}})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.coerce,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda keys: dict.fromkeys(keys, _MASK), when_used="always"
            ),
        )
