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


def fit_sgd(model, data, **kwargs):
    """`fit` with cross-entropy and plain SGD at learning rate 0.1, as most tests here train."""
    return fit(model, cross_entropy(), SGD(model.parameters(), lr=0.1), data, **kwargs)


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


def test_minibatches_in_order_without_a_generator():
    batches = list(iterate_minibatches(10, 4, None))
    assert [batch.tolist() for batch in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(list(iterate_minibatches(10, 4, None, drop_last=True))) == 2


def test_minibatch_errors():
    with pytest.raises(TypeError, match="Generator"):
        next(iterate_minibatches(10, 4, rng=0))
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_minibatches(10, 0, np.random.default_rng(0)))


# -- the MLP builder --------------------------------------------------------------------------


def test_mlp_structure():
    model = mlp((64, 32, 16, 10), norm="batch", dropout=0.5, rng=np.random.default_rng(0))
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


@pytest.mark.parametrize(
    ("kwargs", "block"),
    [
        ({"norm": "batch"}, ["Linear", "BatchNorm1d", "ReLU"]),
        ({"norm": "batch", "norm_position": "after"}, ["Linear", "ReLU", "BatchNorm1d"]),
        ({"norm": "layer"}, ["Linear", "LayerNorm", "ReLU"]),
        ({"norm": "group", "groups": 4}, ["Linear", "GroupNorm", "ReLU"]),
        ({"norm": "weight"}, ["WeightNormLinear", "MeanOnlyBatchNorm", "ReLU"]),
        ({"activation": "selu", "init": "lecun_normal"}, ["Linear", "SELU"]),
    ],
)
def test_mlp_variants(kwargs, block):
    """Every chapter builds its networks with `mlp`: each normalization and placement."""
    model = mlp((64, 32, 32, 10), rng=np.random.default_rng(0), **kwargs)
    assert [type(layer).__name__ for layer in model.layers] == [*block, *block, "Linear"]
    if kwargs.get("norm") == "group":
        assert model[1].num_groups == 4
    out = model(np.random.default_rng(1).normal(size=(8, 64)))
    assert out.shape == (8, 10) and np.isfinite(out).all()


def test_mlp_layers_draw_from_their_own_streams():
    """A layer's weights do not depend on what the layers before it drew: the same seed gives
    the same weights with or without biases and normalization layers."""
    plain = mlp((64, 32, 32, 10), rng=np.random.default_rng(5))
    no_bias = mlp((64, 32, 32, 10), norm="batch", bias=False, rng=np.random.default_rng(5))
    assert no_bias[0].bias is None and plain[0].bias is not None
    pairs = zip([plain[0], plain[2], plain[4]], [no_bias[0], no_bias[3], no_bias[6]], strict=True)
    for a, b in pairs:
        np.testing.assert_array_equal(a.weight.data, b.weight.data)
    other_seed = mlp((64, 32, 32, 10), rng=np.random.default_rng(6))
    assert not np.array_equal(plain[2].weight.data, other_seed[2].weight.data)


def test_mlp_leaves_out_the_bias_only_right_before_a_batch_norm():
    rng = np.random.default_rng(0)
    assert mlp((4, 3, 2), norm="batch", rng=rng)[0].bias is None
    assert mlp((4, 3, 2), norm="weight", rng=rng)[0].bias is None
    assert mlp((4, 3, 2), norm="batch", norm_position="after", rng=rng)[0].bias is not None
    assert mlp((4, 3, 2), norm="layer", rng=rng)[0].bias is not None
    assert mlp((4, 3, 2), rng=rng)[0].bias is not None
    assert mlp((4, 3, 2), norm="batch", bias=True, rng=rng)[0].bias is not None
    assert mlp((4, 3, 2), norm="batch", rng=rng)[-1].bias is not None  # the output layer


def test_mlp_init_and_per_layer_dropout():
    model = mlp((64, 100, 100, 10), init="normal", init_std=0.01, rng=np.random.default_rng(0))
    weights = np.concatenate([model[k].weight.data.ravel() for k in (0, 2, 4)])
    assert abs(weights.std() - 0.01) < 1e-3 and not np.any(model[0].bias.data)
    he = mlp((64, 100, 10), init="he_normal", rng=np.random.default_rng(0))
    assert abs(he[0].weight.data.std() - np.sqrt(2 / 64)) < 0.01
    last_only = mlp((64, 32, 32, 10), dropout=[0.0, 0.3], rng=np.random.default_rng(0))
    names = [type(layer).__name__ for layer in last_only.layers]
    assert names == ["Linear", "ReLU", "Linear", "ReLU", "Dropout", "Linear"]
    assert last_only[4].p == 0.3


def test_mlp_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="norm must be"):
        mlp((4, 3, 2), norm="instance", rng=rng)
    with pytest.raises(ValueError, match="norm_position"):
        mlp((4, 3, 2), norm="batch", norm_position="inside", rng=rng)
    with pytest.raises(ValueError, match="one value per hidden layer"):
        mlp((4, 3, 3, 2), dropout=[0.1], rng=rng)
    with pytest.raises(ValueError, match="dropout must be in"):
        mlp((4, 3, 2), dropout=1.0, rng=rng)
    with pytest.raises(TypeError, match="Generator"):
        mlp((4, 3, 2), rng=0)


# -- evaluate, predict, fit -------------------------------------------------------------------


def test_evaluate_and_predict_use_eval_mode_and_restore_it(digits):
    model = mlp((64, 32, 10), norm="batch", dropout=0.5, rng=np.random.default_rng(0))
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
    model = mlp((64, 32, 10), norm="batch", dropout=0.1, rng=rng)
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


def test_callbacks_see_every_step_and_epoch_and_can_stop(digits):
    """The hooks run in the documented order; ``step`` counts the run's minibatches from 0;
    True from ``on_epoch_end`` stops after that epoch."""
    from refimpl.train import Callback

    class Log(Callback):
        def __init__(self):
            self.events = []

        def on_epoch_start(self, epoch, model):
            self.events.append(("epoch start", epoch, model.training))

        def on_step_start(self, step, X, y):
            self.events.append(("step start", step, X.shape, y.shape))

        def on_step_end(self, step, loss):
            self.events.append(("step end", step, loss))

        def on_epoch_end(self, epoch, history):
            self.events.append(("epoch end", epoch, history.val_accuracy[-1]))
            return epoch == 2

    log = Log()
    rng = np.random.default_rng(0)
    model = mlp((64, 16, 10), rng=rng)
    X, y = digits.X_train[:100], digits.y_train[:100]
    history = fit_sgd(
        model,
        (X, y, X, y),
        epochs=10,
        batch_size=40,
        rng=rng,
        drop_last=True,
        callbacks=[log, Log()],
    )
    assert history.epoch == [1, 2] and not history.stopped_early
    kinds = [event[0] for event in log.events]
    one_epoch = ["epoch start"] + ["step start", "step end"] * 2 + ["epoch end"]
    assert kinds == one_epoch * 2
    steps = [event[1] for event in log.events if event[0] == "step end"]
    assert steps == [0, 1, 2, 3]
    assert all(event[2] is True for event in log.events if event[0] == "epoch start")
    assert all(event[2:] == ((40, 64), (40,)) for event in log.events if event[0] == "step start")
    losses = [event[2] for event in log.events if event[0] == "step end"]
    assert losses == history.batch_loss
    ends = [event[2] for event in log.events if event[0] == "epoch end"]
    assert ends == history.val_accuracy


def test_a_step_callback_stops_after_that_step_and_the_epoch_is_measured(digits):
    from refimpl.train import Callback

    class StopAt(Callback):
        def on_step_end(self, step, loss):
            return step == 4  # the fifth step: the second of epoch 2 (3 steps an epoch)

    rng = np.random.default_rng(0)
    model = mlp((64, 16, 10), rng=rng)
    X, y = digits.X_train[:90], digits.y_train[:90]
    history = fit_sgd(
        model,
        (X, y, X, y),
        epochs=10,
        batch_size=30,
        rng=rng,
        callbacks=[StopAt()],
    )
    assert len(history.batch_loss) == 5
    assert history.epoch == [1, 2]
    assert history.train_accuracy[-1] == evaluate(model, cross_entropy(), X, y)[1]


def test_on_epoch_start_can_freeze_batch_norm(digits):
    """A layer put in eval mode by ``on_epoch_start`` stays so for the whole epoch: a frozen
    BatchNorm's running statistics do not move, and it is frozen again after the measurements
    (which put the model back in training mode)."""
    from refimpl.nn import is_batch_norm
    from refimpl.train import Callback

    class Freeze(Callback):
        def on_epoch_start(self, epoch, model):
            for module in model.modules():
                if is_batch_norm(module):
                    module.eval()

    model = mlp((64, 16, 10), norm="batch", rng=np.random.default_rng(0))
    bn = model[1]
    bn.running_mean[...] = 0.5
    X, y = digits.X_train[:90], digits.y_train[:90]
    fit_sgd(
        model,
        (X, y, X, y),
        epochs=3,
        batch_size=30,
        rng=np.random.default_rng(1),
        callbacks=[Freeze()],
    )
    np.testing.assert_array_equal(bn.running_mean, 0.5)
    assert bn.num_batches_tracked == 0

    unfrozen = mlp((64, 16, 10), norm="batch", rng=np.random.default_rng(0))
    fit_sgd(
        unfrozen,
        (X, y, X, y),
        epochs=3,
        batch_size=30,
        rng=np.random.default_rng(1),
    )
    assert unfrozen[1].num_batches_tracked == 9


def test_fit_stops_on_divergence_when_asked_and_raises_otherwise(digits):
    from refimpl.train import Diverged

    X, y = digits.X_train[:100], digits.y_train[:100]
    data = (1e6 * X, y, X, y)

    def run(**kwargs):
        model = mlp((64, 32, 10), rng=np.random.default_rng(0))
        optimizer = SGD(model.parameters(), lr=1e308)  # the first step overflows a weight
        with np.errstate(all="ignore"):
            return fit(
                model,
                cross_entropy(),
                optimizer,
                data,
                epochs=3,
                batch_size=25,
                rng=np.random.default_rng(1),
                **kwargs,
            )

    with pytest.raises(Diverged):
        run()
    history = run(stop_on_divergence=True)
    assert history.diverged
    assert history.epoch == []  # it diverged in the first epoch: no epoch was measured
    assert len(history.batch_loss) == 0  # the loss of the diverging step is not kept


def test_weights_that_overflow_on_the_data_are_a_divergence_but_bad_data_is_not(digits):
    """After the steps, a forward pass on the training or validation set that overflows means
    the weights blew up: `Diverged`. A NaN in the validation data is an error of its own."""
    from refimpl.checks import NonFiniteError
    from refimpl.train import Callback, Diverged

    class BlowUp(Callback):
        def on_step_end(self, step, loss):
            model[0].weight.data *= 1e200  # finite, but the forward pass overflows

    X, y = digits.X_train[:60], digits.y_train[:60]
    model = mlp((64, 32, 10), rng=np.random.default_rng(0))
    with pytest.raises(Diverged, match="overflows"), np.errstate(all="ignore"):
        fit_sgd(
            model,
            (X, y, 1e200 * X, y),
            epochs=1,
            batch_size=60,
            rng=np.random.default_rng(1),
            callbacks=[BlowUp()],
        )
    bad = X.copy()
    bad[3, 5] = np.inf
    model = mlp((64, 32, 10), rng=np.random.default_rng(0))
    with pytest.raises(NonFiniteError, match="validation inputs") as caught:
        fit_sgd(
            model,
            (X, y, bad, y),
            epochs=1,
            batch_size=60,
            rng=np.random.default_rng(1),
        )
    assert not isinstance(caught.value, Diverged)


def test_fit_rejects_bad_patience(digits):
    model = mlp((64, 10), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="early_stopping_patience"):
        fit_sgd(
            model,
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

    model = mlp((64, 32, 16, 10), norm="batch", dropout=0.5, rng=np.random.default_rng(0))
    first, second = model[1], model[5]
    first.running_mean[...] = 7.0  # whatever was there before is forgotten
    X = digits.X_train[:60]
    rng = np.random.default_rng(1) if shuffled else None
    recalibrate_batch_norm(model, X, 16, rng, drop_last=True)

    order = np.random.default_rng(1).permutation(60) if shuffled else np.arange(60)
    batches = [order[i : i + 16] for i in (0, 16, 32)]  # 60 = 3 × 16 + 12: the last is dropped
    # the inputs of both BNs, typed out (γ = 1, β = 0 at the start; no dropout mask)
    h1 = [X[b] @ model[0].weight.data.T for b in batches]  # no bias in front of a BN
    z = [np.maximum((h - h.mean(0)) / np.sqrt(h.var(0) + first.eps), 0) for h in h1]
    h2 = [a @ model[4].weight.data.T for a in z]
    np.testing.assert_allclose(first.running_mean, np.mean([h.mean(axis=0) for h in h1], axis=0))
    np.testing.assert_allclose(first.running_var, np.mean([h.var(0, ddof=1) for h in h1], axis=0))
    np.testing.assert_allclose(second.running_mean, np.mean([h.mean(axis=0) for h in h2], axis=0))
    assert first.momentum == second.momentum == 0.1
    assert not any(m.training for m in model.modules())


# -- one harness ------------------------------------------------------------------------------


def _calls_by_function(path) -> dict[str, set[str]]:
    """The names called in each top-level function or method of a module's source."""
    import ast

    calls: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    function = call.func
                    name = function.attr if isinstance(function, ast.Attribute) else None
                    name = function.id if isinstance(function, ast.Name) else name
                    calls.setdefault(node.name, set()).add(name)
    return calls


def test_every_chapter_builds_with_mlp_and_trains_with_fit():
    """The chapters' experiments build their networks with `refimpl.train.mlp` and train them
    with `refimpl.train.fit`: no experiment has its own optimizer loop or its own stack of
    layers. The exceptions are listed with their reason."""
    from pathlib import Path

    import refimpl.experiments

    allowed = {
        ("step", "adam_l2_vs_adamw"),  # the optimizers on a synthetic gradient, no network
        ("Linear", "batch_statistics_noise"),  # one layer's outputs, nothing is trained
        ("Linear", "finetune_run"),  # the new head of a pretrained model
        ("Sequential", "build_mlp"),  # a NoisyShift inserted after each BN of an mlp
    }
    found = set()
    for path in Path(refimpl.experiments.__file__).parent.glob("*.py"):
        for function, names in _calls_by_function(path).items():
            for name in names & {"step", "iterate_minibatches", "Linear", "Sequential"}:
                found.add((name, function))
    assert found - allowed == set()
    assert ("step", "adam_l2_vs_adamw") in found  # the check sees calls at all
