"""What a page costs a reader on first load, gzipped, computed from the built files.

Counted: the HTML, its stylesheets and scripts, Material's search worker (started on every page),
every image the page shows (lazy ones too, and both scheme variants of a figure: an upper bound),
and the KaTeX fonts its math uses. Not counted: the search index (loaded when the reader opens
search, see assets/javascripts/search-lazy.js) and files only linked (notebooks, API source
listings fetched when opened, SVGs opened full size).
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

# Budgets from issue 17, in bytes.
CHAPTER_BUDGET = 400 * 1024
PAGE_BUDGET = 1024 * 1024

LINKED = re.compile(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"|<script[^>]+src="([^"]+)"')
IMAGE = re.compile(r"<img\b[^>]*>")
SRC = re.compile(r'\bsrc="([^"]+)"')
WORKER = re.compile(r'"search": "([^"]+)"')
BASE = re.compile(r'"base": "([^"]*)"')
# KaTeX's CSS class -> the font it needs (KaTeX_Main-Regular is always needed).
KATEX_FONTS = {
    "mathnormal": "KaTeX_Math-Italic",
    "boldsymbol": "KaTeX_Math-BoldItalic",
    "mathbf": "KaTeX_Main-Bold",
    "mathit": "KaTeX_Main-Italic",
    "amsrm": "KaTeX_AMS-Regular",
    "mathcal": "KaTeX_Caligraphic-Regular",
    "mathscr": "KaTeX_Script-Regular",
    "mathsf": "KaTeX_SansSerif-Regular",
    "mathtt": "KaTeX_Typewriter-Regular",
    "mathfrak": "KaTeX_Fraktur-Regular",
    "size1": "KaTeX_Size1-Regular",
    "size2": "KaTeX_Size2-Regular",
    "size3": "KaTeX_Size3-Regular",
    "size4": "KaTeX_Size4-Regular",
}


@cache
def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def _local(site_dir: Path, page_url: str, reference: str) -> Path | None:
    """The built file a reference on the page points at (None for data: URLs)."""
    if reference.startswith("data:"):
        return None
    path = urlsplit(urljoin("http://site/" + page_url, reference)).path
    target = site_dir / path.lstrip("/")
    if not target.is_file():
        raise FileNotFoundError(f"{page_url}: {reference} is not in the build")
    return target


def first_load(site_dir: Path, page: Path) -> dict[str, int]:
    """``{file: gzipped bytes}`` of what loading ``page`` (a built index.html) transfers."""
    html = page.read_text(encoding="utf-8")
    page_url = page.parent.relative_to(site_dir).as_posix() + "/"
    page_url = "" if page_url == "./" else page_url
    files = {page: gzipped_size(page)}
    references = [a or b for a, b in LINKED.findall(html)]
    references += [SRC.search(tag).group(1) for tag in IMAGE.findall(html) if SRC.search(tag)]
    worker, base = WORKER.search(html), BASE.search(html)
    if worker and base:
        references.append(base.group(1).rstrip("/") + "/" + worker.group(1))
    for reference in references:
        target = _local(site_dir, page_url, reference)
        if target is not None:
            files[target] = gzipped_size(target)
    if 'class="katex"' in html:
        fonts = site_dir / "assets" / "katex" / "fonts"
        names = {"KaTeX_Main-Regular"} | {
            font
            for css_class, font in KATEX_FONTS.items()
            if f'"{css_class}' in html or f" {css_class}" in html
        }
        for name in sorted(names):
            files[fonts / f"{name}.woff2"] = (fonts / f"{name}.woff2").stat().st_size
    return {str(path.relative_to(site_dir)): size for path, size in files.items()}


def is_chapter(page: Path, site_dir: Path) -> bool:
    """Chapter pages live in a chapter folder (not the home page, glossary or API reference)."""
    parts = page.parent.relative_to(site_dir).parts
    if parts and parts[0] == "en":
        parts = parts[1:]
    return len(parts) == 2 and parts[0] not in ("api",)


def budget(page: Path, site_dir: Path) -> int:
    return CHAPTER_BUDGET if is_chapter(page, site_dir) else PAGE_BUDGET
