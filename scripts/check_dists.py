"""Checks the built wheels and sdists before anything installs them: files, metadata, licence, one version.

    python scripts/check_dists.py dist/

What ``twine check`` would catch for these packages (a long description that renders: Markdown with its
content type) and what it would not: the LICENSE text in every wheel and sdist, the PEP 639 licence
fields, classifiers and project URLs, ``py.typed``, no stray files, one version across the three, and the
integrations pinned to the core's minor series. Standard library only; exit code 1 lists every problem.
"""

from __future__ import annotations

import email.parser
import re
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = {  # distribution -> (file-name stem, import package)
    "cfaig-core": ("cfaig_core", "cfaig"),
    "langchain-cfaig": ("langchain_cfaig", "langchain_cfaig"),
    "llama-index-cfaig": ("llama_index_cfaig", "llamaindex_cfaig"),
}
NAMESPACES = {"llama-index-cfaig": ("llama_index/",)}  # namespace packages a wheel may also ship
PROJECT_URLS = {"Homepage", "Documentation", "Repository", "Issues", "Changelog"}
CLASSIFIERS = {"Typing :: Typed", "Programming Language :: Python :: 3.10", "Development Status :: 3 - Alpha"}


def check(dist_dir: Path) -> list[str]:
    problems: list[str] = []
    license_text = (REPO / "LICENSE").read_text()
    versions: dict[str, str] = {}
    for name, (stem, package) in DISTRIBUTIONS.items():
        wheels = sorted(dist_dir.glob(f"{stem}-*-py3-none-any.whl"))
        sdists = sorted(dist_dir.glob(f"{stem}-*.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            problems.append(f"{name}: expected one wheel and one sdist, found {[p.name for p in wheels + sdists]}")
            continue
        meta, wheel_problems = _check_wheel(name, package, wheels[0], license_text)
        problems += wheel_problems + _check_sdist(name, stem, sdists[0], license_text)
        versions[name] = meta["Version"]
        if sdists[0].name != f"{stem}-{meta['Version']}.tar.gz":
            problems.append(f"{name}: sdist {sdists[0].name} does not carry the wheel's version {meta['Version']}")
        if name != "cfaig-core":
            problems += _check_core_pin(name, meta, versions.get("cfaig-core", ""))
    if len(set(versions.values())) > 1:
        problems.append(f"the distributions disagree on the version: {versions}")
    return problems


def _check_wheel(name: str, package: str, wheel: Path, license_text: str) -> tuple[Message, list[str]]:
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        files = archive.namelist()
        info = next((f.split("/")[0] for f in files if f.endswith(".dist-info/METADATA")), "")
        meta = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        licence = f"{info}/licenses/LICENSE"
        if licence not in files:
            problems.append(f"{wheel.name}: no {licence}")
        elif archive.read(licence).decode() != license_text:
            problems.append(f"{wheel.name}: its LICENSE differs from the repository's")
    stray = [f for f in files if not f.startswith((f"{package}/", f"{info}/", *NAMESPACES.get(name, ())))]
    stray += [f for f in files if "__pycache__" in f or f.endswith(".pyc") or "/tests/" in f]
    if stray:
        problems.append(f"{wheel.name}: unexpected files {stray[:5]}")
    if f"{package}/py.typed" not in files:
        problems.append(f"{wheel.name}: no {package}/py.typed")
    expected = {"Name": name, "License-Expression": "MIT", "License-File": "LICENSE", "Requires-Python": ">=3.10"}
    expected["Description-Content-Type"] = "text/markdown"
    problems += [f"{wheel.name}: {k} is {meta[k]!r}, not {v!r}" for k, v in expected.items() if meta[k] != v]
    classifiers = set(meta.get_all("Classifier") or [])
    if missing := CLASSIFIERS - classifiers:
        problems.append(f"{wheel.name}: classifiers missing {sorted(missing)}")
    if licence_classifiers := [c for c in classifiers if c.startswith("License ::")]:
        problems.append(f"{wheel.name}: a licence classifier next to License-Expression: {licence_classifiers}")
    urls = {url.split(",")[0].strip() for url in meta.get_all("Project-URL") or []}
    if missing := PROJECT_URLS - urls:
        problems.append(f"{wheel.name}: project URLs missing {sorted(missing)}")
    description = str(meta.get_payload())
    if not description.startswith("# ") or len(description) < 800:
        problems.append(f"{wheel.name}: the long description is not a README ({len(description)} characters)")
    return meta, problems


def _check_sdist(name: str, stem: str, sdist: Path, license_text: str) -> list[str]:
    with tarfile.open(sdist) as archive:
        root = archive.getnames()[0].split("/")[0]
        names = set(archive.getnames())
        missing = [f for f in ("LICENSE", "README.md", "pyproject.toml", "PKG-INFO") if f"{root}/{f}" not in names]
        if missing:
            return [f"{sdist.name}: missing {missing}"]
        licence = archive.extractfile(f"{root}/LICENSE")
        if licence is None or licence.read().decode() != license_text:
            return [f"{sdist.name}: its LICENSE differs from the repository's"]
    return []


def _check_core_pin(name: str, meta: Message, core_version: str) -> list[str]:
    """An integration imports the core's private helpers: it must pin the core's minor series."""
    major, minor = (int(part) for part in core_version.split(".")[:2]) if core_version else (0, 0)
    wanted = {f">={major}.{minor}.0", f"<{major}.{minor + 1}"}
    for requirement in meta.get_all("Requires-Dist") or []:
        match = re.fullmatch(r"cfaig-core\s*([^;]*)", requirement.strip())
        if match:
            found = {part.strip() for part in match.group(1).split(",")}
            return [] if found == wanted else [f"{name}: requires cfaig-core {sorted(found)}, not {sorted(wanted)}"]
    return [f"{name}: does not require cfaig-core"]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    problems = check(Path(argv[0]))
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"dists: {len(DISTRIBUTIONS) * 2} checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
