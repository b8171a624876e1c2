"""The three distributions as installed: one version, the core pinned to its minor, imports declared, one LICENSE.

The three are released in step: each reads its version from its own ``_version.py`` (setuptools'
dynamic ``attr``), and these tests fail until the three agree and the integrations' ``cfaig-core``
requirement admits the new minor series. What the built wheels and sdists contain is checked by
``scripts/check_dists.py`` in CI.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata as metadata
import importlib.util
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {"cfaig-core": "cfaig", "langchain-cfaig": "langchain_cfaig", "llama-index-cfaig": "llamaindex_cfaig"}
FOLDERS = {
    "cfaig-core": "shared",
    "langchain-cfaig": "packages/langchain_cfaig",
    "llama-index-cfaig": "packages/llamaindex_cfaig",
}
# Imported but not declared: each is part of a declared dependency's own API, and that dependency pins it.
PROVIDED = {"pydantic-core": "pydantic", "typing-extensions": "pydantic", "multidict": "aiohttp"}


def _requirement_names(dist: str) -> set[str]:
    names = set()
    for requirement in metadata.requires(dist) or []:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, requirement
        names.add(match.group(0).lower().replace("_", "-"))
    return names


def test_the_three_distributions_carry_one_version() -> None:
    versions = {dist: metadata.version(dist) for dist in DISTRIBUTIONS}
    for dist, module in DISTRIBUTIONS.items():
        assert importlib.import_module(module).__version__ == versions[dist], dist
    assert len(set(versions.values())) == 1, versions


@pytest.mark.parametrize("dist", ["langchain-cfaig", "llama-index-cfaig"])
def test_an_integration_pins_the_core_minor_series_it_is_released_with(dist: str) -> None:
    major, minor = (int(part) for part in metadata.version("cfaig-core").split(".")[:2])
    [core] = [r for r in metadata.requires(dist) or [] if r.startswith("cfaig-core")]
    assert set(core.removeprefix("cfaig-core").split(",")) == {f">={major}.{minor}.0", f"<{major}.{minor + 1}"}


@pytest.mark.parametrize("dist", list(DISTRIBUTIONS))
def test_every_third_party_import_is_declared(dist: str) -> None:
    spec = importlib.util.find_spec(DISTRIBUTIONS[dist])
    assert spec is not None
    assert spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations)))
    imported: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    declared = _requirement_names(dist)
    if "cfaig-core" in declared:  # our own core: what it declares, it pins for us too
        declared |= _requirement_names("cfaig-core")
    declared |= {provided for provided, via in PROVIDED.items() if via in declared}
    available = set().union(*(_top_level_modules(name) for name in declared - set(DISTRIBUTIONS)))
    undeclared = imported - set(sys.stdlib_module_names) - set(DISTRIBUTIONS.values()) - available
    assert not undeclared, f"{dist} imports {sorted(undeclared)}, which no distribution it declares provides"


def _top_level_modules(dist: str) -> set[str]:
    """The importable names a distribution installs, from its RECORD (top_level.txt is often missing)."""
    try:
        files = metadata.files(dist) or []
    except metadata.PackageNotFoundError:  # an extra's requirement that is not installed
        return set()
    tops = {file.parts[0] for file in files if len(file.parts) > 1 or file.suffix == ".py"}
    return {top.removesuffix(".py") for top in tops if not top.endswith((".dist-info", ".data")) and top != ".."}


@pytest.mark.parametrize("dist", list(DISTRIBUTIONS))
def test_every_distribution_ships_the_repository_license(dist: str) -> None:
    assert (REPO / FOLDERS[dist] / "LICENSE").read_text() == (REPO / "LICENSE").read_text()
    assert "MIT License" in (REPO / "LICENSE").read_text()
