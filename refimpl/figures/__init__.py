"""The figures of the site, one function per figure, grouped by the page they appear on.

Each figure function takes ``lang`` ("ko" or "en") for its labels and returns a matplotlib
``Figure``; `FIGURES` maps every figure's name to its function and page, so every figure can be
regenerated outside the docs build.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: its name, the page it appears on, and the function that draws it."""

    name: str
    page: str
    draw: Callable


FIGURES: dict[str, FigureSpec] = {}


def register(name: str, page: str):
    """Register a figure function under ``name`` (unique) as appearing on ``page``."""

    def decorate(draw: Callable) -> Callable:
        if name in FIGURES:
            raise ValueError(f"figure name {name!r} is registered twice")
        FIGURES[name] = FigureSpec(name=name, page=page, draw=draw)
        return draw

    return decorate


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
