"""Experiments of the tuning chapter (``docs/tuning/``): hyperparameter search on the digits.

Every function is pure, seeded and memoized with `refimpl.cache.cached`; each returns plain
data (numbers, lists and arrays) for the pages, the figures in `refimpl.figures.tuning` and the
tests in ``tests/refimpl/test_tuning_chapter.py``.

The searches use `refimpl.search.objective.DigitsMLP`: a 6×100 ReLU network trained with SGD
on 500 training images and scored on 359 validation images.
"""

from __future__ import annotations

import numpy as np

from refimpl.cache import cached
from refimpl.search import coarse_to_fine
from refimpl.search.compare import SEARCHERS, run_searcher
from refimpl.search.objective import COMPARISON_SPACE, SCRATCH_SPACE, DigitsMLP
from refimpl.search.space import Space
from refimpl.seeds import rng_for, shifted

__all__ = [
    "METHODS",
    "SEEDS",
    "best_of_k_bias",
    "best_within",
    "comparison",
    "decade_shares",
    "epochs_to_reach",
    "grid_vs_random",
    "hit_probability",
    "log_scale_samples",
    "peak",
    "per_epoch_anytime",
    "scratch_search",
    "searcher_run",
    "test_set_selection",
    "tpe_illustration",
    "two_rounds",
]

#: Seeds of the searcher comparison (each seeds both the searcher and the objective).
SEEDS = (0, 1, 2, 3, 4)
#: The searchers compared on the last two pages, in the order of the figures' legends.
METHODS = SEARCHERS[:5]


def _space_table(space: Space) -> dict[str, tuple[str, float, float]]:
    return {name: (type(dim).__name__, dim.low, dim.high) for name, dim in space.items()}


# -- why a validation set ---------------------------------------------------------------------


@cached
def best_of_k_bias(
    true_accuracy: float = 0.9,
    val_sizes: tuple[int, ...] = (100, 359, 1000),
    max_k: int = 100,
    repeats: int = 4000,
    seed: int = 0,
) -> dict:
    r"""How far the best of $K$ validation scores lies above the truth, when all models are equal.

    $K$ models all have the true accuracy $p$; each one's validation accuracy on $n$ images is
    $\hat p_k = B_k / n$ with $B_k \sim \mathrm{Binomial}(n, p)$. The reported score is
    $\max_k \hat p_k$, so its error is pure luck.

    Returns
    -------
    dict
        ``k`` (1..max_k); for each ``n`` in ``val_sizes``: ``mean[n]``, ``q10[n]``, ``q90[n]``,
        arrays of shape (max_k,) of $\max_{j \le k} \hat p_j - p$ over ``repeats`` draws.
    """
    rng = rng_for(seed)
    result = {"k": np.arange(1, max_k + 1), "true_accuracy": true_accuracy, "val_sizes": val_sizes}
    for key in ("mean", "q10", "q90"):
        result[key] = {}
    for n in val_sizes:
        scores = rng.binomial(n, true_accuracy, size=(repeats, max_k)) / n
        # best of the first k models, minus the truth
        bias = np.maximum.accumulate(scores, axis=1) - true_accuracy
        result["mean"][n] = bias.mean(axis=0)
        result["q10"][n], result["q90"][n] = np.quantile(bias, [0.1, 0.9], axis=0)
    return result


@cached
def test_set_selection(seed: int = 0, n_splits: int = 1000) -> dict:
    """Choosing among the trials of `scratch_search` by the test score inflates that score.

    The test set (359 images) and the images no search uses (``DigitsMLP.X_fresh``, 579) form a
    pool of held-out images. Each of ``n_splits`` random splits cuts the pool in two halves: a
    "test" half and a "fresh" half standing in for future data. Picking the trial with the best
    test half and reporting that score overstates its accuracy on the fresh half; picking by
    the validation set (which the search used) and reporting the test half does not.

    Returns
    -------
    dict
        ``single``: the real split (pick by validation vs by test; their val, test and fresh
        accuracies); ``inflation_by_test`` and ``inflation_by_val``: arrays (n_splits,) of
        reported minus fresh accuracy.
    """
    trials = scratch_search(seed)["trials"]
    val = np.array([t["val_accuracy"] for t in trials])
    test = np.array([t["test_accuracy"] for t in trials])
    fresh = np.array([t["fresh_accuracy"] for t in trials])
    correct = np.array([t["pool_correct"] for t in trials])  # (trials, pool)
    pick_val, pick_test = int(np.argmax(val)), int(np.argmax(test))
    single = {
        "n_trials": len(trials),
        "n_test": int(trials[0]["n_test"]),
        "n_fresh": correct.shape[1] - int(trials[0]["n_test"]),
        "by_val": {"val": val[pick_val], "test": test[pick_val], "fresh": fresh[pick_val]},
        "by_test": {"val": val[pick_test], "test": test[pick_test], "fresh": fresh[pick_test]},
    }
    rng = rng_for(seed)
    half = correct.shape[1] // 2
    by_test, by_val = np.empty(n_splits), np.empty(n_splits)
    for s in range(n_splits):
        order = rng.permutation(correct.shape[1])
        acc_a, acc_b = correct[:, order[:half]].mean(axis=1), correct[:, order[half:]].mean(axis=1)
        j = int(np.argmax(acc_a))
        by_test[s] = acc_a[j] - acc_b[j]  # picked and reported on the same half
        by_val[s] = acc_a[pick_val] - acc_b[pick_val]  # picked on validation, reported on a
    return {"single": single, "inflation_by_test": by_test, "inflation_by_val": by_val}


# -- grid and random search -------------------------------------------------------------------


def peak(x: np.ndarray, centre: float, width: float = 0.05) -> np.ndarray:
    r"""The important parameter's effect: $g(x) = \exp(-(x - c)^2 / (2 w^2))$."""
    return np.exp(-((x - centre) ** 2) / (2 * width**2))


@cached
def grid_vs_random(
    points_per_dim: int = 3, repeats: int = 2000, width: float = 0.05, seed: int = 0
):
    r"""Grid versus random search on $f(x, y) = g(x)$, a peak in $x$ and nothing in $y$.

    Each repeat places the peak at $c \sim U(0, 1)$ and compares the best value found by the
    $3 \times 3$ grid (cell centres) with the best of 9 uniform random points.

    Returns
    -------
    dict
        ``centres`` (repeats,), ``grid_points`` (9, 2), ``random_points`` (repeats, 9, 2),
        ``grid_best`` and ``random_best`` (repeats,), ``grid_distinct_x`` and
        ``random_distinct_x`` (the fewest distinct values of $x$ tried in any repeat), and
        ``typical``, the repeat whose ``random_best - grid_best`` is the median.
    """
    rng = rng_for(seed)
    n = points_per_dim**2
    axis = (np.arange(points_per_dim) + 0.5) / points_per_dim
    grid_points = np.array([(x, y) for x in axis for y in axis])
    centres = rng.uniform(size=repeats)
    random_points = rng.uniform(size=(repeats, n, 2))
    grid_best = np.array([peak(grid_points[:, 0], c, width).max() for c in centres])
    random_best = np.array(
        [
            peak(points[:, 0], c, width).max()
            for points, c in zip(random_points, centres, strict=True)
        ]
    )
    return {
        "width": width,
        "centres": centres,
        "grid_points": grid_points,
        "random_points": random_points,
        "grid_best": grid_best,
        "random_best": random_best,
        "grid_distinct_x": len(np.unique(grid_points[:, 0])),
        "random_distinct_x": int(min(len(np.unique(p[:, 0])) for p in random_points)),
        # a typical draw for the figure: the repeat with the median advantage of random search
        "typical": int(np.argsort(random_best - grid_best, kind="stable")[repeats // 2]),
    }


@cached
def hit_probability(trials: tuple[int, ...] = (1, 5, 10, 20, 30, 60, 100), repeats=20000, seed=0):
    r"""Chance that at least one of $n$ random trials lands in the top 5%: $1 - 0.95^n$.

    Returns
    -------
    dict
        ``n``, ``formula`` and ``simulated`` (fraction of ``repeats`` in which one of $n$
        uniform draws exceeded the 0.95 quantile).
    """
    rng = rng_for(seed)
    n = np.array(trials)
    simulated = [np.mean((rng.uniform(size=(repeats, k)) > 0.95).any(axis=1)) for k in trials]
    return {"n": n, "formula": 1 - 0.95**n, "simulated": np.array(simulated)}


# -- a random search in the spirit of Deep Learning from Scratch ------------------------------


# --8<-- [start:two-rounds]
def two_rounds(seed=0, n_trials=(60, 60), epochs=20, top_k=5, margin=0.1):
    """Random search over the ranges of Deep Learning from Scratch, then a narrowed round."""
    # a 6×100 MLP on 500 training images; seeds shifted by REFIMPL_SEED_OFFSET (refimpl.seeds)
    objective = DigitsMLP(seed=shifted(seed), split_seed=shifted(0), record_train=True)
    result, spaces = coarse_to_fine(
        objective,
        SCRATCH_SPACE,  # lr: 10^U(-6, -2), weight decay: 10^U(-8, -4)
        rounds=len(n_trials),
        n_trials=n_trials,  # configurations per round
        budget=epochs,  # every configuration trains this many epochs
        # the same generator as `run_searcher("coarse_to_fine", ...)` and the CLI
        rng=rng_for(seed, SEARCHERS.index("coarse_to_fine")),
        top_k=top_k,  # round 2 spans the 5 best trials of round 1 ...
        margin=margin,  # ... plus 10% of the old range on each side
    )
    return objective, result, spaces


# --8<-- [end:two-rounds]


@cached
def scratch_search(
    seed: int = 0,
    n_trials: tuple[int, ...] = (60, 60),
    epochs: int = 20,
    top_k: int = 5,
    margin: float = 0.1,
) -> dict:
    """Two rounds of random search over the book's ranges: the first wide, the second narrowed.

    Round 1 draws lr from 10^U(-6, -2) and weight decay from 10^U(-8, -4) (`SCRATCH_SPACE`);
    round 2 draws from the ranges `refimpl.search.narrow` fits around the ``top_k`` best trials.

    Returns
    -------
    dict
        ``spaces``: each round's ranges; ``trials``: one dict per trial with its round, lr,
        weight_decay, per-epoch ``train_curve`` and ``val_curve``, final ``val_accuracy``,
        ``test_accuracy``, ``fresh_accuracy``, whether it ``diverged``, and ``pool_correct``
        (which held-out images, test then fresh, it classifies correctly).
    """
    objective, result, spaces = two_rounds(seed, n_trials, epochs, top_k, margin)
    X_pool = np.concatenate([objective.X_test, objective.X_fresh])
    y_pool = np.concatenate([objective.y_test, objective.y_fresh])
    trials = []
    for evaluation in result.final():
        run = objective.run(evaluation.config, epochs)
        correct = objective.logits(run, X_pool).argmax(axis=1) == y_pool
        n_test = len(objective.y_test)
        trials.append(
            {
                "round": evaluation.group,
                "lr": evaluation.config["lr"],
                "weight_decay": evaluation.config["weight_decay"],
                "train_curve": np.array(run.train_accuracy),
                "val_curve": np.array(run.val_accuracy),
                "val_accuracy": evaluation.score,
                "test_accuracy": float(correct[:n_test].mean()),
                "fresh_accuracy": float(correct[n_test:].mean()),
                "n_test": n_test,
                "diverged": run.diverged,
                "pool_correct": correct,
            }
        )
    return {"spaces": [_space_table(space) for space in spaces], "trials": trials}


# -- comparing searchers ----------------------------------------------------------------------


def per_epoch_anytime(evaluations, curves: dict) -> tuple[np.ndarray, np.ndarray]:
    """The anytime curve of a search, scored by one rule for every searcher: every epoch.

    The searchers look at scores at different moments: random and grid search after a full run,
    successive halving and Hyperband at the end of each rung, TPE after every epoch. But
    `DigitsMLP` measures the validation accuracy after every epoch it trains, so each epoch of
    each trial is credited in the order the search trained it.

    Parameters
    ----------
    evaluations : list of Evaluation
        In the order the search made them (``trial``, ``budget``); a trial evaluated again
        resumes from the epochs it had.
    curves : dict
        Trial number to its validation accuracy per epoch, shape (final budget,).

    Returns
    -------
    epochs : numpy.ndarray
        Shape (E,): 1, 2, ..., E, the epochs trained in all.
    best : numpy.ndarray
        Shape (E,): the best validation accuracy of any epoch trained up to then (NaN
        scores of a diverged run are skipped).

    Examples
    --------
    >>> from refimpl.search.trials import Evaluation
    >>> runs = [Evaluation(0, {}, 1, 0.5, 1), Evaluation(1, {}, 1, 0.4, 2),
    ...         Evaluation(1, {}, 3, 0.9, 4)]
    >>> epochs, best = per_epoch_anytime(runs, {0: np.array([0.5]), 1: np.array([0.4, 0.8, 0.7])})
    >>> epochs.tolist(), best.tolist()
    ([1, 2, 3, 4], [0.5, 0.5, 0.8, 0.8])
    """
    trained: dict[int, int] = {}
    scores: list[float] = []
    for evaluation in evaluations:
        start = trained.get(evaluation.trial, 0)
        # the epochs this evaluation trained: start + 1, ..., budget
        scores.extend(curves[evaluation.trial][start : evaluation.budget])
        trained[evaluation.trial] = evaluation.budget
    scores_array = np.array(scores, dtype=float)
    return np.arange(1, len(scores_array) + 1), np.fmax.accumulate(scores_array)


@cached
def searcher_run(
    method: str, seed: int, max_budget: int = 27, eta: int = 3, epoch_budget: int = 360
) -> dict:
    """One search of `COMPARISON_SPACE` with one method, within about ``epoch_budget`` epochs.

    - ``grid``: 4 learning rates × 3 weight decays, each trained for ``max_budget`` epochs;
    - ``random``: ``epoch_budget // max_budget`` random configurations, each trained in full;
    - ``successive_halving``: Hyperband's most aggressive bracket ($n = 27$ configurations
      from 1 epoch, for R = 27 and η = 3) repeated while it fits in the budget;
    - ``hyperband``: one Hyperband iteration (all brackets);
    - ``tpe``: Optuna's TPE sampler and median pruner, stopped once the budget is spent.

    Returns
    -------
    dict
        ``epochs`` and ``best``: the anytime curve by `per_epoch_anytime` (the best
        validation accuracy of any epoch trained so far, the same rule for every method),
        ``evaluations`` (trial, budget, score, epochs spent, group, lr, weight
        decay), ``curves`` (each trial's validation accuracy per epoch trained),
        ``pick`` (the best evaluation with its test accuracy) and ``n_configs``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    objective = DigitsMLP(seed=shifted(seed), split_seed=shifted(0), record_test=True)
    result = run_searcher(
        method,
        objective,
        COMPARISON_SPACE,
        shifted(seed),
        max_budget=max_budget,
        eta=eta,
        epoch_budget=epoch_budget,
    )
    pick = result.best()
    run = objective.run(pick.config, pick.budget)
    curves = {}
    for evaluation in result.final():
        curves[evaluation.trial] = np.array(
            objective.run(evaluation.config, evaluation.budget).val_accuracy[: evaluation.budget]
        )
    epochs, best = per_epoch_anytime(result.evaluations, curves)
    return {
        "method": method,
        "seed": seed,
        "epochs": epochs,
        "best": best,
        "evaluations": [
            {
                "trial": e.trial,
                "budget": e.budget,
                "score": e.score,
                "epochs_spent": e.epochs_spent,
                "group": e.group,
                "lr": e.config["lr"],
                "weight_decay": e.config["weight_decay"],
            }
            for e in result.evaluations
        ],
        "curves": curves,
        "pick": {
            "config": pick.config,
            "budget": pick.budget,
            "val": pick.score,
            "test": run.test_accuracy[pick.budget - 1],
        },
        "n_configs": len(curves),
        "epoch_budget": epoch_budget,
    }


def comparison(seeds: tuple[int, ...] = SEEDS, methods: tuple[str, ...] = METHODS) -> dict:
    """`searcher_run` for every method and seed: ``{method: [run per seed]}``."""
    return {method: [searcher_run(method, seed) for seed in seeds] for method in methods}


# -- sampling on a log scale ------------------------------------------------------------------


def log_scale_samples(n: int = 10_000, seed: int = 0) -> dict[str, np.ndarray]:
    """Samples of three ways to draw a learning rate "between 1e-4 and 1".

    Returns
    -------
    dict
        ``uniform``: ``rng.uniform(1e-4, 1)``; ``log_uniform``: ``10 ** rng.uniform(-4, 0)``;
        ``wrong``: ``10 ** rng.uniform(1e-4, 1)``, the endpoints put where the exponents belong.
        Each an array of shape (n,).
    """
    rng = rng_for(seed)
    return {
        "uniform": rng.uniform(1e-4, 1, n),
        "log_uniform": 10 ** rng.uniform(-4, 0, n),
        "wrong": 10 ** rng.uniform(1e-4, 1, n),
    }


def decade_shares(x: np.ndarray, low: int = -4, high: int = 1) -> np.ndarray:
    """Fraction of ``x`` in each decade [10^k, 10^(k+1)) for k = low, ..., high - 1."""
    edges = 10.0 ** np.arange(low, high + 1)
    counts, _ = np.histogram(x, bins=edges)
    return counts / len(x)


# -- the idea behind TPE ----------------------------------------------------------------------


def _gaussian_kde(points: np.ndarray, grid: np.ndarray) -> np.ndarray:
    # Scott's rule: h = σ n^(−1/5); p(x) = (1/n) Σ_j N(x; x_j, h²)
    h = max(points.std(ddof=1), 1e-3) * len(points) ** (-1 / 5)
    z = (grid[:, None] - points[None, :]) / h
    return np.exp(-0.5 * z**2).sum(axis=1) / (len(points) * h * np.sqrt(2 * np.pi))


def tpe_illustration(seed: int = 0, gamma: float = 0.1, n_grid: int = 400) -> dict:
    r"""TPE's two densities on the learning rates of the first round of `scratch_search`.

    The trials are split at the $\gamma$ quantile of their scores: the best
    $\lceil \gamma n \rceil$ are "good", the rest "bad". A Gaussian kernel density in
    $\log_{10}$ lr is fitted to each group, $\ell(x)$ to the good and $g(x)$ to the bad, and
    TPE proposes the $x$ that maximizes $\ell(x) / g(x)$. (Optuna's estimator adds a prior and
    its own bandwidths; the idea is the same.)

    Returns
    -------
    dict
        ``log_lr`` and ``score`` of the trials, ``good`` (bool mask), ``grid`` (log10 lr),
        ``l``, ``g``, ``ratio`` on the grid, and ``proposal`` (the grid point maximizing it).
    """
    trials = [t for t in scratch_search(seed)["trials"] if t["round"] == 0]
    log_lr = np.log10([t["lr"] for t in trials])
    score = np.array([t["val_accuracy"] for t in trials])
    n_good = int(np.ceil(gamma * len(trials)))
    good = np.zeros(len(trials), dtype=bool)
    good[np.argsort(-score, kind="stable")[:n_good]] = True
    grid = np.linspace(-6, -2, n_grid)
    l, g = _gaussian_kde(log_lr[good], grid), _gaussian_kde(log_lr[~good], grid)
    ratio = l / np.maximum(g, 1e-12)
    return {
        "log_lr": log_lr,
        "score": score,
        "good": good,
        "grid": grid,
        "l": l,
        "g": g,
        "ratio": ratio,
        "proposal": float(grid[np.argmax(ratio)]),
    }


# -- summaries of the comparison --------------------------------------------------------------


def best_within(run: dict, epochs: int) -> float:
    """Best validation accuracy a `searcher_run` had seen once ``epochs`` epochs were spent."""
    index = np.searchsorted(run["epochs"], epochs, side="right") - 1
    return float(run["best"][index]) if index >= 0 else float("nan")


def epochs_to_reach(run: dict, threshold: float) -> float:
    """Epochs a `searcher_run` spent before its best validation accuracy reached ``threshold``.

    Returns ``inf`` if it never did within its budget.
    """
    reached = np.flatnonzero(run["best"] >= threshold)
    if len(reached) == 0 or run["epochs"][reached[0]] > run["epoch_budget"]:
        return float("inf")
    return float(run["epochs"][reached[0]])
