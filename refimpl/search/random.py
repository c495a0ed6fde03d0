"""Random search: independent configurations drawn from the space, each trained in full."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from refimpl.search.space import Space, sample_configs
from refimpl.search.trials import Evaluation, Objective, Recorder, SearchResult

__all__ = ["random_search"]


def random_search(
    objective: Objective,
    space: Space,
    n_trials: int,
    budget: int,
    rng: np.random.Generator,
    callback: Callable[[Evaluation], None] | None = None,
) -> SearchResult:
    """Draw ``n_trials`` configurations from ``space`` and train each for ``budget`` epochs.

    All configurations are drawn first (`refimpl.search.space.sample_configs`), so the
    configurations depend only on ``rng``, never on the scores.

    Parameters
    ----------
    objective : callable
        ``objective(config, budget) -> score``.
    space : Space
    n_trials : int
        Number of configurations.
    budget : int
        Epochs per configuration.
    rng : numpy.random.Generator
        Source of the configurations.
    callback : callable, optional
        Called with every `Evaluation`.

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> from refimpl.search import LogUniform
    >>> result = random_search(lambda config, budget: -abs(np.log10(config["lr"]) + 2),
    ...                        {"lr": LogUniform(1e-4, 1.0)}, n_trials=8, budget=3,
    ...                        rng=np.random.default_rng(0))
    >>> len(result.evaluations), result.epochs_spent, round(result.best().config["lr"], 4)
    (8, 24, 0.0267)
    """
    recorder = Recorder(objective, callback)
    for config in sample_configs(space, n_trials, rng):
        recorder.evaluate(recorder.new_trial(), config, budget)
    return recorder.result
