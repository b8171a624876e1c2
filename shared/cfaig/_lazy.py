"""PEP 562 lazy exports, shared by ``cfaig`` and the two integration packages (standard library only).

A package's public names load on first access, so importing the package is cheap and a program pays
only for the parts it touches: ``import cfaig`` loads neither httpx, pydantic nor aiohttp.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``exports`` maps a name to the module defining it.

    A module path that equals the name's own full path (``"cfaig.errors"`` for ``errors``) is the
    submodule itself. The first lookup caches the value in the package, so later ones are plain reads.
    """

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = import_module(module)
        value = loaded if module == f"{package}.{name}" else getattr(loaded, name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[package]), *public})

    return getattr_, dir_
