"""Gate 2: every page exists in both languages, and each pair has the same shape.

Same shape means: the same sequence of heading levels, the same number of executed code blocks,
of figures, of display equations and of code blocks in total, and the same navigation.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from .conftest import DOCS, built_pages, page_pairs

FENCE = re.compile(r"^(```+|~~~+)(.*)$")


def source_outline(path) -> dict:
    """Headings, code blocks, executed blocks, figures and display equations of a page source."""
    headings, blocks, executed, figures, equations = [], 0, 0, 0, 0
    fence = None
    for line in (DOCS / path).read_text(encoding="utf-8").splitlines():
        match = FENCE.match(line.strip())
        if fence is None and match:
            fence = match.group(1)
            info = match.group(2)
            blocks += 1
            executed += 'exec="1"' in info
            figures += 'html="1"' in info
            continue
        if fence is not None:
            if line.strip() == fence:
                fence = None
            continue
        if line.startswith("#"):
            headings.append(len(line) - len(line.lstrip("#")))
        if line.strip() == "$$":
            equations += 1
    return {
        "headings": headings,
        "code blocks": blocks,
        "executed blocks": executed,
        "figure blocks": figures,
        "display equation delimiters": equations,
    }


def test_every_page_has_both_languages():
    korean = {p.name.replace(".ko.md", "") + str(p.parent) for p in DOCS.rglob("*.ko.md")}
    english = {p.name.replace(".en.md", "") + str(p.parent) for p in DOCS.rglob("*.en.md")}
    assert korean == english
    plain = [p for p in DOCS.rglob("*.md") if not p.name.endswith((".ko.md", ".en.md"))]
    assert not plain, f"pages without a language suffix: {plain}"


@pytest.mark.parametrize(("korean", "english"), page_pairs(), ids=lambda p: str(p))
def test_page_pair_has_same_structure(korean, english):
    assert source_outline(korean) == source_outline(english)


class _Collector(HTMLParser):
    """Collects nav link targets, figures and images of a built page."""

    def __init__(self) -> None:
        super().__init__()
        self.nav_links: list[str] = []
        self.figures = 0
        self.images = 0
        self._nav_depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "nav" and "md-nav--primary" in classes:
            self._nav_depth = 1
        elif tag == "nav" and self._nav_depth:
            self._nav_depth += 1
        href = attributes.get("href", "")
        # In-page anchors (the table of contents) have language-specific slugs; the headings
        # they come from are compared in the sources above.
        if tag == "a" and self._nav_depth and "md-nav__link" in classes and href[:1] != "#":
            # The two builds write the home link as ".." or "../"; both are the same target.
            self.nav_links.append(href.rstrip("/") or ".")
        if tag == "figure" and "refimpl-figure" in classes:
            self.figures += 1
        if tag == "img":
            self.images += 1

    def handle_endtag(self, tag):
        if tag == "nav" and self._nav_depth:
            self._nav_depth -= 1


def _collect(path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


@pytest.mark.site
def test_built_pairs_have_same_nav_and_figures(built_site):
    pages = built_pages(built_site, "ko")
    assert pages == built_pages(built_site, "en")
    for page in pages:
        korean = _collect(built_site / page)
        english = _collect(built_site / "en" / page)
        assert korean.nav_links, f"no navigation found in {page}"
        assert korean.nav_links == english.nav_links, page
        assert (korean.figures, korean.images) == (english.figures, english.images), page
