"""``python -m refimpl search --storage URL --workers N``: fill a shared study and report it.

With one worker the search runs in this process. With ``N`` workers this process starts ``N``
copies of the same command (``--worker-only``: no bar, no report), each with one BLAS thread,
and watches the database: the progress bar counts completed trials and shows pruned and failed
ones and the best value so far. At the end it prints the best trial and where the study lives.

Ctrl-C stops every worker; their running trials are marked ``FAIL``, so the study holds no
trial stuck in ``RUNNING``, and the same command resumes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from refimpl.search.objective import DigitsMLP
from refimpl.search.storage import StudyError, describe
from refimpl.search.workers import StudySettings, count_states, open_shared_study, run_worker

__all__ = ["print_report", "run_shared", "worker_command"]

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def worker_command(settings: StudySettings) -> list[str]:
    """The command line of one worker process of ``settings``' study (a list for `subprocess`).

    Examples
    --------
    >>> settings = StudySettings("sqlite:///s.db", "demo", "tpe", "comparison", trials=8)
    >>> " ".join(worker_command(settings)[1:])  # doctest: +NORMALIZE_WHITESPACE
    '-m refimpl search --worker-only --quiet --storage sqlite:///s.db --study demo --searcher tpe
     --space comparison --trials 8 --max-epochs 27 --eta 3 --seed 0 --n-train 500 --heartbeat 10
     --grace 30'
    """
    s = settings
    return [
        sys.executable, "-m", "refimpl", "search", "--worker-only", "--quiet",
        "--storage", s.storage, "--study", s.study, "--searcher", s.searcher,
        "--space", s.space, "--trials", str(s.trials), "--max-epochs", str(s.max_epochs),
        "--eta", str(s.eta), "--seed", str(s.seed), "--n-train", str(s.n_train),
        "--heartbeat", str(s.heartbeat), "--grace", str(s.grace),
    ]  # fmt: skip


def _best_value(study) -> float | None:
    values = [t.value for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    return max(values) if values else None


class _Bar:
    """A tqdm bar over completed trials, with pruned, failed and the best value as postfix."""

    def __init__(self, settings: StudySettings, quiet: bool) -> None:
        from tqdm import tqdm

        self.tqdm = tqdm(
            total=settings.trials,
            unit="trial",
            desc=f"{settings.searcher} {settings.study}",
            file=sys.stderr,
            disable=quiet,
        )

    def show(self, counts: Counter, study) -> None:
        self.tqdm.n = min(counts["COMPLETE"], self.tqdm.total)
        best = _best_value(study)
        self.tqdm.set_postfix(
            pruned=counts["PRUNED"],
            failed=counts["FAIL"],
            best="-" if best is None else f"{best:.4f}",
        )

    def close(self) -> None:
        self.tqdm.close()


def _start_workers(settings: StudySettings, n: int) -> list[subprocess.Popen]:
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")  # the parallelism is in the processes
    # each worker in its own session: Ctrl-C in the terminal reaches only this process, which
    # sends each worker one SIGTERM: it ends a worker still starting up at once, and makes a
    # running one fail its trial and stop (see refimpl.search.workers)
    return [
        subprocess.Popen(worker_command(settings), env=env, start_new_session=True)
        for _ in range(n)
    ]


def _stop_workers(workers: list[subprocess.Popen], timeout: float = 60.0) -> None:
    """Send SIGTERM once to each running worker and wait until it has marked its trial failed.

    A second Ctrl-C kills the workers; their running trials then stay ``RUNNING`` until the
    heartbeat of the next run finds them stale, fails them, and queues them again.
    """
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    try:
        for worker in workers:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        for worker in workers:
            worker.kill()


def _watch(workers: list[subprocess.Popen], study, bar: _Bar, poll: float = 0.5) -> list[int]:
    """Update ``bar`` from the database until every worker has exited; their exit codes."""
    while any(worker.poll() is None for worker in workers):
        bar.show(count_states(study), study)
        time.sleep(poll)
    bar.show(count_states(study), study)
    return [worker.returncode for worker in workers]


def run_shared(settings: StudySettings, workers: int, quiet: bool, worker_only: bool) -> int:
    """Fill the study of ``settings`` with ``workers`` processes; print the report.

    Returns
    -------
    int
        0 when the study holds the requested completed trials, 2 on a `StudyError`, 1 if a
        worker process failed, 130 after Ctrl-C.
    """
    try:
        return _fill(settings, workers, quiet, worker_only)
    except StudyError as error:
        print(f"search: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if not worker_only:
            print(
                "search: interrupted; the trials that were running are marked failed. "
                "Run the same command again to resume the study.",
                file=sys.stderr,
            )
        return INTERRUPTED


def _fill(settings: StudySettings, workers: int, quiet: bool, worker_only: bool) -> int:
    study = open_shared_study(settings)  # checks the URL, the direction and the settings
    if worker_only:
        run_worker(settings)
        return 0
    bar = _Bar(settings, quiet)
    try:
        if workers == 1:
            run_worker(settings, on_change=bar.show)
        else:
            processes = _start_workers(settings, workers)
            try:
                codes = _watch(processes, study, bar)
            except KeyboardInterrupt:
                _stop_workers(processes)
                raise
            if any(code != 0 for code in codes):
                print(f"search: a worker failed (exit codes {codes})", file=sys.stderr)
                return 1
    finally:
        bar.close()
    print_report(study, settings, workers)
    return 0


def print_report(study, settings: StudySettings, workers: int) -> None:
    """Print where the study lives, its trial counts, and its best trial with its test accuracy."""
    counts = count_states(study)
    best = study.best_trial
    print(f"study: {settings.study}   storage: {describe(settings.storage)}")
    print(
        f"searcher: {settings.searcher}   space: {settings.space}   workers: {workers}   "
        f"trials: {counts['COMPLETE']} completed, {counts['PRUNED']} pruned, "
        f"{counts['FAIL']} failed"
    )
    print(f"best trial: #{best.number} ({best.user_attrs.get('worker', 'unknown worker')})")
    for name, value in best.params.items():
        print(f"  {name} = {value:.3g}")
    print(f"after {settings.max_epochs} epochs: validation accuracy {best.value:.4f}")
    objective = DigitsMLP(seed=settings.seed, n_train=settings.n_train, record_test=True)
    test = objective.run(best.params, settings.max_epochs).test_accuracy[-1]
    print(f"test accuracy of that model (look once, at the end): {test:.4f}")
    print("to resume or add trials (a larger --trials), run the same command again")
