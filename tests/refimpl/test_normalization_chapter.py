"""The claims of the chapter "Normalization and batch normalization", asserted on its experiments.

Every sentence a page of docs/normalization/ states about a figure or a printed result has a test
here, so that a change that breaks the claim breaks the build, not only the picture. Thresholds
hold with a margin on the current results but fail if the claim is false.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler as SklearnStandardScaler

from refimpl.data import StandardScaler, load_digits_splits
from refimpl.experiments import normalization as experiments
from refimpl.figures import FIGURES
from refimpl.figures import normalization as figures
from refimpl.functional import batch_norm_backward, batch_norm_forward
from refimpl.gradcheck import check_function_gradients
from refimpl.nn import BatchNorm1d, BatchNorm2d, CrossEntropyLoss, Linear, Sequential

from ..pages import page_block_output

# -- page "input" -------------------------------------------------------------------------------


def test_our_standardization_equals_scikit_learn_on_digits():
    raw = load_digits_splits(seed=0, scale=None)
    ours = StandardScaler().fit(raw.X_train)
    theirs = SklearnStandardScaler().fit(raw.X_train)
    np.testing.assert_array_equal(ours.mean_, theirs.mean_)
    np.testing.assert_array_equal(ours.scale_, theirs.scale_)
    np.testing.assert_array_equal(ours.transform(raw.X_val), theirs.transform(raw.X_val))
    # constant pixels are only centred
    assert (ours.scale_[ours.var_ == 0] == 1.0).all() and (ours.var_ == 0).any()


def test_standardizing_blows_up_a_nearly_constant_pixel_on_validation_data():
    splits = load_digits_splits(seed=0, scale="standardize")
    assert splits.X_val.max() > 10  # "values can jump far out"
    assert np.abs(splits.X_val.mean(axis=0)).max() < 0.3  # "means gather near 0"


def test_gradient_descent_needs_far_fewer_steps_after_standardizing_and_whitening():
    result = experiments.gradient_descent_paths()
    raw, standardized, whitened = (result[k] for k in ("raw", "standardized", "whitened"))
    # "cuts the number of steps to below a hundredth", "whitening needs a single step"
    assert raw["steps"] > 100 * standardized["steps"]
    # the figure's caption: "thousands of steps" against "about ten"
    assert raw["steps"] >= 1000 and 5 <= standardized["steps"] <= 20
    assert whitened["steps"] == 1
    assert raw["condition_number"] > 100 * standardized["condition_number"]
    assert whitened["condition_number"] == pytest.approx(1.0)
    # every run reached the same excess loss; the raw one stops short of the minimum
    for run in (raw, standardized, whitened):
        assert run["gaps"][-1] <= 1e-3 < run["gaps"][0]
    assert np.linalg.norm(raw["path"][-1] - raw["w_star"]) > 0.05


def test_whitening_digits_and_the_rank_of_a_small_batch():
    X = load_digits_splits(seed=0, scale="standardize").X_train
    n, d = X.shape
    eigenvalues, U = np.linalg.eigh(X.T @ X / n)
    keep = eigenvalues > 1e-10
    Z = X @ U[:, keep] / np.sqrt(eigenvalues[keep])
    np.testing.assert_allclose(Z.T @ Z / n, np.eye(keep.sum()), atol=1e-10)
    batch = X[:32] - X[:32].mean(axis=0)
    assert np.linalg.matrix_rank(batch.T @ batch / 32) < 32 < d


def test_normalizing_outside_the_gradient_lets_the_bias_grow_without_changing_the_loss():
    """Page "input", Ioffe & Szegedy's example: b grows without bound, the loss stays put."""
    output = page_block_output("normalization/input.en.md", "grad_b_ignoring_mean")
    rows = re.findall(r"step +(\d+): b = +([-\d.]+), loss = ([\d.]+)", output)
    steps, b, loss = (np.array([float(row[k]) for row in rows]) for k in range(3))
    assert list(steps) == [1, 10, 100, 300]
    assert np.all(np.diff(b) > 0) and b[-1] > 100
    assert np.ptp(loss) == 0.0  # printed to four decimals: not one digit moves


def test_whitening_costs_over_a_hundred_thousand_times_more_at_width_4096():
    """Page "input": the ratio the page prints for 4096 features exceeds 100,000."""
    output = page_block_output("normalization/input.en.md", "whiten = ")
    ratios = dict(
        re.findall(r"(\d+) features: whitening / standardization .* ≈ ([\d,]+) times", output)
    )
    assert set(ratios) == {"64", "512", "4096"}
    assert int(ratios["4096"].replace(",", "")) > 100_000
    assert int(ratios["64"].replace(",", "")) < 100  # small widths: a modest factor


# -- page "covariate-shift" ---------------------------------------------------------------------


def test_covariate_shift_example_has_a_much_larger_test_error():
    """Page "covariate-shift": the line fitted on training data errs far more on test data."""
    output = page_block_output("normalization/covariate-shift.en.md", "polyfit")
    mse = dict(re.findall(r"(\w+) data: mean input [-\d.]+, mean squared error ([\d.]+)", output))
    assert float(mse["test"]) > 5 * float(mse["training"])


def test_two_layer_example_second_layer_input_spreads_as_the_first_layer_learns():
    """Page "covariate-shift": the second layer's input spreads out as the first layer learns."""
    output = page_block_output("normalization/covariate-shift.en.md", "Sigmoid()")
    rows = dict(re.findall(r"^ *(\d+): (.*)$", output, re.M))
    assert set(rows) == {"0", "10", "30", "70"}
    std = {
        step: np.array([float(s) for s in re.findall(r"± ([\d.]+)", units)])
        for step, units in rows.items()
    }
    assert (std["70"] > 1.5 * std["0"]).all()


def test_hidden_percentiles_drift_without_bn_and_stay_put_with_bn():
    result = experiments.preactivation_percentiles()
    none, bn = result["none"]["drift"], result["before"]["drift"]
    assert np.median(none) > 5 * np.median(bn)
    assert none[0] > 3 * bn[0]  # the unit drawn in the figure
    assert np.median(bn) < 0.5


def test_noisy_bn_moves_distributions_a_lot_yet_trains_close_to_bn():
    """Page "covariate-shift", noisy BN: the distributions move over a hundred times as much
    (every seed); the mean loss lies between BN's and no BN's; and the sentence the page prints:
    the last-epoch training accuracy, averaged over the seeds, is almost BN's and higher than
    without BN. (Per seed, the margin over no BN can fall below 0.05 for one seed.)"""
    result = experiments.noisy_batchnorm()
    motion = {k: result[k]["motion"] for k in ("none", "before", "noisy")}
    # "more than a hundred times as much as the other two", for every seed
    assert (motion["noisy"] > 100 * motion["before"]).all()
    assert (motion["noisy"] > 100 * motion["none"]).all()
    train = {k: result[k]["train_accuracy"][:, -1] for k in motion}
    # printed: "almost the same as plain BN's (… against …) and … higher than without BN's"
    assert abs(train["noisy"].mean() - train["before"].mean()) < 0.02
    assert train["noisy"].mean() > train["none"].mean() + 0.05
    loss = {k: result[k]["batch_loss"].mean(axis=0) for k in motion}
    # "only a little slower than plain BN": mean loss over training between BN and no BN
    assert loss["before"].mean() < loss["noisy"].mean() < 0.5 * loss["none"].mean()


def test_smoothness_depends_on_the_initialization():
    result = experiments.loss_smoothness()
    he, default = result["he"], result["default"]
    for seed in range(he["none"]["beta_smoothness"].shape[0]):

        def median(entry, key, seed=seed):
            return np.median(entry[key][seed])

        # He: BN is smoother (smaller Δg and β_eff) for every seed
        assert median(he["before"], "beta_smoothness") < 0.75 * median(
            he["none"], "beta_smoothness"
        )
        assert median(he["before"], "gradient_change") < 0.75 * median(
            he["none"], "gradient_change"
        )
        # default (smaller weights): the opposite
        assert median(default["before"], "beta_smoothness") > 2 * median(
            default["none"], "beta_smoothness"
        )
        # ΔL: the page prints for how many seeds it is larger with BN (it is not one-sided)


# -- page "initialization" ----------------------------------------------------------------------


def test_sigmoid_activation_histograms():
    result = experiments.activation_histograms()["sigmoid"]
    none, bn = result["none"], result["before"]
    assert (none["1.0"]["saturated"] > 0.3).all()  # piles up at 0 and 1
    assert (none["0.01"]["std"] < 0.03).all()  # one point near 0.5
    assert np.abs(none["0.01"]["mean"] - 0.5).max() < 0.02
    for scheme in ("xavier", "he"):
        assert none[scheme]["std"][-1] < 0.8 * none[scheme]["std"][0]  # narrower deeper
        assert (none[scheme]["saturated"] < 0.05).all()
    stds = np.array([bn[s]["std"] for s in bn])
    assert np.ptp(stds, axis=0).max() < 0.01  # the same with BN, in every layer
    counts = np.array([bn[s]["counts"] for s in bn])
    assert np.abs(counts - counts[2]).max() < 0.01


def test_relu_activation_histograms():
    result = experiments.activation_histograms()["relu"]
    none, bn = result["none"], result["before"]

    def ratio(entry):
        return entry["std"][-1] / entry["std"][0]

    assert ratio(none["1.0"]) > 1000
    assert ratio(none["0.01"]) < 1e-3
    assert 0.1 < ratio(none["xavier"]) < 0.5
    assert 0.7 < ratio(none["he"]) < 1.3
    stds = np.array([bn[s]["std"] for s in bn])
    assert np.ptp(stds, axis=0).max() < 0.01
    assert all(0.8 < ratio(bn[s]) < 1.25 for s in bn)
    zeros = np.array([none[s]["zero"] for s in none] + [bn[s]["zero"] for s in bn])
    assert ((zeros > 0.4) & (zeros < 0.6)).all()  # "about half the outputs are 0"


def test_weight_scale_grid():
    """Page "initialization", the 16-scale grid (one seed, as the page says) and its caption:
    without BN only a narrow range learns; with BN most scales learn, the largest are slow and
    the smallest fails."""
    result = experiments.weight_scale_grid()
    scales = result["scales"]
    none, bn = result["none"], result["before"]
    final_none = np.where(none["diverged"], 0.0, none["train_accuracy"][:, -1])
    final_bn = bn["train_accuracy"][:, -1]
    assert len(scales) == 16 and scales[0] == 1.0 and scales[-1] == pytest.approx(1e-4)
    # without BN: only a narrow range learns; the large scales blow up ("training diverges, with
    # some seeds the network instead dies and stays at chance": std 1 does so at offsets 6000
    # and 7000), small ones stay at chance
    assert (final_none[:2] < 0.2).all() and none["diverged"][:2].any()
    assert (final_none > 0.8).sum() <= 3
    # the figure's caption: "without BN only std 0.29 and 0.16 learn"
    learned = [round(float(s), 2) for s in scales[final_none > 0.5]]
    assert learned == [0.29, 0.16], learned
    # the caption: "0.086 barely learns and smaller ones stay near 0.1"
    assert (final_none[(scales < 0.1) & (scales > 0.05)] < 0.5).all()
    assert (final_none[scales < 0.05] < 0.2).all()
    # with BN: higher at most scales, never diverges
    assert not bn["diverged"].any()
    assert ((final_bn > final_none) | none["diverged"]).sum() >= 12
    # "with batch normalization, most scales learn": more than half of the scales pass 0.8, the
    # bar that at most 3 scales pass without BN. (The page shows one seed and says the edges of
    # the range that learns move with the seed: where BN stops reaching 0.9 at the small end,
    # around std 0.001, does.)
    assert (final_bn > 0.8).sum() > len(scales) / 2
    # the limits: slow at the largest scale, fails at the smallest
    assert final_bn[0] < 0.8 < final_bn[scales < 0.1].max()
    assert final_bn[-1] < 0.2


def test_bn_gradient_is_inversely_proportional_to_the_weight_scale():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((32, 20)), rng.integers(0, 5, 32)
    measured = {}
    for a in (1.0, 10.0):
        layer = Linear(20, 5, bias=False, rng=np.random.default_rng(1))
        layer.weight.data *= a
        model = Sequential(layer, BatchNorm1d(5))
        loss_fn = CrossEntropyLoss()
        loss = loss_fn(model(x), labels)
        model.zero_grad()
        model.backward(loss_fn.backward())
        measured[a] = (loss, np.linalg.norm(layer.weight.grad))
    assert measured[10.0][0] == pytest.approx(measured[1.0][0], abs=1e-4)
    assert measured[10.0][1] == pytest.approx(measured[1.0][1] / 10, rel=1e-3)


def test_eps_explains_part_of_the_failure_at_the_smallest_scale():
    result = experiments.smallest_scale_eps()
    default, tiny = result["layer_std"]
    assert result["eps"][0] == 1e-5
    assert default[-1] < 0.01 < 0.5 < tiny.min()
    accuracy = result["train_accuracy"][:, -1]
    assert accuracy[1] > accuracy[0] + 0.3  # gets off chance level
    grid = experiments.weight_scale_grid()
    assert accuracy[1] < grid["before"]["train_accuracy"][:, -1].max() - 0.1  # not the whole story


def test_learning_rate_sweep():
    result = experiments.learning_rate_sweep()
    rates = result["learning_rates"]
    none = np.median(result["none"]["val_accuracy"], axis=0)
    bn = np.median(result["before"]["val_accuracy"], axis=0)
    # a wider range of good learning rates with BN
    assert (bn >= 0.9).sum() >= (none >= 0.9).sum() + 2
    # much faster at small learning rates
    assert (bn[rates <= 0.01] > none[rates <= 0.01] + 0.1).all()
    # learns where the model without BN diverges
    diverging = result["none"]["diverged"].any(axis=0)
    assert diverging.any() and (bn[diverging & (rates < 5)] > 0.9).all()
    # fails too at the largest learning rate
    assert bn[-1] < 0.5
    assert (bn >= none).all()


# -- page "algorithm" ---------------------------------------------------------------------------


def test_four_steps_and_the_visible_effect_of_eps_on_a_tiny_variance():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[5.0, -3.0, 0.0], scale=[2.0, 0.1, 10.0], size=(16, 3))
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    y = (x - mu) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(y, batch_norm_forward(x, np.ones(3), np.zeros(3))[0], atol=1e-15)
    variance = y.var(axis=0)
    assert variance[1] < 0.999 and (variance[[0, 2]] > 0.9999).all()


def test_identity_recovery():
    rng = np.random.default_rng(1)
    x = rng.normal(loc=[5.0, -3.0, 0.0], scale=[2.0, 0.1, 10.0], size=(16, 3))
    _, cache = batch_norm_forward(x, np.ones(3), np.zeros(3), eps=1e-5)
    y, _ = batch_norm_forward(x, np.sqrt(cache.var + 1e-5), cache.mean, eps=1e-5)
    np.testing.assert_allclose(y, x, atol=1e-12)


def test_eps_avoids_nan_for_constant_pixels():
    X = load_digits_splits(seed=0).X_train[:64]
    assert (X.var(axis=0) == 0).any()
    y, _ = batch_norm_forward(X, np.ones(64), np.zeros(64), eps=1e-5)
    assert np.isfinite(y).all()
    assert (y[:, X.var(axis=0) == 0] == 0).all()


def test_sigmoid_of_normalized_inputs_is_nearly_linear():
    x_hat = np.random.default_rng(0).standard_normal(5000)

    def r2(gamma, beta):
        return np.corrcoef(x_hat, 1 / (1 + np.exp(-(gamma * x_hat + beta))))[0, 1] ** 2

    assert r2(1.0, 0.0) > 0.97
    assert r2(3.0, 2.0) < 0.9


def test_backward_gradcheck_and_properties():
    rng = np.random.default_rng(0)
    inputs = {
        "x": 3 + 5 * rng.standard_normal((8, 4)),
        "gamma": rng.standard_normal(4),
        "beta": rng.standard_normal(4),
    }
    errors = check_function_gradients(batch_norm_forward, batch_norm_backward, inputs, rng)
    assert max(errors.values()) < 1e-7
    _, cache = batch_norm_forward(inputs["x"], inputs["gamma"], inputs["beta"])
    dy = rng.standard_normal((8, 4))
    dx = batch_norm_backward(dy, cache)[0]
    assert np.abs(dx.sum(axis=0)).max() < 1e-12
    # Σ x̂ dx is not exactly 0 but γ s ε/(σ²+ε) Σ dy x̂
    s = 1 / np.sqrt(cache.var + 1e-5)
    predicted = inputs["gamma"] * s * 1e-5 / (cache.var + 1e-5) * (dy * cache.x_hat).sum(axis=0)
    np.testing.assert_allclose((cache.x_hat * dx).sum(axis=0), predicted, rtol=1e-6, atol=1e-14)
    dx_ones = batch_norm_backward(np.ones((8, 4)), cache)[0]
    assert np.abs(dx_ones).max() < 1e-12


def test_bias_before_bn_gets_zero_gradient_and_changes_nothing():
    rng = np.random.default_rng(0)
    model = Sequential(Linear(5, 4, rng=rng), BatchNorm1d(4))
    x = rng.standard_normal((16, 5))
    y = model(x)
    model.zero_grad()
    model.backward(rng.standard_normal(y.shape))
    assert np.abs(model[0].bias.grad).max() < 1e-12
    assert np.abs(model[0].weight.grad).max() > 0.1
    model[0].bias.data += 10.0
    assert np.abs(model(x) - y).max() < 1e-12


def test_conv_statistics_are_per_channel_over_batch_and_positions():
    rng = np.random.default_rng(0)
    conv = rng.normal(2.0, 3.0, size=(32, 10, 6, 6))
    bn = BatchNorm2d(10)
    y = bn(conv)
    assert bn.weight.shape == (10,)
    mu = conv.mean(axis=(0, 2, 3), keepdims=True)
    var = conv.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (conv - mu) / np.sqrt(var + 1e-5), atol=1e-12)


def test_bn_placement_over_seeds():
    """Page "algorithm", "Where to put batch normalization": after the ReLU has the lower
    training loss for every seed; the validation gap is smaller than the spread between seeds;
    and the sentence the page prints: both orders trained much faster than no BN, their
    last-epoch training loss below 0.3 times its for every seed and their validation accuracy
    higher on average over the seeds. (Per seed the validation margin over no BN can fall below
    0.05 on some data splits.)"""
    result = experiments.placement_over_seeds()
    before, after, none = result["before"], result["after"], result["none"]
    # "after the activation lowered the training loss faster for every seed"
    assert (after["train_loss"][:, -1] < before["train_loss"][:, -1]).all()
    # "the difference in validation accuracy was smaller than the spread between seeds"
    gap = abs(after["val_accuracy"][:, -1].mean() - before["val_accuracy"][:, -1].mean())
    spread = max(after["val_accuracy"][:, -1].std(), before["val_accuracy"][:, -1].std())
    assert gap < spread
    # printed: both orders much faster than no BN
    for order in (before, after):
        assert order["val_accuracy"][:, -1].mean() > none["val_accuracy"][:, -1].mean() + 0.05
        assert (order["train_loss"][:, -1] < 0.3 * none["train_loss"][:, -1]).all()


# -- the figures ----------------------------------------------------------------------------------

NAMES = sorted(name for name in FIGURES if name.startswith("normalization-"))


def test_every_figure_of_the_chapter_is_registered():
    assert len(NAMES) == 11
    assert {FIGURES[name].page for name in NAMES} == {
        f"normalization/{page}"
        for page in ("input", "covariate-shift", "initialization", "algorithm")
    }
    assert figures.COLORS["none"] != figures.COLORS["before"]
