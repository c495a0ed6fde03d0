"""Every experiment seed comes from refimpl.seeds, and an experiment's numbers do not depend on
the BLAS thread count (issue: "Every claim holds on any machine")."""

from __future__ import annotations

import ast
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from refimpl import seeds
from refimpl.experiments import normalization, regularization, tuning
from refimpl.nn import Dropout, Linear

EXPERIMENTS = Path(regularization.__file__).parent


def test_offset_parses_and_rejects_bad_values(monkeypatch):
    monkeypatch.delenv("REFIMPL_SEED_OFFSET", raising=False)
    assert seeds.seed_offset() == 0 and seeds.shifted(4) == 4
    monkeypatch.setenv("REFIMPL_SEED_OFFSET", "1000")
    assert seeds.seed_offset() == 1000 and seeds.shifted(4) == 1004
    for bad in ("ten", "1.5", "-3"):
        monkeypatch.setenv("REFIMPL_SEED_OFFSET", bad)
        with pytest.raises(ValueError, match="REFIMPL_SEED_OFFSET"):
            seeds.seed_offset()


def test_streams_of_one_seed_are_independent_and_shift_together(monkeypatch):
    monkeypatch.delenv("REFIMPL_SEED_OFFSET", raising=False)
    weights, order = seeds.rng_for(7).uniform(size=5), seeds.rng_for(7, 1).uniform(size=5)
    assert not np.array_equal(weights, order)
    monkeypatch.setenv("REFIMPL_SEED_OFFSET", "3")
    assert np.array_equal(seeds.rng_for(4).uniform(size=5), weights)  # 4 + 3 = 7
    assert np.array_equal(seeds.rng_for(4, 1).uniform(size=5), order)


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.py")), ids=lambda p: p.name)
def test_experiments_take_every_seed_from_refimpl_seeds(path):
    """No generator or seeded call in an experiment module bypasses the offset.

    Allowed: ``rng_for(...)``; ``load_digits_splits(seed=shifted(...))``; ``DigitsMLP`` with
    ``seed=shifted(...)`` and ``split_seed=shifted(...)``; ``run_searcher(..., shifted(seed))``.
    """
    problems = []
    for call, name in _calls(ast.parse(path.read_text(encoding="utf-8"))):
        line = f"{path.name}:{call.lineno}: {ast.unparse(call)[:80]}"
        if (
            name.endswith(("default_rng", "RandomState", "SeedSequence"))
            or name == "np.random.seed"
        ):
            problems.append(f"{line} (use refimpl.seeds.rng_for)")
        seeded = {"load_digits_splits": ("seed",), "DigitsMLP": ("seed", "split_seed")}
        for keyword in seeded.get(name, ()):
            given = {k.arg: ast.unparse(k.value) for k in call.keywords}
            if not given.get(keyword, "").startswith("shifted("):
                problems.append(f"{line} ({keyword}= must be shifted(...))")
        if name == "run_searcher" and not ast.unparse(call.args[3]).startswith("shifted("):
            problems.append(f"{line} (the seed must be shifted(...))")
    assert not problems, "\n".join(problems)


def test_the_offset_changes_the_data_split_and_the_weights(monkeypatch):
    monkeypatch.delenv("REFIMPL_SEED_OFFSET", raising=False)
    split, model = regularization.digits(), regularization.build_model(0)
    monkeypatch.setenv("REFIMPL_SEED_OFFSET", "1000")
    other_split, other_model = regularization.digits(), regularization.build_model(0)
    assert not np.array_equal(split.y_val, other_split.y_val)
    assert not np.array_equal(model[0].weight.data, other_model[0].weight.data)


def test_the_cache_keeps_results_of_different_offsets_apart(monkeypatch, tmp_path):
    monkeypatch.setenv("REFIMPL_CACHE", str(tmp_path))
    monkeypatch.delenv("REFIMPL_SEED_OFFSET", raising=False)
    first = tuning.hit_probability(trials=(5,), repeats=200)["simulated"]
    monkeypatch.setenv("REFIMPL_SEED_OFFSET", "1")
    shifted = tuning.hit_probability(trials=(5,), repeats=200)["simulated"]
    monkeypatch.delenv("REFIMPL_SEED_OFFSET")
    again = tuning.hit_probability(trials=(5,), repeats=200)["simulated"]
    assert first != shifted and first == again


def test_an_experiment_gives_identical_numbers_under_one_and_two_blas_threads(
    monkeypatch, tmp_path
):
    """A search trains `DigitsMLP` (matrix products summed by BLAS); without the one-thread pin
    in `refimpl.cache.cached`, two threads round differently and the weights drift apart."""
    monkeypatch.delenv("REFIMPL_SEED_OFFSET", raising=False)
    results = {}
    for threads in (1, 2):
        monkeypatch.setenv("REFIMPL_CACHE", str(tmp_path / str(threads)))  # computed, not read
        with threadpool_limits(threads):
            results[threads] = tuning.searcher_run("random", 0, epoch_budget=54)
    one, two = results[1], results[2]
    assert np.array_equal(one["best"], two["best"])
    for trial, curve in one["curves"].items():
        assert np.array_equal(curve, two["curves"][trial])
    assert one["pick"] == two["pick"]


def test_models_that_differ_in_placement_start_from_the_same_weights():
    """Pages: "both models start from the same weights" (normalization chapter)."""
    sizes = (64, 100, 100, 100, 10)
    for weight_std in (None, "he", "xavier", 0.01):
        models = [
            normalization.build_mlp(sizes, "relu", norm, np.random.default_rng(0), weight_std)
            for norm in ("none", "before", "after", "noisy")
        ]
        weights = [
            [m.weight.data for m in model.layers if isinstance(m, Linear)] for model in models
        ]
        for other in weights[1:]:
            for a, b in zip(weights[0], other, strict=True):
                np.testing.assert_array_equal(a, b)


def test_mc_dropout_draws_an_independent_mask_in_every_layer():
    model = regularization.trained_dropout_model(0, 0.1)
    model.train()
    model(regularization.digits().X_test)
    masks = [layer._cache.mask for layer in model.modules() if isinstance(layer, Dropout)]
    assert len(masks) >= 2
    for a, b in pairwise(masks):
        assert a.shape == b.shape and not np.array_equal(a, b)
