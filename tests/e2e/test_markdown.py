"""Every code block in the READMEs and the docs site runs as written, against the emulator, offline.

Each Markdown file's ``python`` blocks run in order in one fresh interpreter (``tests/e2e/_markdown.py``) with
sockets limited to loopback. The environment is the one the page tells its reader to set: the variables its
own ``export`` lines give (the root README's "Try anything without an account"), pointed at this test's
loopback emulator; the docs site's pages assume the README's, which their quickstart shows. A page without
``export`` lines (the package READMEs start their own emulator) runs with no Cloudflare variable at all, so a
block that forgets its settings fails instead of falling back on the environment.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cfaig.testing import EmulatorServer
from tests.e2e._markdown import NOT_RUN, ROOT, RUN, Block, blocks, markdown_files

FILES = markdown_files()
WITH_PYTHON = [path for path in FILES if any(block.tag in RUN for block in blocks(path))]
DOCS = ROOT / "docs"
WRITTEN_PORT = "http://127.0.0.1:8787"  # the emulator the pages tell the reader to start
SNIPPET = re.compile(r'^--8<-- "(?P<file>[^":]+)(?::(?P<section>[\w-]+))?"\s*$', flags=re.MULTILINE)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _exports(path: Path) -> dict[str, str]:
    """``export NAME=value ...`` lines of the file's bash blocks (a docs page: the README's)."""
    source = ROOT / "README.md" if path.is_relative_to(DOCS) else path
    found: dict[str, str] = {}
    for block in blocks(source):
        for line in block.source.splitlines() if block.tag == "bash" else []:
            words = shlex.split(line, comments=True)
            if words[:1] == ["export"]:
                found.update(word.partition("=")[::2] for word in words[1:])
    return found


def _without_cloudflare() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_AIG_", "CFAIG_"))}


def _environment(path: Path, server: EmulatorServer) -> dict[str, str]:
    env = _without_cloudflare()
    env.update({name: value.replace(WRITTEN_PORT, server.url) for name, value in _exports(path).items()})
    return env


def test_the_pages_have_examples() -> None:
    """The files a user reads first carry runnable examples (so this suite is not vacuously green)."""
    names = {_name(path) for path in WITH_PYTHON}
    expected = {"README.md", "packages/langchain_cfaig/README.md", "packages/llamaindex_cfaig/README.md"}
    expected |= {f"docs/{page}.md" for page in ("configuration", "surfaces", "errors", "testing")}
    assert expected <= names, expected - names


def test_the_readme_tells_the_docs_environment() -> None:
    exports = _exports(DOCS / "index.md")
    assert {"CLOUDFLARE_ACCOUNT_ID", "CF_AIG_BASE_URL", "CF_AIG_TOKEN"} <= exports.keys()
    assert exports["CF_AIG_BASE_URL"].startswith(WRITTEN_PORT)


def test_every_fence_says_whether_it_runs() -> None:
    """A fence with no tag, or an unknown one, would be passed over silently: each says ``python`` or a no-run tag."""
    untagged = [block.where for path in FILES for block in blocks(path) if block.tag not in RUN | NOT_RUN]
    assert not untagged, f"tag these fences {sorted(RUN | NOT_RUN)}: {untagged}"


@pytest.mark.parametrize("path", WITH_PYTHON, ids=_name)
def test_python_blocks_run(path: Path, cfaig_gateway: EmulatorServer) -> None:
    expected = sum(block.tag in RUN for block in blocks(path))
    result = subprocess.run(  # noqa: S603 - our own interpreter running the project's documentation
        [sys.executable, "-m", "tests.e2e._markdown", str(path)],
        capture_output=True,
        text=True,
        env=_environment(path, cfaig_gateway),
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stderr.strip().splitlines()[-1] == f"[markdown] {expected} python blocks ran", result.stderr[-2000:]
    assert result.stdout.strip()


def _test_blocks() -> list[Block]:
    """Python blocks that are pytest test modules (they define ``test_*`` functions)."""
    found = []
    for path in WITH_PYTHON:
        for block in blocks(path):
            if block.tag in RUN and any(
                isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
                for node in ast.parse(block.source).body
            ):
                found.append(block)
    return found


@pytest.mark.parametrize("block", _test_blocks(), ids=lambda block: block.where)
def test_test_blocks_pass_under_pytest(block: Block, tmp_path: Path) -> None:
    """A block shown as a test file is one: pytest (with the cfaig plugin) collects and passes every test in it."""
    tests = [node.name for node in ast.parse(block.source).body if isinstance(node, ast.FunctionDef)]
    (tmp_path / "test_block.py").write_text(block.source)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_block.py"],
        capture_output=True,
        text=True,
        env=_without_cloudflare(),
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"{len(tests)} passed" in result.stdout, result.stdout[-2000:]


def test_docs_snippets_point_at_sections_that_exist() -> None:
    """``--8<-- "FILE:section"`` in a page shows part of another file; ``mkdocs build`` fails on a missing one."""
    missing = []
    for page in DOCS.rglob("*.md"):
        for match in SNIPPET.finditer(page.read_text(encoding="utf-8")):
            target = ROOT / match["file"]
            section = match["section"]
            text = target.read_text(encoding="utf-8") if target.exists() else ""
            if not text or (section and f"--8<-- [start:{section}]" not in text):
                missing.append(f"{_name(page)}: {match[0]}")
    assert not missing, missing


def test_run_py_commands_in_the_docs_exist() -> None:
    """Every ``python3 run.py COMMAND`` a page mentions is a command run.py has."""
    tree = ast.parse((ROOT / "run.py").read_text())  # read, not imported: run.py is a script
    groups = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "GROUPS" for t in node.targets)
    )
    commands = set(ast.literal_eval(groups))
    mentioned = {
        (_name(path), command)
        for path in FILES
        for command in re.findall(r"python3? run\.py (\w+)", path.read_text(encoding="utf-8"))
    }
    unknown = sorted((name, command) for name, command in mentioned if command not in commands)
    assert mentioned and not unknown, unknown


def test_no_page_installs_an_unpublished_name() -> None:
    """Nothing is on PyPI yet: the pages install from a clone (``pip install ./shared ...``), never by name."""
    by_name = re.compile(r"pip install[^\n`]*?(?<![\w./-])(cfaig-core|langchain-cfaig|llama-index-cfaig)\b")
    offenders = [f"{_name(path)}: {match[0]}" for path in FILES for match in by_name.finditer(path.read_text())]
    assert not offenders, offenders
    for readme in ("packages/langchain_cfaig/README.md", "packages/llamaindex_cfaig/README.md"):
        assert "pip install ./shared ./packages/" in (ROOT / readme).read_text().replace('"', "")
