"""Figures in the built site: a light and a dark file each, next to their page, and a caption.

The alt text says what is drawn, the caption what to see in it: a screen reader reads both, so
neither repeats the other (the short and the long description of a complex image, as the W3C WAI
images tutorial has it).

Every figure is an SVG file with a content-hashed name (so browsers cache it), drawn once for
each colour scheme (refimpl/plotting.py), shown by the stylesheet for its scheme and never
through a CSS filter, sized by its ``width`` and ``height`` (nothing shifts as it loads), and
linked to its file (a tap opens it full size). What a reader sees at 390 px and 1280 px is
checked in test_browser.py.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser

import pytest

from .conftest import built_pages

pytestmark = pytest.mark.site


class _Figures(HTMLParser):
    """The ``<figure class="refimpl-figure">`` elements of a page: links, images, captions."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "figure" and "refimpl-figure" in (attributes.get("class") or ""):
            self.figures.append({"id": attributes.get("id"), "links": [], "caption": ""})
        elif self.figures and tag == "a" and "refimpl-figure__" in (attributes.get("class") or ""):
            scheme = attributes["class"].split("__")[1]
            self.figures[-1]["links"].append({"scheme": scheme, "href": attributes["href"]})
        elif self.figures and tag == "img" and self.figures[-1]["links"]:
            link = self.figures[-1]["links"][-1]
            link.setdefault("img", attributes)
        elif self.figures and tag == "figcaption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._in_caption:
            self.figures[-1]["caption"] += data


def _figures(page):
    parser = _Figures()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.figures


def _pages(built_site):
    for lang in ("ko", "en"):
        root = built_site if lang == "ko" else built_site / "en"
        yield from (root / page for page in built_pages(built_site, lang))


def _colours(svg: str) -> set[str]:
    return set(re.findall(r"(?:fill|stroke): (#[0-9a-f]{6})", svg))


def test_every_figure_has_a_light_and_a_dark_file_next_to_its_page(built_site):
    problems, count = [], 0
    for page in _pages(built_site):
        where = page.relative_to(built_site).parent.as_posix()
        for figure in _figures(page):
            count += 1
            name = figure["id"].removeprefix("fig-")
            schemes = [link["scheme"] for link in figure["links"]]
            if schemes != ["light", "dark"]:
                problems.append(f"{where} {name}: images for {schemes}")
                continue
            svgs = {}
            for link in figure["links"]:
                image, href = link["img"], link["href"]
                if image["src"] != href or "/" in href:
                    problems.append(f"{where} {name}: {href} is not the image's file beside it")
                    continue
                path = page.parent / href
                if not path.is_file():
                    problems.append(f"{where} {name}: {href} missing")
                    continue
                svg = svgs[link["scheme"]] = path.read_text(encoding="utf-8")
                digest = hashlib.sha256(svg.encode("utf-8")).hexdigest()[:12]
                if href != f"{name}-{digest}.svg":
                    problems.append(f"{where} {name}: {href} is not named by its content")
                # matplotlib writes points; 4/3 CSS pixels each
                width = float(re.search(r'width="([\d.]+)pt"', svg).group(1)) * 4 / 3
                if abs(int(image.get("width") or 0) - width) > 1 or not image.get("height"):
                    problems.append(f"{where} {name}: width/height attributes do not fit")
                if "<text" in svg or "font-family" in svg:
                    problems.append(f"{where} {name}: {href} needs a font (text not as paths)")
            if len(svgs) == 2:
                # black text and lines would vanish on the dark page, and are what light needs
                if "#000000" in _colours(svgs["dark"]):
                    problems.append(f"{where} {name}: the dark figure has black ink")
                # (the light one may have no explicit black: SVG's default fill is black, and a
                # figure without axes, like the computational graph, writes none)
            caption = " ".join(figure["caption"].split())
            if len(caption) < 20 or "python -m" in caption:
                problems.append(f"{where} {name}: caption {caption!r}")
    assert count >= 70, f"only {count} figures found"
    assert not problems, "\n".join(problems)


def _sentences(text: str) -> list[str]:
    """The sentences and clauses of ``text``, lower case, white space collapsed."""
    return [
        " ".join(part.split()).lower()
        for part in re.split(r"(?<=[.;:])\s+", text)
        if len(part.split()) >= 3
    ]


def test_alt_text_and_caption_do_not_repeat_each_other(built_site):
    """Each figure has alt text (both schemes' images the same) and a caption, and no sentence
    of one appears in the other."""
    problems, count = [], 0
    for page in _pages(built_site):
        where = page.relative_to(built_site).parent.as_posix()
        for figure in _figures(page):
            count += 1
            alts = {(link.get("img") or {}).get("alt") or "" for link in figure["links"]}
            caption = " ".join(figure["caption"].split())
            if len(alts) != 1 or len(next(iter(alts)).split()) < 3:
                problems.append(f"{where} {figure['id']}: alt text {alts}")
                continue
            alt = " ".join(next(iter(alts)).split())
            repeated = [s for s in _sentences(alt) if s in caption.lower()]
            repeated += [s for s in _sentences(caption) if s in alt.lower()]
            if repeated or alt.lower() in caption.lower() or caption.lower() in alt.lower():
                problems.append(f"{where} {figure['id']}: alt and caption repeat {repeated}")
    assert count >= 70, f"only {count} figures found"
    assert not problems, "\n".join(problems)


# The width of the text column on a 390 px phone, and the smallest text a figure may show there
# (test_browser.py measures both on a few pages; this checks every figure from its file).
PHONE_COLUMN_PX = 358
SMALLEST_TEXT_PX = 9.0


def test_every_figure_is_readable_on_a_phone(built_site):
    """The smallest text of every figure, shown in a phone's column, is at least 9 px."""
    problems = []
    for page in _pages(built_site):
        for figure in _figures(page):
            for link in figure["links"]:
                svg = (page.parent / link["href"]).read_text(encoding="utf-8")
                width = float(re.search(r'width="([\d.]+)pt"', svg).group(1)) * 4 / 3
                text = float(re.search(r'data-text-pt="([\d.]+)"', svg).group(1)) * 4 / 3
                shown = text * min(1.0, PHONE_COLUMN_PX / width)
                if shown < SMALLEST_TEXT_PX:
                    problems.append(
                        f"{page.parent.relative_to(built_site)} {figure['id']}: {width:.0f} px "
                        f"wide, text {text:.1f} px, {shown:.1f} px on a phone"
                    )
    assert not problems, "\n".join(sorted(set(problems)))


def test_no_figure_is_a_data_url_or_goes_through_a_filter(built_site):
    pages = [page for page in _pages(built_site) if "data:image/svg" in page.read_text("utf-8")]
    assert not pages, f"figures as data: URLs on {pages}"
    sheets = [
        sheet.relative_to(built_site)
        for sheet in (built_site / "assets" / "stylesheets").glob("*.css")
        if re.search(r"filter:\s*invert", sheet.read_text(encoding="utf-8"))
    ]
    assert not sheets, f"an invert filter in {sheets}"


def test_every_tab_set_shows_its_result_first(built_site):
    """Executed blocks open on their output or figure; the code is the second tab."""
    first_labels = set()
    for page in _pages(built_site):
        html = page.read_text(encoding="utf-8")
        first_labels.update(
            re.findall(
                r'<div class="tabbed-set[^>]*>\s*<input checked="checked"[^>]*>'
                r'(?:<input[^>]*>)*<div class="tabbed-labels"><label[^>]*>([^<]*)<',
                html,
            )
        )
    assert {"출력", "그림", "Output", "Figure"} <= first_labels, first_labels
    code_first = first_labels & {"코드", "그림 코드", "Code", "Figure code"}
    assert not code_first, f"tab sets that open on their code: {code_first}"
