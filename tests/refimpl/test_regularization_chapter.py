"""The claims of the regularization chapter's figures and pages (docs/regularization/).

Each test names the figure or page statement it backs and asserts it on the experiment's
result, with a margin that holds across the seeds but would fail if the claim were false. The
experiments are memoized, so the site build and these tests share one run per session.
"""

from __future__ import annotations

import numpy as np
import pytest

from refimpl.data import load_digits_splits
from refimpl.experiments import regularization as experiments
from refimpl.functional import classic_dropout_forward, dropout_forward
from refimpl.nn import BatchNorm1d, CrossEntropyLoss, Dropout, Linear, Parameter, ReLU, Sequential
from refimpl.optim import SGD, Adam, AdamW, split_decay_groups
from refimpl.seeds import shifted
from refimpl.train import fit, mlp


@pytest.fixture(scope="module")
def baseline():
    return experiments.overfitting_runs()


# -- page "overfitting" -------------------------------------------------------------------------


def test_page_recipe_is_the_experiment():
    """The training code printed on the overfitting page gives the numbers of `train_mlp`.

    The page writes seed 0 as a literal; `train_mlp(0)` shifts it by the seed offset
    (`refimpl.seeds.shifted`), so the recipe here uses the shifted seed: at offset 0 it is the
    page's code exactly.
    """
    epochs = 3
    seed = shifted(0)  # the page's 0, plus REFIMPL_SEED_OFFSET
    data = load_digits_splits(seed=seed, n_train=300, scale="standardize")
    rng = np.random.default_rng(seed)
    model = mlp((64, 100, 100, 100, 100, 100, 100, 10), init="he_normal", rng=rng)
    optimizer = SGD(model.parameters(), lr=0.02)
    history = fit(
        model,
        CrossEntropyLoss(),
        optimizer,
        (data.X_train, data.y_train, data.X_test, data.y_test),
        epochs=epochs,
        batch_size=100,
        rng=np.random.default_rng([seed, 1]),
    )
    run = experiments.train_mlp.uncached(0, epochs=epochs)
    np.testing.assert_allclose(history.train_loss, run["train_loss"], rtol=1e-10)
    np.testing.assert_allclose(history.val_accuracy, run["test_accuracy"])


def test_six_layer_mlp_overfits_300_images(baseline):
    """regularization-overfitting-curves: training accuracy reaches 1, test accuracy does not;
    the two mean curves of the figure start together and part during training; after that the
    training loss keeps falling while the test loss falls far less (the page's sentence)."""
    assert np.all(baseline["train_accuracy"][:, -1] == 1.0)
    assert np.all(baseline["test_accuracy"][:, -1] < 0.95)
    assert np.all(baseline["gap"] > 0.06)
    # the gap opens during training: after one epoch the mean curves (the figure's lines) are
    # close; single seeds differ more, by the chance of which images a weak network gets right
    first = baseline["train_accuracy"][:, 0].mean() - baseline["test_accuracy"][:, 0].mean()
    assert abs(first) < 0.05
    # the test accuracy has levelled off: over the last 20 epochs it moves far less (a tenth at
    # most) than it climbed from the first epoch to the last
    late = baseline["test_accuracy"][:, -20:]
    climb = baseline["test_accuracy"][:, -1] - baseline["test_accuracy"][:, 0]
    assert np.all(late.max(axis=1) - late.min(axis=1) < climb / 10)
    # once every training image is right, the training loss keeps falling and the test loss
    # falls far less: compared as log-ratios (first perfect epoch over the last epoch)
    for train_loss, test_loss, accuracy in zip(
        baseline["train_loss"], baseline["test_loss"], baseline["train_accuracy"], strict=True
    ):
        perfect = int(np.argmax(accuracy == 1.0))
        train_fall = np.log(train_loss[perfect] / train_loss[-1])
        test_fall = np.log(test_loss[perfect] / test_loss[-1])
        assert train_fall > 3 * max(test_fall, 0.0) and train_fall > np.log(2)


def test_more_data_shrinks_the_gap():
    """Page "overfitting": with all 1079 training images the gap is smaller, for every seed."""
    result = experiments.data_size_gaps()
    assert list(result["n_train"]) == [300, 1079]
    assert np.all(result["gap"][1] < result["gap"][0] - 0.02)
    assert np.all(result["test_accuracy"][1] > result["test_accuracy"][0] + 0.01)


# -- page "weight-decay" ------------------------------------------------------------------------


def test_sgd_weight_decay_shrinks_then_steps():
    """Page "weight-decay": W ← (1 − ηλ) W − η ∇L is what SGD(weight_decay=λ) does."""
    rng = np.random.default_rng(0)
    w = Parameter(rng.normal(size=5))
    grad = rng.normal(size=5)
    lr, lam = 0.1, 0.01
    expected = (1 - lr * lam) * w.data - lr * grad
    w.grad[...] = grad
    SGD([w], lr=lr, weight_decay=lam).step()
    np.testing.assert_allclose(w.data, expected, rtol=1e-14)


def test_units_table():
    """Page "weight-decay", the units table: the per-step shrink of every convention."""
    lr, lam = 0.1, 0.01

    def one_step(optimizer_class, data=(1.0, 0.5), grad=lambda w: 0.0 * w, **kwargs):
        w = Parameter(np.array(data))
        optimizer = optimizer_class([w], lr=lr, **kwargs)
        w.grad[...] = grad(w.data)
        before = w.data.copy()
        optimizer.step()
        return w.data / before

    np.testing.assert_allclose(one_step(SGD, weight_decay=lam), 1 - lr * lam)
    np.testing.assert_allclose(one_step(AdamW, weight_decay=lam), 1 - lr * lam)
    # Keras L2(l2): loss l2·Σw², gradient 2·l2·w, so l2 = λ/2 gives the same shrink
    np.testing.assert_allclose(one_step(SGD, grad=lambda w: 2 * (lam / 2) * w), 1 - lr * lam)
    np.testing.assert_allclose(one_step(SGD, grad=lambda w: 2 * lam * w), 1 - 2 * lr * lam)
    # Adam with L2: not a shrink factor; each coordinate moves by about η whatever its size
    adam = one_step(Adam, weight_decay=lam)
    assert abs(adam[0] - adam[1]) > 0.05
    np.testing.assert_allclose((1 - adam) * np.array([1.0, 0.5]), lr, rtol=1e-4)
    # SGD with momentum μ: in the long run about 1 − ηλ/(1 − μ) per step
    w = Parameter(np.array([1.0]))
    optimizer = SGD([w], lr=lr, momentum=0.9, weight_decay=lam)
    for _ in range(300):
        before = w.data.copy()
        optimizer.step()
    assert abs(w.data[0] / before[0] - (1 - lr * lam / (1 - 0.9))) < 2e-3


def test_split_decay_groups_exempts_biases_and_bn():
    """Page "weight-decay": weights are decayed; biases and BN's γ, β are not."""
    model = mlp((64, 100, 10), norm="batch", rng=np.random.default_rng(0))
    decay, no_decay = split_decay_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.data.ndim == 2 for p in decay["params"]) and len(decay["params"]) == 2
    # the output layer's bias, BN's weight (γ) and bias (β); the Linear in front of the BN has
    # no bias
    assert len(no_decay["params"]) == 3


def test_weight_decay_shrinks_the_gap(baseline):
    """regularization-weight-decay-curves and the sentence printed under its table: with
    λ = 0.1 the mean gap is smaller and so is the gap of most seeds, the training accuracy stays
    below 1, and the mean test accuracy changes little (the page prints for how many seeds it
    rises)."""
    decayed = experiments.overfitting_runs(weight_decay=0.1)
    assert decayed["gap"].mean() < baseline["gap"].mean() - 0.005
    smaller = decayed["gap"] < baseline["gap"] - 0.005
    assert smaller.sum() > len(smaller) / 2  # most seeds
    assert np.all(decayed["train_accuracy"][:, -1] < 1.0)
    test_change = decayed["test_accuracy"][:, -1].mean() - baseline["test_accuracy"][:, -1].mean()
    assert abs(test_change) < 0.02
    assert np.all(decayed["weight_norm"] < 0.7 * baseline["weight_norm"])


def test_decay_sweep():
    """regularization-weight-decay-sweep and the sentence printed under its table: the weight
    norm falls with λ; the mean gap is smaller than without decay at every λ (not necessarily
    at each step: at offset 2000, λ = 0.03 and 0.1 tie); λ = 0.03 raises the mean test
    accuracy and that of most seeds; λ = 0.3 collapses to chance."""
    sweep = experiments.decay_sweep()
    assert list(sweep["weight_decay"]) == [0.0, 0.01, 0.03, 0.1, 0.3]
    assert np.all(np.diff(sweep["weight_norm"], axis=0) < 0)  # every seed
    gap = sweep["gap"].mean(axis=1)
    assert np.all(gap[1:] < gap[0])
    assert gap[2] < gap[0] - 0.01 and gap[3] < gap[0] - 0.02
    # λ = 0.03 against λ = 0: higher on average and for most seeds
    assert sweep["test_accuracy"][2].mean() > sweep["test_accuracy"][0].mean()
    higher = sweep["test_accuracy"][2] > sweep["test_accuracy"][0]
    assert higher.sum() > len(higher) / 2
    assert np.all(sweep["train_accuracy"][4] < 0.2) and np.all(sweep["test_accuracy"][4] < 0.2)


def test_adam_l2_decays_large_gradients_less():
    """regularization-adam-l2-vs-adamw: under Adam + L2 what is left grows with the gradient
    size; AdamW leaves every weight at (1 − ηλ)^T."""
    result = experiments.adam_l2_vs_adamw()
    adam, adamw, pure = result["adam_l2"], result["adamw"], result["pure_decay"]
    assert np.all(np.abs(adamw - pure) < 0.03)
    assert np.all(np.diff(adam) > -0.01)  # never less left for a larger gradient
    assert adam[-1] > 0.85 and adam[-1] > adamw[-1] + 0.4  # largest gradients: barely decayed
    assert adam[0] < adamw[0] - 0.05  # tiny gradients: decayed more than by AdamW


@pytest.mark.parametrize(("eps", "tolerance"), [(1e-5, 1e-4), (1e-12, 1e-10)])
def test_bn_makes_the_weight_scale_invariant(eps, tolerance):
    """Page "weight-decay": scaling W in front of BN by α keeps the loss and divides ∇W by α
    (exactly up to BN's eps) and ∇W is orthogonal to W."""
    rng = np.random.default_rng(0)
    data = load_digits_splits(seed=0, n_train=300, scale="standardize")
    x, y = data.X_train[:100], data.y_train[:100]
    model = Sequential(
        Linear(64, 100, rng=rng), BatchNorm1d(100, eps=eps), ReLU(), Linear(100, 10, rng=rng)
    )
    loss_fn = CrossEntropyLoss()
    w0 = model[0].weight.data.copy()
    results = []
    for alpha in (1.0, 3.0):
        model[0].weight.data[...] = alpha * w0
        model.zero_grad()
        loss = loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        results.append((loss, model[0].weight.grad.copy()))
    (loss1, grad1), (loss3, grad3) = results
    assert abs(loss1 - loss3) < tolerance
    np.testing.assert_allclose(grad3, grad1 / 3, atol=100 * tolerance * np.abs(grad1).max())
    cosine = np.sum(w0 * grad1) / (np.linalg.norm(w0) * np.linalg.norm(grad1))
    assert abs(cosine) < 100 * tolerance


def test_bn_weight_norm_grows_without_decay_and_shrinks_with_it():
    """regularization-bn-weight-norm: without decay ‖W‖ never falls; with decay it follows
    (1 − ηλ)^t and the effective learning rate η/‖W‖² rises many times over."""
    from refimpl.figures.regularization import BN_DECAY, BN_SEEDS

    for seed in BN_SEEDS:
        plain = experiments.bn_weight_norm(seed, 0.0)
        assert np.all(np.diff(plain["norm"], axis=1) >= 0)
        assert np.all(plain["norm"][:, -1] < 1.01 * plain["norm"][:, 0])
        decayed = experiments.bn_weight_norm(seed, BN_DECAY)
        steps = decayed["step"][-1]
        pure = (1 - decayed["lr"] * BN_DECAY) ** steps
        ratio = decayed["norm"][:, -1] / decayed["norm"][:, 0]
        assert np.all(np.abs(ratio / pure - 1) < 0.05)
        assert np.all(decayed["effective_lr"][:, -1] > 10 * decayed["effective_lr"][:, 0])


def test_weight_decay_in_front_of_bn_is_a_learning_rate_schedule():
    """Page "weight-decay": decay λ is no decay with η_t = η (1 − ηλ)^−(2t+1), up to BN's eps."""
    from refimpl.figures.regularization import BN_DECAY

    for eps, tolerance in ((1e-5, 1e-3), (1e-12, 1e-9)):
        decayed = experiments.bn_weight_norm(0, BN_DECAY, eps=eps)
        scheduled = experiments.bn_weight_norm(0, BN_DECAY, as_schedule=True, eps=eps)
        assert np.abs(decayed["batch_loss"] - scheduled["batch_loss"]).max() < tolerance
    # the scheduled weights do not shrink; the decayed ones are smaller by (1 − ηλ)^T
    steps = decayed["step"][-1]
    np.testing.assert_allclose(
        decayed["norm"][:, -1] / scheduled["norm"][:, -1],
        (1 - decayed["lr"] * BN_DECAY) ** steps,
        rtol=1e-6,
    )


def test_bn_decay_raises_accuracy():
    """Page "weight-decay", the sentence printed after the BN table: in this BN network decay
    gives a higher test accuracy for every seed (the page prints by how many test images)."""
    from refimpl.figures.regularization import BN_DECAY, BN_SEEDS

    plain = np.array([experiments.bn_weight_norm(s, 0.0)["test_accuracy"] for s in BN_SEEDS])
    decayed = np.array([experiments.bn_weight_norm(s, BN_DECAY)["test_accuracy"] for s in BN_SEEDS])
    assert np.all(decayed > plain)


# -- page "dropout" -----------------------------------------------------------------------------


def test_inverted_and_classic_dropout_have_the_eval_output_as_mean():
    """Page "dropout": both forms' training outputs average to their evaluation output."""
    x = np.array([1.0, -2.0, 0.5, 3.0])
    p, n = 0.3, 200_000
    rng = np.random.default_rng(0)
    batch = np.tile(x, (n, 1))
    inverted, _ = dropout_forward(batch, p, rng)
    classic, _ = classic_dropout_forward(batch, p, rng)
    np.testing.assert_allclose(inverted.mean(axis=0), x, atol=0.02)
    np.testing.assert_allclose(classic.mean(axis=0), (1 - p) * x, atol=0.02)
    np.testing.assert_allclose(dropout_forward(x, p, None, training=False)[0], x)
    np.testing.assert_allclose(classic_dropout_forward(x, p, None, training=False)[0], (1 - p) * x)


def test_dropout_train_and_eval_modes():
    """Page "dropout": training mode draws a new mask on every call, evaluation mode is identity."""
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    x = np.ones((4, 1000))
    first, second = layer(x), layer(x)
    assert not np.array_equal(first, second)
    assert set(np.unique(first)) == {0.0, 2.0}
    layer.eval()
    np.testing.assert_array_equal(layer(x), x)


def test_dropout_curves(baseline):
    """regularization-dropout-curves and the sentence printed under its table: p = 0.1 shrinks
    the mean gap and the gap of most seeds, and raises the test accuracy of most seeds; p = 0.2
    has not fitted the training set after 100 epochs and lowers the mean test accuracy and that
    of most seeds (the page prints how many)."""
    light = experiments.overfitting_runs(dropout=0.1)
    heavy = experiments.overfitting_runs(dropout=0.2)
    assert light["gap"].mean() < baseline["gap"].mean() - 0.002
    smaller = light["gap"] < baseline["gap"] - 0.002
    assert smaller.sum() > len(smaller) / 2  # most seeds
    higher = light["test_accuracy"][:, -1] > baseline["test_accuracy"][:, -1]
    assert higher.sum() > len(higher) / 2
    assert np.all(heavy["train_accuracy"][:, -1] < 0.96)
    lower = heavy["test_accuracy"][:, -1] < baseline["test_accuracy"][:, -1]
    assert heavy["test_accuracy"][:, -1].mean() < baseline["test_accuracy"][:, -1].mean()
    assert lower.sum() > len(lower) / 2


def test_mc_dropout_approaches_weight_scaling():
    """regularization-mc-dropout: one mask is much worse than eval mode; the average over K
    masks improves with K and reaches the weight-scaling accuracy."""
    runs = [experiments.mc_dropout(seed) for seed in experiments.SEEDS]
    mc = np.stack([run["mc_accuracy"].mean(axis=0) for run in runs])
    ws = np.array([run["weight_scaling_accuracy"] for run in runs])
    assert np.all(mc[:, 0] < ws - 0.05)
    mean = mc.mean(axis=0)
    assert mean[0] < mean[1] < mean[3] < mean[7] < mean[15]  # K = 1, 2, 4, 8, 16
    assert abs(mean[-1] - ws.mean()) < 0.01


def test_variance_shift():
    """regularization-variance-shift and the sentences printed under its table. The first BN sees
    no dropout: its ratio is the level set by the data alone (test images against the training
    images), the same whatever the dropout. Dropout before BN lifts the later layers above that
    level, more for larger p and deeper layers; with dropout only after the last BN every layer
    stays near it. Recollecting the statistics brings every later layer closer to that level, at
    p = 0.5 "most of the way" (less than half the distance remains; the page prints the ranges).
    With p = 0.2, recollecting leaves the accuracy about where it was, on average over the seeds."""
    from refimpl.figures.regularization import VARIANCE_SHIFT_SEEDS

    recollect_change = []
    for seed in VARIANCE_SHIFT_SEEDS:
        strong = experiments.variance_shift(seed, "before", dropout=0.5)
        weak = experiments.variance_shift(seed, "before", dropout=0.2)
        after = experiments.variance_shift(seed, "after", dropout=0.5)
        level = after["ratio"][0]  # the first BN, which no dropout reaches
        for result in (strong, weak, after):
            assert 0.85 < result["ratio"][0] / level < 1.15  # the first BN sees no dropout
        for result in (strong, weak):
            # distance of each later layer from the first layer's level, before and after
            shifted_by = np.abs(result["ratio"][1:] / result["ratio"][0] - 1)
            recollected = np.abs(result["recollected_ratio"][1:] / result["ratio"][0] - 1)
            assert np.all(recollected < shifted_by)
        strong_shift = np.abs(strong["ratio"][1:] / strong["ratio"][0] - 1)
        strong_left = np.abs(strong["recollected_ratio"][1:] / strong["ratio"][0] - 1)
        assert np.all(strong_left < strong_shift / 2)
        strong_relative = strong["ratio"] / strong["ratio"][0]
        assert np.all(np.diff(strong["ratio"]) > 0) and np.all(strong_relative[1:] > 1.5)
        assert np.all(weak["ratio"][1:] / weak["ratio"][0] > 1.1)
        assert np.all(weak["ratio"][1:] < strong["ratio"][1:])
        assert np.all(np.abs(after["ratio"] / level - 1) < 0.15)
        assert after["test_accuracy"] > strong["test_accuracy"] + 0.2
        assert strong["recollected_accuracy"] > strong["test_accuracy"] + 0.05
        assert strong["recollected_accuracy"] < after["test_accuracy"] - 0.1
        recollect_change.append(weak["recollected_accuracy"] - weak["test_accuracy"])
    # with p = 0.2, recollecting the statistics leaves the accuracy about where it was (mean)
    assert abs(np.mean(recollect_change)) < 0.015


# -- page "ensembles" ---------------------------------------------------------------------------


def test_errors_are_far_from_perfectly_correlated():
    """Page "ensembles": many images are wrong for some network, far fewer for all ten."""
    data = experiments.digits()
    probabilities = np.stack([experiments.train_mlp(s)["test_probabilities"] for s in range(10)])
    wrong = probabilities.argmax(axis=2) != data.y_test
    assert wrong.all(axis=0).sum() < 0.5 * wrong.any(axis=0).sum()


def test_ensemble_beats_every_member_and_mc_dropout():
    """regularization-ensemble and the sentence printed under its table: averaging more networks
    raises the accuracy over the first few, then the gains level off; all ten beat the best
    single network; K masks of one dropout network stay below K networks."""
    result = experiments.ensemble_accuracy()
    mean = result["accuracy"].mean(axis=0)
    assert np.all(np.diff(mean[:4]) > -0.002)  # K = 1, 2, 3, 4: rising
    assert mean[1] - mean[0] > mean[9] - mean[4]  # the first networks add the most
    assert mean[-1] > result["single"].max() + 0.02
    assert mean[-1] > result["single"].mean() + 0.04
    assert mean[1] > result["single"].mean()
    k = len(result["k"])
    runs = [experiments.mc_dropout(seed) for seed in experiments.SEEDS]
    mc = np.mean([run["mc_accuracy"].mean(axis=0)[:k] for run in runs], axis=0)
    assert np.all(mc < mean)
    assert mean[-1] > mc[-1] + 0.02
