"""LlamaIndex's import paths (llama_index.llms.cfaig, llama_index.embeddings.cfaig), editable and from a wheel.

``llama_index``, ``llama_index.llms`` and ``llama_index.embeddings`` are namespace packages that
llama-index-core and every integration share; a distribution that put an ``__init__.py`` there would
hide the others' portions, so the source tree and the wheel must have none.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import llamaindex_cfaig

PACKAGE = Path(__file__).resolve().parents[2] / "packages" / "llamaindex_cfaig"
SHARED = Path(__file__).resolve().parents[2] / "shared"
NAMESPACES = ("llama_index", "llama_index/llms", "llama_index/embeddings")
LEAVES = ("llama_index/llms/cfaig", "llama_index/embeddings/cfaig")


def test_the_llamaindex_paths_give_the_same_classes() -> None:
    from llama_index.embeddings.cfaig import CloudflareAIGatewayEmbedding
    from llama_index.llms.cfaig import CloudflareAIGatewayLLM, CloudflareAIGatewayResponses

    assert CloudflareAIGatewayLLM is llamaindex_cfaig.CloudflareAIGatewayLLM
    assert CloudflareAIGatewayResponses is llamaindex_cfaig.CloudflareAIGatewayResponses
    assert CloudflareAIGatewayEmbedding is llamaindex_cfaig.CloudflareAIGatewayEmbedding


def test_llama_index_core_is_still_reachable_through_the_shared_namespace() -> None:
    import llama_index
    import llama_index.llms.cfaig
    from llama_index.core.llms import ChatMessage

    assert ChatMessage.__module__.startswith("llama_index.core")
    assert not hasattr(llama_index, "__file__") or llama_index.__file__ is None  # a namespace package


def test_the_source_tree_has_no_init_at_the_namespace_levels() -> None:
    for level in NAMESPACES:
        assert not (PACKAGE / level / "__init__.py").exists(), level
    for leaf in LEAVES:
        assert (PACKAGE / leaf / "__init__.py").is_file(), leaf
        assert (PACKAGE / leaf / "py.typed").is_file(), leaf


def test_the_built_wheel_ships_the_paths_and_they_import_from_it(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run(  # noqa: S603 - our own interpreter, building our own package offline
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            ".",
        ],
        cwd=source,
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("llama_index_cfaig-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for leaf in LEAVES:
        assert f"{leaf}/__init__.py" in names
        assert f"{leaf}/py.typed" in names
    assert not {f"{level}/__init__.py" for level in NAMESPACES} & names
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    # -S: no site, so none of the checkout's editable hooks; llama-index-core and cfaig come from the paths
    path = [str(installed), str(SHARED), sysconfig.get_paths()["purelib"]]
    script = (
        f"import sys; sys.path[:0] = {path!r}\n"
        "from llama_index.llms.cfaig import CloudflareAIGatewayLLM\n"
        "from llama_index.embeddings.cfaig import CloudflareAIGatewayEmbedding\n"
        "import llamaindex_cfaig, llama_index.core\n"
        "assert CloudflareAIGatewayLLM is llamaindex_cfaig.CloudflareAIGatewayLLM\n"
        "print(llamaindex_cfaig.__file__)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-S", "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().startswith(str(installed))
