"""``python -m refimpl search``: rerun any search of the tuning chapter, with a progress bar.

Examples
--------
The two rounds of random search on the page "Grid and random search"::

    python -m refimpl search --searcher coarse_to_fine --space scratch --trials 60 --max-epochs 20

Hyperband with the settings of the comparison (R = 27 epochs, η = 3), seed 2::

    python -m refimpl search --searcher hyperband --seed 2

TPE in a study that four processes of this machine share, until 40 trials have completed
(run the same command again to resume it; on other machines, give a PostgreSQL URL)::

    python -m refimpl search --searcher tpe --storage sqlite:///study.db --workers 4 --trials 40

`add_parser` registers the subcommand on an ``argparse`` sub-parser collection; `run` runs it.
"""

from __future__ import annotations

import argparse
import sys

from refimpl.search.compare import SEARCHERS, _n_trials, expected_epochs, run_searcher
from refimpl.search.objective import COMPARISON_SPACE, SCRATCH_SPACE, DigitsMLP
from refimpl.search.storage import StudyError

__all__ = ["SPACES", "add_parser", "run"]

SPACES = {"comparison": COMPARISON_SPACE, "scratch": SCRATCH_SPACE}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``search`` subcommand on ``subparsers`` and return its parser.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="python -m refimpl")
    >>> _ = add_parser(parser.add_subparsers())
    >>> args = parser.parse_args(["search", "--searcher", "hyperband", "--seed", "2"])
    >>> args.searcher, args.seed, args.max_epochs, args.eta
    ('hyperband', 2, 27, 3)
    """
    parser = subparsers.add_parser(
        "search",
        help="rerun a hyperparameter search of the tuning chapter",
        description="Search the learning rate and weight decay of a 6x100 MLP on the digits "
        "(500 training, 359 validation images) and print the best configuration.",
    )
    parser.add_argument("--searcher", choices=SEARCHERS, default="random")
    parser.add_argument(
        "--space",
        choices=sorted(SPACES),
        default="comparison",
        help="comparison: lr in 10^U(-4, 0), weight decay in 10^U(-6, -2); "
        "scratch: lr in 10^U(-6, -2), weight decay in 10^U(-8, -4)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the searcher and training")
    parser.add_argument(
        "--max-epochs", type=int, default=27, help="epochs per trial (Hyperband's R)"
    )
    parser.add_argument("--eta", type=int, default=3, help="keep the best 1/eta at each rung")
    parser.add_argument(
        "--budget", type=int, default=360, help="total epochs (sets the number of trials)"
    )
    parser.add_argument("--trials", type=int, help="configurations (per round for coarse_to_fine)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of coarse_to_fine")
    parser.add_argument(
        "--grid",
        type=int,
        nargs=2,
        default=(4, 3),
        metavar=("N_LR", "N_WD"),
        help="grid points for the learning rate and the weight decay",
    )
    parser.add_argument("--n-train", type=int, default=500, help="training images")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    shared = parser.add_argument_group(
        "shared study (random, tpe, hyperband)",
        "Keep the trials in a database that several processes fill together; --trials then "
        "counts completed trials, and running the same command again resumes the study.",
    )
    shared.add_argument(
        "--storage",
        metavar="URL",
        help="sqlite:///FILE (processes of one machine) or postgresql://USER@HOST/DB "
        "(several machines); default: in memory, seeded and reproducible",
    )
    shared.add_argument("--study", metavar="NAME", help="default: digits-SEARCHER-SPACE")
    shared.add_argument(
        "--workers", type=int, default=1, metavar="N", help="processes to start on this machine"
    )
    shared.add_argument(
        "--heartbeat", type=int, default=10, metavar="SECONDS", help="heartbeat interval"
    )
    shared.add_argument(
        "--grace",
        type=int,
        default=30,
        metavar="SECONDS",
        help="a running trial silent this long belongs to a dead worker: failed, then retried",
    )
    shared.add_argument("--worker-only", action="store_true", help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the search described by ``args``; print the best configuration and its scores.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="python -m refimpl")
    >>> _ = add_parser(parser.add_subparsers())
    >>> args = parser.parse_args(["search", "--searcher", "random", "--trials", "2",
    ...                           "--max-epochs", "1", "--quiet"])
    >>> run(args)  # doctest: +ELLIPSIS
    searcher: random   space: comparison   seed: 0
    configurations tried: 2   epochs trained: 2
    best configuration:
      lr = 0.16
      weight_decay = 0.0067
    after 1 epochs: validation accuracy ...
    test accuracy of that model (look once, at the end): ...
    0
    """
    try:
        settings = shared_settings(args)
    except StudyError as error:
        print(f"search: error: {error}", file=sys.stderr)
        return 2
    if settings is not None:
        from refimpl.search.parallel import run_shared

        return run_shared(settings, args.workers, quiet=args.quiet, worker_only=args.worker_only)
    return _run_in_memory(args)


def shared_settings(args: argparse.Namespace):
    """The `StudySettings` of a search with ``--storage``; None without it.

    Raises
    ------
    StudyError
        ``--workers`` below 1, several workers without a database, a searcher that cannot
        share a study, or ``--study`` without ``--storage``.
    """
    from refimpl.search.workers import SHARED_SEARCHERS, StudySettings

    if args.workers < 1:
        raise StudyError(f"--workers must be at least 1, got {args.workers}")
    if args.trials is not None and args.trials < 1:
        raise StudyError(f"--trials must be at least 1, got {args.trials}")
    if args.storage is None:
        if args.workers > 1:
            raise StudyError(
                f"--workers {args.workers} needs --storage: processes share the study through "
                "a database (e.g. --storage sqlite:///study.db)"
            )
        if args.study is not None:
            raise StudyError("--study needs --storage (without it the study lives in memory)")
        return None
    if args.searcher not in SHARED_SEARCHERS:
        raise StudyError(
            f"--storage works with --searcher {', '.join(SHARED_SEARCHERS)}, not {args.searcher}"
        )
    return StudySettings(
        storage=args.storage,
        study=args.study or f"digits-{args.searcher}-{args.space}",
        searcher=args.searcher,
        space=args.space,
        trials=_n_trials(args.trials, args.max_epochs, args.budget),
        max_epochs=args.max_epochs,
        eta=args.eta,
        seed=args.seed,
        n_train=args.n_train,
        heartbeat=args.heartbeat,
        grace=args.grace,
    )


def _run_in_memory(args: argparse.Namespace) -> int:
    """The search without a database: in memory, seeded, reproducible."""
    from tqdm import tqdm

    settings = {
        "max_budget": args.max_epochs,
        "eta": args.eta,
        "epoch_budget": args.budget,
        "trials": args.trials,
        "grid": tuple(args.grid),
        "rounds": args.rounds,
    }
    objective = DigitsMLP(seed=args.seed, n_train=args.n_train, record_test=True)
    total = expected_epochs(args.searcher, **settings)
    best = 0.0
    with tqdm(
        total=total, unit="epoch", desc=args.searcher, file=sys.stderr, disable=args.quiet
    ) as bar:

        def advance(evaluation) -> None:
            nonlocal best
            best = max(best, evaluation.score)
            bar.update(evaluation.epochs_spent - bar.n)
            bar.set_postfix(best=f"{best:.3f}")

        result = run_searcher(
            args.searcher, objective, SPACES[args.space], args.seed, callback=advance, **settings
        )
    pick = result.best()
    test_accuracy = objective.run(pick.config, pick.budget).test_accuracy[pick.budget - 1]
    print(f"searcher: {args.searcher}   space: {args.space}   seed: {args.seed}")
    print(f"configurations tried: {len(result.final())}   epochs trained: {result.epochs_spent}")
    print("best configuration:")
    for name, value in pick.config.items():
        print(f"  {name} = {value:.3g}")
    print(f"after {pick.budget} epochs: validation accuracy {pick.score:.4f}")
    print(f"test accuracy of that model (look once, at the end): {test_accuracy:.4f}")
    return 0
