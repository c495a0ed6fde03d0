"""Gate 3: every internal link, resource and anchor in the built site resolves, in both languages.

Also: the site loads nothing from another host (scripts, styles, fonts, images), since it must
work offline.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

pytestmark = pytest.mark.site

BASE = "http://site.invalid/"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, url)
        self.resources: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("id", "name"):
            if attributes.get(key):
                self.ids.add(attributes[key])
        if tag == "a" and attributes.get("href"):
            self.links.append(("href", attributes["href"]))
        if tag in ("script", "img", "iframe", "source") and attributes.get("src"):
            self.resources.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            rel = attributes.get("rel") or ""
            if rel in ("stylesheet", "icon", "preload", "modulepreload", "manifest"):
                self.resources.append(attributes["href"])
            else:
                self.links.append(("href", attributes["href"]))


@functools.cache
def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _target(site: Path, page: Path, url: str) -> tuple[Path, str] | None:
    """The file and fragment an internal URL points to, or None for an external URL."""
    page_url = BASE + page.relative_to(site).as_posix()
    absolute = urljoin(page_url, url)
    parts = urlsplit(absolute)
    if not absolute.startswith(BASE):
        return None
    path = unquote(parts.path[len(urlsplit(BASE).path) :])
    target = site / path
    if path == "" or path.endswith("/"):
        target = target / "index.html"
    return target, unquote(parts.fragment)


def _html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_internal_links_and_anchors_resolve(built_site):
    broken = []
    for page in _html_pages(built_site):
        for _, url in _parse(page).links:
            if url.startswith(("mailto:", "javascript:")):
                continue
            target = _target(built_site, page, url)
            if target is None:
                continue
            path, fragment = target
            if not path.exists():
                broken.append(f"{page.relative_to(built_site)}: {url} (no file)")
            elif fragment and path.suffix == ".html" and fragment not in _parse(path).ids:
                broken.append(f"{page.relative_to(built_site)}: {url} (no anchor)")
    assert not broken, "\n".join(broken)


def test_resources_are_local_and_exist(built_site):
    problems = []
    for page in _html_pages(built_site):
        for url in _parse(page).resources:
            if url.startswith("data:"):  # figures are files the browser can cache, not data: URLs
                problems.append(f"{page.relative_to(built_site)}: a data: URL ({url[:30]}...)")
                continue
            target = _target(built_site, page, url)
            if target is None:
                problems.append(f"{page.relative_to(built_site)}: loads {url} from another host")
            elif not target[0].exists():
                problems.append(f"{page.relative_to(built_site)}: {url} missing")
    assert not problems, "\n".join(problems)


def test_figure_files_load_nothing(built_site):
    """Every SVG file of the site refers to nothing outside itself."""
    problems = []
    for svg in built_site.rglob("*.svg"):
        # its own ids (#...) and embedded images (a colour bar as data:image/png) are inside it
        outside = re.findall(r'(?:href="|url\()(?!#|data:)([^")]*)', svg.read_text("utf-8"))
        problems += [f"{svg.relative_to(built_site)} refers to {target}" for target in outside]
    assert not problems, "\n".join(problems)


def test_stylesheets_load_no_remote_fonts(built_site):
    remote = []
    for sheet in built_site.rglob("*.css"):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        if "fonts.googleapis" in text or "fonts.gstatic" in text or "@import url(http" in text:
            remote.append(str(sheet.relative_to(built_site)))
    assert not remote, remote
