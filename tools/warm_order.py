"""Keep two warm-up processes from running the same experiment at the same time.

``python -m refimpl warm`` (refimpl/warm.py) draws the figures in a pool of processes, each
figure running the experiments it plots. Two figures that plot the same experiment
(``experiments.scratch_search()`` for both tuning-random-search-curves and -scatter) could run
side by side on a fresh clone, and both computed it: 70 s of one core's time wasted, as long as
the experiment. The build draws such a figure in a second round instead (`rounds`), when the
first round has cached the experiment and the figure costs only its drawing.

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
