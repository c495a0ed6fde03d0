"""Gate: what makes pages load fast takes nothing from the reader (issue 17).

- Heavy blocks are drawn when they come near the screen (``content-visibility: auto`` in
  extra.css). Once drawn, every block must sit exactly where it sits when everything is drawn
  at once: the rule is only on elements whose children leave no margin at their edges.
- A jump to an anchor lands on it, although the blocks above it were not drawn yet
  (assets/javascripts/anchor-keep.js keeps it in place while they are).
- No page links Pyodide: only Python blocks run, at build time (mkdocs.yml, markdown-exec).
- No script a page links holds up its first paint: each one is ``defer``, and search-lazy.js still
  runs before Material's bundle (tools/mkdocs_hooks.py, ``defer_scripts``).
"""

from __future__ import annotations

import re
import sys

import pytest

from .conftest import REPO
from .test_browser import PageVisit, browser  # noqa: F401 (the browser fixture)

sys.path.insert(0, str(REPO / "tools"))
from mkdocs_hooks import defer_scripts, finish_not_found_page, load_search_lazily

pytestmark = pytest.mark.site

BLOCKS = (
    "() => [...document.querySelectorAll("
    "'.md-content .md-typeset > *, .doc-object > *, .doc-children > *, .doc-contents > *')]"
    ".map(e => { const r = e.getBoundingClientRect();"
    " return [e.tagName, r.top + scrollY, r.height]; })"
)
# Scroll through the page, so that every block has been drawn once.
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += 600) {
    window.scrollTo(0, y);
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  }
  window.scrollTo(0, 0);
}"""
DEFERRED = (
    "() => [...document.querySelectorAll('article *')]"
    ".filter(e => getComputedStyle(e).contentVisibility === 'auto').length"
)
DRAW_ALL = (
    "() => { const s = document.createElement('style');"
    " s.textContent = '* { content-visibility: visible !important }';"
    " document.head.append(s); }"
)


@pytest.mark.parametrize("path", ["normalization/algorithm/", "en/api/experiments/"])
def test_blocks_drawn_late_end_where_they_would_be(browser, site_url, path):  # noqa: F811
    visit = PageVisit(browser, width=390)
    visit.open(f"{site_url}/{path}")
    page = visit.page
    assert page.evaluate(DEFERRED) > 10, "no block is drawn late: the rule no longer applies"
    page.evaluate(SCROLL_THROUGH)
    late = page.evaluate(BLOCKS)
    page.evaluate(DRAW_ALL)
    at_once = page.evaluate(BLOCKS)
    visit.close()
    assert len(late) == len(at_once)
    # Sizes are fractional; a contained block's may round to the other whole pixel (335.5 px).
    moved = [
        (a, b)
        for a, b in zip(late, at_once, strict=True)
        if a[0] != b[0] or abs(a[1] - b[1]) > 1 or abs(a[2] - b[2]) > 1
    ]
    assert not moved, f"{len(moved)} blocks differ, first: {moved[:3]}"


def test_a_jump_to_an_anchor_lands_on_it(browser, site_url):  # noqa: F811
    """Without anchor-keep.js, an entry near the end of en/api/experiments ended 600 px above
    the screen once the blocks around it were drawn."""
    visit = PageVisit(browser, width=390)
    page = visit.page
    visit.open(f"{site_url}/en/api/experiments/")
    target = page.evaluate("() => [...document.querySelectorAll('h3[id]')].at(-3).id")
    visit.open(f"{site_url}/en/glossary/")
    visit.open(f"{site_url}/en/api/experiments/#{target}")
    page.wait_for_timeout(2500)
    top, margin = page.evaluate(
        "id => { const e = document.getElementById(id); return"
        " [e.getBoundingClientRect().top, parseFloat(getComputedStyle(e).scrollMarginTop)]; }",
        target,
    )
    visit.close()
    assert abs(top - margin) <= 2, f"#{target} is at {top:.0f} px, not {margin:.0f} px"


def test_no_page_links_pyodide(built_site):
    linked = [
        str(page.relative_to(built_site))
        for page in built_site.rglob("*.html")
        if "_markdown_exec_pyodide" in page.read_text(encoding="utf-8")
    ]
    assert not linked, f"pages linking Pyodide: {linked[:5]}"


LINKED_SCRIPT = re.compile(r"<script src=[^>]*>")


def test_every_linked_script_waits_for_the_page_and_keeps_its_order(built_site):
    # Full pages only: the API source listings (api/**/source-*.html) are fragments.
    pages = [p for p in sorted(built_site.rglob("*.html")) if "</body>" in p.read_text("utf-8")]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        scripts = LINKED_SCRIPT.findall(html)
        name = page.relative_to(built_site)
        blocking = [tag for tag in scripts if not tag.endswith(" defer>")]
        assert not blocking, f"{name}: scripts that block the first paint: {blocking}"
        sources = [re.search(r'src="([^"]+)"', tag).group(1).rsplit("/", 1)[-1] for tag in scripts]
        assert sources[:2] == ["search-lazy.js", sources[1]], f"{name}: {sources}"
        assert sources[1].startswith("bundle."), f"{name}: {sources}"
    assert len(pages) > 50


def test_defer_scripts_leaves_inline_scripts_where_they_run():
    page = (
        "<script>__md_scope=1</script><p>text</p>"
        '<script id="__config" type="application/json">{}</script>'
        '<script src="a.js"></script>\n<script src="../b.min.js"></script>'
    )
    assert defer_scripts(page) == (
        "<script>__md_scope=1</script><p>text</p>"
        '<script id="__config" type="application/json">{}</script>'
        '<script src="a.js" defer></script>\n<script src="../b.min.js" defer></script>'
    )


@pytest.mark.parametrize("folder", ["../../assets/javascripts/", "/assets/javascripts/"])
def test_search_lazy_sits_in_the_folder_of_materials_bundle(folder):
    page = f'<p>text</p><script src="{folder}bundle.a5f9d56c.min.js"></script>'
    assert load_search_lazily(page) == (
        f'<p>text</p><script src="{folder}search-lazy.js"></script>\n'
        f'<script src="{folder}bundle.a5f9d56c.min.js"></script>'
    )


def test_the_not_found_page_links_each_language_home_and_no_missing_file(built_site):
    html = (built_site / "404.html").read_text(encoding="utf-8")
    selector = re.findall(r'<a href="([^"]*)" hreflang="(ko|en)" class="md-select__link">', html)
    assert selector == [("/", "ko"), ("/en/", "en")]
    assert '<link rel="alternate"' not in html
    assert "_mkdocstrings.css" not in html


def test_finish_not_found_page_under_a_subpath():
    page = (
        '<link rel="alternate" href="/site/tuning/validation/" hreflang="ko">'
        '<a href="/site/tuning/validation/" hreflang="ko" class="md-select__link">'
        '<a href="/site/en/tuning/validation/" hreflang="en" class="md-select__link">'
        '<a href="/site/en/tuning/validation/" class="md-nav__link">'
    )
    assert finish_not_found_page(page, "/site/") == (
        '<a href="/site/" hreflang="ko" class="md-select__link">'
        '<a href="/site/en/" hreflang="en" class="md-select__link">'
        '<a href="/site/en/tuning/validation/" class="md-nav__link">'
    )
