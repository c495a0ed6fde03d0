"""Hyperparameter search: small, readable searchers over one objective interface.

An objective is any function ``objective(config, budget) -> score``: ``config`` a dict of
hyperparameters, ``budget`` a number of epochs, the score a validation accuracy (higher is
better). Every searcher returns a `SearchResult` with each evaluation and the epochs it cost.

- `refimpl.search.space`: dimensions (`Uniform`, `LogUniform`, `Choice`) and sampling;
- `refimpl.search.grid`, `refimpl.search.random`: grid and random search;
- `refimpl.search.coarse_to_fine`: rounds that shrink the ranges around the best trials;
- `refimpl.search.hyperband`: successive halving and Hyperband;
- `refimpl.search.bayesian`: Optuna's TPE sampler with its median pruner, on the same interface;
- `refimpl.search.objective`: the digits MLP objective of the tuning chapter;
- `refimpl.search.compare`: the searchers by name, with the settings the chapter uses;
- `refimpl.search.storage`, `refimpl.search.workers`, `refimpl.search.parallel`: a study shared by
  many processes in SQLite or PostgreSQL, with heartbeats and retried trials
  (``python -m refimpl search --storage URL --workers N``);
- `refimpl.search.cli`: ``python -m refimpl search``.
"""

from refimpl.search.coarse_to_fine import coarse_to_fine, narrow
from refimpl.search.grid import grid_search
from refimpl.search.hyperband import (
    Rung,
    bracket_rungs,
    hyperband,
    hyperband_brackets,
    successive_halving,
)
from refimpl.search.random import random_search
from refimpl.search.space import Choice, LogUniform, Space, Uniform, grid_points, sample_configs
from refimpl.search.trials import Evaluation, Recorder, SearchResult

__all__ = [
    "Choice",
    "Evaluation",
    "LogUniform",
    "Recorder",
    "Rung",
    "SearchResult",
    "Space",
    "Uniform",
    "bracket_rungs",
    "coarse_to_fine",
    "grid_points",
    "grid_search",
    "hyperband",
    "hyperband_brackets",
    "narrow",
    "random_search",
    "sample_configs",
    "successive_halving",
]
