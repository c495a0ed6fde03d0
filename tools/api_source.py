"""API pages: each source listing loads when the reader opens it; types read without doubled
parentheses.

mkdocstrings puts the source of every documented object in a closed ``<details>`` block; on
api/experiments those listings were 1.8 MB of the page's 2.3 MB, all downloaded and parsed for
a reader who opens none. `split_listings` writes each listing to ``source/N.html`` next to the
page and leaves an empty placeholder; ``assets/javascripts/api-source.js`` (linked from these
pages only) fetches it the first time its block is opened. The summary line ("Source code in
refimpl/...") stays, so the reader still sees where each object lives.

Parameters are listed (``docstring_section_style: list`` in mkdocs.yml) rather than tabled: on a
phone a four-column table showed the name and the start of the type, and hid the description
past the screen's edge. A list item shows its type in parentheses, ``x (ndarray, shape (N, C))``;
mkdocstrings reads a NumPy-style type such as ``ndarray, shape (N, C)`` as a Python tuple and
prints parentheses of its own around it, which made ``x ((ndarray, shape(N, C)))``.
`unwrap_list_types` drops the inner pair.

mkdocs-autorefs writes a name it cannot link (a builtin such as ``int``, or an attribute without
its own entry) as ``<span title="IDENTIFIER">NAME</span>``. For builtins the title is the name
itself: a tooltip that repeats the word under the pointer. Material gives every titled element
its tooltip machinery at page load, so api/functional paid for 150 of them on a phone, where no
tooltip ever shows (Lighthouse, issue 17). `drop_repeated_titles` unwraps those spans; a span
whose title says more (``typing.NamedTuple`` over ``NamedTuple``) keeps it.
"""

from __future__ import annotations

import re
from pathlib import Path

LISTING = re.compile(
    r'(<details class="mkdocstrings-source"[^>]*>\s*<summary>.*?</summary>)(.*?)(</details>)',
    re.S,
)


# A list item's type: mkdocstrings' opening parenthesis, then a <code> that starts with "(" and
# ends with ")", then mkdocstrings' closing parenthesis or ", default: ...".
LIST_TYPE = re.compile(r"\(<code>\(((?:(?!</code>).)*?)\)</code>(?=\)|,\s*default)", re.S)


def encloses(text: str) -> bool:
    """True when ``(text)``'s first parenthesis closes at its end, so the pair wraps all of it:
    ``ndarray, shape(N, C)`` does, ``a) or (b`` (from ``(a) or (b)``) does not."""
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def unwrap_list_types(output: str) -> str:
    """``(<code>(ndarray, shape(N, C))</code>)`` -> ``(<code>ndarray, shape(N, C)</code>)``."""

    def unwrap(match: re.Match) -> str:
        inner = match.group(1)
        return f"(<code>{inner}</code>" if encloses(inner) else match.group(0)

    return LIST_TYPE.sub(unwrap, output)


UNLINKED_NAME = re.compile(r'<span title="([^"<>]*)">([^<>]*)</span>')


def drop_repeated_titles(output: str) -> str:
    """``<span title="int">int</span>`` -> ``int``; a title that differs from the text is kept."""

    def unwrap(match: re.Match) -> str:
        title, text = match.groups()
        return text if title == text else match.group(0)

    return UNLINKED_NAME.sub(unwrap, output)


def split_listings(output: str, folder: Path, script_url: str) -> str:
    """Move every source listing of the page into ``folder/source/N.html``."""
    count = 0

    def move(match: re.Match) -> str:
        nonlocal count
        count += 1
        target = folder / "source" / f"{count}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(match.group(2).strip() + "\n", encoding="utf-8")
        placeholder = f'<div class="api-source" data-src="source/{count}.html"></div>'
        return match.group(1) + placeholder + match.group(3)

    output = LISTING.sub(move, output)
    if count:
        output = output.replace("</body>", f'<script src="{script_url}"></script>\n</body>', 1)
    return output
