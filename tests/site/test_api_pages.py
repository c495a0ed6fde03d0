"""API pages read on a phone, and only they load mkdocstrings' stylesheet (issue 17).

Parameters, returns and attributes are lists, not tables: at 390 px a table showed the name and
the start of the type, and the description began past the screen's edge. A list item's type
reads ``x (ndarray, shape(N, C))``, not ``x ((ndarray, shape(N, C)))`` (tools/api_source.py).
"""

from __future__ import annotations

import re
import sys

import pytest

from .conftest import LANGUAGES, REPO, built_pages

sys.path.insert(0, str(REPO / "tools"))
import api_source

MKDOCSTRINGS_CSS = re.compile(r'<link rel="stylesheet" href="[^"]*assets/_mkdocstrings\.css">')
DOC_SECTION_TABLE = re.compile(r"<table>\s*<thead>\s*<tr>\s*<th>(?:Name|Type)</th>")
LIST_ITEM_TYPE = re.compile(
    r'<li class="doc-section-item field-body">\s*<b>.*?</b>\s*\(<code>(.*?)</code>', re.S
)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("(<code>(ndarray, shape(N, C))</code>)", "(<code>ndarray, shape(N, C)</code>)"),
        (
            "(<code>(&#39;bn&#39;, &#39;ln&#39;)</code>)",
            "(<code>&#39;bn&#39;, &#39;ln&#39;</code>)",
        ),
        # the first parenthesis closes early: the pair does not wrap the whole type
        ("(<code>(a) or (b)</code>)", "(<code>(a) or (b)</code>)"),
        # two code elements are never read as one
        ("(<code>(x</code>) and (<code>y)</code>)", "(<code>(x</code>) and (<code>y)</code>)"),
        ("(<code>int</code>)", "(<code>int</code>)"),
        (
            "(<code>(ndarray, shape(C))</code>, default:\n <code>None</code>)",
            "(<code>ndarray, shape(C)</code>, default:\n <code>None</code>)",
        ),
        # a tuple that is a default value, not a type, keeps its parentheses
        ("default: <code>(0.9, 0.999)</code>)", "default: <code>(0.9, 0.999)</code>)"),
    ],
)
def test_unwrap_list_types(html, expected):
    assert api_source.unwrap_list_types(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('(<code><span title="int">int</span></code>)', "(<code>int</code>)"),
        # a title that says more than the name stays
        ('<span title="typing.NamedTuple">NamedTuple</span>', None),
        ('<span title="refimpl.nn.Linear.in_features">in_features</span>', None),
        # only a span with nothing but its title
        ('<span class="n" title="x">x</span>', None),
        ('<span title="a"><code>a</code></span>', None),
    ],
)
def test_drop_repeated_titles(html, expected):
    assert api_source.drop_repeated_titles(html) == (html if expected is None else expected)


@pytest.mark.site
@pytest.mark.parametrize("lang", LANGUAGES)
def test_api_pages_have_no_tooltip_that_repeats_its_word(built_site, lang):
    """Material mounts a tooltip for every titled element at load (see tools/api_source.py)."""
    root = built_site if lang == "ko" else built_site / "en"
    kept = 0
    for page in [page for page in built_pages(built_site, lang) if page.parts[0] == "api"]:
        html = (root / page).read_text(encoding="utf-8")
        for title, text in api_source.UNLINKED_NAME.findall(html):
            assert title != text, f"{lang}/{page}: <span title={title!r}>{text}</span>"
            kept += 1
    assert kept >= 50, kept  # the titles that name more than the text are still there


@pytest.mark.site
@pytest.mark.parametrize("lang", LANGUAGES)
def test_api_pages_list_parameters_with_single_parentheses(built_site, lang):
    root = built_site if lang == "ko" else built_site / "en"
    api_pages = [page for page in built_pages(built_site, lang) if page.parts[0] == "api"]
    items = 0
    for page in api_pages:
        html = (root / page).read_text(encoding="utf-8")
        assert not DOC_SECTION_TABLE.search(html), f"{lang}/{page}: a docstring section is a table"
        for code in LIST_ITEM_TYPE.findall(html):
            items += 1
            doubled = (
                code.startswith("(") and code.endswith(")") and api_source.encloses(code[1:-1])
            )
            assert not doubled, f"{lang}/{page}: {code}"
    assert items >= 100, items  # the pages do list their parameters


@pytest.mark.site
@pytest.mark.parametrize("lang", LANGUAGES)
def test_only_api_pages_load_the_mkdocstrings_stylesheet(built_site, lang):
    root = built_site if lang == "ko" else built_site / "en"
    for page in built_pages(built_site, lang):
        html = (root / page).read_text(encoding="utf-8")
        under_api = page.parts[0] == "api"
        links = len(MKDOCSTRINGS_CSS.findall(html))
        assert links == (1 if under_api else 0), f"{lang}/{page}: {links} links"
        if not under_api:  # and nothing on the page would use it
            assert 'class="doc doc-' not in html, f"{lang}/{page}"
