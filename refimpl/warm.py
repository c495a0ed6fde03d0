"""Fill the experiment and figure caches on every core, and say how far it has got.

A page's executed blocks run one after another during the docs build, so on a fresh clone the
experiments behind the figures would run on one core while the other waited. `start` draws the
registered figures (each language, both schemes) in a pool of worker processes; each figure
runs its experiments, whose results land in the shared on-disk cache (`refimpl.cache.cached`),
and its SVGs land in the figure cache.

The docs build (`tools/mkdocs_hooks.py`) starts the pool and renders its pages meanwhile: the
workers begin with the figures of the last pages and the build with the first page, so both
cores stay busy. A page that reaches a figure first draws it itself; one that needs an
experiment a worker is running waits for it (`refimpl.cache.computed_once`) and never runs it
twice. ``python -m refimpl warm`` (`warm`) runs the pool on its own and waits for it.

It prints one line per figure and language drawn: how many are done, the figure's page, how
long it took, and an estimate of the time left. Figures whose SVGs are already cached are
skipped, so a warm call costs a fraction of a second.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import time
from multiprocessing import get_context
from typing import TextIO

__all__ = ["LANGUAGES", "Warmup", "cold_figures", "draw_figure", "seconds_left", "start", "warm"]

LANGUAGES = ("ko", "en")
"""The languages every figure is drawn in, as the pages call them (``f(lang="ko")``)."""

WORKER_NICENESS = 10
"""How much lower a worker's priority is than the caller's (POSIX ``nice``)."""

REDRAW_SECONDS = 1.0
"""About how long drawing a figure takes once its experiments are cached (0.4-3 s here)."""


def _for_page(name: str):
    """The registered figure ``name`` as the pages call it (the wrapper that caches its SVGs)."""
    from refimpl.figures import load_all

    draw = load_all()[name].draw
    return getattr(importlib.import_module(draw.__module__), draw.__name__)


def is_cached(name: str, lang: str) -> bool:
    """Whether figure ``name``'s SVGs in ``lang`` (both schemes) are in the figure cache."""
    from refimpl.figures import cached_svg_paths

    return all(path.is_file() for path in cached_svg_paths(name, (), {"lang": lang}).values())


def cold_figures(names: list[str] | None = None) -> list[str]:
    """The figures of ``names`` (default: all, by name), in that order, with a language whose
    SVGs are not in the figure cache yet."""
    from refimpl.figures import load_all

    return [
        name
        for name in (names or sorted(load_all()))
        if not all(is_cached(name, lang) for lang in LANGUAGES)
    ]


def draw_figure(name: str, lang: str) -> tuple[str, str, float, bool]:
    """Draw figure ``name`` in ``lang`` as the build does, unless its SVGs are cached by now;
    return the name, the language, the seconds taken and whether it was drawn here."""
    os.environ["REFIMPL_DOCS_BUILD"] = "1"  # the figure wrapper keeps both schemes' SVGs
    os.environ.setdefault("MPLBACKEND", "Agg")
    start_time = time.perf_counter()
    drawn = not is_cached(name, lang)  # a page of the build may have drawn it meanwhile
    if drawn:
        _for_page(name)(lang=lang)
    return name, lang, time.perf_counter() - start_time, drawn


def _start_worker() -> None:
    """Set up a worker process: a lower priority (POSIX ``nice``), so that the caller's process
    gets a core whenever it has work (the build's pages are the one part that runs on a single
    core); and no reaction to Ctrl-C, which the caller answers by ending the workers (`stop`)."""
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def seconds_left(
    elapsed: float, jobs: list[tuple[str, str]], cold: list[tuple[str, str]], workers: int
) -> float:
    """An estimate of the seconds until every one of ``jobs`` (figure, language) is drawn,
    ``elapsed`` seconds in, ``cold`` of them still undrawn, by ``workers`` processes.

    A figure's first language runs its experiments and takes nearly all the time: those go at
    the pace so far. The second language only draws the figure again, about `REDRAW_SECONDS`.

    >>> jobs = [("a", "ko"), ("b", "ko"), ("a", "en"), ("b", "en")]
    >>> seconds_left(30.0, jobs, cold=[("b", "ko"), ("a", "en"), ("b", "en")], workers=2)
    31.0
    """
    first_cold = sum(lang == LANGUAGES[0] for _, lang in cold)
    first_done = sum(lang == LANGUAGES[0] for _, lang in jobs) - first_cold
    experiments = elapsed / max(first_done, 1) * first_cold
    return experiments + (len(cold) - first_cold) * REDRAW_SECONDS / workers


class Warmup:
    """Figures being drawn by a pool of worker processes while the caller goes on.

    ``jobs`` are ``(figure name, language)`` pairs, drawn in that order. `finish` waits for all
    of them; `stop` ends the workers at once.
    """

    def __init__(self, jobs: list[tuple[str, str]], workers: int, out: TextIO) -> None:
        from refimpl.figures import load_all

        self.pages = {name: spec.page for name, spec in load_all().items()}
        self.out = out
        self.jobs = jobs
        self.workers = workers
        self.total = len(jobs)
        self.done = 0
        self.drawn = 0
        self.start_time = time.perf_counter()
        # Each worker uses one BLAS thread (experiments pin it anyway), so the workers fill the
        # cores without fighting over them. The workers inherit the environment: the cache
        # folder (REFIMPL_CACHE) and the seed offset (REFIMPL_SEED_OFFSET) are the caller's.
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(variable, "1")
        # spawn: a clean interpreter, as the caller may hold threads or locks
        self.pool = get_context("spawn").Pool(workers, initializer=_start_worker)
        self.results = [
            self.pool.apply_async(draw_figure, job, callback=self._report) for job in jobs
        ]
        self.pool.close()  # no more jobs: each worker exits when the queue is empty

    def _report(self, result: tuple[str, str, float, bool]) -> None:
        """Count a figure the pool is done with, and print a line if it drew it (this runs in
        the pool's result thread, one result at a time)."""
        name, lang, seconds, drawn = result
        self.done += 1
        self.drawn += drawn
        if not drawn:
            return  # a page drew it first: nothing to say
        elapsed = time.perf_counter() - self.start_time
        cold = [job for job in self.jobs if not is_cached(*job)]  # by a worker or a page
        left = seconds_left(elapsed, self.jobs, cold, self.workers)
        print(
            f"  [{self.done:>2}/{self.total}] {self.pages[name]:<32} {name:<40} {lang} "
            f"{seconds:5.1f} s   elapsed {elapsed:4.0f} s, about {left:3.0f} s left",
            file=self.out,
            flush=True,
        )

    def finished(self) -> bool:
        """Whether the pool is done with every figure."""
        return all(result.ready() for result in self.results)

    def finish(self) -> int:
        """Wait for every figure and return how many the pool drew; raise a worker's error."""
        try:
            self.pool.join()
        except BaseException:  # Ctrl-C: end the workers rather than wait for the queue
            self.stop()
            raise
        self.check()
        return self.drawn

    def stop(self) -> None:
        """End the workers now, in the middle of a figure if need be. An interrupted figure
        leaves nothing half-written: the caches replace an entry whole, and the lock of an
        experiment ends with its process."""
        self.pool.terminate()
        self.pool.join()

    def check(self) -> None:
        """Raise the error of a figure that failed in a worker (of those it is done with)."""
        for result in self.results:
            if result.ready() and not result.successful():
                result.get()


def start(
    names: list[str] | None = None, workers: int | None = None, out: TextIO = sys.stderr
) -> Warmup | None:
    """Start drawing the cold figures of ``names`` (default: all) in ``workers`` processes
    (default: one per core), the first language of every figure before the second; return the
    running `Warmup`, or None if every figure is cached."""
    names = cold_figures(names)
    jobs = [(name, lang) for lang in LANGUAGES for name in names if not is_cached(name, lang)]
    if not jobs:
        return None
    workers = workers or os.cpu_count() or 1
    print(
        f"refimpl warm: drawing {len(jobs)} figures (each language counts) and running their "
        f"experiments in {workers} {'process' if workers == 1 else 'processes'}",
        file=out,
        flush=True,
    )
    return Warmup(jobs, workers, out)


def warm(
    workers: int | None = None, out: TextIO = sys.stderr, names: list[str] | None = None
) -> int:
    """Draw every cold figure (of ``names``, default all) in ``workers`` processes (default: one
    per core) and wait for them; return how many figures (each language counts) were drawn."""
    warmup = start(names, workers, out)
    return warmup.finish() if warmup else 0
