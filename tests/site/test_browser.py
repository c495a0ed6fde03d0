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

# The header's colour scheme toggle: the label that shows (overrides/partials/palette.html).
PALETTE_TOGGLE = "form[data-palette] label.md-header__button:visible"

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

    def __init__(self, browser, color_scheme: str = "light", width: int = 1280) -> None:
        self.context = browser.new_context(
            color_scheme=color_scheme, viewport={"width": width, "height": 900}
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

    def open(self, url: str, typeset: bool = True) -> None:
        # Requests made after "load" (the search index, late scripts) still pass through
        # `_route` while the context lives, so waiting for the network to go idle adds a second
        # per page and catches nothing more.
        self.page.goto(url, wait_until="load")
        if typeset:
            wait_for_math(self.page)

    def close(self) -> None:
        self.context.close()


def wait_for_math(page) -> None:
    """Math is typeset in the HTML (KaTeX at build time); wait until its fonts have loaded."""
    page.evaluate("() => document.fonts.ready.then(() => true)")


# Typeset formulas: KaTeX's markup, no KaTeX error, its stylesheet applied and its font loaded.
# A block below the first screen is drawn only when it comes near it (extra.css, issue 17), and a
# font loads only once text that uses it is drawn: the first formula is brought on screen first.
UNTYPESET_MATH = """async () => {
    const math = [...document.querySelectorAll('.arithmatex')];
    if (!math.length) return [];
    const problems = math.filter(e => !e.querySelector('.katex') || e.querySelector('.katex-error'))
        .map(e => 'not typeset: ' + e.textContent.slice(0, 60));
    math[0].scrollIntoView();
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    await document.fonts.ready;
    window.scrollTo(0, 0);
    const family = getComputedStyle(math[0].querySelector('.katex') || math[0]).fontFamily;
    if (!family.startsWith('KaTeX_Main')) problems.push('KaTeX stylesheet not applied: ' + family);
    if (![...document.fonts].some(f => f.family.includes('KaTeX_Main') && f.status === 'loaded'))
        problems.push('KaTeX_Main font not loaded');
    return problems;
}"""


def _page_paths(built_site) -> list[tuple[str, str]]:
    """``(lang, path)`` of every built page, e.g. ``("en", "normalization/algorithm/")``."""
    paths = []
    for lang in ("ko", "en"):
        for page in built_pages(built_site, lang):
            path = page.parent.as_posix()
            paths.append((lang, "" if path == "." else path + "/"))
    return paths


def _prefix(lang: str) -> str:
    return "/" if lang == "ko" else "/en/"


def _scheme_problems(page, where: str) -> list[str]:
    """The scheme the page shows, checked against what its figures look like.

    Each figure has a light and a dark image (refimpl/plotting.py): the one of the page's
    scheme is shown, the other is not, and neither goes through a CSS filter (an inverted
    figure reverses its colormaps).
    """
    scheme = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
    if scheme not in ("default", "slate"):
        return [f"{where}: unknown color scheme {scheme!r}"]
    wanted = "light" if scheme == "default" else "dark"
    shown = page.evaluate(
        """() => [...document.querySelectorAll('.refimpl-figure')].map(figure => {
            const visible = [...figure.querySelectorAll('a')].filter(a => a.offsetParent !== null);
            const filters = [figure, ...figure.querySelectorAll('a, img')]
                .map(e => getComputedStyle(e).filter).filter(f => f !== 'none');
            return {id: figure.id, visible: visible.map(a => a.className), filters};
        })"""
    )
    problems = []
    for figure in shown:
        if figure["visible"] != [f"refimpl-figure__{wanted}"]:
            problems.append(f"{where} [{scheme}] {figure['id']}: shows {figure['visible']}")
        if figure["filters"]:
            problems.append(f"{where} [{scheme}] {figure['id']}: filter {figure['filters'][0]}")
    return problems


def test_every_page_loads_cleanly(browser, site_url, built_site):
    """Every page of both languages, in both color schemes.

    Each page is loaded once and checked, then switched to the other scheme with the header's
    toggle and checked again. Material remembers the choice, so the next page loads in that
    scheme: loads alternate between light and dark.
    """
    problems = []
    visit = PageVisit(browser, "light")
    page = visit.page
    for lang, path in _page_paths(built_site):
        url = site_url + _prefix(lang) + path
        visit.errors.clear()
        visit.open(url)
        problems += [f"{url}: {problem}" for problem in page.evaluate(UNTYPESET_MATH)]
        # Prose only: code listings (a docstring quoted with its source) may show TeX as written.
        text = page.evaluate(
            "() => { const a = document.querySelector('article').cloneNode(true);"
            " a.querySelectorAll('pre, code, .katex-mathml').forEach(e => e.remove());"
            " return a.textContent; }"
        )
        if "\\(" in text or "\\[" in text or "$$" in text:
            problems.append(f"{url}: raw TeX left in the text")
        # Figures load lazily (the other scheme's image never), but their width and height
        # attributes size them before they load.
        empty = page.evaluate(
            "() => [...document.querySelectorAll('article img, article figure svg')]"
            ".filter(e => e.offsetParent !== null || e.tagName !== 'IMG')"
            ".filter(e => { const r = e.getBoundingClientRect();"
            " return r.width === 0 || r.height === 0 ||"
            " (e.tagName === 'IMG' && e.loading !== 'lazy' && e.naturalWidth === 0); }).length"
        )
        if empty:
            problems.append(f"{url}: {empty} images or figures have no size")
        # The language selector points at the same page in the other language.
        other = "en" if lang == "ko" else "ko"
        href = page.eval_on_selector(f".md-select__link[hreflang='{other}']", "a => a.href")
        if urlsplit(href).path != _prefix(other) + path:
            problems.append(f"{url}: the {other} link leads to {href}")
        # Both color schemes: the one the page loaded in, then the other one.
        problems += _scheme_problems(page, url)
        before = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
        page.click(PALETTE_TOGGLE)
        page.wait_for_function(
            f"() => document.body.getAttribute('data-md-color-scheme') !== '{before}'"
        )
        problems += _scheme_problems(page, url)
        problems += [f"{url}: console error: {error}" for error in visit.errors]
    problems += [f"request left 127.0.0.1: {url}" for url in visit.outside]
    visit.close()
    assert not problems, "\n".join(problems)


# Clicking the selector (every page's link target is checked above) on the home page and on a
# chapter page, in both directions.
@pytest.mark.parametrize("path", ["", "normalization/algorithm/"])
def test_language_switch_keeps_the_page(browser, site_url, path):
    visit = PageVisit(browser)
    for source, target in (("ko", "en"), ("en", "ko")):
        visit.open(site_url + _prefix(source) + path, typeset=False)
        visit.page.hover(".md-header__option .md-select")
        visit.page.click(f".md-select__link[hreflang='{target}']")
        visit.page.wait_for_load_state("load")
        assert urlsplit(visit.page.url).path == _prefix(target) + path, visit.page.url
        assert visit.page.evaluate("() => document.documentElement.lang") == target
    assert not visit.errors, visit.errors
    assert not visit.outside, visit.outside
    visit.close()


# What readers type, with the page that answers it (its path under the language's root): the
# glossary's terms, Korean spellings without the space, variants and loanwords the site does not
# use (폴딩 for 접어 넣기), and English phrasings. tools/search_index.py makes variants findable.
READER_SEARCHES = {
    "ko": {
        "배치정규화": "",
        "폴딩": "inference/folding/",
        "접어 넣기": "inference/folding/",
        "조기 종료": "regularization/overfitting/",
        "가중치감소": "regularization/weight-decay/",
        "가중치 감소": "regularization/weight-decay/",
        "드롭아웃": "regularization/dropout/",
        "앙상블": "regularization/ensembles/",
        "이동 평균": "inference/train-vs-eval/",
        "지수 이동 평균": "inference/train-vs-eval/",
        # 평균, alone or in a phrase: lunr once failed every query with it, while 평균과 worked
        # (docs/assets/javascripts/workers/search-lunr.js).
        "평균": "regularization/ensembles/",
        "평균 분산": "inference/alternatives/",
        "평가 모드": "inference/train-vs-eval/",
        "백색화": "normalization/input/",
        "내부 공변량 변화": "normalization/covariate-shift/",
        "공변량변화": "normalization/covariate-shift/",
        "격자 탐색": "tuning/random-search/",
        "연속 반감": "tuning/hyperband/",
        "베이즈 최적화": "tuning/bayesian/",
        "검증 데이터": "tuning/validation/",
        "층 정규화": "inference/alternatives/",
        "과적합": "regularization/overfitting/",
        "용어집": "glossary/",
    },
    "en": {
        "running variance": "inference/train-vs-eval/",
        "fold": "inference/folding/",
        "folding": "inference/folding/",
        "BN folding": "inference/folding/",
        "weight decay vs AdamW": "regularization/weight-decay/",
        "weight decay": "regularization/weight-decay/",
        "dropout": "regularization/dropout/",
        "ensemble": "regularization/ensembles/",
        "whitening": "normalization/input/",
        "internal covariate shift": "normalization/covariate-shift/",
        "random search": "tuning/random-search/",
        "grid search": "tuning/random-search/",
        "successive halving": "tuning/hyperband/",
        "hyperband": "tuning/hyperband/",
        "Optuna": "tuning/bayesian/",
        "validation set": "tuning/validation/",
        "overfitting": "regularization/overfitting/",
        "glossary": "glossary/",
        "eval mode": "inference/train-vs-eval/",
        "moving average": "inference/train-vs-eval/",
        "mean and variance": "inference/alternatives/",
        "troubleshooting": "inference/troubleshooting/",
    },
}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_search_answers_in_the_page_language(browser, site_url, lang):
    """Over 20 queries per language: the right page is among the first three result pages, and
    every one of them is in the language of the site searched. The index is requested only once
    the reader opens search, and it is that language's index."""
    visit = PageVisit(browser)
    requests = []
    visit.page.on("request", lambda request: requests.append(urlsplit(request.url).path))
    visit.open(site_url + _prefix(lang), typeset=False)
    visit.page.wait_for_timeout(500)
    assert not [path for path in requests if path.endswith("search_index.json")], requests
    visit.page.click("label.md-search__icon, .md-search__input")
    search_box = visit.page.locator("input.md-search__input")
    problems = []
    for query, expected in READER_SEARCHES[lang].items():
        search_box.fill("")
        search_box.press_sequentially(query, delay=20)
        results = visit.page.locator(".md-search-result__item > a")
        try:
            results.first.wait_for(timeout=10_000)
        except Exception:
            problems.append(f"{query!r}: no results")
            continue
        visit.page.wait_for_timeout(200)  # results for the last key, not an earlier prefix
        pages = []
        for href in results.evaluate_all("links => links.map(a => a.href)"):
            path = urlsplit(href).path
            if path not in pages:
                pages.append(path)
        first = pages[:3]
        if any(path.startswith("/en/") != (lang == "en") for path in first):
            problems.append(f"{query!r}: a result in the other language: {first}")
        if _prefix(lang) + expected not in first:
            problems.append(f"{query!r}: {_prefix(lang) + expected} not in {first}")
    indexes = [path for path in requests if path.endswith("search_index.json")]
    assert indexes == [_prefix(lang) + "search/search_index.json"], indexes
    assert not problems, "\n".join(problems)
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


def test_a_figure_code_tab_hides_no_other_figure(browser, site_url):
    """Opening one figure's code leaves every other figure, here and on the next page, in view.

    Tabs are not linked across blocks (``content.tabs.link`` is off): with linking, one click
    on a "Code" label switched every figure of the site to its code, and the choice was kept.
    """
    visit = PageVisit(browser)
    page = visit.page
    shown = (
        "() => [...document.querySelectorAll('.refimpl-figure')]"
        ".filter(f => f.offsetParent !== null).length"
    )
    for lang, label in (("ko", "그림 코드"), ("en", "Figure code")):
        visit.open(site_url + _prefix(lang) + "normalization/initialization/", typeset=False)
        total = page.evaluate("() => document.querySelectorAll('.refimpl-figure').length")
        assert total >= 4 and page.evaluate(shown) == total
        page.locator(".tabbed-labels label", has_text=label).first.click()
        assert page.evaluate(shown) == total - 1  # only the clicked figure gave way to its code
        visit.open(site_url + _prefix(lang) + "normalization/algorithm/", typeset=False)
        assert (
            page.evaluate(shown)
            == page.evaluate("() => document.querySelectorAll('.refimpl-figure').length")
            > 0
        )
    # a figure opens full size: its link is its own SVG file
    page.locator(".refimpl-figure__light").first.click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path.endswith(".svg"), page.url
    assert not visit.errors, visit.errors
    assert not visit.outside, visit.outside
    visit.close()


# Figure-heavy pages and the pages that once overflowed on a phone (a long inline equation,
# wide tables).
READING_PAGES = [
    "",
    "normalization/initialization/",
    "inference/folding/",
    "regularization/dropout/",
    "regularization/weight-decay/",
    "tuning/random-search/",
]


@pytest.mark.parametrize(("width", "smallest"), [(390, 9.0), (1280, 11.0)])
def test_figures_read_and_pages_fit_on_a_phone_and_a_desktop(browser, site_url, width, smallest):
    """No page scrolls sideways; figure text is at least 9 px on a phone, 11 px on a desktop.

    Korean pages also show their interface in Korean and name Korean fonts for Hangul.

    Each figure image carries the size of its smallest text at its natural width
    (``data-text-px``, measured from the matplotlib figure); the browser's layout gives the
    width it is shown at.
    """
    visit = PageVisit(browser, width=width)
    page = visit.page
    problems = []
    for lang in ("ko", "en"):
        for path in READING_PAGES:
            url = site_url + _prefix(lang) + path
            visit.open(url)
            if lang == "ko":
                # interface strings in Korean; Hangul from the system's Korean fonts
                html = page.content()
                english = [s for s in ("Switch to", "Permanent link") if s in html]
                if english:
                    problems.append(f"{url}: English interface strings {english}")
                font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
                if "Malgun Gothic" not in font or "Noto Sans CJK KR" not in font:
                    problems.append(f"{url}: no Korean font stack ({font})")
            overflow = page.evaluate("() => document.documentElement.scrollWidth")
            if overflow > width:
                problems.append(f"{url}: the page is {overflow} px wide at {width} px")
            sizes = page.evaluate(
                """() => [...document.querySelectorAll('.refimpl-figure img')]
                    .filter(img => img.offsetParent !== null)
                    .map(img => [img.closest('figure').id, img.dataset.textPx
                        * img.getBoundingClientRect().width / img.getAttribute('width')])"""
            )
            problems += [
                f"{url} {name}: text {size:.1f} px at {width} px"
                for name, size in sizes
                if size < smallest
            ]
    problems += [f"request left 127.0.0.1: {url}" for url in visit.outside]
    visit.close()
    assert not problems, "\n".join(problems)
