"""API pages load each source listing when the reader opens it.

mkdocstrings puts the source of every documented object in a closed ``<details>`` block; on
api/experiments those listings were 1.8 MB of the page's 2.3 MB, all downloaded and parsed for
a reader who opens none. `split_listings` writes each listing to ``source/N.html`` next to the
page and leaves an empty placeholder; ``assets/javascripts/api-source.js`` (linked from these
pages only) fetches it the first time its block is opened. The summary line ("Source code in
refimpl/...") stays, so the reader still sees where each object lives.
"""

from __future__ import annotations

import re
from pathlib import Path

LISTING = re.compile(
    r'(<details class="mkdocstrings-source"[^>]*>\s*<summary>.*?</summary>)(.*?)(</details>)',
    re.S,
)


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
