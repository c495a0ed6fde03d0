"""Keep the sections Material's search plugin cuts a page into, so that a rebuild parses only the
pages whose HTML changed.

Material's search plugin feeds every page's HTML to its ``Parser`` (an ``html.parser``
subclass that splits the page into sections at its headings) to make the search index: 3.2 of
23 s of CPU of a rebuild (issue 17), most of it on the API pages' 290 000 tags. The sections are
a function of the page's HTML, of the parser's code (Material's version) and of Python's
``html.parser`` (the interpreter's version), and of nothing else: the plugin adds the page's
address and title to them afterwards. So `install` puts `CachedParser` in the plugin's place:
it keeps the HTML it is fed and, when it is closed, loads the sections of the same HTML from
``cache_dir()/search``, or runs Material's parser and stores what it made.

An entry keeps, for each section, what the plugin reads afterwards: the heading's tag and
attributes (``data-search-exclude`` excludes a section), its depth, id, title and text.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path

from material.plugins.search import plugin as search_plugin

from refimpl import cache

MaterialParser = search_plugin.Parser


@functools.cache
def parser_digest() -> str:
    """What the sections depend on besides the HTML: Material's and Python's versions, and this
    file (the layout of an entry)."""
    material = importlib.metadata.version("mkdocs-material")
    return hashlib.sha256(
        f"{material}\n{sys.version}\n".encode() + Path(__file__).read_bytes()
    ).hexdigest()


def entry_path(html: str) -> Path:
    key = hashlib.sha256((parser_digest() + html).encode()).hexdigest()
    return cache.entry_path("search", key, "json")


def dump(sections: list) -> list[dict]:
    return [
        {
            "tag": s.el.tag,
            "attrs": s.el.attrs,
            "depth": s.depth,
            "id": s.id,
            "title": s.title,
            "text": s.text,
        }
        for s in sections
    ]


def load(entries: list[dict]) -> list:
    sections = []
    for entry in entries:
        section = search_plugin.Section(
            search_plugin.Element(entry["tag"], entry["attrs"]), entry["depth"]
        )
        section.id, section.title, section.text = entry["id"], entry["title"], entry["text"]
        sections.append(section)
    return sections


def parse(html: str) -> list:
    """The sections of a page's HTML, from the cache or from Material's parser."""
    path = entry_path(html)
    try:
        return load(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        pass
    parser = MaterialParser()
    parser.feed(html)
    parser.close()
    cache.write_whole(path, json.dumps(dump(parser.data), ensure_ascii=False))
    return parser.data


class CachedParser:
    """Material's ``Parser`` as the search plugin uses it (``feed``, ``close``, ``data``)."""

    def __init__(self) -> None:
        self._html: list[str] = []
        self.data: list = []

    def feed(self, html: str) -> None:
        self._html.append(html)

    def close(self) -> None:
        self.data = parse("".join(self._html))


def install() -> None:
    """Make the search plugin parse pages through `CachedParser`."""
    search_plugin.Parser = CachedParser
