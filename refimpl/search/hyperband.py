r"""Successive halving and Hyperband: train many configurations briefly, continue only the best.

**Successive halving** takes $n$ configurations and a small budget $r$. At rung $i$ it trains
the $n_i$ survivors to $r_i$ epochs, ranks them, and keeps the best $1/\eta$:

$$ n_i = \lfloor n\,\eta^{-i} \rfloor, \qquad r_i = r\,\eta^{\,i}, \qquad i = 0, 1, \dots, s $$

This is the form Hyperband runs as its inner loop (Li et al., 2018). Jamieson & Talwalkar (2016)
state successive halving for a total budget $B$ with halving,
$r_k = \lfloor B / (|S_k| \lceil \log_2 n \rceil) \rfloor$; the idea goes back to Karnin et al.
(2013).

**Hyperband** (Li et al., 2018) does not know how small $r$ may be, so it hedges: with a
maximum budget $R$ per configuration it runs $s_\max + 1$ *brackets* of successive halving,
$s = s_\max, \dots, 0$ with $s_\max = \lfloor \log_\eta R \rfloor$, from very aggressive (many
configurations, $r = R\,\eta^{-s_\max}$ epochs first: one epoch when $R$ is a power of $\eta$,
otherwise between 1 and $\eta$, and budgets are rounded to whole epochs) to none at all (few
configurations, all trained to $R$):

$$ n = \Bigl\lceil \frac{s_\max + 1}{s + 1}\,\eta^{\,s} \Bigr\rceil, \qquad r = R\,\eta^{-s} $$

A configuration promoted to the next rung resumes from its checkpoint (see
`refimpl.search.trials.Recorder`), so going from $r_i$ to $r_{i+1}$ epochs costs
$r_{i+1} - r_i$ epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from refimpl.search.space import Space, sample_configs
from refimpl.search.trials import Evaluation, Objective, Recorder, SearchResult

__all__ = [
    "Rung",
    "bracket_epochs",
    "bracket_rungs",
    "hyperband",
    "hyperband_brackets",
    "max_bracket",
    "successive_halving",
]


@dataclass(frozen=True)
class Rung:
    """One rung of successive halving: ``n`` configurations trained to ``budget`` epochs.

    Examples
    --------
    >>> hyperband_brackets(9, 3)[2]  # 9 trials for 1 epoch, the best 3 for 3, the best one for 9
    [Rung(n=9, budget=1), Rung(n=3, budget=3), Rung(n=1, budget=9)]
    """

    n: int
    budget: int


def max_bracket(max_budget: int, eta: int) -> int:
    r"""$s_\max = \lfloor \log_\eta R \rfloor$, computed with integers (no rounding error).

    Examples
    --------
    >>> max_bracket(81, 3), max_bracket(80, 3)
    (4, 3)
    """
    if max_budget < 1 or eta < 2:
        raise ValueError(f"need max_budget >= 1 and eta >= 2, got {max_budget}, {eta}")
    s = 0
    while eta ** (s + 1) <= max_budget:
        s += 1
    return s


def bracket_rungs(n: int, min_budget: float, eta: int, s: int) -> list[Rung]:
    r"""The rungs $(n_i, r_i)$, $i = 0..s$, of successive halving from $n$ configurations.

    Budgets are rounded to whole epochs (exact when $R$ is a power of $\eta$).

    Examples
    --------
    >>> bracket_rungs(27, 1, 3, s=3)
    [Rung(n=27, budget=1), Rung(n=9, budget=3), Rung(n=3, budget=9), Rung(n=1, budget=27)]
    """
    # n_i = ⌊n η^-i⌋,  r_i = r η^i
    return [Rung(n // eta**i, max(1, round(min_budget * eta**i))) for i in range(s + 1)]


def bracket_epochs(rungs: Sequence[Rung]) -> int:
    r"""Epochs one bracket trains when promoted configurations resume from their checkpoints.

    $$ n_0 r_0 + \sum_{i \ge 1} n_i\,(r_i - r_{i-1}) $$

    Examples
    --------
    >>> rungs = bracket_rungs(27, 1, 3, s=3)
    >>> bracket_epochs(rungs), sum(rung.n * rung.budget for rung in rungs)  # resumed, from scratch
    (81, 108)
    """
    epochs = rungs[0].n * rungs[0].budget
    for previous, rung in pairwise(rungs):
        epochs += rung.n * (rung.budget - previous.budget)
    return epochs


def hyperband_brackets(max_budget: int, eta: int = 3) -> dict[int, list[Rung]]:
    r"""Hyperband's brackets for a maximum budget ``max_budget`` ($R$) and ratio ``eta``.

    Returns
    -------
    dict
        ``{s: rungs}`` for $s = s_\max, \dots, 0$ (in that order), each a list of `Rung`.

    Examples
    --------
    >>> [(r.n, r.budget) for r in hyperband_brackets(81, 3)[4]]
    [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
    """
    s_max = max_bracket(max_budget, eta)
    brackets = {}
    for s in range(s_max, -1, -1):
        # n = ⌈(s_max + 1) η^s / (s + 1)⌉ in integer arithmetic
        n = -(-(s_max + 1) * eta**s // (s + 1))
        # r = R η^-s
        brackets[s] = bracket_rungs(n, max_budget / eta**s, eta, s)
    return brackets


# --8<-- [start:halve]
def _halve(
    recorder: Recorder,
    trials: list[tuple[int, dict[str, Any]]],
    rungs: Sequence[Rung],
    group: int,
) -> None:
    """Run the rungs on ``trials`` (pairs of trial number and configuration)."""
    survivors = trials
    for i, rung in enumerate(rungs):
        scores = [recorder.evaluate(t, config, rung.budget, group) for t, config in survivors]
        if i + 1 < len(rungs):
            # keep the best n_{i+1} = ⌊n_i / η⌋ (a stable sort keeps the earlier trial on ties)
            keep = np.argsort(-np.asarray(scores), kind="stable")[: rungs[i + 1].n]
            survivors = [survivors[j] for j in sorted(keep)]


# --8<-- [end:halve]


def successive_halving(
    objective: Objective,
    configs: Sequence[dict[str, Any]],
    min_budget: int,
    eta: int = 3,
    callback: Callable[[Evaluation], None] | None = None,
) -> SearchResult:
    r"""Successive halving of ``configs`` down to one configuration.

    Parameters
    ----------
    objective : callable
        ``objective(config, budget) -> score``.
    configs : sequence of dict
        The $n$ starting configurations (trial numbers follow this order).
    min_budget : int
        $r$, the epochs of the first rung.
    eta : int, default 3
        Keep the best $1/\eta$ at each rung and multiply the budget by $\eta$.
    callback : callable, optional
        Called with every `Evaluation`.

    Returns
    -------
    SearchResult
        One evaluation per configuration and rung it reached; the last rung has one
        configuration trained to $r\,\eta^{s}$ epochs, $s = \lfloor \log_\eta n \rfloor$.

    Examples
    --------
    >>> configs = [{"lr": 10.0**-k} for k in range(9)]  # 1, 0.1, ..., 1e-8
    >>> result = successive_halving(lambda config, budget: -abs(np.log10(config["lr"]) + 2),
    ...                             configs, min_budget=1, eta=3)
    >>> [e.budget for e in result.evaluations]  # 9 configurations, the best 3, the best one
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 9]
    >>> result.evaluations[-1].config, result.epochs_spent
    ({'lr': 0.01}, 21)
    """
    n = len(configs)
    s = max_bracket(n, eta)
    recorder = Recorder(objective, callback)
    trials = [(recorder.new_trial(), config) for config in configs]
    _halve(recorder, trials, bracket_rungs(n, min_budget, eta, s), group=0)
    return recorder.result


def hyperband(
    objective: Objective,
    space: Space,
    max_budget: int,
    eta: int,
    rng: np.random.Generator,
    brackets: Sequence[int] | None = None,
    callback: Callable[[Evaluation], None] | None = None,
) -> SearchResult:
    r"""Hyperband: successive halving in every bracket, on fresh random configurations.

    Parameters
    ----------
    objective : callable
        ``objective(config, budget) -> score``.
    space : Space
        Where each bracket draws its $n$ configurations (at the start of the bracket).
    max_budget : int
        $R$, the most epochs any configuration gets.
    eta : int
        $\eta$.
    rng : numpy.random.Generator
        Source of the configurations.
    brackets : sequence of int, optional
        Which brackets $s$ to run, in order. Default: one Hyperband iteration,
        $s_\max, \dots, 0$. ``[s_max] * 4`` runs plain successive halving four times.
    callback : callable, optional
        Called with every `Evaluation`.

    Returns
    -------
    SearchResult
        ``Evaluation.group`` is the bracket $s$.

    Examples
    --------
    >>> from refimpl.search import LogUniform
    >>> result = hyperband(lambda config, budget: -abs(np.log10(config["lr"]) + 2),
    ...                    {"lr": LogUniform(1e-4, 1.0)}, max_budget=9, eta=3,
    ...                    rng=np.random.default_rng(0))
    >>> sorted({e.group for e in result.evaluations}), result.epochs_spent
    ([0, 1, 2], 69)
    """
    table = hyperband_brackets(max_budget, eta)
    recorder = Recorder(objective, callback)
    for s in table if brackets is None else brackets:
        rungs = table[s]
        trials = [(recorder.new_trial(), c) for c in sample_configs(space, rungs[0].n, rng)]
        _halve(recorder, trials, rungs, group=s)
    return recorder.result
