"""Gate: titles that cost a tooltip at page load carry something to read (issue 17).

Material (``content.tooltips``) mounts a tooltip for every element of the content with a
``title``, at page load, even on a phone, where no tooltip shows. The glossary's definitions keep
theirs. What went: the ¶ of every heading (named by ``aria-label`` instead, see
`mkdocs_hooks.label_permalinks`), cross-reference links whose title was the target's dotted path
(``link_titles: false`` in mkdocs.yml) and, on the API pages, names whose title repeated them
(tests/site/test_api_pages.py).
"""

from __future__ import annotations

import re
import sys

import pytest

from .conftest import LANGUAGES, REPO, built_pages

sys.path.insert(0, str(REPO / "tools"))
import mkdocs_hooks

pytestmark = pytest.mark.site

PERMALINK_NAME = {"ko": "이 제목의 링크", "en": "Permanent link"}
AUTOREF_LINK = re.compile(r'<a class="autorefs[^"]*"[^>]*>')
GLOSSARY_TERM = re.compile(r'<a class="glossary-term"[^>]*\btitle="[^"]+"')


@pytest.mark.parametrize("lang", LANGUAGES)
def test_heading_links_are_named_without_a_title(built_site, lang):
    root = built_site if lang == "ko" else built_site / "en"
    permalinks = terms = 0
    for page in built_pages(built_site, lang):
        html = (root / page).read_text(encoding="utf-8")
        for tag in mkdocs_hooks.PERMALINK.findall(html):
            permalinks += 1
            assert " title=" not in tag, f"{lang}/{page}: {tag}"
            assert f'aria-label="{PERMALINK_NAME[lang]}"' in tag, f"{lang}/{page}: {tag}"
        for tag in AUTOREF_LINK.findall(html):
            assert " title=" not in tag, f"{lang}/{page}: {tag}"
        terms += len(GLOSSARY_TERM.findall(html))
    assert permalinks >= 500, permalinks  # every heading of the site has its ¶
    assert terms >= 100, terms  # the glossary's tooltips stay


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<a class="headerlink" href="#a" title="Permanent link">¶</a>',
            '<a class="headerlink" href="#a" aria-label="Permanent link">¶</a>',
        ),
        (
            '<a href="#b" class="headerlink" title="이 제목의 링크">¶</a>',
            '<a href="#b" class="headerlink" aria-label="이 제목의 링크">¶</a>',
        ),
        # any other link keeps its title
        ('<a class="glossary-term" href="x" title="def">t</a>', None),
    ],
)
def test_label_permalinks(html, expected):
    assert mkdocs_hooks.label_permalinks(html) == (html if expected is None else expected)
