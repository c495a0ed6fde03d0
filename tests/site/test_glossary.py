"""The glossary is the single source of the site's term pairs, and every page follows it.

- Korean pages gloss a term in English in parentheses, e.g. "배치 정규화(batch normalization)";
  every such pair must be an entry of docs/glossary.yml, Korean and English names together.
- English pages may mention a Korean name only if it is a glossary name.
- In the built site the first use of each term on a page links to its glossary entry.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from .conftest import DOCS, REPO, built_pages

sys.path.insert(0, str(REPO / "tools"))
import glossary

TERMS = glossary.load_terms()
NAMES = {lang: {n.lower(): t for t in TERMS for n in t.names[lang]} for lang in ("ko", "en")}
FENCE = re.compile(r"^\s*(```|~~~).*?^\s*\1\s*$", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|<[^>\n]*>|\]\([^)]*\)", re.DOTALL)
# Hangul words (hyphens allowed: "최소-최대 스케일링"), then an English gloss in parentheses:
# "배치 정규화(batch normalization)".
GLOSS = re.compile(r"([가-힣][가-힣 -]*?)\s?\(([A-Za-z][A-Za-z \-]*[A-Za-z])\)")
HANGUL = re.compile(r"[가-힣]+(?: [가-힣]+)*")


def prose(path: Path) -> str:
    """A page's running text: no code blocks, inline code, math, HTML tags or link targets."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return INLINE.sub(" ", text).replace("**", "").replace("*", "")


def test_glossary_file_is_consistent():
    assert len(TERMS) >= 30
    for term in TERMS:
        assert term.definition.keys() == {"ko", "en"}, term.id
        assert re.fullmatch(r"[a-z0-9-]+", term.id), term.id


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.ko.md")), ids=lambda p: p.name)
def test_korean_glosses_are_glossary_pairs(page):
    problems = []
    for korean, english in GLOSS.findall(prose(page)):
        term = NAMES["en"].get(english.lower())
        if term is None:
            problems.append(f"'{english}' (after '{korean.strip()}') is not a glossary term")
        elif not any(korean.strip().endswith(name) for name in term.names["ko"]):
            problems.append(
                f"'{korean.strip()}({english})': the glossary pairs '{english}' with "
                f"{' / '.join(term.names['ko'])}"
            )
    assert not problems, f"{page.relative_to(DOCS)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.en.md")), ids=lambda p: p.name)
def test_english_pages_use_only_glossary_korean(page):
    unknown = {word for word in HANGUL.findall(prose(page)) if word not in NAMES["ko"]}
    assert not unknown, f"{page.relative_to(DOCS)}: Korean words not in the glossary: {unknown}"


def test_gloss_pattern_reads_hyphenated_and_spaced_korean():
    text = "먼저 최소-최대 스케일링(min-max scaling)과 배치 정규화 (batch normalization)를 봅니다."
    assert GLOSS.findall(text) == [
        ("먼저 최소-최대 스케일링", "min-max scaling"),
        ("과 배치 정규화", "batch normalization"),  # the check compares the end
    ]


def test_first_use_linking_skips_code_headings_and_math():
    page = (
        '<h2>정규화</h2><p><code>정규화</code> <span class="arithmatex">\\(정규화\\)</span> '
        "배치 정규화와 정규화는 정규화</p>"
    )
    linked = glossary.link_first_uses(page, TERMS, "ko", "../glossary/")
    assert linked.count('href="../glossary/#batch-normalization"') == 1
    assert linked.count('href="../glossary/#normalization"') == 1
    assert "<h2>정규화</h2>" in linked and "<code>정규화</code>" in linked
    assert (
        '<a class="glossary-term" href="../glossary/#normalization"'
        in linked.split("</a>와 ", 1)[1]
    )


@pytest.mark.site
def test_built_pages_link_terms_to_the_glossary(built_site):
    for lang in ("ko", "en"):
        root = built_site if lang == "ko" else built_site / lang
        for page in built_pages(built_site, lang):
            if page.parts[0] in ("glossary", "api"):
                continue
            html = (root / page).read_text(encoding="utf-8")
            article = html[html.index("<article") : html.index("</article>")]
            assert 'class="glossary-term"' in article, f"{lang}/{page}: no glossary links"
            for target in re.findall(r'class="glossary-term" href="([^"#]*)#', article):
                resolved = (root / page).parent / target / "index.html"
                assert resolved.resolve().is_file(), f"{lang}/{page}: {target}"
