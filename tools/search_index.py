"""The search index: one per language, without code and its output, with the glossary's variants.

Material's search plugin writes one ``search/search_index.json`` for both languages, so English
queries found Korean pages first. `split_by_language` rewrites it after the build as two files:
``search/search_index.json`` (Korean pages) and ``en/search/search_index.json`` (English pages).
``assets/javascripts/search-lazy.js`` makes each page ask for its own language's file, and only
when the reader first opens the search box, so that no page load pays for the index. It also
starts Material's search worker through ``assets/javascripts/workers/search-lunr.js``, which
fixes a lunr bug that made whole queries fail (the word 평균 found nothing; see that file).

Left out of the index (`exclude_from_search`): executed blocks (their code and their output
tabs), the source listings of the API pages, and the wall-clock regions (``data-search-exclude``
in the page itself). A reader searches the prose, not ``rng.normal(`` or timing noise.

Math (`readable_math`): pages show formulas typeset at build time, but the index gets their TeX
source; result snippets would show ``\\(\\lambda W\\)``. Each formula is turned into plain text
(``λW``) with `tex_to_text`.

Korean compounds and spelling variants (`add_keywords`): a reader types 배치정규화 without the
space, or a variant the site avoids (조기 종료's 일찍 멈추기, 가중치 감소's 체중 감소), or a
loanword (폴딩). Each page's own entry gets a ``keywords`` field with the variants of the
glossary terms it uses, repeated by how often it uses them (and most when the term is in its
title), so that these queries find the pages about the term. The field is searched but never
shown: results show the page's title and text, never an avoided variant.

The glossary (`split_glossary`): its table would be one entry of some 6,000 characters, shown
whole for every hit. Each term gets its own entry instead (``glossary/#<term id>``, the anchor
of its row) with its names, definition and variants.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

# Variants readers type that the glossary does not list, by glossary id.
SEARCH_ALIASES = {
    "folding": {"ko": ["폴딩", "BN 폴딩"], "en": ["fold", "fuse"]},
}
GLOSSARY_PAGE = "glossary/"
# lunr multiplies a field's matches by its boost; Material's own: title 1000, text 1, tags 10^6.
KEYWORDS_FIELD = {"keywords": {"boost": 10.0}}
# A glossary entry is found by its names, but the pages that teach a term come first.
GLOSSARY_ENTRY_BOOST = 0.5

EXECUTED_TABS = re.compile(
    r'<div class="tabbed-set tabbed-alternate" (data-tabs="[^"]*")>(?=<input[^>]* id="exec-)'
)
SOURCE_LISTING = re.compile(r'<details class="mkdocstrings-source"')
TAG = re.compile(r"<[^>]+>")
MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.DOTALL)
PARAGRAPH = re.compile(r"<p>.*?</p>", re.DOTALL)


def exclude_from_search(html_text: str) -> str:
    """Mark executed blocks and API source listings with Material's ``data-search-exclude``."""
    html_text = EXECUTED_TABS.sub(
        r'<div class="tabbed-set tabbed-alternate" \1 data-search-exclude>', html_text
    )
    return SOURCE_LISTING.sub('<details class="mkdocstrings-source" data-search-exclude', html_text)


# --- Math as text --------------------------------------------------------------------------

GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta kappa lambda mu nu xi pi rho sigma"
    " tau phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega"
).split()
# fmt: off
SYMBOLS = {
    **dict(zip(GREEK, "αβγδεεζηθκλμνξπρστφφχψωΓΔΘΛΞΠΣΦΨΩ", strict=True)),
    "ell": "ℓ", "sum": "Σ", "prod": "Π", "partial": "∂", "nabla": "∇", "infty": "∞",
    "cdot": "·", "times": "×", "odot": "⊙", "pm": "±", "le": "≤", "leq": "≤", "ge": "≥",
    "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "sim": "~", "propto": "∝", "in": "∈",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "mapsto": "↦", "Longrightarrow": "⟹",
    "Rightarrow": "⇒", "top": "ᵀ", "lVert": "‖", "rVert": "‖", "|": "‖", "mid": "|",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "langle": "⟨", "rangle": "⟩",
    "dots": "…", "ldots": "…", "cdots": "⋯", "bmod": " mod ", "{": "{", "}": "}", "%": "%",
    "_": "_", "&": "&", "#": "#", "$": "$", "\\": "; ", ",": " ", ";": " ", ":": " ", " ": " ",
    "!": "", "quad": " ", "qquad": " ",
}
# fmt: on
FONTS = {
    "text",
    "textrm",
    "texttt",
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "mathtt",
    "mathbb",
    "mathcal",
    "boldsymbol",
    "operatorname",
}  # fmt: skip
# Relations and operators keep a space on each side (a ≤ b); letters and symbols do not (ηλ).
SPACED = {
    "cdot", "times", "odot", "pm", "le", "leq", "ge", "geq", "ne", "neq", "approx", "sim",
    "propto", "in", "to", "rightarrow", "leftarrow", "mapsto", "Longrightarrow", "Rightarrow",
}  # fmt: skip
LARGE = {"sum", "prod"}  # a space before (1/m Σ_i), none after (Σ_i x_i)
FRACTIONS = {"frac", "tfrac", "dfrac"}
ACCENTS = {
    "hat": "\u0302",
    "bar": "\u0304",
    "overline": "\u0305",
    "tilde": "\u0303",
    "vec": "\u20d7",
}
SIZES = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"}
COMMAND = re.compile(r"[A-Za-z]+|.", re.DOTALL)  # after the backslash: a word or one character
SUB = dict(zip("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎", strict=True))
SUPER = dict(zip("0123456789+-=()Tᵀ", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵀᵀ", strict=True))


class _Tex:
    """A small reader of TeX math that writes what a reader would type: ``\\frac{1}{m}`` as
    ``1/m``, ``\\lambda W`` as ``λW``, ``\\sigma^2`` as ``σ²``. Unknown commands lose their
    backslash; braces disappear."""

    def __init__(self, tex: str) -> None:
        self.tex, self.i = tex, 0

    def command(self) -> str:
        match = COMMAND.match(self.tex, self.i + 1)
        name = match.group(0) if match else ""
        self.i = match.end() if match else len(self.tex)
        if name.isalpha():
            while self.tex[self.i : self.i + 1] == " ":  # TeX drops spaces after a command word
                self.i += 1
        return name

    def argument(self) -> str:
        """The next group, command or character, as text."""
        while self.tex[self.i : self.i + 1] == " ":
            self.i += 1
        if self.i >= len(self.tex):
            return ""
        if self.tex[self.i] == "{":
            return self.group()
        if self.tex[self.i] == "\\":
            return self.atom()
        self.i += 1
        return self.tex[self.i - 1]

    def group(self) -> str:
        self.i += 1  # past "{"
        text = self.read(until="}")
        self.i += 1  # past "}"
        return text

    def atom(self) -> str:
        name = self.command()
        if name in FRACTIONS:
            top, bottom = self.argument(), self.argument()
            return f"{_parenthesized(top)}/{_parenthesized(bottom)}"
        if name == "sqrt":
            return "√" + _parenthesized(self.argument())
        if name in ACCENTS:
            text = self.argument()
            return text + ACCENTS[name] if len(text) == 1 else text
        if name in ("begin", "end"):
            self.argument()
            return " "
        if name in SIZES:
            if self.tex[self.i : self.i + 1] == ".":
                self.i += 1
            return ""
        if name in SPACED:
            return f" {SYMBOLS[name]} "
        if name in LARGE:
            return f" {SYMBOLS[name]}"
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in FONTS or (name.isalpha() and self.tex[self.i : self.i + 1] == "{"):
            return self.argument()  # \text{…}, \mathbb E, \operatorname{Var}
        if name.isalpha() and re.match(r"[^\W_]|\\", self.tex[self.i : self.i + 1]):
            return name + " "  # \log x: log x, but \max_k: max_k
        return name

    def read(self, until: str = "") -> str:
        out = []
        while self.i < len(self.tex) and self.tex[self.i] != until:
            char = self.tex[self.i]
            if char == "\\":
                out.append(self.atom())
            elif char == "{":
                out.append(self.group())
            elif char in "_^":
                self.i += 1
                out.append(_script(self.argument(), SUB if char == "_" else SUPER, char))
            elif char in "&~":
                self.i += 1
                out.append(" ")
            else:
                self.i += 1
                out.append(char)
        return "".join(out)


def _parenthesized(text: str) -> str:
    """``text`` in parentheses, unless it is one symbol, word or bracketed group already."""
    text = text.strip()
    if not re.search(r"[\s+\-−=/]", text):
        return text
    body = text.removeprefix("√")
    if body.startswith("(") and body.endswith(")"):
        depth = 0
        for position, char in enumerate(body):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                if position == len(body) - 1:  # the first "(" closes at the end
                    return text
                break
    return f"({text})"


def _script(text: str, table: dict[str, str], mark: str) -> str:
    text = text.strip()
    if text and all(char in table for char in text):
        return "".join(table[char] for char in text)
    return mark + _parenthesized(text)


def tex_to_text(tex: str) -> str:
    """TeX math as plain text a reader can read in a search result."""
    return re.sub(r"\s+", " ", _Tex(tex).read()).strip()


def readable_math(text: str) -> str:
    r"""Replace each formula of an index entry's HTML text (``\(…\)`` or ``\[…\]``) by
    `tex_to_text` of it."""

    def replace(match: re.Match) -> str:
        tex = html.unescape(match.group(1) if match.group(1) is not None else match.group(2))
        return html.escape(tex_to_text(tex), quote=False)

    return MATH.sub(replace, text)


# --- Keywords --------------------------------------------------------------------------------


def variants(term, lang: str) -> list[str]:
    """Every spelling a reader may type for ``term``: the site's, the avoided ones, aliases, and
    Korean names without their spaces (배치 정규화 → 배치정규화)."""
    names = list(term.names[lang])
    if lang == "ko":
        names += list(term.avoid)
    names += SEARCH_ALIASES.get(term.id, {}).get(lang, [])
    if lang == "ko":
        names += [name.replace(" ", "") for name in names if " " in name]
    return list(dict.fromkeys(names))


def _plain(doc: dict) -> str:
    return html.unescape(TAG.sub(" ", doc["title"] + " " + doc["text"]))


def add_keywords(docs: list[dict], terms, lang: str) -> None:
    """Give each page's own entry (the one without ``#``) a ``keywords`` field: for each glossary
    term the page uses, the term's variants the page does not contain, repeated 1 to 5 times by
    how much the page uses the term (5 when the term is in the page's title)."""
    pages: dict[str, dict] = {}
    for doc in docs:
        path = doc["location"].split("#")[0]
        page = pages.setdefault(path, {"doc": None, "text": []})
        if "#" not in doc["location"]:
            page["doc"] = doc
        page["text"].append(_plain(doc))
    for path, page in pages.items():
        if page["doc"] is None or path.endswith(GLOSSARY_PAGE):
            continue
        text, title = " ".join(page["text"]).lower(), page["doc"]["title"].lower()
        keywords = []
        for term in terms:
            names = [name.lower() for name in term.names[lang]]
            uses = sum(text.count(name) for name in names)
            if any(name in title for name in names):
                uses += 20
            missing = [v for v in variants(term, lang) if v.lower() not in text]
            if uses and missing:
                keywords += missing * (1 + min(uses, 20) // 5)
        if keywords:
            page["doc"]["keywords"] = " ".join(keywords)


# --- The glossary ----------------------------------------------------------------------------


def split_glossary(docs: list[dict], terms, lang: str) -> list[dict]:
    """Replace the glossary page's one entry by its introduction and one entry per term, each
    pointing at the term's row (``glossary/#<id>``), in the table's order."""
    location = GLOSSARY_PAGE if lang == "ko" else f"{lang}/{GLOSSARY_PAGE}"
    other = "en" if lang == "ko" else "ko"
    ids = {f"{location}#{term.id}" for term in terms}
    out = []
    for doc in docs:
        if doc["location"] in ids:  # written by an earlier pass over the same file
            continue
        out.append(doc)
        if doc["location"] != location:
            continue
        doc["text"] = " ".join(PARAGRAPH.findall(doc["text"]))  # the prose, not the table
        for term in sorted(terms, key=lambda t: t.name(lang).lower()):
            # The title is the name only: with its other spellings (weight normalization /
            # WeightNorm) two title words would match "weight decay"'s "weight".
            names = [*term.names[lang][1:], *term.names[other]]
            entry = {
                "location": f"{location}#{term.id}",
                "title": html.escape(term.name(lang), quote=False),
                "text": html.escape(f"{' / '.join(names)}: {term.definition[lang]}", quote=False),
                "boost": GLOSSARY_ENTRY_BOOST,
            }
            listed = (" ".join(term.names[lang]) + " " + term.definition[lang]).lower()
            missing = [v for v in variants(term, lang) if v.lower() not in listed]
            if missing:
                entry["keywords"] = " ".join(missing)
            out.append(entry)
    return out


def split_by_language(site_dir: Path, terms) -> dict[str, int]:
    """Rewrite the build's one index as one per language; return each file's size in bytes."""
    source = site_dir / "search" / "search_index.json"
    index = json.loads(source.read_text(encoding="utf-8"))
    sizes = {}
    for lang, target in (("ko", source), ("en", site_dir / "en" / "search" / "search_index.json")):
        english = lang == "en"
        docs = [
            dict(doc, title=readable_math(doc["title"]), text=readable_math(doc["text"]))
            for doc in index["docs"]
            if doc["location"].startswith("en/") == english
        ]
        if not docs:  # an inner build's partial index: the last pass writes both files
            continue
        config = dict(index["config"], fields={**index["config"]["fields"], **KEYWORDS_FIELD})
        if english:
            config["lang"] = ["en"]
        add_keywords(docs, terms, lang)
        docs = split_glossary(docs, terms, lang)
        target.parent.mkdir(parents=True, exist_ok=True)
        entries = {"config": config, "docs": docs}
        text = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
        target.write_text(text, encoding="utf-8")
        sizes[lang] = len(text.encode())
    return sizes
