"""Figure style and output: Korean glyphs, reproducible SVG, and `show` for pages and scripts.

Every figure on the site is made by matplotlib while the site builds. This module makes that
output the same on every machine and in every build:

- Hangul comes from NanumGothic, shipped inside the ``koreanize-matplotlib`` package (a pinned
  dependency), and is used as a fallback after DejaVu Sans, so Latin text, digits and the minus
  sign keep matplotlib's default look;
- text is written into the SVG as paths, so a browser needs no font to show it;
- SVGs carry no date and use a fixed salt for their internal ids, so two builds are byte-identical;
- the background is transparent and the site's style sheet adapts the figure to the dark scheme.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib

if "MPLBACKEND" not in os.environ and not os.environ.get("DISPLAY"):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib import font_manager


def korean_font_path() -> Path:
    """Path of the NanumGothic file shipped with the ``koreanize-matplotlib`` package."""
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("koreanize-matplotlib is not installed; it ships the Korean font")
    return Path(spec.origin).parent / "fonts" / "NanumGothic.ttf"


def _register_korean_font() -> str:
    path = korean_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


KOREAN_FONT = _register_korean_font()

STYLE = {
    "font.family": ["DejaVu Sans", KOREAN_FONT],
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.bbox": "tight",
    "svg.fonttype": "path",
    "svg.hashsalt": "refimpl",
}

plt.rcParams.update(STYLE)


@contextmanager
def style():
    """Apply the site's figure style inside a ``with`` block (it is also set on import)."""
    with plt.rc_context(STYLE):
        yield


def figure_svg(fig, name: str) -> str:
    """Render ``fig`` as an SVG string without an XML header, metadata, or random ids.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        A stable name; it prefixes the SVG's internal ids so two figures on a page never share one.
    """
    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    # matplotlib's ids (figure_1, axes_1, glyphs such as DejaVuSans-30, clip paths) repeat
    # between figures; an inline SVG shares the page's id space, so prefix each id with the name.
    svg = re.sub(r'(\bid="|xlink:href="#|url\(#)', rf"\g<1>{name}-", svg)
    return svg


@dataclass(frozen=True)
class RenderedFigure:
    """A registered figure that the docs build has already drawn, as its inline SVG.

    During the docs build a registered figure function returns one of these instead of a
    ``Figure`` when an earlier build drew the same figure from the same code (see
    `refimpl.figures.register`); `show` prints it like a ``Figure``. Outside the docs build the
    functions always return a ``Figure``.
    """

    name: str
    svg: str


def show(fig, name: str, alt: str) -> str:
    """Return a figure for printing: inline HTML in the docs build, else save it and say where.

    Pages print the result (``print(show(fig, ...))``). During the docs build
    (``REFIMPL_DOCS_BUILD=1``) the result is an HTML ``<figure>`` holding the SVG; anywhere else
    the figure is saved as ``NAME.svg`` and ``NAME.png`` in the current folder and the result
    says so.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or RenderedFigure
    name : str
        The figure's name, e.g. ``"home-batch-histogram"``; used for the file names and ids.
    alt : str
        A sentence describing what the figure shows, for readers who cannot see it.

    Returns
    -------
    str
    """
    if isinstance(fig, RenderedFigure):
        if fig.name != name:
            raise ValueError(f"figure {fig.name!r} is shown under another name, {name!r}")
        return _figure_html(fig.svg, name, alt)
    try:
        if os.environ.get("REFIMPL_DOCS_BUILD") == "1":
            return _figure_html(figure_svg(fig, name), name, alt)
        fig.savefig(name + ".svg", metadata={"Date": None})
        fig.savefig(name + ".png", dpi=150)
        return f"saved {name}.svg and {name}.png"
    finally:
        plt.close(fig)


def _figure_html(svg: str, name: str, alt: str) -> str:
    """The ``<figure>`` element a page shows: the SVG as an image in the page, with ``alt``.

    The SVG travels inside the page as a ``data:`` URL rather than as inline markup: a figure's
    text is drawn as thousands of path elements, which the search indexer would otherwise parse
    on every page, and an ``<img>`` carries its ``alt`` text and its size.
    """
    # matplotlib gives the size in points; one point is 4/3 CSS pixels
    width, height = (
        float(re.search(rf'\b{side}="([\d.]+)pt"', svg).group(1)) * 4 / 3
        for side in ("width", "height")
    )
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<figure class="refimpl-figure" id="fig-{name}">'
        f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt, quote=True)}" '
        f'width="{round(width)}" height="{round(height)}">'
        "</figure>"
    )
