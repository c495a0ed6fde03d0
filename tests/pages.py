"""Reading the code blocks of the pages in docs/, for the tests that run them."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)(?P<info>.*)$")
NO_COPY = ".no-copy"  # Material shows such a block without a copy button

sys.path.insert(0, str(REPO / "tools"))
import snippets  # noqa: E402


def python_blocks(pages: list[Path] | None = None, root: Path = DOCS) -> list[tuple[str, str]]:
    """(``page:line``, code) for every runnable Python block of ``pages`` (default: every page
    under ``root``, docs/); ``page`` is relative to ``root``.

    The page is read as the site shows it: ``--8<--`` includes are expanded. A block the reader
    cannot copy (``{ .python .no-copy }``: an excerpt) is left out; so are lines marked
    ``markdown-exec: hide``, which the reader never sees. Every other Python block has a copy
    button, so it must run as printed.
    """
    found = []
    for page in pages if pages is not None else sorted(root.rglob("*.md")):
        lines = snippets.expand(page.read_text(encoding="utf-8")).splitlines()
        index = 0
        while index < len(lines):
            match = FENCE_OPEN.match(lines[index])
            if not match:
                index += 1
                continue
            start, fence, indent = index, match["fence"], match["indent"]
            body = []
            index += 1
            while index < len(lines) and lines[index].strip() != fence:
                body.append(lines[index][len(indent) :])
                index += 1
            index += 1
            info = match["info"]
            classes = re.findall(r"\.([\w-]+)", info) if info.strip().startswith("{") else []
            language = match["lang"] or (classes[0] if classes else "")
            if language not in ("python", "py") or NO_COPY in info:
                continue
            code = "\n".join(line for line in body if "markdown-exec: hide" not in line)
            found.append((f"{page.relative_to(root)}:{start + 1}", code))
    return found


def page_block_output(page: str, marker: str) -> str:
    """Run the one Python block of ``docs/PAGE`` that contains ``marker``; return what it prints.

    A test that parses this output asserts what the page's own code computes: edit the block
    and the test sees the edit (a re-typed copy of the block would not).
    """
    (code,) = [code for _, code in python_blocks([DOCS / page]) if marker in code]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, page, "exec"), {"__name__": "__main__"})
    return output.getvalue()
