"""Grid search: every combination of a few values per hyperparameter, each trained in full."""

from __future__ import annotations

from collections.abc import Callable

from refimpl.search.space import Space, grid_points
from refimpl.search.trials import Evaluation, Objective, Recorder, SearchResult

__all__ = ["grid_search"]


def grid_search(
    objective: Objective,
    space: Space,
    points: int | dict[str, int],
    budget: int,
    callback: Callable[[Evaluation], None] | None = None,
) -> SearchResult:
    """Evaluate every point of the grid for ``budget`` epochs, in grid order.

    Parameters
    ----------
    objective : callable
        ``objective(config, budget) -> score``.
    space : Space
        Each numeric dimension contributes the centres of ``points`` equal cells of its range
        (in its own scale, so a `LogUniform` grid is evenly spaced in decades).
    points : int or dict
        Points per dimension; the grid has ``prod(points)`` configurations.
    budget : int
        Epochs per configuration.
    callback : callable, optional
        Called with every `Evaluation`.

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> import numpy as np
    >>> from refimpl.search import LogUniform
    >>> result = grid_search(lambda config, budget: -abs(np.log10(config["lr"]) + 2),
    ...                      {"lr": LogUniform(1e-4, 1.0)}, points=5, budget=2)
    >>> round(result.best().config["lr"], 4), len(result.evaluations), result.epochs_spent
    (0.01, 5, 10)
    """
    recorder = Recorder(objective, callback)
    for config in grid_points(space, points):
        recorder.evaluate(recorder.new_trial(), config, budget)
    return recorder.result
