"""Fill the experiment and figure caches on every core, and say how far it has got.

A page's executed blocks run one after another during the docs build, so on a fresh clone the
experiments behind the figures ran on one core while the other waited. `warm` draws every
registered figure (both languages, both schemes) in a pool of worker processes first; each
figure runs its experiments, whose results land in the shared on-disk cache
(`refimpl.cache.cached`), and its SVGs land in the figure cache. The build then finds both.

It prints one line per figure: how many are done, which chapter and page it belongs to, how
long it took, and an estimate of the time left. The docs build calls it before the first page
(`tools/mkdocs_hooks.py`); ``python -m refimpl warm`` runs it on its own.

Figures whose SVGs are already cached are skipped, so a warm call costs a fraction of a second.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import TextIO

__all__ = ["LANGUAGES", "cold_figures", "draw_figure", "warm"]

LANGUAGES = ("ko", "en")
"""The languages every figure is drawn in, as the pages call them (``f(lang="ko")``)."""


def _for_page(name: str):
    """The registered figure ``name`` as the pages call it (the wrapper that caches its SVGs)."""
    from refimpl.figures import load_all

    draw = load_all()[name].draw
    return getattr(importlib.import_module(draw.__module__), draw.__name__)


def cold_figures(names: list[str] | None = None) -> list[str]:
    """Names of the figures (of ``names``, default all) with a language whose SVGs are not in
    the figure cache yet.

    Ordered so that neighbours come from different chapters: two workers rarely wait on the
    same experiment.
    """
    from refimpl.figures import cached_svg_paths, load_all

    specs = load_all()
    cold = [
        name
        for name in sorted(names or specs)
        if not all(
            path.is_file()
            for lang in LANGUAGES
            for path in cached_svg_paths(name, (), {"lang": lang}).values()
        )
    ]
    by_chapter: dict[str, list[str]] = {}
    for name in cold:
        by_chapter.setdefault(specs[name].page.split("/")[0], []).append(name)
    queues = list(by_chapter.values())
    order = []
    while any(queues):
        order += [queue.pop(0) for queue in queues if queue]
    return order


def draw_figure(name: str) -> tuple[str, float]:
    """Draw figure ``name`` in both languages as the build does; return it and the seconds taken."""
    os.environ["REFIMPL_DOCS_BUILD"] = "1"  # the figure wrapper keeps both schemes' SVGs
    os.environ.setdefault("MPLBACKEND", "Agg")
    start = time.perf_counter()
    draw = _for_page(name)
    for lang in LANGUAGES:
        draw(lang=lang)
    return name, time.perf_counter() - start


def warm(
    workers: int | None = None, out: TextIO = sys.stderr, names: list[str] | None = None
) -> int:
    """Draw every cold figure (of ``names``, default all) in ``workers`` processes (default: one
    per core); return how many were drawn.

    Each worker uses one BLAS thread (experiments pin it anyway), so the workers fill the
    cores without fighting over them. The workers inherit the environment: the cache folder
    (``REFIMPL_CACHE``) and the seed offset (``REFIMPL_SEED_OFFSET``) are the build's.
    """
    from refimpl.figures import load_all

    names = cold_figures(names)
    if not names:
        return 0
    pages = {name: spec.page for name, spec in load_all().items()}
    workers = workers or os.cpu_count() or 1
    print(
        f"refimpl warm: running the experiments of {len(names)} figures in {workers} processes",
        file=out,
        flush=True,
    )
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    start = time.perf_counter()
    context = get_context("spawn")  # a clean interpreter: the caller may hold threads or locks
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(draw_figure, name) for name in names]
        for done, future in enumerate(as_completed(futures), start=1):
            name, seconds = future.result()
            elapsed = time.perf_counter() - start
            left = elapsed / done * (len(names) - done)
            print(
                f"  [{done:>2}/{len(names)}] {pages[name]:<32} {name:<40} {seconds:5.1f} s"
                f"   elapsed {elapsed:4.0f} s, about {left:3.0f} s left",
                file=out,
                flush=True,
            )
    return len(names)
