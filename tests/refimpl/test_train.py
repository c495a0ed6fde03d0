"""refimpl.train: minibatches, the training loop, early stopping, and the MLP builder."""

from __future__ import annotations

import numpy as np
import pytest

from refimpl.data import load_digits_splits
from refimpl.optim import SGD, Adam
from refimpl.train import History, evaluate, fit, iterate_minibatches, mlp, predict


@pytest.fixture(scope="module")
def digits():
    return load_digits_splits(seed=0)


def cross_entropy():
    from refimpl.nn.loss import CrossEntropyLoss

    return CrossEntropyLoss()


# -- minibatches ------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "batch_size"), [(10, 4), (12, 4), (7, 10), (1, 1)])
def test_minibatches_partition_every_epoch(n, batch_size):
    rng = np.random.default_rng(0)
    epochs = [list(iterate_minibatches(n, batch_size, rng)) for _ in range(3)]
    for batches in epochs:
        np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(n))
        assert all(len(batch) == batch_size for batch in batches[:-1])
        assert 1 <= len(batches[-1]) <= batch_size
    if n > 5:  # a fresh permutation each epoch
        assert not np.array_equal(np.concatenate(epochs[0]), np.concatenate(epochs[1]))


def test_minibatches_drop_last():
    batches = list(iterate_minibatches(10, 4, np.random.default_rng(0), drop_last=True))
    assert [len(batch) for batch in batches] == [4, 4]
    assert len(np.unique(np.concatenate(batches))) == 8
    assert list(iterate_minibatches(3, 4, np.random.default_rng(0), drop_last=True)) == []


def test_minibatches_are_seeded():
    a = list(iterate_minibatches(50, 8, np.random.default_rng(1)))
    b = list(iterate_minibatches(50, 8, np.random.default_rng(1)))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_minibatch_errors():
    with pytest.raises(TypeError, match="Generator"):
        next(iterate_minibatches(10, 4, rng=0))
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_minibatches(10, 0, np.random.default_rng(0)))


# -- the MLP builder --------------------------------------------------------------------------


def test_mlp_structure():
    model = mlp((64, 32, 16, 10), batchnorm=True, dropout=0.5, rng=np.random.default_rng(0))
    names = [type(layer).__name__ for layer in model.layers]
    assert names == [
        *["Linear", "BatchNorm1d", "ReLU", "Dropout"],
        *["Linear", "BatchNorm1d", "ReLU", "Dropout"],
        "Linear",
    ]
    plain = mlp((64, 10), activation="tanh", rng=np.random.default_rng(0))
    assert [type(layer).__name__ for layer in plain.layers] == ["Linear"]
    model = mlp((5, 7, 3), activation="sigmoid", rng=np.random.default_rng(0), dtype=np.float32)
    assert model(np.ones((4, 5), dtype=np.float32)).dtype == np.float32
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    with pytest.raises(ValueError, match="activation"):
        mlp((4, 2), activation="gelu", rng=np.random.default_rng(0))


def test_mlp_is_seeded():
    a = mlp((64, 32, 10), rng=np.random.default_rng(3))
    b = mlp((64, 32, 10), rng=np.random.default_rng(3))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


# -- evaluate, predict, fit -------------------------------------------------------------------


def test_evaluate_and_predict_use_eval_mode_and_restore_it(digits):
    model = mlp((64, 32, 10), batchnorm=True, dropout=0.5, rng=np.random.default_rng(0))
    X = digits.X_val
    model.train()
    first = evaluate(model, cross_entropy(), X, digits.y_val)
    assert model.training
    # deterministic: dropout is off and BatchNorm uses running statistics
    assert evaluate(model, cross_entropy(), X, digits.y_val) == first
    model.eval()
    labels = predict(model, X)
    assert not model.training
    assert labels.dtype == np.int64
    assert labels.shape == (len(X),)
    assert first[1] == np.mean(labels == digits.y_val)


def train_once(digits, seed, **kwargs):
    rng = np.random.default_rng(seed)
    model = mlp((64, 32, 10), batchnorm=True, dropout=0.1, rng=rng)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, cross_entropy(), optimizer, digits, epochs=3, batch_size=32, rng=rng)
    return model, history


def test_fit_is_deterministic_per_seed(digits):
    model_a, history_a = train_once(digits, seed=1)
    model_b, history_b = train_once(digits, seed=1)
    assert history_a == history_b
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    _, history_c = train_once(digits, seed=2)
    assert history_c.val_loss != history_a.val_loss


def test_fit_records_one_entry_per_epoch(digits):
    _, history = train_once(digits, seed=0)
    assert isinstance(history, History)
    assert history.epoch == [1, 2, 3]
    for curve in (history.train_loss, history.val_loss, history.train_accuracy):
        assert len(curve) == 3
    assert len(history.batch_loss) == 3 * int(np.ceil(len(digits.y_train) / 32))
    assert history.val_loss[history.best_epoch - 1] == min(history.val_loss)
    assert not history.stopped_early


def test_small_mlp_learns_digits(digits):
    """The site's claim: a small MLP passes 90% validation accuracy in a few epochs."""
    rng = np.random.default_rng(0)
    model = mlp((64, 64, 10), rng=rng)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, cross_entropy(), optimizer, digits, epochs=15, batch_size=32, rng=rng)
    assert history.val_accuracy[-1] > 0.9
    assert history.train_loss[-1] < history.train_loss[0]
    _, test_accuracy = evaluate(model, cross_entropy(), digits.X_test, digits.y_test)
    assert test_accuracy > 0.9


def test_early_stopping_stops_after_patience(digits):
    """Validate on the training images with shifted labels: the better the model fits the
    training labels, the worse that validation loss gets, so it is best early and then only
    grows; training must stop ``patience`` epochs after the best one."""
    rng = np.random.default_rng(0)
    model = mlp((64, 32, 10), rng=rng)
    optimizer = Adam(model.parameters(), lr=1e-2)
    data = (digits.X_train, digits.y_train, digits.X_train, (digits.y_train + 1) % 10)
    patience = 3
    history = fit(
        model,
        cross_entropy(),
        optimizer,
        data,
        epochs=50,
        batch_size=64,
        rng=rng,
        early_stopping_patience=patience,
    )
    assert history.stopped_early
    assert len(history.epoch) == history.best_epoch + patience
    best = history.val_loss[history.best_epoch - 1]
    assert all(loss >= best for loss in history.val_loss[history.best_epoch :])


def test_callback_can_stop_training(digits):
    seen = []

    def callback(epoch, history):
        seen.append((epoch, history.val_accuracy[-1]))
        return epoch == 2

    rng = np.random.default_rng(0)
    model = mlp((64, 16, 10), rng=rng)
    history = fit(
        model,
        cross_entropy(),
        SGD(model.parameters(), lr=0.1),
        digits,
        epochs=10,
        batch_size=64,
        rng=rng,
        callback=callback,
    )
    assert [epoch for epoch, _ in seen] == [1, 2]
    assert history.epoch == [1, 2]
    assert not history.stopped_early


def test_fit_rejects_bad_patience(digits):
    model = mlp((64, 10), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="early_stopping_patience"):
        fit(
            model,
            cross_entropy(),
            SGD(model.parameters(), lr=0.1),
            digits,
            epochs=1,
            batch_size=32,
            rng=np.random.default_rng(0),
            early_stopping_patience=0,
        )


def test_early_stopping_on_an_overfitting_run():
    """50 training images: validation loss falls, then rises; training stops after it."""
    data = load_digits_splits(seed=0, n_train=50)
    rng = np.random.default_rng(0)
    model = mlp((64, 128, 10), rng=rng)
    patience = 5
    history = fit(
        model,
        cross_entropy(),
        Adam(model.parameters(), lr=1e-2),
        data,
        epochs=100,
        batch_size=16,
        rng=rng,
        early_stopping_patience=patience,
    )
    assert history.stopped_early
    assert history.best_epoch > 1
    assert history.epoch[-1] == history.best_epoch + patience < 100
    assert min(history.val_loss[history.best_epoch :]) > history.val_loss[history.best_epoch - 1]


# -- divergence -------------------------------------------------------------------------------


def test_a_blown_up_step_raises_diverged_and_a_shape_bug_does_not(digits):
    """`train_step` turns a NaN or an infinity into `Diverged`; a wrong shape stays a ValueError,
    so no experiment can plot a bug as a "diverged" run."""
    from refimpl.checks import NonFiniteError
    from refimpl.train import Diverged, train_step

    X, y = digits.X_train[:32], digits.y_train[:32]
    model = mlp((64, 32, 10), rng=np.random.default_rng(0))
    model[0].weight.data *= 1e307  # the first layer's outputs overflow to infinity
    with pytest.raises(Diverged, match="NaN or infinite"):
        train_step(model, cross_entropy(), SGD(model.parameters(), lr=0.1), 1e3 * X, y)
    model = mlp((64, 32, 10), rng=np.random.default_rng(0))
    with pytest.raises(Diverged, match="non-finite"):  # the step itself overflows a weight
        train_step(model, cross_entropy(), SGD(model.parameters(), lr=1e308), 1e6 * X, y)
    assert issubclass(NonFiniteError, ValueError) and not issubclass(Diverged, ValueError)

    fresh = mlp((64, 32, 10), rng=np.random.default_rng(0))
    bad_data = X.copy()
    bad_data[0, 0] = np.nan  # a NaN in the data is bad input, not a divergence
    with pytest.raises(ValueError, match="minibatch X contains NaN") as caught:
        train_step(fresh, cross_entropy(), SGD(fresh.parameters(), lr=0.1), bad_data, y)
    assert not isinstance(caught.value, Diverged)
    with pytest.raises(ValueError, match="64") as caught:  # features of the wrong size
        train_step(fresh, cross_entropy(), SGD(fresh.parameters(), lr=0.1), X[:, :60], y)
    assert not isinstance(caught.value, Diverged)
    loss = train_step(fresh, cross_entropy(), SGD(fresh.parameters(), lr=0.1), X, y)
    assert np.isfinite(loss) and loss > 0


def test_train_classifier_marks_divergence_and_lets_other_errors_through():
    """The normalization chapter's loop: a huge learning rate gives a NaN-marked "diverged" run;
    a shape bug raises instead of becoming a plotted point."""
    from refimpl.experiments.normalization import train_classifier

    data = load_digits_splits(seed=0, n_train=200, scale="standardize")
    arrays = (data.X_train, data.y_train, data.X_val, data.y_val)
    model = mlp((64, 32, 10), rng=np.random.default_rng(0))
    run = train_classifier(
        model, arrays, lr=1e30, epochs=3, batch_size=50, rng=np.random.default_rng(1)
    )
    assert run["diverged"] and np.isnan(run["val_accuracy"][-1])

    model = mlp((64, 32, 10), rng=np.random.default_rng(0))
    wrong = (data.X_train[:, :60], data.y_train, data.X_val, data.y_val)
    with pytest.raises(ValueError):
        train_classifier(
            model, wrong, lr=0.1, epochs=1, batch_size=50, rng=np.random.default_rng(1)
        )


# -- BatchNorm recalibration ------------------------------------------------------------------


@pytest.mark.parametrize("shuffled", [True, False])
def test_recalibration_averages_the_batch_statistics_with_dropout_off(digits, shuffled):
    """`recalibrate_batch_norm`: each running mean is the mean of the batch means, with dropout
    off (the second BN sees unmasked activations); the first BN's running variance is the mean
    of the unbiased batch variances; the momentum is restored and the model is in eval mode."""
    from refimpl.train import recalibrate_batch_norm

    model = mlp((64, 32, 16, 10), batchnorm=True, dropout=0.5, rng=np.random.default_rng(0))
    first, second = model[1], model[5]
    first.running_mean[...] = 7.0  # whatever was there before is forgotten
    X = digits.X_train[:60]
    rng = np.random.default_rng(1) if shuffled else None
    recalibrate_batch_norm(model, X, 16, rng, drop_last=True)

    order = np.random.default_rng(1).permutation(60) if shuffled else np.arange(60)
    batches = [order[i : i + 16] for i in (0, 16, 32)]  # 60 = 3 × 16 + 12: the last is dropped
    # the inputs of both BNs, typed out (γ = 1, β = 0 at the start; no dropout mask)
    h1 = [X[b] @ model[0].weight.data.T + model[0].bias.data for b in batches]
    z = [np.maximum((h - h.mean(0)) / np.sqrt(h.var(0) + first.eps), 0) for h in h1]
    h2 = [a @ model[4].weight.data.T + model[4].bias.data for a in z]
    np.testing.assert_allclose(first.running_mean, np.mean([h.mean(axis=0) for h in h1], axis=0))
    np.testing.assert_allclose(first.running_var, np.mean([h.var(0, ddof=1) for h in h1], axis=0))
    np.testing.assert_allclose(second.running_mean, np.mean([h.mean(axis=0) for h in h2], axis=0))
    assert first.momentum == second.momentum == 0.1
    assert not any(m.training for m in model.modules())
