"""The docs build reuses a figure it drew before while the code is unchanged (refimpl.figures)."""

from __future__ import annotations

import pytest

from refimpl import figures
from refimpl.figures.home import batch_histogram
from refimpl.plotting import RenderedFigure, figure_svg, plt, show

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


def test_docs_build_draws_once_then_reuses_the_svg(docs_build):
    first = batch_histogram(lang="en")
    assert isinstance(first, RenderedFigure) and first.name == NAME
    stored = list((docs_build / "figures").glob(f"{NAME}-*.svg"))
    assert len(stored) == 1 and stored[0].read_text(encoding="utf-8") == first.svg
    # the same SVG as drawing the figure directly
    fig = figures.FIGURES[NAME].draw(lang="en")
    assert first.svg == figure_svg(fig, NAME)
    plt.close(fig)
    # a second call reads the file: change it and the change comes back
    stored[0].write_text(first.svg.replace("<svg", "<svg data-reused=''", 1), encoding="utf-8")
    assert "data-reused" in batch_histogram(lang="en").svg
    # other arguments are another figure
    korean = batch_histogram(lang="ko")
    assert korean.svg != first.svg
    assert len(list((docs_build / "figures").glob(f"{NAME}-*.svg"))) == 2


def test_show_prints_a_rendered_figure_like_a_drawn_one(docs_build):
    rendered = batch_histogram(lang="en")
    fig = figures.FIGURES[NAME].draw(lang="en")
    assert show(rendered, NAME, alt="a histogram") == show(fig, NAME, alt="a histogram")
    with pytest.raises(ValueError, match="another name"):
        show(rendered, "some-other-name", alt="a histogram")
