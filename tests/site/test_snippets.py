"""Gate 5: every Python block a reader can copy runs as printed in a fresh process.

A block is skipped only when the line right before its fence is ``<!-- fragment -->`` (a piece of
a larger program, shown for reading). Shell blocks (bash, sh, console) are not Python and are not
run here. Lines hidden from the reader with markdown-exec's ``# markdown-exec: hide`` are removed
first, because the reader never sees them.

The process is isolated (``python -I``), starts in an empty folder, and cannot import the
test-only packages (torch, pytest, hypothesis, playwright): a snippet may need only the project
and its own dependencies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from ..pages import python_blocks

TEST_ONLY = ("torch", "pytest", "hypothesis", "playwright", "_pytest")

RUNNER = textwrap.dedent(
    f"""\
    import importlib.abc, runpy, sys

    class BlockTestOnly(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {TEST_ONLY!r}:
                raise ImportError(f"{{name}} is a test-only dependency; snippets may not use it")
            return None

    sys.meta_path.insert(0, BlockTestOnly())
    runpy.run_path(sys.argv[1], run_name="__main__")
    """
)


BLOCKS = python_blocks()


def test_docs_have_python_blocks():
    assert BLOCKS, "no Python blocks found in docs/"


@pytest.mark.site
@pytest.mark.parametrize("code", [code for _, code in BLOCKS], ids=[name for name, _ in BLOCKS])
def test_block_runs_as_printed(code, tmp_path, experiment_cache):
    (tmp_path / "snippet.py").write_text(code + "\n", encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REFIMPL_DOCS_BUILD", "PYTHONPATH")
    }
    env.update(MPLBACKEND="Agg", REFIMPL_CACHE=str(experiment_cache))
    result = subprocess.run(
        [sys.executable, "-I", "runner.py", "snippet.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


def test_runner_blocks_test_only_imports(tmp_path):
    """The isolation above is real: a snippet importing pytest fails."""
    (tmp_path / "snippet.py").write_text("import pytest\n", encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-I", "runner.py", "snippet.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "test-only dependency" in result.stderr


def test_fragment_marker_is_honoured(tmp_path):
    page = tmp_path / "page.en.md"
    page.write_text(
        "<!-- fragment -->\n```python\nundefined_name\n```\n\n```python\nprint(1)\n```\n",
        encoding="utf-8",
    )
    assert [code for _, code in python_blocks(root=tmp_path)] == ["print(1)"]
