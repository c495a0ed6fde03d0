"""Workers that fill one shared Optuna study until it holds the requested completed trials.

Every worker (a process on this machine or on another) runs `run_worker` on the same study. Each
round it counts the trials in the database:

- enough ``COMPLETE`` trials: it stops;
- enough ``COMPLETE`` plus ``RUNNING`` trials: the other workers are finishing the last ones, so
  it waits, and while it waits it fails the running trials whose heartbeat stopped
  (`optuna.storages.fail_stale_trials`); the configuration of such a trial is queued again
  (see `refimpl.search.storage`), so the count drops and some worker runs it;
- otherwise it runs one more trial with ``study.optimize(n_trials=1)``, which takes a queued
  ``WAITING`` trial first and sends heartbeats while the trial runs.

So a run stops with at least ``trials`` completed trials; workers that start their last trials
at the same moment can add up to ``workers - 1`` more. Pruned and failed trials do not count.
Stopping a worker with Ctrl-C marks its running trial ``FAIL`` (Optuna catches the
``KeyboardInterrupt``); running the same command again goes on from the trials in the database.

The searchers: ``random`` (`optuna.samplers.RandomSampler`, every trial trained ``max_epochs``),
``tpe`` (`optuna.samplers.TPESampler` with `optuna.pruners.MedianPruner`, as in
`refimpl.search.bayesian`) and ``hyperband`` (random configurations stopped early by
`optuna.pruners.HyperbandPruner` with ``min_resource=1``, ``max_resource=max_epochs`` and
``reduction_factor=eta``).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from refimpl.search.bayesian import make_optuna_objective
from refimpl.search.objective import COMPARISON_SPACE, SCRATCH_SPACE, DigitsMLP
from refimpl.search.storage import check_settings, open_storage, open_study
from refimpl.search.trials import Recorder

__all__ = ["SHARED_SEARCHERS", "StudySettings", "count_states", "open_shared_study", "run_worker"]

#: The searchers that can fill a shared study.
SHARED_SEARCHERS = ("random", "tpe", "hyperband")

_SPACES = {"comparison": COMPARISON_SPACE, "scratch": SCRATCH_SPACE}


@dataclass(frozen=True)
class StudySettings:
    """Everything a worker needs to join a study; every worker of one study gets the same.

    Attributes
    ----------
    storage : str
        ``sqlite:///FILE`` or ``postgresql://USER@HOST/DB``.
    study : str
        Name of the study in that database.
    searcher : str
        One of `SHARED_SEARCHERS`.
    space : str
        ``"comparison"`` or ``"scratch"`` (see `refimpl.search.objective`).
    trials : int
        Completed trials to reach (pruned and failed trials do not count).
    max_epochs, eta, seed, n_train : int
        Epochs of an unpruned trial, Hyperband's reduction factor, the training seed (and the
        start of each worker's sampler seed), and the training images.
    heartbeat, grace : int
        Heartbeat interval and grace period in seconds (see `refimpl.search.storage`).
    """

    storage: str
    study: str
    searcher: str
    space: str
    trials: int
    max_epochs: int = 27
    eta: int = 3
    seed: int = 0
    n_train: int = 500
    heartbeat: int = 10
    grace: int = 30

    def recorded(self) -> dict:
        """The settings a resumed study must share with the run that started it."""
        keep = ("searcher", "space", "max_epochs", "eta", "seed", "n_train")
        return {key: value for key, value in asdict(self).items() if key in keep}


def _sampler_and_pruner(settings: StudySettings, sampler_seed: int):
    import optuna

    if settings.searcher == "tpe":
        return optuna.samplers.TPESampler(seed=sampler_seed), optuna.pruners.MedianPruner()
    sampler = optuna.samplers.RandomSampler(seed=sampler_seed)
    if settings.searcher == "hyperband":
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=settings.max_epochs, reduction_factor=settings.eta
        )
        return sampler, pruner
    return sampler, optuna.pruners.NopPruner()


def open_shared_study(settings: StudySettings, sampler_seed: int | None = None):
    """Connect to the study of ``settings`` (creating it if needed) and check its settings.

    Parameters
    ----------
    sampler_seed : int, optional
        Seed of this process's sampler; default: derived from ``settings.seed``, the process id
        and the trials already in the study, so that no two workers draw the same stream.

    Returns
    -------
    optuna.Study
    """
    import optuna

    # no line per study opened or trial, and no traceback for a trial stopped by Ctrl-C
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(settings.storage, settings.heartbeat, settings.grace)
    if sampler_seed is None:
        n_before = len(open_study(storage, settings.study).get_trials(deepcopy=False))
        entropy = [settings.seed, os.getpid(), n_before]
        sampler_seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
    sampler, pruner = _sampler_and_pruner(settings, sampler_seed)
    study = open_study(storage, settings.study, sampler, pruner)
    check_settings(study, settings.recorded())
    return study


def count_states(study) -> Counter:
    """``Counter`` of trial states by name: ``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING``, ..."""
    return Counter(trial.state.name for trial in study.get_trials(deepcopy=False))


def _fail_stale_trials(study) -> None:
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


class _Stop:
    """Ctrl-C (SIGINT) or SIGTERM, acted on where it is safe: between two epochs or two trials.

    The signal only sets ``requested``. Between two epochs of a trial, `check` then raises
    ``KeyboardInterrupt``, which Optuna catches to mark the trial ``FAIL`` before passing it
    on; between two trials it stops the worker. A signal never lands in the middle of a write
    to the database, so no trial is left ``RUNNING`` half-recorded.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def __call__(self, signum, frame) -> None:
        self.requested = True

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a signal came."""
        if self.requested:
            raise KeyboardInterrupt

    def __enter__(self) -> _Stop:
        if threading.current_thread() is threading.main_thread():  # only there can it listen
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _trial_objective(settings: StudySettings, stop: _Stop):
    """The Optuna objective of `refimpl.search.bayesian`, tagging each trial with its worker."""
    mlp = DigitsMLP(seed=settings.seed, n_train=settings.n_train)

    def objective(config: dict, budget: int) -> float:
        stop.check()  # before every epoch: Ctrl-C fails the trial here
        return mlp(config, budget)

    inner = make_optuna_objective(Recorder(objective), _SPACES[settings.space], settings.max_epochs)
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def tagged(trial) -> float:
        trial.set_user_attr("worker", worker)  # which process ran it, for the record
        return inner(trial)

    return tagged


def run_worker(
    settings: StudySettings,
    on_change: Callable[[Counter, object], None] | None = None,
    poll: float = 0.5,
) -> Counter:
    """Run trials of the shared study until it holds ``settings.trials`` completed trials.

    Parameters
    ----------
    settings : StudySettings
    on_change : callable, optional
        Called as ``on_change(counts, study)`` after every trial and every wait (a progress bar).
    poll : float, default 0.5
        Seconds between two looks at the database while the last trials finish elsewhere.

    Returns
    -------
    collections.Counter
        The trial states of the study when this worker stopped (see `count_states`).

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C or SIGTERM, after Optuna has marked the running trial ``FAIL``.
    """
    with _Stop() as stop:
        study = open_shared_study(settings)
        objective = _trial_objective(settings, stop)
        while True:
            stop.check()
            counts = count_states(study)
            if on_change is not None:
                on_change(counts, study)
            if counts["COMPLETE"] >= settings.trials:
                return counts
            if counts["COMPLETE"] + counts["RUNNING"] >= settings.trials:
                _fail_stale_trials(study)  # a dead worker's trial: FAIL, and queued again
                time.sleep(poll)
                continue
            study.optimize(objective, n_trials=1)
