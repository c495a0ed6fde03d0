"""Trials per minute of `python -m refimpl search --storage` with 1, 2 and 4 workers.

For each number of workers the script runs, in a fresh study::

    python -m refimpl search --searcher random --storage URL --workers N --trials T --quiet

and reports two rates: over the whole command (start-up of the processes included) and over
the trials themselves (from the first trial's start to the last trial's end, read from the
study). Random search without pruning makes every trial the same amount of work: ``--max-epochs``
epochs of the digits MLP on ``--n-train`` images.

    python scripts/search_throughput.py                      # SQLite in a temporary folder
    python scripts/search_throughput.py --workers 1 2 4 8 --trials 48
    python scripts/search_throughput.py --storage postgresql://optuna@db-host/optuna

With ``--storage`` the studies are named ``throughput-N-<time>`` in that database and kept.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(storage: str, study: str, workers: int, args: argparse.Namespace) -> float:
    """Run the search command once; its wall-clock time in seconds."""
    command = [
        sys.executable, "-m", "refimpl", "search", "--searcher", "random", "--quiet",
        "--storage", storage, "--study", study, "--workers", str(workers),
        "--trials", str(args.trials), "--max-epochs", str(args.max_epochs),
        "--n-train", str(args.n_train),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def trial_span(storage: str, study: str) -> tuple[int, float]:
    """(completed trials, seconds from the first trial's start to the last trial's end)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = optuna.load_study(study_name=study, storage=storage).get_trials(
        deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
    )
    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    return len(trials), (last - first).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--trials", type=int, default=24, help="completed trials per run")
    parser.add_argument("--max-epochs", type=int, default=27, help="epochs per trial")
    parser.add_argument("--n-train", type=int, default=500, help="training images")
    parser.add_argument("--storage", help="a database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    print(f"{os.cpu_count()} CPUs; {args.trials} trials of {args.max_epochs} epochs each")
    print("workers  completed  wall s  trials/min (wall)  trials/min (trials only)")
    with tempfile.TemporaryDirectory() as folder:
        for workers in args.workers:
            study = f"throughput-{workers}-{int(time.time())}"
            storage = args.storage or f"sqlite:///{Path(folder) / f'{workers}.db'}"
            wall = run(storage, study, workers, args)
            completed, span = trial_span(storage, study)
            print(
                f"{workers:7d}  {completed:9d}  {wall:6.1f}  {60 * completed / wall:17.1f}  "
                f"{60 * completed / span:24.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
