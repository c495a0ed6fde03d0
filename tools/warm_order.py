"""Keep the warm-up's worker processes from waiting on each other for a shared experiment.

The build draws the figures in a pool of processes (refimpl/warm.py), each figure running the
experiments it plots. Two figures that plot the same experiment
(``experiments.scratch_search()`` for both tuning-random-search-curves and -scatter) could run
side by side on a fresh clone: before `refimpl.cache.computed_once`, both computed it (70 s of
one core's time wasted); now the second waits for the first, and its core idles meanwhile. The
build queues such a figure after all the others instead (`rounds`, tools/mkdocs_hooks.py
`warm_queue`), when the experiment is cached or nearly so and the figure costs only its drawing.

Two figures share an experiment when their functions contain the same call, arguments
included, of an experiment module (``experiments.NAME(...)``).
"""

from __future__ import annotations

import inspect
import re

EXPERIMENT_CALL = re.compile(r"\bexperiments\.(\w+\([^()]*\))")


def experiment_calls(draw) -> set[str]:
    """The experiment calls written in a figure function, e.g. ``{"scratch_search()"}``."""
    return set(EXPERIMENT_CALL.findall(inspect.getsource(draw)))


def rounds(specs: dict) -> tuple[list[str], list[str]]:
    """Figure names (of ``specs``, name -> FigureSpec) split into a first round, and a second
    round of the figures that share an experiment call with a figure of the first round."""
    first, second, seen = [], [], set()
    for name in sorted(specs):
        calls = experiment_calls(specs[name].draw)
        (second if calls & seen else first).append(name)
        seen |= calls
    return first, second
