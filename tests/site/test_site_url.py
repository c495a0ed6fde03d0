"""The site's address: canonical links and the sitemap only when ``SITE_URL`` gives one.

mkdocs.yml reads ``site_url`` from ``SITE_URL``, which the Pages workflow sets. A build without it
(a reader's ``make build``, the test build) does not know where the site will live: its pages get
no canonical link and it writes no sitemap, rather than ones that point at localhost. The
language selector's links carry no host either way, so they work wherever the site is served.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from .conftest import build_site, built_pages
from .test_build import _mini_project

pytestmark = pytest.mark.site

LOCAL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|0\.0\.0\.0)\b")
CANONICAL = re.compile(r'<link rel="canonical" href="([^"]*)">')
SWITCHER = re.compile(r'<a href="([^"]*)" hreflang="(\w+)" class="md-select__link">')


def _head(page: Path) -> str:
    return page.read_text(encoding="utf-8").partition("</head>")[0]


def test_no_canonical_link_or_sitemap_points_at_localhost_without_site_url(built_site):
    problems = []
    for page in sorted(built_site.rglob("*.html")):
        head = _head(page)
        where = page.relative_to(built_site).as_posix()
        if CANONICAL.search(head):
            problems.append(f"{where}: canonical link {CANONICAL.search(head).group(1)}")
        if LOCAL.search(head):
            problems.append(f"{where}: head points at {LOCAL.search(head).group(0)}")
    for sitemap in ("sitemap.xml", "sitemap.xml.gz"):
        if (built_site / sitemap).exists():
            problems.append(f"{sitemap} written without a site address")
    assert not problems, "\n".join(problems)


def test_the_language_selector_links_reach_the_other_page(built_site):
    """No host in the links, so they work wherever the site is served. Chapter pages link
    relatively; the home pages link to the language roots from the site's root path (``/`` and
    ``/en/``, under the path of ``SITE_URL`` when it is set)."""
    problems, checked = [], 0
    for lang in ("ko", "en"):
        root = built_site if lang == "ko" else built_site / "en"
        for relative in built_pages(built_site, lang):
            page = root / relative
            links = dict((code, href) for href, code in SWITCHER.findall(page.read_text("utf-8")))
            if set(links) != {"ko", "en"}:
                problems.append(f"{page.relative_to(built_site)}: selector links {links}")
                continue
            for code, href in links.items():
                checked += 1
                if href.startswith("/"):
                    target = built_site / href.lstrip("/") / "index.html"
                else:
                    target = Path(urljoin(page.as_posix(), href)) / "index.html"
                if "//" in href or not target.is_file():
                    problems.append(f"{page.relative_to(built_site)}: {code} link {href}")
    assert checked >= 80, checked  # two links on each of 25 pages per language
    assert not problems, "\n".join(problems)


def test_canonical_links_and_sitemap_follow_site_url(tmp_path):
    """A small build with the address set, as the Pages workflow builds (no block executed)."""
    address = "https://example.org/batch-norm/"
    config = _mini_project(tmp_path, "# 페이지\n\n본문입니다.\n", "# Page\n\nText.\n")
    site = tmp_path / "site"
    build_site(site, tmp_path / "cache", config=config, execute=False, site_url=address)
    homes = {site / "index.html": address, site / "en" / "index.html": address + "en/"}
    for page, expected in homes.items():
        assert CANONICAL.findall(_head(page)) == [expected], page
        assert not LOCAL.search(_head(page)), page
        links = dict((code, href) for href, code in SWITCHER.findall(page.read_text("utf-8")))
        assert set(links) == {"ko", "en"} and not any("//" in href for href in links.values())
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    locations = re.findall(r"<loc>([^<]*)</loc>", sitemap)
    alternates = re.findall(r'hreflang="(\w+)" href="([^"]*)"', sitemap)
    assert sorted(locations) == [address, address + "en/"], locations
    assert sorted(alternates) == [("en", address + "en/")] * 2 + [("ko", address)] * 2, alternates
