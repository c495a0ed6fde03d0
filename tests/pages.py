"""Reading the code blocks of the pages in docs/, for the tests that run them."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)(?P<info>.*)$")
FRAGMENT_MARK = "<!-- fragment -->"


def python_blocks(pages: list[Path] | None = None, root: Path = DOCS) -> list[tuple[str, str]]:
    """(``page:line``, code) for every runnable Python block of ``pages`` (default: every page
    under ``root``, docs/); ``page`` is relative to ``root``.

    A block right after ``<!-- fragment -->`` is an excerpt, not runnable, and is left out;
    lines marked ``markdown-exec: hide`` are dropped.
    """
    found = []
    for page in pages if pages is not None else sorted(root.rglob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
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
            previous = lines[start - 1].strip() if start else ""
            if match["lang"] not in ("python", "py") or previous == FRAGMENT_MARK:
                continue
            code = "\n".join(line for line in body if "markdown-exec: hide" not in line)
            found.append((f"{page.relative_to(root)}:{start + 1}", code))
    return found
