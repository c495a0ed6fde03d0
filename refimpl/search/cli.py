"""``python -m refimpl search``: rerun any search of the tuning chapter, with a progress bar.

Examples
--------
The two rounds of random search on the page "Grid and random search"::

    python -m refimpl search --searcher coarse_to_fine --space scratch --trials 60 --max-epochs 20

Hyperband with the settings of the comparison (R = 27 epochs, η = 3), seed 2::

    python -m refimpl search --searcher hyperband --seed 2

`add_parser` registers the subcommand on an ``argparse`` sub-parser collection; `run` runs it.
"""

from __future__ import annotations

import argparse
import sys

from refimpl.search.compare import SEARCHERS, expected_epochs, run_searcher
from refimpl.search.objective import COMPARISON_SPACE, SCRATCH_SPACE, DigitsMLP

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
