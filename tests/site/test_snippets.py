"""Gate 5: every Python block a reader can copy runs as printed in a fresh process.

Pages are read as the site shows them, with their ``--8<--`` includes expanded. A block is
skipped only when the site shows it without a copy button (``{ .python .no-copy }``: an excerpt
of a larger program, shown for reading); `test_every_copyable_block_is_run` checks on the built
site that the blocks run here are all the reader can copy. Shell blocks (bash, sh, console) are
not Python and are not run here. Lines hidden from the reader with markdown-exec's
``# markdown-exec: hide`` are removed first, because the reader never sees them.

The process is isolated (``python -I``), starts in an empty folder, and cannot import the
test-only packages (torch, pytest, hypothesis, playwright): a snippet may need only the project
and its own dependencies. A PyTorch block is the exception: it imports torch itself, where the
reader has it installed, so its process may import torch (and only torch).
"""

from __future__ import annotations

import ast
import html
import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ..pages import DOCS, python_blocks
from .conftest import DEFAULT_LANGUAGE

TEST_ONLY = ("torch", "pytest", "hypothesis", "playwright", "_pytest")

# An import of a test-only package fails, wherever it comes from (the block, refimpl, a
# dependency), unless a framework the block imports itself asks for it: torch probes for
# hypothesis and friends and copes when they are missing, as on the reader's machine.
RUNNER = textwrap.dedent(
    f"""\
    import importlib.abc, runpy, sys

    ALLOWED = set(sys.argv[2:])  # the frameworks the block imports itself

    def asked_by_an_allowed_framework():
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__name__", "").split(".")[0] in ALLOWED:
                return True
            frame = frame.f_back
        return False

    class BlockTestOnly(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.split(".")[0]
            if top in {TEST_ONLY!r} and top not in ALLOWED and not asked_by_an_allowed_framework():
                raise ImportError(f"{{name}} is a test-only dependency; snippets may not use it")
            return None

    sys.meta_path.insert(0, BlockTestOnly())
    runpy.run_path(sys.argv[1], run_name="__main__")
    """
)


FRAMEWORKS = {"torch"}  # test-only packages a page may show an example of
BLOCKS = python_blocks()


def imported_frameworks(code: str) -> list[str]:
    """The FRAMEWORKS that ``code`` imports by name (``import torch``, ``from torch import``)."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return sorted(names & FRAMEWORKS)


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
        [sys.executable, "-I", "runner.py", "snippet.py", *imported_frameworks(code)],
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


def test_runner_lets_a_block_import_the_framework_it_shows(tmp_path):
    """``import torch`` in the block itself allows torch; pytest stays blocked."""
    code = "import torch\nimport pytest\n"
    assert imported_frameworks(code) == ["torch"]
    (tmp_path / "snippet.py").write_text(code, encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-I", "runner.py", "snippet.py", *imported_frameworks(code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "pytest is a test-only dependency" in result.stderr


def test_only_excerpts_without_a_copy_button_are_left_out(tmp_path):
    page = tmp_path / "page.en.md"
    page.write_text(
        "<!-- fragment -->\n```python\nundefined_name\n```\n\n"
        "```{ .python .no-copy }\nexcerpt_only\n```\n\n"
        "``` { .python }\nprint(2)\n```\n",
        encoding="utf-8",
    )
    # an HTML comment does not remove the copy button: that block is run
    assert [code for _, code in python_blocks(root=tmp_path)] == ["undefined_name", "print(2)"]


def test_includes_are_expanded(tmp_path):
    """A quoted library function is read as the site shows it, not as its ``--8<--`` line."""
    page = tmp_path / "page.en.md"
    page.write_text(
        '```python\n--8<-- "refimpl/functional/batchnorm.py:backward"\n```\n', encoding="utf-8"
    )
    ((_, code),) = python_blocks(root=tmp_path)
    assert code.startswith("def batch_norm_backward(")
    assert "--8<--" not in code


class _CopyableBlocks(HTMLParser):
    """The text of every Python code block of an HTML page that has a copy button."""

    def __init__(self):
        super().__init__()
        self.blocks, self._depth, self._inside, self._copyable = [], 0, None, False

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div" and "highlight" in classes:
            self._copyable = "language-python" in classes and "no-copy" not in classes
        elif tag == "code" and self._copyable and self._inside is None:
            self._inside = []

    def handle_endtag(self, tag):
        if tag == "code" and self._inside is not None:
            self.blocks.append("".join(self._inside))
            self._inside, self._copyable = None, False

    def handle_data(self, data):
        if self._inside is not None:
            self._inside.append(data)


def test_copyable_blocks_are_found_in_html():
    page = (
        '<div class="language-python highlight"><pre><code><span>x</span> = 1\n</code></pre></div>'
        '<div class="language-python no-copy highlight"><pre><code>excerpt\n</code></pre></div>'
        '<div class="language-bash highlight"><pre><code>make\n</code></pre></div>'
        '<div class="language-text highlight"><pre><code>output\n</code></pre></div>'
    )
    parser = _CopyableBlocks()
    parser.feed(page)
    assert parser.blocks == ["x = 1\n"]


def _normalized(code: str) -> str:
    return "\n".join(line.rstrip() for line in html.unescape(code).strip("\n").splitlines())


def _html_page(built_site: Path, page: Path) -> Path:
    """The built HTML of a docs/ source page such as ``tuning/bayesian.en.md``."""
    stem, lang = re.fullmatch(r"(.+)\.(\w+)\.md", page.as_posix()).groups()
    root = built_site if lang == DEFAULT_LANGUAGE else built_site / lang
    return root / ("" if stem == "index" else stem) / "index.html"


@pytest.mark.site
def test_every_copyable_block_is_run(built_site):
    """What a reader copies from the built pages is what this gate runs: no copyable Python
    block of a chapter page escapes it (the API reference shows library source, not snippets)."""
    missed = []
    for page in sorted(DOCS.rglob("*.md")):
        relative = page.relative_to(DOCS)
        if relative.parts[0] == "api" or relative.name.startswith("glossary."):
            continue
        parser = _CopyableBlocks()
        parser.feed(_html_page(built_site, relative).read_text(encoding="utf-8"))
        run = [_normalized(code) for _, code in python_blocks([page])]
        missed += [
            f"{relative}: {code[:60]!r}"
            for code in map(_normalized, parser.blocks)
            if code not in run
        ]
    assert not missed, "copyable but not run by the gate:\n" + "\n".join(missed)
