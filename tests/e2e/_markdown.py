"""The code blocks of the project's Markdown: where they are, and a runner for one file's Python blocks.

A page is read top to bottom, so its ``python`` blocks run in order in one interpreter and one namespace (a
block may use what an earlier block on the same page defined, as a reader who pastes them in turn would). A
block's tag says whether it runs: ``python`` runs; the tags in ``NOT_RUN`` (shell commands, installs, file
trees, output) do not, and a fence with no tag or another tag fails the suite rather than being passed over.

Run as ``python -m tests.e2e._markdown FILE`` (from the repository root): the file's Python blocks run with
sockets limited to loopback, compiled under the Markdown file's own name and line numbers, so a traceback
points at the line of the page that failed. The last line on stderr says how many blocks ran.
"""

from __future__ import annotations

import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUN = frozenset({"python"})
NOT_RUN = frozenset({"bash", "text"})  # shell commands and installs; trees, output and other plain text
# Every Markdown file a user reads: the READMEs, the contributor's guide and the docs site's pages.
PATTERNS = ("*.md", "shared/*.md", "packages/*/*.md", "docs/**/*.md", "benchmarks/*.md", "examples/*.md")
LOOPBACK = ("127.0.0.1", "::1", "localhost")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: the file, the (1-based) line of its opening fence, its tag and its source."""

    path: Path
    line: int
    tag: str
    source: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def markdown_files() -> list[Path]:
    found = {path for pattern in PATTERNS for path in ROOT.glob(pattern)}
    return sorted(found)


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path`` (an indented fence, as in a list item, counts too; its indent is removed)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        tag = opening["info"].strip().split(" ")[0] if opening["info"].strip() else ""
        fence_line = index + 1
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != fence:  # a closing fence: the same run, no tag
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        found.append(Block(path, fence_line, tag, "\n".join(body) + "\n"))
        index += 1
    return found


def _guard_network() -> None:
    """Only loopback: a block that reaches for the network fails, as the suite's own tests do (pytest-socket)."""
    from pytest_socket import socket_allow_hosts

    socket_allow_hosts(list(LOOPBACK), allow_unix_socket=True)
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in (None, *LOOPBACK):
            raise OSError(f"code blocks run offline: no name lookup for {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = loopback_only


def run(path: Path) -> int:
    """Run ``path``'s Python blocks in order in one namespace; return how many ran."""
    _guard_network()
    namespace: dict[str, Any] = {"__name__": "__main__"}
    ran = 0
    for block in blocks(path):
        if block.tag not in RUN:
            continue
        code = "\n" * block.line + block.source  # the source starts on the line after the fence, as in the file
        exec(compile(code, str(path), "exec"), namespace)  # noqa: S102 - the project's own documentation
        ran += 1
    return ran


if __name__ == "__main__":
    count = run(Path(sys.argv[1]).resolve())
    sys.stdout.flush()
    print(f"[markdown] {count} python blocks ran", file=sys.stderr)
