"""A griffe extension for the API reference: the docstrings' Sphinx roles shown as code.

The docstrings are written for readers of the source and for ``help()``: ``:class:`~cfaig.errors.GatewayError```,
``:meth:`chat```. mkdocstrings renders Markdown, where a role would be printed as it is; this shows it as the
code it names (``GatewayError``, ``chat``), the way Sphinx prints it, and leaves the text otherwise alone.
Loaded by mkdocs.yml's mkdocstrings ``extensions``; nothing imports it.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|attr|mod|func|data|exc|obj):`(?P<tilde>~?)(?P<target>[^`]+)`")


def _as_code(match: re.Match[str]) -> str:
    target = match["target"]
    shown = target.rsplit(".", 1)[-1] if match["tilde"] else target  # ~a.b.C shows as C, as in Sphinx
    return f"`{shown}`"


class SphinxRoles(griffe.Extension):
    """Rewrite each object's docstring once, when griffe has read it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_as_code, obj.docstring.value)
