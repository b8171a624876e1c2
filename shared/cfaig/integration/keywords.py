"""A constructor's keywords taken the way the frameworks' own classes take them, before pydantic sees them.

What ChatOpenAI / OpenAIEmbeddings (and LlamaIndex's OpenAI classes) accept and we would otherwise refuse
or drop: ``request_timeout`` (ChatOpenAI's alias of ``timeout``), an ``httpx.Timeout`` or a
``(connect, read)`` tuple for ``timeout``, ``timeout=None`` (the library default), and keywords that are
no field of the class, which LangChain's ``build_extra`` moves into ``model_kwargs`` with a warning. Ours
move into the class's provider-extras field (``model_kwargs``, ``additional_kwargs``) with a warning that
names the field and, for a near miss, the field that was probably meant. Only a keyword that looks like a
credential is refused: moving it would send a key in the request body.

All of it runs once, at construction; no call pays for it.
"""

from __future__ import annotations

import difflib
import functools
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import AliasChoices, BaseModel

from cfaig.errors import ConfigurationError

__all__ = ["accepted_names", "coerce_timeout", "move_unknown_keywords"]

_CREDENTIAL_NAME = re.compile(r"(?i)(^|_)(api_?key|key|token|secret|password)$")


def coerce_timeout(data: dict[str, Any]) -> None:
    """``request_timeout`` -> ``timeout``; an ``httpx.Timeout`` or ``(connect, read)`` tuple -> seconds.

    A structured timeout becomes its largest finite phase, so no phase (connect, read, write, pool) ends
    sooner than the caller allowed; cfaig's ``timeout`` bounds waiting for an answer (between bytes on a
    stream). One with no finite phase is a :class:`ConfigurationError`: cfaig never waits forever.
    ``timeout=None`` is the default (60 s), as ``None`` is ChatOpenAI's "the library default".
    """
    if "request_timeout" in data:
        if data.get("timeout") is not None:
            raise ConfigurationError("pass timeout= or request_timeout= (its ChatOpenAI alias), not both")
        data["timeout"] = data.pop("request_timeout")
    if "timeout" not in data:
        return
    value = data["timeout"]
    if value is None:
        del data["timeout"]
        return
    httpx = sys.modules.get("httpx")  # an httpx.Timeout means httpx is loaded: the import is not paid for here
    if httpx is not None and isinstance(value, httpx.Timeout):
        phases: Iterable[Any] = (value.connect, value.read, value.write, value.pool)
    elif isinstance(value, tuple):
        phases = value
    else:
        return  # a number (or a mistake the field's own validation reports)
    seconds = [phase for phase in phases if isinstance(phase, (int, float)) and 0 < phase < float("inf")]
    if not seconds:
        raise ConfigurationError(
            f"timeout={value!r} sets no finite limit; pass seconds (e.g. timeout=60): cfaig bounds every wait"
        )
    data["timeout"] = float(max(seconds))


@functools.cache
def accepted_names(model: type[BaseModel]) -> frozenset[str]:
    """Every keyword ``model`` takes for a field: field names, aliases and validation aliases."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        if field.alias:
            names.add(field.alias)
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
    return frozenset(names)


def move_unknown_keywords(model: type[BaseModel], data: dict[str, Any], extras_field: str) -> None:
    """Move keywords that are no field of ``model`` into ``data[extras_field]``, warning once per keyword.

    As LangChain's ``build_extra``: a name given both as a keyword and inside ``extras_field`` is an error
    (which one would win?). A name shaped like a credential (``openai_api_key``, ``anthropic_token``) is a
    :class:`ConfigurationError` instead: extras travel in the request body.
    """
    accepted = accepted_names(model)
    unknown = [name for name in data if name not in accepted]
    if not unknown:
        return
    given = data.get(extras_field)
    extras: dict[str, Any] = dict(given) if isinstance(given, Mapping) else {}
    for name in unknown:
        if _CREDENTIAL_NAME.search(name):
            raise ConfigurationError(
                f"{name}= is not a {model.__name__} parameter and looks like a credential, so it is not sent "
                "in the request body: pass the provider key as api_key= (or CF_AIG_PROVIDER_API_KEY) and the "
                "gateway token as cf_aig_token= (or CF_AIG_TOKEN)"
            )
        if name in extras:
            raise ConfigurationError(f"{name} is given twice: as a keyword and in {extras_field}")
        extras[name] = data.pop(name)
        close = difflib.get_close_matches(name, sorted(accepted), n=1, cutoff=0.85)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        warnings.warn(
            f"{name} is not a {model.__name__} parameter: it was moved into {extras_field} and is sent to the "
            f"provider as a request parameter.{hint} Pass {extras_field}={{{name!r}: ...}} to say so and "
            "silence this warning.",
            UserWarning,
            stacklevel=_callers_level(),
        )
    data[extras_field] = extras


_OURS = ("cfaig.", "langchain_cfaig", "llamaindex_cfaig", "pydantic")


def _callers_level() -> int:
    """The ``stacklevel`` of the first frame outside cfaig, its integrations and pydantic: the user's call."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(_OURS):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    return level
