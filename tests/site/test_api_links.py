"""The chapters and the API reference link to each other, in both languages.

Every chapter page that runs refimpl code ends with a box listing the objects it imports, each
linked to its API entry (tools/api_links.py). Each API page has a table of the pages that use its
objects. The two must agree: a chapter that links to an object is listed on that object's row.
"""

from __future__ import annotations

import posixpath
import re
import sys

import pytest

from .conftest import DOCS, LANGUAGES, REPO, built_pages

sys.path.insert(0, str(REPO / "tools"))
import api_links

pytestmark = pytest.mark.site

USES_BOX = re.compile(
    r'<p class="admonition-title">(?:이 페이지에서 쓴 refimpl API|refimpl API used on this page)'
    r"</p>(.*?)</div>",
    re.DOTALL,
)
OBJECT_LINK = re.compile(r'href="([^"#]*)#(refimpl\.[\w.]+)"')
USED_ON_ROW = re.compile(
    r'<tr>\s*<td><a [^>]*href="[^"#]*#(refimpl\.[\w.]+)"[^>]*>.*?</td>\s*<td>(.*?)</td>\s*</tr>',
    re.DOTALL,
)


def _folder(page_folder: str, href: str) -> str:
    """The site folder a relative link from ``page_folder`` points to."""
    return posixpath.normpath(posixpath.join(page_folder, href)).strip("/")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chapters_and_api_pages_link_both_ways(built_site, lang):
    root = built_site if lang == "ko" else built_site / "en"
    pages = built_pages(built_site, lang)
    used_on: dict[str, set[str]] = {}  # object -> folders of the pages its row lists
    for page in pages:
        if page.parts[0] != "api":
            continue
        html = (root / page).read_text(encoding="utf-8")
        for name, cell in USED_ON_ROW.findall(html):
            for href in re.findall(r'href="([^"#]+)"', cell):
                used_on.setdefault(name, set()).add(_folder(page.parent.as_posix(), href))
    problems, links = [], 0
    for page in pages:
        if page.parts[0] in ("api", "glossary"):
            continue
        folder = page.parent.as_posix()
        html = (root / page).read_text(encoding="utf-8")
        boxes = USES_BOX.findall(html)
        source = DOCS / ("index" if folder == "." else folder)
        source = source.with_name(f"{source.name}.{lang}.md")
        if api_links.used_objects(source.read_text(encoding="utf-8")) and not boxes:
            problems.append(f"{lang}/{folder}: imports refimpl objects but has no API box")
        names = re.findall(r"<code>([^<]+)</code>", "".join(boxes))
        if len(set(names)) < len(names):
            problems.append(f"{lang}/{folder}: the API box shows a name twice: {sorted(names)}")
        for href, name in OBJECT_LINK.findall("".join(boxes)):
            links += 1
            if not _folder(folder, href).startswith("api"):
                problems.append(f"{lang}/{folder}: {name} links to {href}, not to the API")
            elif _folder(".", folder) not in used_on.get(name, set()):
                problems.append(f"{lang}/{folder}: not listed on the API row of {name}")
    assert not problems, "\n".join(problems)
    assert links >= 50 and len(used_on) >= 30, (links, len(used_on))
