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
    # a screen reader reads the alt text and the caption: each says its own part
    for caption in (None, "", "A  Histogram", "a histogram of three features"):
        with pytest.raises(ValueError, match="caption"):
            show(rendered, NAME, alt="a histogram", caption=caption)
    assert "<figcaption>x &lt; 0 is rare</figcaption>" in show(
        rendered, NAME, alt="a histogram", caption="x < 0 is rare"
    )


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


# -- refimpl warm: the figures' experiments on every core before the build ---------------------


def test_warm_fills_the_cache_the_pages_read_and_then_skips(docs_build, monkeypatch):
    """`refimpl.warm.warm` draws a cold figure in a worker process, in both languages and both
    schemes, where the page's call will find it; a second call finds nothing to do. It prints a
    progress line naming the page and the count."""
    import io

    from refimpl.figures.normalization import sigmoid_linear
    from refimpl.warm import cold_figures, warm

    name = "normalization-sigmoid-linear"  # no experiment behind it: cheap to draw
    assert cold_figures([name]) == [name]
    out = io.StringIO()
    assert warm(workers=1, out=out, names=[name]) == 2  # one per language
    for count, lang in (("1/2", "ko"), ("2/2", "en")):  # the first language first
        assert re.search(rf"\[ {count}\] normalization/algorithm +{name} +{lang} ", out.getvalue())
    for lang in ("ko", "en"):
        paths = figures.cached_svg_paths(name, (), {"lang": lang})
        assert all(path.is_file() for path in paths.values())
        # the page's call is served from those files (a changed file shows up in its SVG)
        paths["dark"].write_text("<svg>from the cache</svg>", encoding="utf-8")
        assert sigmoid_linear(lang=lang).dark == "<svg>from the cache</svg>"
    assert cold_figures([name]) == []
    again = io.StringIO()
    assert warm(workers=1, out=again, names=[name]) == 0 and again.getvalue() == ""


def test_cold_figures_keep_the_callers_order_and_leave_out_cached_ones(docs_build):
    """The build orders the workers' queue (tools/mkdocs_hooks.py, `warm_queue`); `cold_figures`
    keeps that order, and drops a figure once both its languages are cached."""
    from refimpl.warm import cold_figures, draw_figure

    every = sorted(figures.load_all())
    assert cold_figures() == every  # an empty cache: every figure is cold, by name
    name = "normalization-sigmoid-linear"  # no experiment behind it: cheap to draw
    order = [name, "tuning-tpe-idea", "home-batch-histogram"]
    assert cold_figures(order) == order
    assert draw_figure(name, "ko")[3] is True
    assert cold_figures(order) == order  # English is still missing
    assert draw_figure(name, "en")[3] is True
    assert cold_figures(order) == order[1:]
    assert draw_figure(name, "en")[3] is False  # cached: not drawn again
