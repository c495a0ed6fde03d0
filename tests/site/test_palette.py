"""Gate: the header's colour scheme toggle (overrides/partials/javascripts/palette.html, issue 17).

The toggle replaces Material's palette script, which restyled every element of a page three
times at each load (about half of Lighthouse's total blocking time on api/nn). These tests hold
what readers had from Material's toggle, and the reason for the change: a page load does not
touch <body>'s colour attributes once the content is there.
"""

from __future__ import annotations

import sys

import pytest

from .conftest import REPO
from .test_browser import PALETTE_TOGGLE, PageVisit, browser  # noqa: F401 (the fixture)

sys.path.insert(0, str(REPO / "tools"))
import mkdocs_hooks

pytestmark = [pytest.mark.site, pytest.mark.browser, pytest.mark.xdist_group("browser")]

PAGE = "api/nn/"

STATE = """() => ({
  scheme: document.body.getAttribute('data-md-color-scheme'),
  shown: [...document.querySelectorAll('form[data-palette] label')].map(label => !label.hidden),
  colorScheme: [...document.querySelectorAll('meta[name=color-scheme]')].map(m => m.content),
  themeColor: [...document.querySelectorAll('meta[name=theme-color]')].map(m => m.content),
  switching: document.body.hasAttribute('data-md-color-switching'),
})"""

# Every change to <body>'s attributes during a load, with the number of elements the page had
# when it was made: a change made after the content is parsed restyles all of it.
RECORD_BODY_CHANGES = """
window.__bodyChanges = [];
new MutationObserver(records => {
  for (const record of records) if (record.target === document.body)
    window.__bodyChanges.push([record.attributeName, document.getElementsByTagName('*').length]);
}).observe(document, {attributes: true, subtree: true});
"""


# What the page shows in each scheme: the body's scheme, which of the two labels shows, the metas
LIGHT = {
    "scheme": "default",
    "shown": [True, False],
    "colorScheme": ["light"],
    "themeColor": ["#4051b5"],
    "switching": False,
}
DARK = {
    "scheme": "slate",
    "shown": [False, True],
    "colorScheme": ["dark"],
    "themeColor": ["#4051b5"],
    "switching": False,
}


@pytest.mark.parametrize(("system", "expected"), [("light", LIGHT), ("dark", DARK)])
def test_a_first_visit_follows_the_system_scheme(browser, site_url, system, expected):  # noqa: F811
    visit = PageVisit(browser, color_scheme=system, width=390)
    visit.open(site_url + "/" + PAGE, typeset=False)
    assert visit.page.evaluate(STATE) == expected
    assert not visit.errors, visit.errors
    visit.close()


def test_the_toggle_switches_and_the_choice_is_kept(browser, site_url):  # noqa: F811
    visit = PageVisit(browser, color_scheme="light", width=390)
    page = visit.page
    visit.open(site_url + "/" + PAGE, typeset=False)
    page.click(PALETTE_TOGGLE)
    page.wait_for_function("() => !document.body.hasAttribute('data-md-color-switching')")
    assert page.evaluate(STATE) == DARK
    # the next page, in the other language, opens in the scheme chosen
    visit.open(site_url + "/en/normalization/algorithm/", typeset=False)
    assert page.evaluate(STATE) == DARK
    # Enter on the focused toggle switches back, and the focus follows the option
    page.focus("form[data-palette] input:checked")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.body.hasAttribute('data-md-color-switching')")
    assert page.evaluate(STATE) == LIGHT
    assert page.evaluate("() => document.activeElement.id") == "__palette_0"
    assert not visit.errors, visit.errors
    visit.close()


@pytest.mark.parametrize("system", ["light", "dark"])
def test_a_page_load_leaves_the_body_alone_once_the_content_is_there(browser, site_url, system):  # noqa: F811
    visit = PageVisit(browser, color_scheme=system, width=390)
    visit.context.add_init_script(RECORD_BODY_CHANGES)
    visit.open(site_url + "/" + PAGE, typeset=False)
    visit.page.wait_for_timeout(500)  # Material's script has run, and anything it scheduled
    changes = visit.page.evaluate("() => window.__bodyChanges")
    elements = visit.page.evaluate("() => document.getElementsByTagName('*').length")
    # the toggle's script sets the colours while the header is parsed (a few hundred elements)
    assert changes, "the toggle set no colour attribute: is the test still watching the body?"
    late = [(name, count) for name, count in changes if count > elements / 10]
    assert not late, f"<body> changed after the content was parsed ({elements} elements): {late}"
    visit.close()


class Theme(dict):
    """Just enough of MkDocs' theme config for `check_palette`."""


class Config:
    def __init__(self, palette) -> None:
        self.theme = Theme(palette=palette)


def test_the_build_refuses_an_automatic_palette_option():
    automatic = [{"media": "(prefers-color-scheme)", "scheme": "default"}]
    with pytest.raises(mkdocs_hooks.PluginError, match="automatic option is not supported"):
        mkdocs_hooks.check_palette(Config(automatic))
    mkdocs_hooks.check_palette(Config({"scheme": "slate"}))  # one scheme, no toggle: fine
    light_and_dark = [{"media": f"(prefers-color-scheme: {s})"} for s in ("light", "dark")]
    mkdocs_hooks.check_palette(Config(light_and_dark))
