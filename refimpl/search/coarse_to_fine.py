r"""Coarse-to-fine search: rounds of random search, each on a range shrunk around the best trials.

After a round, every numeric dimension is narrowed to the span of the ``top_k`` best trials so
far, measured in the dimension's own scale (decades for a `LogUniform`), plus a ``margin`` on
each side. The new range is *not* clipped to the old one: when the best trials sit at an edge,
the next round looks past that edge, which is what a person would do after seeing that scatter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from refimpl.search.space import Choice, Space, sample_configs
from refimpl.search.trials import Evaluation, Objective, Recorder, SearchResult

__all__ = ["coarse_to_fine", "narrow"]


def narrow(space: Space, result: SearchResult, top_k: int, margin: float = 0.1) -> Space:
    r"""The space spanned by the ``top_k`` best trials of ``result``, widened by ``margin``.

    Parameters
    ----------
    space : Space
        The space the trials were drawn from.
    result : SearchResult
        Trials are ranked by their last score (`SearchResult.final`); ties keep trial order.
    top_k : int
        How many of the best trials define the new range.
    margin : float, default 0.1
        Padding on each side, as a fraction of the *old* range in its scale (> 0).

    Returns
    -------
    Space
        Numeric dimensions of the same type with the new ``low`` and ``high``; a `Choice`
        keeps only the values that occur among the ``top_k`` trials.

    Equations
    ---------
    With $u$ = ``to_unit(x)`` (0 at the old ``low``, 1 at the old ``high``) and $m$ the margin:

    $$ u_\text{low} = \min_{j \le k} u_j - m, \qquad u_\text{high} = \max_{j \le k} u_j + m $$

    Examples
    --------
    >>> from refimpl.search import LogUniform, random_search
    >>> space = {"lr": LogUniform(1e-4, 1.0)}
    >>> result = random_search(lambda config, budget: -abs(np.log10(config["lr"]) + 2),
    ...                        space, 20, 1, np.random.default_rng(0))
    >>> lr = narrow(space, result, top_k=5)["lr"]
    >>> np.round(np.log10([lr.low, lr.high]), 2)  # in decades: around the best, 1e-2
    array([-2.71, -1.05])
    """
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if margin <= 0:
        raise ValueError(f"margin must be > 0 so that the new range has a width, got {margin}")
    finals = result.final()
    order = np.argsort([-e.score for e in finals], kind="stable")[:top_k]
    best = [finals[i].config for i in order]
    narrowed: Space = {}
    for name, dimension in space.items():
        values = [config[name] for config in best]
        if isinstance(dimension, Choice):
            narrowed[name] = Choice([v for v in dimension.values if v in values])
            continue
        u = dimension.to_unit(values)
        # [min u − m, max u + m] in the dimension's own scale
        low, high = dimension.from_unit(u.min() - margin), dimension.from_unit(u.max() + margin)
        narrowed[name] = type(dimension)(float(low), float(high))
    return narrowed


def coarse_to_fine(
    objective: Objective,
    space: Space,
    rounds: int,
    n_trials: int | Sequence[int],
    budget: int,
    rng: np.random.Generator,
    top_k: int = 5,
    margin: float = 0.1,
    callback: Callable[[Evaluation], None] | None = None,
) -> tuple[SearchResult, list[Space]]:
    """Run ``rounds`` random searches, narrowing the space after each one.

    Parameters
    ----------
    objective : callable
        ``objective(config, budget) -> score``.
    space : Space
        The first round's space.
    rounds : int
        Number of rounds (1 is plain random search).
    n_trials : int or sequence of int
        Configurations per round (the same for every round, or one count per round).
    budget : int
        Epochs per configuration.
    rng : numpy.random.Generator
    top_k, margin
        Passed to `narrow`, which ranks all trials of all rounds so far.
    callback : callable, optional
        Called with every `Evaluation`.

    Returns
    -------
    result : SearchResult
        Every evaluation; ``Evaluation.group`` is the round (0, 1, ...).
    spaces : list of Space
        The space of each round.

    Examples
    --------
    >>> from refimpl.search import LogUniform
    >>> result, spaces = coarse_to_fine(lambda config, budget: -abs(np.log10(config["lr"]) + 2),
    ...                                 {"lr": LogUniform(1e-4, 1.0)}, rounds=2, n_trials=10,
    ...                                 budget=1, rng=np.random.default_rng(0), top_k=3)
    >>> [np.round(np.log10([space["lr"].low, space["lr"].high]), 2) for space in spaces]
    [array([-4.,  0.]), array([-2.23, -1.05])]
    >>> len(result.evaluations), sorted({e.group for e in result.evaluations})
    (20, [0, 1])
    """
    counts = [n_trials] * rounds if isinstance(n_trials, int) else list(n_trials)
    if len(counts) != rounds:
        raise ValueError(f"n_trials gives {len(counts)} counts for {rounds} rounds")
    recorder = Recorder(objective, callback)
    spaces = [space]
    for round_index in range(rounds):
        if round_index > 0:
            spaces.append(narrow(spaces[-1], recorder.result, top_k, margin))
        for config in sample_configs(spaces[-1], counts[round_index], rng):
            recorder.evaluate(recorder.new_trial(), config, budget, group=round_index)
    return recorder.result, spaces
