"""What a search records: every evaluation, the epochs it cost, and the best score so far.

All searchers in `refimpl.search` call an *objective* with the same signature::

    score = objective(config, budget)

``config`` is a dict of hyperparameters and ``budget`` a number of epochs (an int >= 1); the
score is a validation accuracy, higher is better. An objective may resume a configuration from
its checkpoint: asking for 9 epochs after 3 trains 6 more. `Recorder` counts the cost that way,
so a trial promoted from 3 to 9 epochs costs 6 epochs more, not 9.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Evaluation", "Objective", "Recorder", "SearchResult"]

Objective = Callable[[dict[str, Any], int], float]


@dataclass(frozen=True)
class Evaluation:
    """One call of the objective.

    Attributes
    ----------
    trial : int
        Number of the configuration within the search (0, 1, ...).
    config : dict
        The hyperparameters.
    budget : int
        Epochs the configuration has been trained for when it was scored.
    score : float
        The objective's value (validation accuracy).
    epochs_spent : int
        Epochs the whole search had trained, this evaluation included.
    group : int
        Round of a coarse-to-fine search, or bracket of Hyperband (0 otherwise).

    Examples
    --------
    >>> recorder = Recorder(lambda config, budget: budget / 10)
    >>> _ = recorder.evaluate(0, {"lr": 0.1}, budget=3)
    >>> recorder.result.evaluations[0]
    Evaluation(trial=0, config={'lr': 0.1}, budget=3, score=0.3, epochs_spent=3, group=0)
    """

    trial: int
    config: dict[str, Any]
    budget: int
    score: float
    epochs_spent: int
    group: int = 0


@dataclass
class SearchResult:
    """The evaluations of one search, in the order they happened.

    Examples
    --------
    >>> recorder = Recorder(lambda config, budget: config["x"] * budget)
    >>> for trial, x in enumerate([0.25, 0.5, 0.125]):
    ...     _ = recorder.evaluate(trial, {"x": x}, budget=2)
    >>> result = recorder.result
    >>> result.best().config, result.epochs_spent
    ({'x': 0.5}, 6)
    >>> result.anytime()
    (array([2, 4, 6]), array([0.5, 1. , 1. ]))
    """

    evaluations: list[Evaluation] = field(default_factory=list)

    @property
    def epochs_spent(self) -> int:
        """Total epochs trained by the search."""
        return self.evaluations[-1].epochs_spent if self.evaluations else 0

    def best(self) -> Evaluation:
        """The evaluation with the highest score (the earliest one if tied)."""
        if not self.evaluations:
            raise ValueError("the search made no evaluation")
        scores = [e.score for e in self.evaluations]
        return self.evaluations[int(np.argmax(scores))]

    def final(self) -> list[Evaluation]:
        """The last evaluation of every trial, ordered by trial number."""
        last: dict[int, Evaluation] = {}
        for evaluation in self.evaluations:
            last[evaluation.trial] = evaluation
        return [last[trial] for trial in sorted(last)]

    def anytime(self) -> tuple[np.ndarray, np.ndarray]:
        """Best score seen so far against epochs spent so far, after every evaluation.

        Returns
        -------
        epochs : ndarray of int, shape (E,)
        best : ndarray of float, shape (E,)
            ``best[e] = max(score[0], ..., score[e])``.
        """
        epochs = np.array([e.epochs_spent for e in self.evaluations], dtype=np.int64)
        best = np.maximum.accumulate([e.score for e in self.evaluations])
        return epochs, best

    def best_at(self, epochs: np.ndarray) -> np.ndarray:
        """Best score reached within each budget of ``epochs`` (NaN before the first score)."""
        spent, best = self.anytime()
        index = np.searchsorted(spent, np.asarray(epochs), side="right") - 1
        return np.where(index >= 0, best[np.maximum(index, 0)], np.nan)


class Recorder:
    """Call an objective, count the epochs it trains, and log each evaluation.

    Parameters
    ----------
    objective : callable
        ``objective(config, budget) -> score``.
    callback : callable, optional
        Called as ``callback(evaluation)`` after each evaluation (e.g. to move a progress bar).

    Examples
    --------
    >>> recorder = Recorder(lambda config, budget: budget / 10)
    >>> recorder.evaluate(recorder.new_trial(), {"lr": 0.1}, budget=3)
    0.3
    >>> recorder.evaluate(0, {"lr": 0.1}, budget=9)  # resumes trial 0: 6 more epochs
    0.9
    >>> recorder.spent
    9
    """

    def __init__(self, objective: Objective, callback: Callable[[Evaluation], None] | None = None):
        self.objective = objective
        self.callback = callback
        self.result = SearchResult()
        self.spent = 0
        self._trained: dict[int, int] = {}
        self._next_trial = 0

    def new_trial(self) -> int:
        """A fresh trial number (0, 1, 2, ...)."""
        self._next_trial += 1
        return self._next_trial - 1

    def evaluate(self, trial: int, config: dict[str, Any], budget: int, group: int = 0) -> float:
        """Train ``config`` (trial ``trial``) up to ``budget`` epochs and return its score."""
        budget = int(budget)
        if budget < 1:
            raise ValueError(f"budget must be >= 1 epoch, got {budget}")
        trained = self._trained.get(trial, 0)
        if budget < trained:
            raise ValueError(f"trial {trial} was trained for {trained} epochs, cannot go back")
        score = float(self.objective(config, budget))
        # resumed from the checkpoint: only the new epochs cost anything
        self.spent += budget - trained
        self._trained[trial] = budget
        evaluation = Evaluation(trial, dict(config), budget, score, self.spent, group)
        self.result.evaluations.append(evaluation)
        if self.callback is not None:
            self.callback(evaluation)
        return score
