"""refimpl.search: dimensions and samplers, the searchers, the digits objective and the CLI.

The searchers are tested on cheap synthetic objectives, so these tests run in seconds.
"""

from __future__ import annotations

import argparse
import math
from itertools import pairwise

import numpy as np
import pytest

from refimpl.search import (
    Choice,
    LogUniform,
    Recorder,
    Uniform,
    bracket_rungs,
    coarse_to_fine,
    grid_points,
    grid_search,
    hyperband,
    hyperband_brackets,
    narrow,
    random_search,
    sample_configs,
    successive_halving,
)
from refimpl.search.compare import SEARCHERS, expected_epochs, run_searcher
from refimpl.search.hyperband import bracket_epochs, max_bracket

# -- synthetic objectives ---------------------------------------------------------------------


def bowl(config, budget):
    """Score rises with the budget and peaks at lr = 1e-2; weight decay does not matter."""
    return (1 - 1 / (1 + budget)) * math.exp(-((math.log10(config["lr"]) + 2) ** 2))


SPACE = {"lr": LogUniform(1e-5, 1.0), "weight_decay": LogUniform(1e-6, 1e-2)}


# -- dimensions -------------------------------------------------------------------------------


def test_log_uniform_quantiles():
    x = LogUniform(1e-4, 1.0).sample(np.random.default_rng(0), 200_000)
    q = np.linspace(0.1, 0.9, 9)
    # P(x <= 10^(-4 + 4q)) = q
    np.testing.assert_allclose(np.quantile(np.log10(x), q), -4 + 4 * q, atol=0.02)
    assert x.min() >= 1e-4 and x.max() <= 1.0


def test_uniform_quantiles_and_grid():
    dim = Uniform(-1.0, 3.0)
    x = dim.sample(np.random.default_rng(1), 100_000)
    np.testing.assert_allclose(np.quantile(x, [0.25, 0.5, 0.75]), [0.0, 1.0, 2.0], atol=0.03)
    np.testing.assert_allclose(dim.grid(4), [-0.5, 0.5, 1.5, 2.5])
    np.testing.assert_allclose(
        LogUniform(1e-4, 1).grid(4), 10.0 ** np.array([-3.5, -2.5, -1.5, -0.5])
    )


@pytest.mark.parametrize("dim", [Uniform(-2.0, 5.0), LogUniform(1e-8, 1e-2)])
def test_unit_round_trip(dim):
    x = dim.sample(np.random.default_rng(2), 100)
    np.testing.assert_allclose(dim.from_unit(dim.to_unit(x)), x, rtol=1e-12)
    np.testing.assert_allclose(dim.to_unit([dim.low, dim.high]), [0.0, 1.0], atol=1e-12)


def test_dimensions_reject_bad_ranges():
    with pytest.raises(ValueError, match="low < high"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="low > 0"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="at least one"):
        Choice([])


def test_sample_configs_is_seeded_and_typed():
    space = {**SPACE, "batch": Choice([32, 64])}
    a = sample_configs(space, 5, np.random.default_rng(3))
    b = sample_configs(space, 5, np.random.default_rng(3))
    assert a == b
    assert all(type(c["lr"]) is float and c["batch"] in (32, 64) for c in a)


def test_grid_points_is_the_product():
    configs = grid_points(SPACE, {"lr": 4, "weight_decay": 3})
    assert len(configs) == 12
    assert len({c["lr"] for c in configs}) == 4 and len({c["weight_decay"] for c in configs}) == 3
    assert configs[0]["lr"] == configs[2]["lr"]  # the last dimension varies fastest


# -- recording --------------------------------------------------------------------------------


def test_recorder_counts_resumed_epochs_once():
    recorder = Recorder(bowl)
    config = {"lr": 1e-2, "weight_decay": 0.0}
    recorder.evaluate(0, config, 3)
    recorder.evaluate(0, config, 9)  # resumes: 6 more
    recorder.evaluate(1, config, 2)
    assert recorder.spent == 11
    assert [e.epochs_spent for e in recorder.result.evaluations] == [3, 9, 11]
    with pytest.raises(ValueError, match="cannot go back"):
        recorder.evaluate(0, config, 5)


def test_anytime_is_the_running_best():
    result = random_search(bowl, SPACE, 10, 5, np.random.default_rng(4))
    epochs, best = result.anytime()
    np.testing.assert_array_equal(epochs, 5 * np.arange(1, 11))
    assert np.all(np.diff(best) >= 0)
    assert best[-1] == result.best().score
    assert np.isnan(result.best_at([4])[0]) and result.best_at([50])[0] == best[-1]


def test_grid_search_tries_every_point_in_full():
    result = grid_search(bowl, SPACE, {"lr": 4, "weight_decay": 2}, budget=5)
    assert len(result.evaluations) == 8 and result.epochs_spent == 40
    # centres of 4 cells of [-5, 0] in log10: -4.375, -3.125, -1.875, -0.625; -1.875 is nearest -2
    assert result.best().config["lr"] == pytest.approx(10**-1.875)


# -- coarse to fine ---------------------------------------------------------------------------


def test_narrow_spans_the_best_trials_plus_margin():
    result = random_search(bowl, SPACE, 40, 3, np.random.default_rng(5))
    narrowed = narrow(SPACE, result, top_k=5, margin=0.1)
    best = sorted(result.final(), key=lambda e: -e.score)[:5]
    for name, dim in SPACE.items():
        u = dim.to_unit([e.config[name] for e in best])
        assert narrowed[name].low == pytest.approx(dim.from_unit(u.min() - 0.1))
        assert narrowed[name].high == pytest.approx(dim.from_unit(u.max() + 0.1))
        assert isinstance(narrowed[name], LogUniform)
    # the learning rate matters, so its range shrinks around 1e-2
    assert narrowed["lr"].low < 1e-2 < narrowed["lr"].high
    assert narrowed["lr"].to_unit(1e-2) == pytest.approx(0.5, abs=0.3)
    assert np.log10(narrowed["lr"].high / narrowed["lr"].low) < 0.6 * 5


def test_narrow_looks_past_an_edge_and_keeps_chosen_categories():
    space = {"lr": LogUniform(1e-6, 1e-4), "kind": Choice(["a", "b", "c"])}

    def objective(config, budget):
        return math.log10(config["lr"]) + (config["kind"] == "b")

    result = random_search(objective, space, 60, 1, np.random.default_rng(6))
    narrowed = narrow(space, result, top_k=3, margin=0.1)
    top = max(e.config["lr"] for e in result.evaluations if e.config["kind"] == "b")
    assert space["lr"].to_unit(top) > 0.9
    assert narrowed["lr"].high > 1e-4  # the best sit at the upper edge: look beyond it
    assert narrowed["kind"].values == ("b",)


def test_coarse_to_fine_improves_the_median():
    result, spaces = coarse_to_fine(bowl, SPACE, 3, 20, 3, np.random.default_rng(7), top_k=4)
    assert len(spaces) == 3 and {e.group for e in result.evaluations} == {0, 1, 2}
    medians = [np.median([e.score for e in result.evaluations if e.group == g]) for g in range(3)]
    assert medians[2] > medians[1] > medians[0]


# -- successive halving and Hyperband ---------------------------------------------------------


def test_hyperband_bracket_table_for_81_and_3():
    table = {s: [(r.n, r.budget) for r in rungs] for s, rungs in hyperband_brackets(81, 3).items()}
    # Li et al. (2018), Table 1
    assert table == {
        4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        3: [(34, 3), (11, 9), (3, 27), (1, 81)],
        2: [(15, 9), (5, 27), (1, 81)],
        1: [(8, 27), (2, 81)],
        0: [(5, 81)],
    }
    assert list(table) == [4, 3, 2, 1, 0]


@pytest.mark.parametrize(
    ("R", "eta", "s_max"),
    [(81, 3, 4), (27, 3, 3), (243, 3, 5), (100, 3, 4), (1, 3, 0), (64, 4, 3), (63, 4, 2)],
)
def test_max_bracket_is_exact(R, eta, s_max):
    assert max_bracket(R, eta) == s_max


def test_bracket_epochs_with_resumed_trials():
    rungs = bracket_rungs(27, 1, 3, 3)  # (27, 1), (9, 3), (3, 9), (1, 27)
    assert bracket_epochs(rungs) == 27 * 1 + 9 * 2 + 3 * 6 + 1 * 18


def test_successive_halving_keeps_the_top_third_at_each_rung():
    # the best x moves with the budget, so each rung's ranking differs from the last one's
    def moving(config, budget):
        return -((config["x"] - budget / 27) ** 2)

    configs = [{"x": float(x)} for x in np.random.default_rng(8).uniform(size=27)]
    result = successive_halving(moving, configs, min_budget=1, eta=3)
    rungs = sorted({e.budget for e in result.evaluations})
    assert rungs == [1, 3, 9, 27]
    survivors = {e.trial for e in result.evaluations if e.budget == 1}
    assert len(survivors) == 27
    for budget, following in pairwise(rungs):
        at_rung = [e for e in result.evaluations if e.budget == budget]
        top = sorted(at_rung, key=lambda e: -e.score)[: len(at_rung) // 3]
        promoted = {e.trial for e in result.evaluations if e.budget == following}
        assert promoted == {e.trial for e in top}
    assert result.epochs_spent == bracket_epochs(bracket_rungs(27, 1, 3, 3))


def test_hyperband_runs_every_bracket():
    result = hyperband(bowl, SPACE, 27, 3, np.random.default_rng(9))
    table = hyperband_brackets(27, 3)
    for s, rungs in table.items():
        evaluations = [e for e in result.evaluations if e.group == s]
        assert [sum(e.budget == r.budget for e in evaluations) for r in rungs] == [
            r.n for r in rungs
        ]
    assert result.epochs_spent == sum(bracket_epochs(r) for r in table.values())


# -- TPE through Optuna -----------------------------------------------------------------------


def test_tpe_search_is_deterministic_and_respects_the_budget():
    from refimpl.search.bayesian import tpe_search

    first = tpe_search(bowl, SPACE, max_budget=9, epoch_budget=120, seed=0)
    second = tpe_search(bowl, SPACE, max_budget=9, epoch_budget=120, seed=0)
    assert [(e.trial, e.config, e.budget) for e in first.evaluations] == [
        (e.trial, e.config, e.budget) for e in second.evaluations
    ]
    assert 120 <= first.epochs_spent < 120 + 9
    # the median pruner stopped some trials before 9 epochs
    assert min(e.budget for e in first.final()) < 9
    # and the search found the peak region (lr near 1e-2) better than its first trial
    assert abs(math.log10(first.best().config["lr"]) + 2) < 0.5


# -- run_searcher and the CLI -----------------------------------------------------------------


@pytest.mark.parametrize("name", [s for s in SEARCHERS if s != "tpe"])
def test_expected_epochs_matches_the_search(name):
    settings = {"max_budget": 9, "eta": 3, "epoch_budget": 60, "trials": None, "grid": (3, 2)}
    result = run_searcher(name, bowl, SPACE, 0, **settings)
    assert result.epochs_spent == expected_epochs(name, **settings)


@pytest.fixture(scope="module")
def search_parser():
    from refimpl.search import cli

    parser = argparse.ArgumentParser(prog="refimpl")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser


@pytest.mark.parametrize("name", SEARCHERS)
def test_cli_runs_every_searcher_on_a_tiny_budget(name, search_parser, capsys):
    from refimpl.search import cli

    args = search_parser.parse_args(
        [
            "search",
            "--searcher",
            name,
            "--max-epochs",
            "3",
            "--budget",
            "12",
            "--trials",
            "3",
            "--grid",
            "2",
            "2",
            "--n-train",
            "100",
            "--seed",
            "1",
            "--quiet",
        ]
    )
    assert cli.run(args) == 0
    out = capsys.readouterr().out
    assert f"searcher: {name}" in out
    assert "best configuration:" in out and "lr = " in out and "weight_decay = " in out
    accuracy = float(out.split("validation accuracy ")[1].split()[0])
    assert 0.0 <= accuracy <= 1.0


def test_cli_progress_bar_goes_to_stderr(search_parser, capsys):
    from refimpl.search import cli

    args = search_parser.parse_args(
        ["search", "--searcher", "random", "--max-epochs", "2", "--trials", "2", "--n-train", "100"]
    )
    cli.run(args)
    captured = capsys.readouterr()
    assert "epoch" in captured.err and "4/4" in captured.err


# -- the digits objective ---------------------------------------------------------------------


def test_objective_matches_the_library_modules():
    """The fused training loop computes what refimpl.nn + refimpl.optim compute."""
    from refimpl.nn import CrossEntropyLoss
    from refimpl.nn.init import init_weights
    from refimpl.optim import SGD, split_decay_groups
    from refimpl.search.objective import DigitsMLP
    from refimpl.train import iterate_minibatches, mlp

    objective = DigitsMLP(hidden=(32, 32, 32), n_train=200, batch_size=50, dtype=np.float64)
    config = {"lr": 0.05, "weight_decay": 1e-3}
    run = objective.run(config, 3)

    init_seed, order_seed = objective.config_seed(config).spawn(2)
    model = mlp(objective.sizes, rng=np.random.default_rng(99))
    init_weights(model, "he_normal", np.random.default_rng(init_seed))
    optimizer = SGD(split_decay_groups(model, config["weight_decay"]), lr=config["lr"])
    loss_fn, order = CrossEntropyLoss(), np.random.default_rng(order_seed)
    X, y = objective.X_train, objective.y_train
    accuracies = []
    for _ in range(3):
        for batch in iterate_minibatches(len(X), 50, order):
            loss_fn.forward(model(X[batch]), y[batch])
            optimizer.zero_grad()
            model.backward(loss_fn.backward())
            optimizer.step()
        logits = model(objective.X_val)
        accuracies.append(float(np.mean(logits.argmax(axis=1) == objective.y_val)))

    linears = [m for m in model.modules() if type(m).__name__ == "Linear"]
    for W, b, layer in zip(run.weights, run.biases, linears, strict=True):
        np.testing.assert_allclose(W, layer.weight.data.T, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, layer.bias.data, rtol=1e-9, atol=1e-12)
    assert run.val_accuracy == accuracies


def test_objective_resumes_a_run():
    from refimpl.search.objective import DigitsMLP

    config = {"lr": 0.1, "weight_decay": 1e-4}
    stepwise = DigitsMLP(hidden=(32, 32), n_train=200, seed=3)
    scores = [stepwise(config, b) for b in (1, 3, 6)]
    at_once = DigitsMLP(hidden=(32, 32), n_train=200, seed=3)
    curve = at_once.run(config, 6).val_accuracy
    assert scores == [curve[0], curve[2], curve[5]]
    assert stepwise.epochs_trained == at_once.epochs_trained == 6
    # another seed trains differently
    other = DigitsMLP(hidden=(32, 32), n_train=200, seed=4).run(config, 6).val_accuracy
    assert other != curve


def test_objective_stops_training_a_diverged_run():
    from refimpl.search.objective import DigitsMLP

    objective = DigitsMLP(hidden=(32, 32), n_train=200)
    run = objective.run({"lr": 1e30, "weight_decay": 0.0}, 4)  # the weights overflow
    assert run.diverged
    assert objective.epochs_trained == 1  # nothing is trained after the overflow
    assert len(run.val_accuracy) == 4


def test_objective_rejects_unknown_hyperparameters():
    from refimpl.search.objective import DigitsMLP

    with pytest.raises(ValueError, match="config needs 'lr'"):
        DigitsMLP(hidden=(8,), n_train=50)({"lr": 0.1, "momentum": 0.9}, 1)
