"""Figure style and output: Korean glyphs, a light and a dark variant, reproducible SVG files.

Every figure on the site is made by matplotlib while the site builds. This module makes that
output the same on every machine and in every build, and readable in both colour schemes:

- Hangul comes from NanumGothic, shipped inside the ``koreanize-matplotlib`` package (a pinned
  dependency), and is used as a fallback after DejaVu Sans, so Latin text, digits and the minus
  sign keep matplotlib's default look;
- text is written into the SVG as paths, so a browser needs no font to show it;
- SVGs carry no date and use a fixed salt for their internal ids, so two builds are byte-identical;
- every figure is drawn twice, in `STYLES` ``"light"`` and ``"dark"``: the dark one has light
  ink, a brighter palette and the page's dark background, so nothing is inverted by CSS and a
  colormap keeps its meaning;
- nothing is changed on import: the style applies inside `style` only.
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib import font_manager


def korean_font_path() -> Path:
    """Path of the NanumGothic file shipped with the ``koreanize-matplotlib`` package."""
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("koreanize-matplotlib is not installed; it ships the Korean font")
    return Path(spec.origin).parent / "fonts" / "NanumGothic.ttf"


@functools.cache
def korean_font() -> str:
    """Register NanumGothic with matplotlib (once) and return its family name."""
    path = korean_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


# Sizes are chosen for a phone: the site shows a figure at its natural width, at most the text
# column; a figure at most 5.5 in (528 CSS px) wide with 10 pt (13.3 px) text keeps its
# smallest text at 9 px in the 358 px column of a 390 px screen (tests/test_figures_cli.py).
BASE = {
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "auto",
    "savefig.bbox": "tight",
    "svg.fonttype": "path",
    "svg.hashsalt": "refimpl",
}

# The dark scheme's background (Material's slate: hsl(232, 15%, 14%)), its ink, and a palette of
# the same ten hues as matplotlib's default, lighter, so each keeps its name ("orange") and reads
# on the dark background.
DARK_BACKGROUND = "#1e2029"
DARK_INK = "#e2e4e9"
DARK_PALETTE = [
    "#5aa9e6",  # blue
    "#ffa94d",  # orange
    "#63d063",  # green
    "#ff6b6b",  # red
    "#b79ce6",  # purple
    "#c9a08f",  # brown
    "#f49ad4",  # pink
    "#a3a7b0",  # grey
    "#d8d85c",  # olive
    "#4fd6e6",  # cyan
]

STYLES = {
    "light": {**BASE, "text.color": "black"},
    "dark": {
        **BASE,
        "text.color": DARK_INK,
        "axes.labelcolor": DARK_INK,
        "axes.edgecolor": "#a3a7b0",
        "xtick.color": DARK_INK,
        "ytick.color": DARK_INK,
        "grid.color": "#c8ccd4",
        "grid.alpha": 0.25,
        "patch.edgecolor": DARK_INK,
        "hatch.color": DARK_INK,
        "boxplot.flierprops.markeredgecolor": DARK_INK,
        "boxplot.boxprops.color": DARK_INK,
        "boxplot.whiskerprops.color": DARK_INK,
        "boxplot.capprops.color": DARK_INK,
        "boxplot.medianprops.color": DARK_PALETTE[1],
        "lines.color": DARK_INK,
        "axes.prop_cycle": cycler(color=DARK_PALETTE),
        # a standalone dark SVG (opened full size) is readable on its own
        "figure.facecolor": DARK_BACKGROUND,
        "savefig.facecolor": DARK_BACKGROUND,
    },
}
SCHEMES = tuple(STYLES)


@contextmanager
def style(scheme: str = "light"):
    """Draw and save figures in the site's ``"light"`` or ``"dark"`` style inside this block."""
    if scheme not in STYLES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    with plt.rc_context({**STYLES[scheme], "font.family": ["DejaVu Sans", korean_font()]}):
        yield


def ink() -> str:
    """The colour of text in the current style, for lines that must contrast with the page."""
    return plt.rcParams["text.color"]


def smallest_text(fig) -> float:
    """The size in points of the smallest visible, non-empty text of ``fig``."""
    from matplotlib.text import Text

    sizes = [
        text.get_fontsize()
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    return min(sizes)


HANGUL = re.compile(r"[가-힣]")


def korean_math_labels(fig) -> None:
    """Set every label of ``fig`` that mixes Hangul and math (``"평균: $\\mu_B$"``) in NanumGothic.

    Matplotlib typesets a label with math in it by mathtext, whose plain text takes only the
    first font of the family (DejaVu Sans, which has no Hangul); NanumGothic has the Latin
    letters too. `figure_svg` calls it; a figure function calls it before ``tight_layout`` too,
    so the layout measures the right glyphs.
    """
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        label = text.get_text()
        if "$" in label and HANGUL.search(label):
            text.set_fontfamily([korean_font()])


def figure_svg(fig) -> str:
    """Render ``fig`` as an SVG string without an XML header, metadata, or random ids.

    Call it inside the `style` the figure was drawn in: the background and the SVG options are
    read when the figure is saved. The root element records the size of the figure's smallest
    text in points (``data-text-pt``), for the pages and their tests: text is drawn as paths.
    """
    korean_math_labels(fig)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = svg.replace("<svg", f'<svg data-text-pt="{smallest_text(fig):g}"', 1)
    return re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)


@dataclass(frozen=True)
class RenderedFigure:
    """A registered figure drawn by the docs build: its SVG in each scheme of `STYLES`.

    During the docs build a registered figure function returns one of these instead of a
    ``Figure`` (see `refimpl.figures.register`); `show` prints it. Outside the docs build the
    functions return a ``Figure`` drawn in the light style.
    """

    name: str
    light: str
    dark: str


# Figure files that `show` has referred to in this process, by file name. The docs build's hook
# (tools/mkdocs_hooks.py) writes each page's files next to the page.
FIGURE_FILES: dict[str, str] = {}


def figure_file_name(name: str, svg: str) -> str:
    """``NAME-HASH.svg``: a name that changes whenever the content does, so browsers can cache."""
    return f"{name}-{hashlib.sha256(svg.encode('utf-8')).hexdigest()[:12]}.svg"


def show(fig, name: str, alt: str, caption: str | None = None) -> str:
    """Return a figure for printing: HTML in the docs build, else save it and say where.

    Pages print the result (``print(show(fig, ...))``). During the docs build
    (``REFIMPL_DOCS_BUILD=1``) ``fig`` is the `RenderedFigure` a registered figure function
    returned and the result is an HTML ``<figure>``: the light and the dark SVG as images that
    link to their file, and a caption. Anywhere else the figure is saved as ``NAME.svg`` and
    ``NAME.png`` in the current folder and the result says so.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or RenderedFigure
    name : str
        The figure's name, e.g. ``"home-batch-histogram"``; used for the file names and ids.
    alt : str
        What is drawn (the kind of plot, its axes and series), for readers who cannot see it.
    caption : str, optional
        What to see in it (plain text), shown under the figure. The docs build requires it and
        refuses one that repeats ``alt``: a screen reader reads both, so each says its own part
        (the short and the long description of a complex image, W3C WAI images tutorial).

    Returns
    -------
    str
    """
    if isinstance(fig, RenderedFigure):
        if fig.name != name:
            raise ValueError(f"figure {fig.name!r} is shown under another name, {name!r}")
        if not caption or _words(caption) in _words(alt) or _words(alt) in _words(caption):
            raise ValueError(
                f"figure {name!r}: give a caption that says what to see in it, other than its "
                "alt text (which says what is drawn)"
            )
        return _figure_html(fig, alt, html.escape(caption))
    try:
        if os.environ.get("REFIMPL_DOCS_BUILD") == "1":
            raise TypeError(
                f"figure {name!r}: the docs build shows registered figures only "
                "(refimpl.figures.register), which it draws in both colour schemes"
            )
        korean_math_labels(fig)
        with style():
            fig.savefig(name + ".svg", metadata={"Date": None})
            fig.savefig(name + ".png", dpi=150)
        return f"saved {name}.svg and {name}.png"
    finally:
        plt.close(fig)


def _words(text: str) -> str:
    """``text`` in lower case with its white space collapsed, to compare alt text and caption."""
    return " ".join(text.lower().split())


def svg_size(svg: str) -> tuple[int, int]:
    """Width and height of an SVG in CSS pixels (matplotlib writes points; 1 pt = 4/3 px)."""
    return tuple(
        round(float(re.search(rf'\b{side}="([\d.]+)pt"', svg).group(1)) * 4 / 3)
        for side in ("width", "height")
    )


def svg_text_px(svg: str) -> float:
    """The smallest text of a figure SVG (`figure_svg`), in CSS pixels at its natural size."""
    return round(float(re.search(r'data-text-pt="([\d.]+)"', svg).group(1)) * 4 / 3, 2)


def _figure_html(fig: RenderedFigure, alt: str, caption: str) -> str:
    """The ``<figure>`` a page shows: one linked image per scheme, and the caption.

    The stylesheet shows the image of the scheme the page is in (docs/assets/stylesheets/
    extra.css); both are lazy, so the hidden one is not fetched. Each image links to its SVG
    file, which opens the figure full size. The files are separate (not ``data:`` URLs), so
    browsers cache them, and the search indexer never parses their paths.
    """
    alt = html.escape(alt, quote=True)
    images = []
    for scheme in SCHEMES:
        svg = getattr(fig, scheme)
        file = figure_file_name(fig.name, svg)
        FIGURE_FILES[file] = svg
        width, height = svg_size(svg)
        images.append(
            f'<a class="refimpl-figure__{scheme}" href="{file}">'
            f'<img src="{file}" alt="{alt}" width="{width}" height="{height}" loading="lazy" '
            f'data-text-px="{svg_text_px(svg):g}">'
            "</a>"
        )
    return (
        f'<figure class="refimpl-figure" id="fig-{fig.name}">{"".join(images)}'
        f"<figcaption>{caption}</figcaption></figure>"
    )
