"""Writes the pip constraints that pin every dependency of the three packages to the lowest version it claims.

    python3 scripts/ci_floors.py > floors.txt               # name==floor, one a line
    python3 scripts/ci_floors.py --build                    # the build backend at its floor (setuptools==...)
    python3 scripts/ci_floors.py --group test > test.txt    # a dependency group of the workspace root, as is
    pip install -c floors.txt <the three wheels> -r test.txt

CI installs the packages with these constraints and runs tests there, so a floor in a pyproject.toml
(``httpx>=0.28.1``) is a version the code was seen to work with, not a guess. Every third-party
requirement must have a ``>=`` floor (a range without one cannot be tested at its bottom); extras count
too. Reads the pyproject files only (Python 3.11+, or tomli on 3.10).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 needs tomli installed
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ["shared", "packages/langchain_cfaig", "packages/llamaindex_cfaig"]
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)")


def floors() -> dict[str, str]:
    """Distribution name -> its floor, over the dependencies and extras of the three packages."""
    projects = [tomllib.loads((REPO / package / "pyproject.toml").read_text())["project"] for package in PACKAGES]
    ours = {_normal(project["name"]) for project in projects}
    found: dict[str, str] = {}
    for project in projects:
        requirements = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            requirements += extra
        for requirement in requirements:
            match = _REQUIREMENT.match(requirement)
            if match is None:
                raise SystemExit(f"{project['name']}: cannot read the requirement {requirement!r}")
            name, specifiers = _normal(match.group(1)), match.group(2)
            if name in ours:
                continue
            floor = re.search(r">=\s*([^,\s]+)", specifiers)
            if floor is None:
                raise SystemExit(f"{project['name']}: {requirement!r} has no >= floor to test")
            if found.get(name, floor.group(1)) != floor.group(1):
                raise SystemExit(f"{name}: two floors, {found[name]} and {floor.group(1)}")
            found[name] = floor.group(1)
    return found


def build_floor() -> str:
    """The one build requirement of the three packages, pinned to its floor."""
    requires = {
        requirement
        for package in PACKAGES
        for requirement in tomllib.loads((REPO / package / "pyproject.toml").read_text())["build-system"]["requires"]
    }
    match = re.fullmatch(r"([A-Za-z0-9._-]+)>=([^,\s]+)", requires.pop()) if len(requires) == 1 else None
    if match is None:
        raise SystemExit(f"expected one build requirement with a >= floor in all three packages, got {requires}")
    return f"{match.group(1)}=={match.group(2)}"


def group(name: str) -> list[str]:
    return list(tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"][name])


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str]) -> int:
    if argv == ["--build"]:
        lines = [build_floor()]
    elif len(argv) == 2 and argv[0] == "--group":
        lines = group(argv[1])
    elif not argv:
        lines = [f"{name}=={floor}" for name, floor in sorted(floors().items())]
    else:
        print(__doc__)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
