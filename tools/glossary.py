"""The glossary: load the terms, render the glossary page, link each term's first use on a page.

`docs/glossary.yml` is the single source of the site's Korean/English term pairs. The build hooks
(tools/mkdocs_hooks.py) use this module to

- replace the marker ``<!-- glossary -->`` on the glossary page with the table of terms, and
- turn the first use of every term on every other page into a link to its entry, with the other
  language's name and the definition as a tooltip.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

GLOSSARY_FILE = Path(__file__).resolve().parents[1] / "docs" / "glossary.yml"
MARKER = "<!-- glossary -->"
LANGUAGES = ("ko", "en")

# Elements whose text is never linked: links themselves, code, headings, math, figures, UI.
SKIPPED_TAGS = {
    "a", "code", "pre", "kbd", "h1", "h2", "h3", "h4", "h5", "h6", "script", "style",
    "svg", "figure", "label", "button", "abbr", "summary", "title",
}  # fmt: skip
VOID_TAGS = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*?)(/?)>|<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Term:
    id: str
    names: dict[str, list[str]]  # language -> [main name, other spellings...]
    definition: dict[str, str]
    avoid: tuple[str, ...] = ()  # Korean words that must not stand for this term (ko_avoid)

    def name(self, lang: str) -> str:
        return self.names[lang][0]


# The terms last parsed from each file, with the bytes they were parsed from.
_parsed: dict[Path, tuple[bytes, list[Term]]] = {}


def load_terms(path: Path = GLOSSARY_FILE) -> list[Term]:
    """Read the glossary file; raise ValueError on a missing field or a repeated id or name.

    Every page of a build asks for the terms (its links, the search index): the file is parsed
    once and parsed again only when its bytes change (an edit during ``mkdocs serve``).
    """
    data = path.read_bytes()
    if path in _parsed and _parsed[path][0] == data:
        return list(_parsed[path][1])
    terms = _parse_terms(data.decode("utf-8"))
    _parsed[path] = (data, terms)
    return list(terms)


def _parse_terms(text: str) -> list[Term]:
    entries = yaml.safe_load(text)
    terms, seen = [], set()
    for entry in entries:
        for field in ("id", "ko", "en", "definition"):
            if field not in entry:
                raise ValueError(f"glossary entry {entry!r} has no {field!r}")
        names = {lang: [entry[lang], *entry.get(f"{lang}_also", [])] for lang in LANGUAGES}
        for key in [entry["id"]] + [f"{lang}:{n.lower()}" for lang in names for n in names[lang]]:
            if key in seen:
                raise ValueError(f"glossary: {key!r} appears twice")
            seen.add(key)
        terms.append(
            Term(entry["id"], names, entry["definition"], tuple(entry.get("ko_avoid", ())))
        )
    return terms


def glossary_table(terms: list[Term], lang: str) -> str:
    """The glossary page's table in Markdown, sorted by the page language's name."""
    other = "en" if lang == "ko" else "ko"
    header = {
        "ko": "| 용어 | English | 뜻 |\n| --- | --- | --- |",
        "en": "| Term | 한국어 | Meaning |\n| --- | --- | --- |",
    }[lang]
    rows = []
    for term in sorted(terms, key=lambda t: t.name(lang).lower()):
        name = " / ".join(term.names[lang])
        rows.append(
            f'| <span id="{term.id}"></span>**{name}** | {" / ".join(term.names[other])} '
            f"| {term.definition[lang]} |"
        )
    return header + "\n" + "\n".join(rows)


def _term_pattern(term: Term, lang: str) -> re.Pattern:
    names = sorted(term.names[lang], key=len, reverse=True)
    alternatives = "|".join(re.escape(name) for name in names)
    if lang == "ko":
        # Korean attaches particles after a noun (정규화는, 정규화를), so only the start needs
        # a boundary: no Hangul or Latin letter right before the term.
        return re.compile(rf"(?<![가-힣A-Za-z])(?:{alternatives})")
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def link_first_uses(page_html: str, terms: list[Term], lang: str, glossary_url: str) -> str:
    """Link the first use of each term in ``page_html``'s running text to its glossary entry.

    Text inside links, code, headings, math, figures and form controls is left alone. Longer
    names are linked first, so "배치 정규화" is preferred over the "정규화" inside it.
    """
    linker = _FirstUseLinker(terms, lang, glossary_url)
    pieces, stack, position = [], [], 0
    for match in TAG.finditer(page_html):
        text = page_html[position : match.start()]
        skipped = any(is_skipped for _, is_skipped in stack)
        pieces.append(text if skipped else linker.link(text))
        pieces.append(match.group(0))
        position = match.end()
        closing, name, attributes, self_closing = match.groups()
        if name is None:  # a comment
            continue
        name = name.lower()
        if closing:
            while stack and stack.pop()[0] != name:
                pass
        elif not self_closing and name not in VOID_TAGS:
            stack.append((name, name in SKIPPED_TAGS or "arithmatex" in (attributes or "")))
    pieces.append(linker.link(page_html[position:]))
    return "".join(pieces)


class _FirstUseLinker:
    """Links each term once: the first time `link` meets it."""

    def __init__(self, terms: list[Term], lang: str, glossary_url: str) -> None:
        self.lang = lang
        self.other = "en" if lang == "ko" else "ko"
        self.url = glossary_url
        self.pending = sorted(terms, key=lambda t: len(t.name(lang)), reverse=True)
        self.patterns = {term.id: _term_pattern(term, lang) for term in self.pending}

    def link(self, text: str) -> str:
        if not text.strip():
            return text
        for term in self.pending:
            match = self.patterns[term.id].search(text)
            if match is None:
                continue
            self.pending.remove(term)
            tooltip = html.escape(f"{term.name(self.other)}: {term.definition[self.lang]}")
            anchor = (
                f'<a class="glossary-term" href="{self.url}#{term.id}" title="{tooltip}">'
                f"{match.group(0)}</a>"
            )
            # The text on either side may hold first uses of other terms.
            return self.link(text[: match.start()]) + anchor + self.link(text[match.end() :])
        return text
