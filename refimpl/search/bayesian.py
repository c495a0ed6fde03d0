r"""Bayesian optimization through Optuna: the TPE sampler and the median pruner, on our interface.

`tpe_search` runs the same objective as the other searchers (``objective(config, budget)``,
resumable) with Optuna, an existing, maintained engine: `optuna.samplers.TPESampler` proposes
each configuration from a model of the trials so far, and `optuna.pruners.MedianPruner` stops
a trial whose best validation accuracy so far is below the median of the completed trials at the
same epoch (once its default 5 startup trials have completed). The study lives in Optuna's
in-memory storage unless a ``storage`` URL (e.g. ``"sqlite:///study.db"``) is given, in which
case several processes can share it.

Optuna is imported only when a search runs, so the rest of `refimpl.search` does not need it.
"""

from __future__ import annotations

from collections.abc import Callable

from refimpl.search.space import Choice, LogUniform, Space
from refimpl.search.trials import Evaluation, Objective, Recorder, SearchResult

__all__ = ["make_optuna_objective", "suggest", "tpe_search"]


# --8<-- [start:objective]
def suggest(trial, name: str, dimension):
    """Ask an Optuna trial for a value of one dimension of our space."""
    if isinstance(dimension, Choice):
        return trial.suggest_categorical(name, list(dimension.values))
    log = isinstance(dimension, LogUniform)
    return trial.suggest_float(name, dimension.low, dimension.high, log=log)


def make_optuna_objective(recorder: Recorder, space: Space, max_budget: int):
    """An Optuna objective: train one configuration epoch by epoch, reporting each score."""
    import optuna

    def optuna_objective(trial: optuna.Trial) -> float:
        config = {name: suggest(trial, name, dim) for name, dim in space.items()}
        for epoch in range(1, max_budget + 1):
            score = recorder.evaluate(trial.number, config, epoch)  # resumes the run
            trial.report(score, step=epoch)
            if trial.should_prune():  # best so far below the completed trials' median here
                raise optuna.TrialPruned()
        return score

    return optuna_objective


# --8<-- [end:objective]


# --8<-- [start:study]
def tpe_search(
    objective: Objective,
    space: Space,
    max_budget: int,
    epoch_budget: int,
    seed: int,
    prune: bool = True,
    storage: str | None = None,
    study_name: str | None = None,
    callback: Callable[[Evaluation], None] | None = None,
) -> SearchResult:
    """Run TPE (with the median pruner) until ``epoch_budget`` epochs have been trained.

    Parameters
    ----------
    objective : callable
        ``objective(config, budget) -> score``, resumable.
    space : Space
        `Uniform` and `LogUniform` dimensions become ``suggest_float`` (with ``log=True`` for
        the latter), `Choice` becomes ``suggest_categorical``.
    max_budget : int
        Epochs of a trial that is never pruned.
    epoch_budget : int
        The search stops after the trial during which this many epochs have been spent.
    seed : int
        Seed of the TPE sampler. Trials run one after another, so the search is deterministic.
    prune : bool, default True
        Use `optuna.pruners.MedianPruner` (Optuna's defaults); otherwise never prune.
    storage, study_name : str, optional
        An RDB URL such as ``"sqlite:///study.db"`` and a study name, to share the study
        between processes; default: in memory.
    callback : callable, optional
        Called with every `Evaluation`.

    Returns
    -------
    SearchResult
        One evaluation per epoch trained, trial numbers as in Optuna.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    recorder = Recorder(objective, callback)
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner() if prune else optuna.pruners.NopPruner(),
    )

    def stop_when_spent(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if recorder.spent >= epoch_budget:
            study.stop()

    study.optimize(make_optuna_objective(recorder, space, max_budget), callbacks=[stop_when_spent])
    return recorder.result


# --8<-- [end:study]
