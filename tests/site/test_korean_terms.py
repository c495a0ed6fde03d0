"""Gate: one Korean term per concept, English at first use, one citation style (issue 14).

Both gates read docs/glossary.yml (see CONTRIBUTING.md, "Glossary gates"):

- **Avoided variants.** An entry's ``ko_avoid`` lists Korean words that must not stand for the
  term (패널티 for 페널티, 체중 감소 for 가중치 감소, "L2 정규화" for L2 정칙화 ...). No Korean
  page, and no Korean string in ``refimpl`` (figure labels, anything a Korean page shows), may use
  them. A word that is part of a longer glossary name is not a use of it (경사 in 경사 하강법).
  A line that names the mistake on purpose carries ``<!-- term-ok: WORD -->`` (in Python:
  ``# term-ok: WORD``); that exempts exactly WORD on exactly that line.
- **English at first use.** On every Korean page the first use of each glossary term in the
  running text (not in headings, code, math or link text, and not inside a longer glossary
  name) is followed by its English name in parentheses: "배치 정규화(batch normalization)".
  More may follow inside the parentheses: "(layer normalization; Ba et al., 2016)".
- **Citations** are written as in English, "Ioffe & Szegedy, 2015", "Wu et al., 2018"; never
  "Wu 외, 2018".
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

import pytest

from .conftest import DOCS, REPO

sys.path.insert(0, str(REPO / "tools"))
import glossary

TERMS = glossary.load_terms()
KO_PAGES = sorted(DOCS.rglob("*.ko.md"))
HANGUL_CHAR = re.compile(r"[가-힣]")
MARKER = re.compile(r"(?:<!--|#)\s*term-ok:\s*([^>\n]*?)\s*(?:-->|$)")

FENCE = re.compile(r"^(\s*)(```+|~~~+).*?^\1\2\s*$", re.MULTILINE | re.DOTALL)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Inline code, math, HTML tags, images, attribute lists.
NOT_PROSE = re.compile(
    r"`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|<[^>\n]*>|!\[[^\]\n]*\]\([^)\n]*\)|\{[#:.][^}\n]*\}",
    re.DOTALL,
)
# A link's text is read (the brackets and the target are not): "[드롭아웃](dropout.md)(dropout)".
LINK_SYNTAX = re.compile(r"(?<!!)(\[)[^\]\n]*(\]\([^)\n]*\))")
HEADING_OR_TITLE = re.compile(r"^(?:#+ |\s*(?:!!!|\?\?\?\+?) ).*$", re.MULTILINE)


def _blank(match: re.Match) -> str:
    """Replace a match by spaces (newlines kept), so positions and line numbers survive."""
    return re.sub(r"[^\n]", " ", match.group(0))


def prose_lines(text: str, link_text: bool = True, headings: bool = True) -> str:
    """The text of a page a reader reads, same length and lines as ``text``; the rest blanked.

    ``link_text=False`` blanks the text of links, ``headings=False`` headings and admonition
    titles: the glossary links no term there, so they hold no first use.
    """
    for pattern in (FENCE, COMMENT) + (() if headings else (HEADING_OR_TITLE,)):
        text = pattern.sub(_blank, text)
    if link_text:
        text = LINK_SYNTAX.sub(
            lambda m: " " + m.group(0)[1 : m.start(2) - m.start()] + " " * len(m.group(2)), text
        )
    else:
        text = re.sub(r"(?<!!)\[[^\]\n]*\]\([^)\n]*\)", _blank, text)
    return NOT_PROSE.sub(_blank, text)


@functools.cache
def _variant_pattern(word: str) -> re.Pattern:
    # Korean takes particles after a word, so only the start needs a boundary; a Latin word
    # ("digits") needs one at both ends.
    end = r"(?![A-Za-z_])" if re.search(r"[A-Za-z]$", word) else ""
    return re.compile(rf"(?<![가-힣A-Za-z_]){re.escape(word)}{end}")


def _glossary_spans(text: str, terms=TERMS, lang: str = "ko") -> list[tuple[int, int, str]]:
    """(start, end, name) of every occurrence of every glossary name of ``lang`` in ``text``."""
    spans = []
    for term in terms:
        for name in term.names[lang]:
            pattern = _variant_pattern(name) if lang == "ko" else _english_pattern(name)
            spans += [(m.start(), m.end(), name) for m in pattern.finditer(text)]
    return spans


@functools.cache
def _english_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", re.IGNORECASE)


def avoided_uses(text: str, terms=TERMS) -> list[str]:
    """'line N: WORD (use NAME)' for every avoided variant in ``text``.

    ``text`` is already reduced to what a reader sees as Korean (page prose, or one string).
    """
    exempt = {}
    for number, line in enumerate(text.splitlines(), 1):
        exempt[number] = {word.strip() for word in MARKER.findall(line)}
    # 경사 inside 경사 하강법, digits inside "(handwritten digits)" are not uses.
    names = _glossary_spans(text, terms) + _glossary_spans(text, terms, "en")
    problems = []
    for term in terms:
        for word in term.avoid:
            for match in _variant_pattern(word).finditer(text):
                inside = any(
                    s <= match.start() and match.end() <= e and len(n) > len(word)
                    for s, e, n in names
                )
                line = text.count("\n", 0, match.start()) + 1
                if not inside and word not in exempt.get(line, set()):
                    problems.append(f"line {line}: '{word}' (use '{term.name('ko')}')")
    return problems


def page_avoided_uses(source: str) -> list[str]:
    # Markers are HTML comments, which prose_lines() blanks out: read them from the source.
    prose = prose_lines(source).splitlines()
    markers = [
        " ".join(f"<!-- term-ok: {w} -->" for w in MARKER.findall(line))
        for line in source.splitlines()
    ]
    return avoided_uses("\n".join(p + m for p, m in zip(prose, markers, strict=True)))


def missing_first_glosses(source: str, terms=TERMS) -> list[str]:
    """'line N: NAME' for each glossary term whose first use is not followed by its English.

    A use inside a link's text is not a first use (the glossary links none), but a link followed
    by the English counts: "[드롭아웃](dropout.md)(dropout)".
    """
    text = prose_lines(source, link_text=False, headings=False)
    with_links = prose_lines(source, headings=False)
    spans, link_spans = _glossary_spans(text, terms), _glossary_spans(with_links, terms)
    problems = []
    for term in terms:
        english = sorted(term.names["en"], key=len, reverse=True)

        def glossed(end, text=with_links, english=english):
            after = text[end:].lstrip(" *")  # "**과적합**(overfitting)" is fine too
            return any(after.lower().startswith(f"({e.lower()}") for e in english)

        uses = _own_uses(spans, term)
        if not uses:
            continue
        start, end, name = min(uses)
        if glossed(end) or any(s < start and glossed(e) for s, e, _ in _own_uses(link_spans, term)):
            continue
        line = text.count("\n", 0, start) + 1
        problems.append(f"line {line}: {name} → {name}({term.name('en')})")
    return problems


def _own_uses(spans, term) -> list[tuple[int, int, str]]:
    """The ``spans`` of ``term``'s Korean names that are not part of a longer glossary name."""
    return [
        (s, e, n)
        for s, e, n in spans
        if n in term.names["ko"]
        and not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in spans)
    ]


# "Wu 외, 2018", "Wu 외(2018)", "Wu 외 2018", and in a sentence "Wu 외는", "Wu 외가" ...
# ("ReLU 외의 함수", functions other than ReLU, is not a citation.)
KOREAN_CITATION = re.compile(r"[A-Z][A-Za-z-]+ 외(?:\s*[,(]| \d{4}|[은는이가와과도])")


def korean_citations(source: str) -> list[str]:
    text = prose_lines(source, headings=False)
    return [
        f"line {text.count(chr(10), 0, m.start()) + 1}: '{m.group(0)}' (write 'et al.')"
        for m in KOREAN_CITATION.finditer(text)
    ]


def korean_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant with Hangul in a Python file, with the line's
    ``# term-ok:`` marker appended."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if HANGUL_CHAR.search(node.value):
                marks = MARKER.findall(lines[node.lineno - 1])
                value = node.value.replace("\n", " ")
                found.append(
                    (node.lineno, value + "".join(f" <!-- term-ok: {m} -->" for m in marks))
                )
    return sorted(found)


# --- the gates ---------------------------------------------------------------------------------


def test_glossary_avoid_lists_do_not_forbid_glossary_names():
    names = {n for t in TERMS for n in t.names["ko"]}
    assert any(t.avoid for t in TERMS)
    for term in TERMS:
        clash = names & set(term.avoid)
        assert not clash, f"{term.id}: ko_avoid lists glossary names {clash}"


@pytest.mark.parametrize("page", KO_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_korean_page_uses_no_avoided_variant(page):
    problems = page_avoided_uses(page.read_text(encoding="utf-8"))
    assert not problems, f"{page.relative_to(DOCS)}:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "module", sorted((REPO / "refimpl").rglob("*.py")), ids=lambda p: str(p.relative_to(REPO))
)
def test_korean_strings_of_refimpl_use_no_avoided_variant(module):
    """Figure labels and any other Korean text the library puts on a page."""
    problems = [
        f"line {line}: {problem.split(': ', 1)[1]}"
        for line, text in korean_strings(module)
        for problem in avoided_uses(text)
    ]
    assert not problems, f"{module.relative_to(REPO)}:\n" + "\n".join(problems)


def test_korean_glossary_definitions_use_no_avoided_variant():
    """The definitions are the tooltips of every Korean page."""
    problems = [
        f"{term.id}: {problem.split(': ', 1)[1]}"
        for term in TERMS
        for problem in avoided_uses(term.definition["ko"])
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "page",
    [p for p in KO_PAGES if p.name != "glossary.ko.md"],
    ids=lambda p: str(p.relative_to(DOCS)),
)
def test_korean_page_glosses_each_term_at_first_use(page):
    problems = missing_first_glosses(page.read_text(encoding="utf-8"))
    assert not problems, f"{page.relative_to(DOCS)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", KO_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_korean_page_cites_as_english(page):
    problems = korean_citations(page.read_text(encoding="utf-8"))
    assert not problems, f"{page.relative_to(DOCS)}:\n" + "\n".join(problems)


# --- the gates catch doctored pages ------------------------------------------------------------


def _doctor(page: str, old: str, new: str) -> str:
    source = (DOCS / page).read_text(encoding="utf-8")
    assert old in source, f"{page} no longer contains {old!r}; pick another example"
    return source.replace(old, new, 1)


def test_avoided_variant_is_caught_and_marker_exempts_only_its_line():
    doctored = _doctor(
        "regularization/weight-decay.ko.md", "가중치 감소(weight decay)", "체중 감소(weight decay)"
    )
    assert any("'체중 감소' (use '가중치 감소')" in p for p in page_avoided_uses(doctored))
    text = "d2l.ai의 번역은 weight decay를 체중 감소라고 옮겼습니다. <!-- term-ok: 체중 감소 -->\n"
    assert page_avoided_uses(text) == []
    assert page_avoided_uses(text + "체중 감소는 틀린 말입니다.\n") == [
        "line 2: '체중 감소' (use '가중치 감소')"
    ]


def test_regularization_rule_leaves_normalization_alone():
    assert page_avoided_uses("L2 정규화를 더합니다.\n") == ["line 1: 'L2 정규화' (use '정칙화')"]
    assert page_avoided_uses("배치 정규화와 층 정규화, 입력 정규화를 봅니다.\n") == []
    # A longer glossary name containing an avoided word is not a use of it.
    assert page_avoided_uses("경사 하강법(gradient descent)으로 학습합니다.\n") == []
    assert page_avoided_uses("경사를 구합니다.\n") == ["line 1: '경사' (use '기울기')"]
    # Code, math and link targets are not prose; link text is.
    assert page_avoided_uses("`digits` 데이터와 [손글씨](x.md#digits)\n") == []
    assert page_avoided_uses("[digits](x.md) 데이터\n") == [
        "line 1: 'digits' (use '손글씨 숫자 데이터')"
    ]
    assert page_avoided_uses("digits 데이터\n") == ["line 1: 'digits' (use '손글씨 숫자 데이터')"]


def test_korean_figure_label_with_avoided_variant_is_caught(tmp_path):
    module = tmp_path / "labels.py"
    module.write_text(
        'LABELS = {"ko": {"title": "고정한 몸통"}, "en": {"title": "frozen body"}}\n'
        'OK = {"ko": "몸통"}  # term-ok: 몸통\n',
        encoding="utf-8",
    )
    strings = korean_strings(module)
    assert [avoided_uses(text) for _, text in strings] == [
        ["line 1: '몸통' (use '백본')"],
        [],
    ]


def test_missing_english_at_first_use_is_caught():
    page = "regularization/dropout.ko.md"
    assert missing_first_glosses((DOCS / page).read_text(encoding="utf-8")) == []
    doctored = _doctor(page, "역 드롭아웃(inverted dropout)", "역 드롭아웃")
    assert any(
        p.endswith("역 드롭아웃 → 역 드롭아웃(inverted dropout)")
        for p in missing_first_glosses(doctored)
    )
    # Only the first use needs the English; a later gloss does not count.
    assert missing_first_glosses("과적합을 봅니다. 과적합(overfitting)입니다.\n") == [
        "line 1: 과적합 → 과적합(overfitting)"
    ]
    assert missing_first_glosses("과적합(overfitting)을 봅니다. 과적합입니다.\n") == []
    # A heading and the 정규화 inside 배치 정규화 are not first uses; a heading is checked for
    # avoided variants all the same.
    assert page_avoided_uses("# 체중 감소\n") == ["line 1: '체중 감소' (use '가중치 감소')"]
    assert (
        missing_first_glosses("# 배치 정규화\n\n배치 정규화(batch normalization)를 봅니다.\n") == []
    )


def test_korean_citation_is_caught():
    doctored = _doctor("inference/limits.ko.md", "Ba et al., 2016", "Ba 외, 2016")
    assert korean_citations(doctored) and "Ba 외," in korean_citations(doctored)[0]
    assert korean_citations("그 외, 다른 방법도 있습니다.\n") == []
    assert korean_citations("Cooijmans 외는 마지막 통계를 씁니다.\n")
    assert korean_citations("ReLU 외에도, ReLU 외의 함수도 있습니다.\n") == []
