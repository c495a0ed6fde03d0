"""Gate 2: every page exists in both languages, and each pair has the same shape.

Same shape means: the same sequence of heading levels, the same number of executed code blocks,
of figures, of display equations and of code blocks in total, the same numbers stated in the
prose, and the same navigation.
"""

from __future__ import annotations

import re
from collections import Counter
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


PROSE_FENCE = re.compile(r"^(\s*)(```+|~~~+).*?^\1\2\s*$", re.MULTILINE | re.DOTALL)
# Comments, link targets, {#anchors} and HTML tags hold no number a reader is told.
NOT_TOLD = re.compile(r"<!--.*?-->|\]\([^)\s]*\)|\{#[^}]*\}|<[^>\n]*>", re.DOTALL)
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?")


def prose_numbers(text: str) -> Counter:
    """The numbers a page's prose, tables and math state, outside code blocks.

    Code blocks are compared above, and what executed blocks print is generated. Thousands
    separators are dropped (1,079 = 1079). Integers up to 10 are left out: either language may
    write them as words ("zero", "three seeds", "시드 세 개", "한 번") where the other uses digits.
    """
    text = NOT_TOLD.sub(" ", PROSE_FENCE.sub("", text))
    numbers = Counter()
    for match in NUMBER.finditer(text):
        value = match.group(0).replace(",", "")
        if "." in value or int(value) > 10:
            numbers[value] += 1
    return numbers


@pytest.mark.parametrize(("korean", "english"), page_pairs(), ids=lambda p: str(p))
def test_page_pair_states_the_same_numbers(korean, english):
    ko = prose_numbers((DOCS / korean).read_text(encoding="utf-8"))
    en = prose_numbers((DOCS / english).read_text(encoding="utf-8"))
    assert ko == en, f"only in {korean}: {dict(ko - en)}; only in {english}: {dict(en - ko)}"


def test_prose_numbers_catch_a_doctored_number():
    page = (DOCS / "tuning" / "hyperband.ko.md").read_text(encoding="utf-8")
    english = prose_numbers((DOCS / "tuning" / "hyperband.en.md").read_text(encoding="utf-8"))
    assert "360" in english and prose_numbers(page) == english
    doctored = page.replace("360", "36", 1)
    assert prose_numbers(doctored) != english
    # Generated output, counters and separators are not differences; a changed decimal is.
    assert prose_numbers("```python\nprint(0.25)\n```\n시드 세 개, 2,000번, $p = 0.5$") == Counter(
        {"2000": 1, "0.5": 1}
    )
    assert prose_numbers("three seeds, 2000 times, $p = 0.05$") != prose_numbers(
        "시드 세 개, 2,000번, $p = 0.5$"
    )


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
