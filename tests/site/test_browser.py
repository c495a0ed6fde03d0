"""Gate 4: the built site in headless Chromium, driven by Playwright.

Every page of both languages loads with no console error and no request to another host; math is
typeset; every figure and image has a size; the language switch keeps the page; search finds the
right page for Korean and English queries, typed as a reader types them.

Chromium is the system one (``$CHROMIUM`` or /usr/bin/chromium). Without it these tests are
skipped with a reason, except under ``CI=true``, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import built_pages

pytestmark = [pytest.mark.site, pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Queries typed into the search box, as readers type them (single Korean words included). The
# right first hit is a page of the same language whose title contains every word of the query.
SEARCHES = {
    "ko": ["배치 정규화", "정규화", "배치", "드롭아웃"],
    "en": ["batch normalization", "normalization", "dropout"],
}


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if Path(path).exists():
        return path
    message = f"Chromium not found at {path} (set $CHROMIUM or `apt-get install chromium`)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("playwright is not installed (make test installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class PageVisit:
    """A browser page that records console errors and every request leaving 127.0.0.1."""

    def __init__(self, browser, color_scheme: str = "light") -> None:
        self.context = browser.new_context(
            color_scheme=color_scheme, viewport={"width": 1280, "height": 900}
        )
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on(
            "console",
            lambda message: message.type == "error" and self.errors.append(message.text),
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _route(self, route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        # MathJax typesets after load; its startup promise resolves when the page is done.
        if self.page.query_selector(".arithmatex"):
            self.page.wait_for_function("() => window.MathJax && MathJax.startup")
            self.page.evaluate("() => MathJax.startup.promise.then(() => true)")

    def close(self) -> None:
        self.context.close()


def _page_urls(site_url: str, built_site) -> list[str]:
    urls = []
    for lang in ("ko", "en"):
        prefix = "/" if lang == "ko" else "/en/"
        for page in built_pages(built_site, lang):
            path = page.parent.as_posix()
            urls.append(site_url + prefix + ("" if path == "." else path + "/"))
    return urls


def test_every_page_loads_cleanly(browser, site_url, built_site):
    problems = []
    for scheme in ("light", "dark"):
        visit = PageVisit(browser, scheme)
        for url in _page_urls(site_url, built_site):
            visit.errors.clear()
            visit.open(url)
            page = visit.page
            for error in visit.errors:
                problems.append(f"{url} [{scheme}]: console error: {error}")
            raw_math = page.evaluate(
                "() => [...document.querySelectorAll('.arithmatex')]"
                ".filter(e => !e.querySelector('mjx-container')).length"
            )
            if raw_math:
                problems.append(f"{url}: {raw_math} formulas were not typeset")
            text = page.inner_text("article")
            if "\\(" in text or "$$" in text:
                problems.append(f"{url}: raw TeX left in the text")
            empty = page.evaluate(
                "() => [...document.querySelectorAll('article img, article figure svg')]"
                ".filter(e => { const r = e.getBoundingClientRect();"
                " return r.width === 0 || r.height === 0 ||"
                " (e.tagName === 'IMG' && e.naturalWidth === 0); }).length"
            )
            if empty:
                problems.append(f"{url}: {empty} images or figures have no size")
        problems += [f"request left 127.0.0.1: {url}" for url in visit.outside]
        visit.close()
    assert not problems, "\n".join(problems)


def test_language_switch_keeps_the_page(browser, site_url, built_site):
    visit = PageVisit(browser)
    for page in built_pages(built_site, "ko"):
        path = page.parent.as_posix()
        path = "" if path == "." else path + "/"
        for source, target, hreflang in (("/", "/en/", "en"), ("/en/", "/", "ko")):
            visit.open(site_url + source + path)
            visit.page.hover(".md-header__option .md-select")
            visit.page.click(f".md-select__link[hreflang='{hreflang}']")
            visit.page.wait_for_load_state("load")
            assert urlsplit(visit.page.url).path == target + path, (source + path, visit.page.url)
    assert not visit.errors, visit.errors
    assert not visit.outside, visit.outside
    visit.close()


@pytest.mark.parametrize(
    ("lang", "query"), [(lang, query) for lang, queries in SEARCHES.items() for query in queries]
)
def test_search_finds_the_right_page_first(browser, site_url, lang, query):
    visit = PageVisit(browser)
    root = site_url + ("/" if lang == "ko" else "/en/")
    visit.open(root)
    visit.page.click("label.md-search__icon, .md-search__input")
    search_box = visit.page.locator("input.md-search__input")
    search_box.press_sequentially(query, delay=30)
    first = visit.page.locator(".md-search-result__item > a").first
    first.wait_for(timeout=10_000)
    href = urlsplit(first.evaluate("a => a.href")).path
    title = first.locator("h1").first.inner_text().lower()
    in_english = href.startswith("/en/")
    assert in_english == (lang == "en"), f"{query!r}: first hit {href} is in the other language"
    assert all(word in title for word in query.lower().split()), (query, title, href)
    assert not visit.outside, visit.outside
    visit.close()
