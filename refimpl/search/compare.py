"""The chapter's searchers by name, with the settings the pages use, for experiments and the CLI.

`run_searcher` runs one searcher on one objective so that a search on a page and the same
search from the command line (``python -m refimpl search``) give the same trials: each searcher
draws its configurations from ``np.random.default_rng([seed, SEARCHERS.index(name)])``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from refimpl.search.bayesian import tpe_search
from refimpl.search.coarse_to_fine import coarse_to_fine
from refimpl.search.grid import grid_search
from refimpl.search.hyperband import bracket_epochs, hyperband, hyperband_brackets, max_bracket
from refimpl.search.random import random_search
from refimpl.search.space import Space
from refimpl.search.trials import Evaluation, Objective, SearchResult

__all__ = ["SEARCHERS", "expected_epochs", "run_searcher"]

SEARCHERS = ("grid", "random", "successive_halving", "hyperband", "tpe", "coarse_to_fine")


def _sh_repeats(max_budget: int, eta: int, epoch_budget: int) -> tuple[int, int]:
    """(s_max, how many of the most aggressive brackets fit in ``epoch_budget``)."""
    s_max = max_bracket(max_budget, eta)
    cost = bracket_epochs(hyperband_brackets(max_budget, eta)[s_max])
    return s_max, max(1, epoch_budget // cost)


def _n_trials(trials: int | None, max_budget: int, epoch_budget: int) -> int:
    return trials if trials is not None else max(1, epoch_budget // max_budget)


def run_searcher(
    name: str,
    objective: Objective,
    space: Space,
    seed: int,
    *,
    max_budget: int = 27,
    eta: int = 3,
    epoch_budget: int = 360,
    trials: int | None = None,
    grid: Sequence[int] = (4, 3),
    rounds: int = 2,
    top_k: int = 5,
    margin: float = 0.1,
    callback: Callable[[Evaluation], None] | None = None,
) -> SearchResult:
    """Run the searcher ``name`` (one of `SEARCHERS`) on ``objective`` over ``space``.

    Parameters
    ----------
    name : str
        ``"grid"``: ``grid`` points per dimension, each trained ``max_budget`` epochs;
        ``"random"``: ``trials`` configurations (default ``epoch_budget // max_budget``), each
        trained ``max_budget`` epochs; ``"successive_halving"``: Hyperband's most aggressive
        bracket, repeated while it fits in ``epoch_budget``; ``"hyperband"``: one Hyperband
        iteration with maximum budget ``max_budget`` and ratio ``eta``; ``"tpe"``: Optuna's
        TPE with the median pruner until ``epoch_budget`` epochs are spent;
        ``"coarse_to_fine"``: ``rounds`` rounds of ``trials`` configurations each.
    objective : callable
        ``objective(config, budget) -> score``.
    space : Space
    seed : int
        Seeds the searcher (for ``"tpe"``, the TPE sampler).
    callback : callable, optional
        Called with every `Evaluation` (e.g. to move a progress bar).

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> from refimpl.search import LogUniform
    >>> result = run_searcher("hyperband", lambda config, budget: -abs(np.log10(config["lr"]) + 2),
    ...                       {"lr": LogUniform(1e-4, 1.0)}, seed=0, max_budget=9)
    >>> result.epochs_spent, result.epochs_spent == expected_epochs("hyperband", max_budget=9)
    (69, True)
    """
    if name not in SEARCHERS:
        raise ValueError(f"searcher must be one of {SEARCHERS}, got {name!r}")
    rng = np.random.default_rng([seed, SEARCHERS.index(name)])
    if name == "grid":
        if len(grid) != len(space):
            raise ValueError(f"grid gives {len(grid)} counts for {len(space)} dimensions")
        points = dict(zip(space, grid, strict=True))
        return grid_search(objective, space, points, max_budget, callback)
    if name == "random":
        n = _n_trials(trials, max_budget, epoch_budget)
        return random_search(objective, space, n, max_budget, rng, callback)
    if name == "successive_halving":
        s_max, repeats = _sh_repeats(max_budget, eta, epoch_budget)
        return hyperband(objective, space, max_budget, eta, rng, [s_max] * repeats, callback)
    if name == "hyperband":
        return hyperband(objective, space, max_budget, eta, rng, callback=callback)
    if name == "tpe":
        return tpe_search(objective, space, max_budget, epoch_budget, seed, callback=callback)
    n = _n_trials(trials, max_budget, epoch_budget)
    result, _ = coarse_to_fine(
        objective, space, rounds, n, max_budget, rng, top_k, margin, callback=callback
    )
    return result


def expected_epochs(
    name: str,
    *,
    max_budget: int = 27,
    eta: int = 3,
    epoch_budget: int = 360,
    trials: int | None = None,
    grid: Sequence[int] = (4, 3),
    rounds: int = 2,
) -> int:
    """Epochs `run_searcher` will train with these settings (for ``"tpe"``, about that many).

    Examples
    --------
    >>> expected_epochs("grid"), expected_epochs("random"), expected_epochs("hyperband")
    (324, 351, 357)
    """
    if name == "grid":
        return int(np.prod(grid)) * max_budget
    if name == "random":
        return _n_trials(trials, max_budget, epoch_budget) * max_budget
    if name == "successive_halving":
        s_max, repeats = _sh_repeats(max_budget, eta, epoch_budget)
        return repeats * bracket_epochs(hyperband_brackets(max_budget, eta)[s_max])
    if name == "hyperband":
        return sum(bracket_epochs(r) for r in hyperband_brackets(max_budget, eta).values())
    if name == "tpe":
        return epoch_budget
    if name == "coarse_to_fine":
        return rounds * _n_trials(trials, max_budget, epoch_budget) * max_budget
    raise ValueError(f"searcher must be one of {SEARCHERS}, got {name!r}")
