"""The figures of the site, one function per figure, grouped by the page they appear on.

Each figure function takes ``lang`` ("ko" or "en") for its labels and returns a matplotlib
``Figure``; `FIGURES` maps every figure's name to its function and page, so every figure can be
regenerated outside the docs build.

A registered function draws in the site's light style (`refimpl.plotting.style`). During the
docs build (``REFIMPL_DOCS_BUILD=1``) it draws the figure twice, in the light and the dark style,
and returns both SVGs as a `refimpl.plotting.RenderedFigure`. Drawing is the largest cost of a
rebuild after a prose edit, so both SVGs are kept on disk, next to the experiment cache, and
reused while nothing they could depend on has changed: the same arguments, the same source of
every ``refimpl`` file and the same matplotlib version.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

from refimpl.cache import cache_dir, package_digest, write_whole
from refimpl.plotting import SCHEMES, RenderedFigure, figure_svg, plt, style
from refimpl.seeds import seed_offset


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: its name, the page it appears on, and the function that draws it."""

    name: str
    page: str
    draw: Callable


FIGURES: dict[str, FigureSpec] = {}


def register(name: str, page: str):
    """Register a figure function under ``name`` (unique) as appearing on ``page``.

    `FIGURES` keeps the function itself. The function the module gets back draws the same
    figure in the site's style; during the docs build it returns both schemes' SVGs, reused from
    an earlier build of the same code (see the module's docstring).
    """

    def decorate(draw: Callable) -> Callable:
        if name in FIGURES:
            raise ValueError(f"figure name {name!r} is registered twice")
        FIGURES[name] = FigureSpec(name=name, page=page, draw=draw)

        @functools.wraps(draw)
        def draw_for_page(*args, **kwargs):
            if os.environ.get("REFIMPL_DOCS_BUILD") != "1":
                with style():
                    return draw(*args, **kwargs)
            return _rendered(name, draw, args, kwargs)

        return draw_for_page

    return decorate


def cached_svg_paths(name: str, args: tuple = (), kwargs: dict | None = None) -> dict[str, Path]:
    """Where the SVGs of figure ``name`` drawn with these arguments are kept, per scheme."""
    # every refimpl source file, matplotlib's version, the arguments and the seed offset
    call = repr((name, args, sorted((kwargs or {}).items()), seed_offset()))
    code = package_digest() + matplotlib.__version__
    key = hashlib.sha256((code + call).encode()).hexdigest()[:24]
    return {scheme: cache_dir() / "figures" / f"{name}-{key}.{scheme}.svg" for scheme in SCHEMES}


def _rendered(name: str, draw: Callable, args: tuple, kwargs: dict) -> RenderedFigure:
    """The SVGs of ``draw(*args, **kwargs)`` in both schemes, from the disk cache or drawn now."""
    paths = cached_svg_paths(name, args, kwargs)
    if all(path.is_file() for path in paths.values()):
        return RenderedFigure(name, **{s: p.read_text(encoding="utf-8") for s, p in paths.items()})
    svgs = {scheme: draw_svg(draw, args, kwargs, scheme) for scheme in SCHEMES}
    for scheme, path in paths.items():
        write_whole(path, svgs[scheme])
    return RenderedFigure(name, **svgs)


def draw_svg(draw: Callable, args: tuple, kwargs: dict, scheme: str) -> str:
    """Draw a figure in ``scheme``'s style and return its SVG."""
    with style(scheme):
        fig = draw(*args, **kwargs)
        try:
            return figure_svg(fig)
        finally:
            plt.close(fig)


def labels(lang: str, ko: dict[str, str], en: dict[str, str]) -> dict[str, str]:
    """Pick a figure's labels for ``lang``; both dictionaries must have the same keys."""
    if lang not in ("ko", "en"):
        raise ValueError(f"lang must be 'ko' or 'en', got {lang!r}")
    if ko.keys() != en.keys():
        raise ValueError(f"label keys differ between languages: {sorted(ko.keys() ^ en.keys())}")
    return ko if lang == "ko" else en


def load_all() -> dict[str, FigureSpec]:
    """Import every figure module of this package, which registers its figures; return `FIGURES`."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return FIGURES
