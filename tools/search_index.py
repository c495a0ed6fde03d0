"""The search index: one per language, without code and its output, with the glossary's variants.

Material's search plugin writes one ``search/search_index.json`` for both languages, so English
queries found Korean pages first. `split_by_language` rewrites it after the build as two files:
``search/search_index.json`` (Korean pages) and ``en/search/search_index.json`` (English pages).
``assets/javascripts/search-lazy.js`` makes each page ask for its own language's file, and only
when the reader first opens the search box, so that no page load pays for the index.

Left out of the index (`exclude_from_search`): executed blocks (their code and their output
tabs), the source listings of the API pages, and the wall-clock regions (``data-search-exclude``
in the page itself). A reader searches the prose, not ``rng.normal(`` or timing noise.

Korean compounds and spelling variants (`keyword_documents`): a reader types 배치정규화 without
the space, or a variant the site avoids (조기 종료's 일찍 멈추기), or a loanword (폴딩). Each
page gets one extra index entry listing the variants of the glossary terms it uses, weighted by
how often it uses them (and most when the term is in its title), so that these queries find the
pages about the term.
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

EXECUTED_TABS = re.compile(
    r'<div class="tabbed-set tabbed-alternate" (data-tabs="[^"]*")>(?=<input[^>]* id="exec-)'
)
SOURCE_LISTING = re.compile(r'<details class="mkdocstrings-source"')
TAG = re.compile(r"<[^>]+>")


def exclude_from_search(html_text: str) -> str:
    """Mark executed blocks and API source listings with Material's ``data-search-exclude``."""
    html_text = EXECUTED_TABS.sub(
        r'<div class="tabbed-set tabbed-alternate" \1 data-search-exclude>', html_text
    )
    return SOURCE_LISTING.sub('<details class="mkdocstrings-source" data-search-exclude', html_text)


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


def keyword_documents(docs: list[dict], terms, lang: str) -> list[dict]:
    """Extra entries: for each page and each glossary term it uses, the term's variants that
    the page does not contain, boosted by how much the page uses the term."""
    pages: dict[str, dict] = {}
    for doc in docs:
        path = doc["location"].split("#")[0]
        page = pages.setdefault(path, {"title": "", "text": []})
        if "#" not in doc["location"]:
            page["title"] = doc["title"]
        page["text"].append(html.unescape(TAG.sub(" ", doc["title"] + " " + doc["text"])))
    extra = []
    for path, page in pages.items():
        text, title = " ".join(page["text"]).lower(), page["title"].lower()
        for term in terms:
            names = [name.lower() for name in term.names[lang]]
            uses = sum(text.count(name) for name in names)
            if any(name in title for name in names):
                uses += 20
            missing = [v for v in variants(term, lang) if v.lower() not in text]
            if not uses or not missing:
                continue
            extra.append(
                {
                    "location": f"{path}#search-{term.id}",
                    "title": page["title"],
                    "text": " · ".join([term.name(lang), *missing]),
                    # lunr multiplies the entry's score by its boost: from 1.2 (used once) to 5.
                    "boost": round(1 + min(uses, 20) / 5, 1),
                }
            )
    return extra


def split_by_language(site_dir: Path, terms) -> dict[str, int]:
    """Rewrite the build's one index as one per language; return each file's size in bytes."""
    source = site_dir / "search" / "search_index.json"
    index = json.loads(source.read_text(encoding="utf-8"))
    sizes = {}
    for lang, target in (("ko", source), ("en", site_dir / "en" / "search" / "search_index.json")):
        english = lang == "en"
        docs = [
            doc
            for doc in index["docs"]
            if doc["location"].startswith("en/") == english and "#search-" not in doc["location"]
        ]
        if not docs:  # an inner build's partial index: the last pass writes both files
            continue
        config = dict(index["config"], lang=["en"]) if english else index["config"]
        docs += keyword_documents(docs, terms, lang)
        target.parent.mkdir(parents=True, exist_ok=True)
        entries = {"config": config, "docs": docs}
        text = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
        target.write_text(text, encoding="utf-8")
        sizes[lang] = len(text.encode())
    return sizes
