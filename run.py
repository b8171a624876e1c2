#!/usr/bin/env python3
"""One entry point for a fresh machine that has only python3 and pip.

    python3 run.py demo      # the main job: everything working, against the local emulator or your gateway
    python3 run.py test      # the whole test suite (offline; loopback only)
    python3 run.py lint      # ruff + mypy
    python3 run.py bench     # the benchmark suite (installs the peer libraries first)
    python3 run.py docs      # the documentation site into build/site (mkdocs --strict: warnings are errors)

It creates ``.venv`` beside this file, installs the three workspace packages (editable) and the
dependency groups from ``pyproject.toml`` when they changed (or a week has passed: the install upgrades to
the newest releases the ranges admit, which is what a user gets today), then runs the command inside it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PACKAGES = ["shared", "packages/langchain_cfaig", "packages/llamaindex_cfaig"]
GROUPS = {
    "demo": ["demo"],
    "test": ["test"],
    "lint": ["test", "lint", "typing"],
    "bench": ["test", "bench"],
    "docs": ["docs"],
}
REFRESHED = VENV / ".cfaig-refreshed"  # when .venv last resolved every requirement to its newest release
REFRESH_AFTER = 7 * 24 * 3600  # seconds: an older .venv is upgraded, so it does not fall behind the registry


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _groups(names: list[str]) -> dict[str, list[str]]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        sys.exit("run.py needs Python 3.11+ to read pyproject.toml (or install the groups by hand)")
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {name: list(data["dependency-groups"][name]) for name in names}


def _stamp(group: str, requirements: list[str]) -> Path:
    """A file in .venv that says: the packages as they are now and this group's requirements are installed."""
    fingerprint = hashlib.sha256()
    for package in PACKAGES:  # the metadata an editable install records: requirements and version
        for path in [ROOT / package / "pyproject.toml", *sorted((ROOT / package).glob("*/_version.py"))]:
            fingerprint.update(path.read_bytes())
    fingerprint.update("\n".join(requirements).encode())
    return VENV / f".cfaig-{group}-{fingerprint.hexdigest()[:16]}"


def _ensure_env(groups: list[str]) -> None:
    by_group = _groups(groups)
    requirements = [requirement for group in groups for requirement in by_group[group]]
    stamps = {group: _stamp(group, by_group[group]) for group in groups}  # one per group: lint reuses test's
    stale = not REFRESHED.exists() or time.time() - REFRESHED.stat().st_mtime > REFRESH_AFTER
    if all(stamp.exists() for stamp in stamps.values()) and not stale:
        return
    upgrade: list[str] = []
    if not _python().exists():
        print(f"[run.py] creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    elif stale:  # a new .venv gets the newest releases anyway; an old one must ask for them
        upgrade = ["--upgrade", "--upgrade-strategy=eager"]
        for old in VENV.glob(".cfaig-*-*"):  # every command's requirements are checked again after this
            old.unlink()
    print("[run.py] installing cfaig-core, langchain-cfaig, llama-index-cfaig and their dependencies ...", flush=True)
    editable = [arg for package in PACKAGES for arg in ("-e", str(ROOT / package))]
    command = [
        str(_python()),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        *upgrade,
        *editable,
        *requirements,
    ]
    subprocess.run(command, check=True)  # noqa: S603 - our own interpreter and fixed arguments
    for group, stamp in stamps.items():
        for old in VENV.glob(f".cfaig-{group}-*"):
            old.unlink()
        stamp.touch()
    if stale:
        REFRESHED.touch()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in GROUPS:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    _ensure_env(GROUPS[command])
    python = str(_python())
    if command == "demo":
        args = [python, str(ROOT / "demo.py"), *rest]
    elif command == "test":
        if "--cov" in rest:  # coverage starts before pytest, so modules its plugins import early are measured too
            rest = [arg for arg in rest if arg != "--cov"]
            tests = subprocess.run([python, "-m", "coverage", "run", "-m", "pytest", *rest], cwd=ROOT, check=False)  # noqa: S603
            report = subprocess.run([python, "-m", "coverage", "report"], cwd=ROOT, check=False)  # noqa: S603
            return tests.returncode or report.returncode
        args = [python, "-m", "pytest", *rest]
    elif command == "bench":
        args = [python, str(ROOT / "benchmarks" / "run.py"), *rest]
    elif command == "docs":  # mkdocs.yml: strict, docs/ into build/site; the theme's banner about MkDocs 2 is noise
        os.environ["NO_MKDOCS_2_WARNING"] = "1"
        args = [python, "-m", "mkdocs", "build", "--strict", "--clean", *rest]
    else:
        ruff = subprocess.run([python, "-m", "ruff", "check", "."], cwd=ROOT, check=False)  # noqa: S603
        fmt = subprocess.run([python, "-m", "ruff", "format", "--check", "."], cwd=ROOT, check=False)  # noqa: S603
        mypy = subprocess.run([python, "-m", "mypy"], cwd=ROOT, check=False)  # noqa: S603
        return ruff.returncode or fmt.returncode or mypy.returncode
    return subprocess.run(args, cwd=ROOT, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
