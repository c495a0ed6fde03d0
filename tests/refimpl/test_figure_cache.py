"""The docs build draws every figure in both schemes and reuses what it drew while the code is
unchanged (refimpl.figures); pages get one file per scheme (refimpl.plotting.show)."""

from __future__ import annotations

import hashlib
import re

import pytest

from refimpl import figures
from refimpl.figures.home import batch_histogram
from refimpl.plotting import FIGURE_FILES, RenderedFigure, figure_svg, plt, show, style

NAME = "home-batch-histogram"


@pytest.fixture
def docs_build(monkeypatch, tmp_path):
    monkeypatch.setenv("REFIMPL_DOCS_BUILD", "1")
    monkeypatch.setenv("REFIMPL_CACHE", str(tmp_path))
    return tmp_path


def test_outside_the_docs_build_a_figure_is_drawn(monkeypatch):
    monkeypatch.delenv("REFIMPL_DOCS_BUILD", raising=False)
    fig = batch_histogram(lang="en")
    assert isinstance(fig, plt.Figure)
    plt.close(fig)


def test_importing_changes_no_matplotlib_setting():
    """The site's style applies inside `style` only (it used to be set on import)."""
    # matplotlib's defaults; ours are a fixed salt and no top spine
    assert plt.rcParams["svg.hashsalt"] is None and plt.rcParams["axes.spines.top"]
    with style("dark"):
        assert plt.rcParams["svg.hashsalt"] == "refimpl"
        assert not plt.rcParams["axes.spines.top"]
    assert plt.rcParams["svg.hashsalt"] is None and plt.rcParams["axes.spines.top"]


def _fills(svg: str) -> set[str]:
    return set(re.findall(r"(?:fill|stroke): (#[0-9a-f]{6})", svg))


def test_docs_build_draws_both_schemes_once_then_reuses_them(docs_build):
    first = batch_histogram(lang="en")
    assert isinstance(first, RenderedFigure) and first.name == NAME
    stored = sorted((docs_build / "figures").glob(f"{NAME}-*.svg"))
    assert [path.name.split(".")[-2] for path in stored] == ["dark", "light"]
    assert stored[1].read_text(encoding="utf-8") == first.light
    assert stored[0].read_text(encoding="utf-8") == first.dark
    # black ink in the light figure, none in the dark one (it would vanish on the dark page)
    assert "#000000" in _fills(first.light) and "#000000" not in _fills(first.dark)
    assert "<text" not in first.light + first.dark  # text is drawn as paths
    # a second call reads the files: change one and the change comes back
    stored[0].write_text(first.dark.replace("<svg", "<svg data-reused=''", 1), encoding="utf-8")
    assert "data-reused" in batch_histogram(lang="en").dark
    # other arguments are another figure
    korean = batch_histogram(lang="ko")
    assert korean.light != first.light
    assert len(list((docs_build / "figures").glob(f"{NAME}-*.svg"))) == 4


def test_show_links_one_content_named_file_per_scheme(docs_build):
    rendered = batch_histogram(lang="en")
    html = show(rendered, NAME, alt="a histogram", caption="What to see")
    files = re.findall(r'<a class="refimpl-figure__(\w+)" href="([^"]+)"><img src="\2"', html)
    assert [scheme for scheme, _ in files] == ["light", "dark"]
    for scheme, name in files:
        svg = getattr(rendered, scheme)
        assert FIGURE_FILES[name] == svg
        assert name == f"{NAME}-{hashlib.sha256(svg.encode()).hexdigest()[:12]}.svg"
    assert "<figcaption>What to see</figcaption>" in html
    assert "data:" not in html
    with pytest.raises(ValueError, match="another name"):
        show(rendered, "some-other-name", alt="a histogram")


def test_docs_build_refuses_a_figure_it_cannot_draw_in_the_dark_scheme(docs_build):
    fig = figures.FIGURES[NAME].draw(lang="en")
    with pytest.raises(TypeError, match="registered"):
        show(fig, NAME, alt="a histogram")


def test_korean_labels_with_math_keep_their_hangul(caplog):
    """Mathtext sets a label's plain text in its first font only; Korean labels get NanumGothic."""
    with style():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label=r"평균: $|\mu_B - \mu|$")
        ax.legend()
        svg = figure_svg(fig)
    plt.close(fig)
    assert "<svg" in svg
    assert not [r for r in caplog.records if "does not have a glyph" in r.getMessage()]
