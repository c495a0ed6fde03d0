r"""Experiments of the chapter "Overfitting and regularization".

Every function here is pure and seeded: the same arguments give the same numbers. The expensive
ones are memoized with `refimpl.cache.cached`, so the Korean and the English page (and the
tests) share one run. They run single-threaded: for matrices this small, one BLAS thread is
faster than several competing for two cores.

The common setting is the overfitting recipe of the chapter: an MLP with six hidden layers of
100 ReLU units (He initialization) trained with plain SGD on only 300 standardized digits
images, and measured on the 359 test images after every epoch.

Pages of the chapter and the experiments behind them:

- ``regularization/overfitting``: `train_mlp`, `overfitting_runs`, `data_size_gaps`.
- ``regularization/weight-decay``: `overfitting_runs`, `decay_sweep`, `adam_l2_vs_adamw`,
  `bn_weight_norm`.
- ``regularization/dropout``: `overfitting_runs`, `mc_dropout`, `variance_shift` (with
  `refimpl.train.recalibrate_batch_norm`).
- ``regularization/ensembles``: `ensemble_accuracy`.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from refimpl.cache import cached
from refimpl.data import DigitsSplits, load_digits_splits
from refimpl.functional import softmax
from refimpl.nn import (
    BatchNorm1d,
    CrossEntropyLoss,
    Dropout,
    Linear,
    Module,
    Parameter,
    Sequential,
)
from refimpl.optim import SGD, Adam, AdamW, split_decay_groups
from refimpl.seeds import rng_for, shifted
from refimpl.train import Callback, fit, mlp, recalibrate_batch_norm

__all__ = [
    "BATCH_SIZE",
    "BN_SIZES",
    "EPOCHS",
    "LR",
    "N_TRAIN",
    "SEEDS",
    "SIZES",
    "adam_l2_vs_adamw",
    "bn_weight_norm",
    "build_model",
    "data_size_gaps",
    "decay_sweep",
    "digits",
    "ensemble_accuracy",
    "mc_dropout",
    "overfitting_runs",
    "train_mlp",
    "trained_dropout_model",
    "variance_shift",
    "weight_norm",
]

SIZES = (64, 100, 100, 100, 100, 100, 100, 10)
"""Layer widths of the overfitting network: six hidden layers of 100 units."""
N_TRAIN = 300
"""Training images used (of the 1079 in the training split)."""
LR = 0.02
"""Learning rate of plain SGD (no momentum)."""
BATCH_SIZE = 100
EPOCHS = 100
SEEDS = (0, 1, 2, 3, 4)
"""Seeds of the repeated runs (initial weights, shuffling and dropout masks)."""


# -- building blocks ----------------------------------------------------------------------------


def digits(n_train: int = N_TRAIN) -> DigitsSplits:
    """The digits split of the chapter: ``n_train`` training images, standardized.

    The scaler is fitted on those ``n_train`` images only; the test set (359 images) is the
    same for every ``n_train``.
    """
    return load_digits_splits(seed=shifted(0), n_train=n_train, scale="standardize")


def build_model(
    seed: int, dropout: float = 0.0, batchnorm: bool = False, sizes: tuple = SIZES
) -> Sequential:
    """The chapter's MLP with He-normal weights and zero biases, all drawn from ``seed``.

    The same ``seed`` gives the same initial weights whatever ``dropout`` is, so runs with and
    without regularization start from the same point; the dropout masks come from the same
    generator afterwards.
    """
    norm = "batch" if batchnorm else None
    return mlp(sizes, norm=norm, dropout=dropout, init="he_normal", rng=rng_for(seed))


def weight_norm(model: Module) -> float:
    r"""The norm of all ``Linear`` weights together, $\sqrt{\sum_\ell \lVert W_\ell \rVert_F^2}$."""
    # ‖W‖² = Σ over layers of the sum of squared entries
    squares = sum(float(np.sum(m.weight.data**2)) for m in model.modules() if isinstance(m, Linear))
    return float(np.sqrt(squares))


def _shuffle_rng(seed: int) -> np.random.Generator:
    """The minibatch order of run ``seed``, independent of its weights and masks."""
    return rng_for(seed, 1)


# -- overfitting, weight decay and dropout on 300 images ---------------------------------------


class _WeightNormRecorder(Callback):
    """`weight_norm` of the model before training and after every epoch."""

    def __init__(self, model: Module):
        self.model = model
        self.norms = [weight_norm(model)]

    def on_epoch_end(self, epoch, history):
        self.norms.append(weight_norm(self.model))


@cached
def train_mlp(
    seed: int,
    weight_decay: float = 0.0,
    dropout: float = 0.0,
    n_train: int = N_TRAIN,
    epochs: int = EPOCHS,
    lr: float = LR,
    batch_size: int = BATCH_SIZE,
) -> dict:
    r"""Train the overfitting network once and record its learning curves.

    Plain SGD with learning rate ``lr``; weight decay (coupled L2, the gradient of
    $\tfrac{\lambda}{2}\lVert W\rVert^2$) on the weight matrices only, not on the biases
    (`refimpl.optim.split_decay_groups`).

    Parameters
    ----------
    seed : int
        Seed of the initial weights, the shuffling and the dropout masks.
    weight_decay : float, default 0
        $\lambda$.
    dropout : float, default 0
        Drop probability $p$ of a ``Dropout`` after every hidden ReLU.
    n_train, epochs, lr, batch_size
        The training set size and the optimizer's settings.

    Returns
    -------
    dict
        ``train_accuracy``, ``test_accuracy``, ``train_loss``, ``test_loss``: arrays of shape
        (epochs,), measured in evaluation mode after every epoch; ``weight_norm``: shape
        (epochs + 1,), $\lVert W\rVert$ at the start and after every epoch;
        ``test_probabilities``: shape (359, 10), the softmax outputs on the test set at the end
        (evaluation mode); ``state``: the final value of every parameter, in
        ``model.parameters()`` order.
    """
    data = digits(n_train)
    model = build_model(seed, dropout=dropout)
    optimizer = SGD(split_decay_groups(model, weight_decay), lr=lr)
    norms = _WeightNormRecorder(model)
    with threadpool_limits(1):
        history = fit(
            model,
            CrossEntropyLoss(),
            optimizer,
            (data.X_train, data.y_train, data.X_test, data.y_test),
            epochs=epochs,
            batch_size=batch_size,
            rng=_shuffle_rng(seed),
            callbacks=[norms],
        )
        model.eval()
        probabilities = softmax(model(data.X_test))
    return {
        "train_accuracy": np.array(history.train_accuracy),
        "test_accuracy": np.array(history.val_accuracy),
        "train_loss": np.array(history.train_loss),
        "test_loss": np.array(history.val_loss),
        "weight_norm": np.array(norms.norms),
        "test_probabilities": probabilities,
        "state": [p.data.copy() for p in model.parameters()],
    }


def overfitting_runs(
    weight_decay: float = 0.0, dropout: float = 0.0, seeds: tuple = SEEDS
) -> dict[str, np.ndarray]:
    """The learning curves of `train_mlp` for several seeds, stacked.

    Returns
    -------
    dict
        ``epoch``: shape (E,), 1..E; ``train_accuracy``, ``test_accuracy``, ``train_loss``,
        ``test_loss``: shape (S, E), one row per seed; ``gap``: shape (S,), the train-test
        accuracy gap after the last epoch; ``weight_norm``: shape (S,), the final norm.
    """
    runs = [train_mlp(seed, weight_decay=weight_decay, dropout=dropout) for seed in seeds]
    out = {
        key: np.stack([run[key] for run in runs])
        for key in ("train_accuracy", "test_accuracy", "train_loss", "test_loss")
    }
    out["epoch"] = np.arange(1, out["train_accuracy"].shape[1] + 1)
    out["gap"] = out["train_accuracy"][:, -1] - out["test_accuracy"][:, -1]
    out["weight_norm"] = np.array([run["weight_norm"][-1] for run in runs])
    return out


def data_size_gaps(sizes: tuple = (300, 1079), seeds: tuple = (0, 1, 2)) -> dict[str, np.ndarray]:
    """The final train and test accuracy of the same network for several training-set sizes.

    Returns
    -------
    dict
        ``n_train``: shape (K,); ``train_accuracy``, ``test_accuracy``, ``gap``: shape (K, S).
    """
    train = np.array(
        [[train_mlp(s, n_train=n)["train_accuracy"][-1] for s in seeds] for n in sizes]
    )
    test = np.array([[train_mlp(s, n_train=n)["test_accuracy"][-1] for s in seeds] for n in sizes])
    return {
        "n_train": np.array(sizes),
        "train_accuracy": train,
        "test_accuracy": test,
        "gap": train - test,
    }


def decay_sweep(
    weight_decays: tuple = (0.0, 0.01, 0.03, 0.1, 0.3), seeds: tuple = SEEDS
) -> dict[str, np.ndarray]:
    r"""Final accuracies, gap and weight norm of `train_mlp` over a range of $\lambda$.

    Returns
    -------
    dict
        ``weight_decay``: shape (L,); ``train_accuracy``, ``test_accuracy``, ``gap``,
        ``weight_norm``: shape (L, S), after the last epoch.
    """
    rows = [overfitting_runs(weight_decay=wd, seeds=seeds) for wd in weight_decays]
    return {
        "weight_decay": np.array(weight_decays),
        "train_accuracy": np.array([r["train_accuracy"][:, -1] for r in rows]),
        "test_accuracy": np.array([r["test_accuracy"][:, -1] for r in rows]),
        "gap": np.array([r["gap"] for r in rows]),
        "weight_norm": np.array([r["weight_norm"] for r in rows]),
    }


# -- coupled L2 in Adam versus decoupled weight decay ------------------------------------------


@cached
def adam_l2_vs_adamw(
    seed: int = 0,
    scales: tuple = tuple(np.logspace(-3, 1, 9)),
    coordinates_per_scale: int = 20,
    steps: int = 1000,
    lr: float = 1e-3,
    weight_decay: float = 1.0,
) -> dict[str, np.ndarray]:
    r"""How much Adam with L2 and AdamW shrink weights whose gradients have different sizes.

    Every coordinate $\theta_i$ starts at 1 and receives a pure-noise loss gradient
    $g_i = s_i\,\xi$, $\xi \sim \mathcal N(0, 1)$, so nothing but weight decay pulls it
    anywhere. Both optimizers get the same gradients, ``lr`` and ``weight_decay``.

    Parameters
    ----------
    seed : int
        Seed of the gradient noise.
    scales : tuple of float
        The gradient sizes $s$; ``coordinates_per_scale`` coordinates share each.
    steps, lr, weight_decay
        $T$, $\eta$, $\lambda$.

    Returns
    -------
    dict
        ``scale``: shape (K,); ``adam_l2``, ``adamw``: shape (K,), the mean of $|\theta_i|$
        after ``steps`` steps over the coordinates of each scale; ``pure_decay``: the
        scalar $(1 - \eta\lambda)^T$, what decay alone would leave.
    """
    s = np.repeat(np.asarray(scales, dtype=np.float64), coordinates_per_scale)
    final = {}
    for name, Optimizer in (("adam_l2", Adam), ("adamw", AdamW)):
        noise = rng_for(seed)
        theta = Parameter(np.ones_like(s), "theta")
        optimizer = Optimizer([theta], lr=lr, weight_decay=weight_decay)
        for _ in range(steps):
            # g = s ⊙ ξ: the loss gradient carries no signal, only noise of size s
            theta.grad[...] = s * noise.standard_normal(s.shape)
            optimizer.step()
        final[name] = np.abs(theta.data).reshape(len(scales), -1).mean(axis=1)
    return {
        "scale": np.asarray(scales, dtype=np.float64),
        **final,
        "pure_decay": (1 - lr * weight_decay) ** steps,
    }


# -- weight decay in front of batch normalization -----------------------------------------------


BN_SIZES = (64, 100, 100, 100, 10)
"""The MLP of the weight-decay-with-BatchNorm experiments: three ``Linear → BN → ReLU`` blocks."""


class _ScaleInvariantRecorder(Callback):
    r"""Records the norms of the weights in front of a BatchNorm and their learning rate before
    training and after every step, and the loss of every step. With ``as_schedule``, it sets
    the learning rate of the first parameter group before every step to the schedule
    $\eta_t = \eta (1 - \eta\lambda)^{-(2t+1)}$ that stands in for the decay."""

    def __init__(self, optimizer, weights, lr: float, weight_decay: float, as_schedule: bool):
        self.optimizer, self.weights = optimizer, weights
        self.lr, self.weight_decay, self.as_schedule = lr, weight_decay, as_schedule
        self.norms: list[list[float]] = []
        self.row_norms_squared: list[list[np.ndarray]] = []
        self.rates: list[float] = []
        self.losses: list[float] = []
        self._record()

    def _record(self):
        self.norms.append([float(np.linalg.norm(w.data)) for w in self.weights])
        self.row_norms_squared.append([np.sum(w.data**2, axis=1) for w in self.weights])
        self.rates.append(self.optimizer.param_groups[0]["lr"])

    def on_step_start(self, step, X, y):
        if self.as_schedule:
            # η_t = η (1 − ηλ)^(−(2t+1))
            decay = 1 - self.lr * self.weight_decay
            self.optimizer.param_groups[0]["lr"] = self.lr * decay ** -(2 * step + 1)

    def on_step_end(self, step, loss):
        self.losses.append(loss)
        self._record()


@cached
def bn_weight_norm(
    seed: int,
    weight_decay: float,
    lr: float = 0.1,
    epochs: int = 100,
    as_schedule: bool = False,
    eps: float = 1e-5,
) -> dict[str, np.ndarray]:
    r"""Train an MLP with BatchNorm after every hidden ``Linear`` and follow $\lVert W\rVert$.

    Plain SGD. Only the weights in front of a BatchNorm are decayed (they are scale-invariant);
    the output layer, the biases and BN's $\gamma$, $\beta$ are not. BN normalizes each output
    channel $c$ separately, so each row $w_c$ of such a weight is scale-invariant on its own, and
    its norm sets the effective learning rate $\eta / \lVert w_c\rVert^2$ at which the row's
    direction turns (van Laarhoven, 2017; Hoffer et al., 2018).

    With ``as_schedule=True`` nothing is decayed; instead those weights get the learning rate
    $\eta_t = \eta\,(1 - \eta\lambda)^{-(2t+1)}$ at step $t = 0, 1, \dots$ (the other
    parameters keep $\eta$). For scale-invariant weights this run computes the same function at
    every step as the decayed one, with weights larger by $(1 - \eta\lambda)^{-t}$, up to the
    small effect of BatchNorm's ``eps`` (which makes BN only nearly scale-invariant).

    Parameters
    ----------
    seed : int
        Seed of the initial weights and of the minibatch order.
    weight_decay : float
        $\lambda$ of the weights in front of a BatchNorm.
    lr : float, default 0.1
        $\eta$, plain SGD.
    epochs : int, default 100
        Passes over the 300 training images, 3 steps each.
    as_schedule : bool, default False
        Replace the decay by the equivalent learning-rate schedule (see above).
    eps : float, default 1e-5
        The ``eps`` of every BatchNorm.

    Returns
    -------
    dict
        ``step``: shape (T + 1,), 0..T; ``norm``: shape (L, T + 1), $\lVert W_\ell\rVert_F$ of
        each of the L weights in front of a BatchNorm, before training and after every step;
        ``effective_lr``: the same shape, $\eta_t / \lVert w_c \rVert^2$ averaged over the
        rows $c$ of $W_\ell$, with $\eta_t$ the learning rate those weights had;
        ``batch_loss``: shape (T,), the loss of every step;
        ``train_mode_logits``: shape (359, 10), the test set through the final model with
        batch statistics; ``test_accuracy``: float, in evaluation mode; ``lr``: $\eta$.
    """
    data = digits()
    model = build_model(seed, batchnorm=True, sizes=BN_SIZES)
    for layer in model.modules():
        if isinstance(layer, BatchNorm1d):
            layer.eps = eps
    # the Linear layers whose output goes into a BatchNorm: all but the last
    layers = [m for m in model.modules() if isinstance(m, Linear)][:-1]
    scale_invariant = [layer.weight for layer in layers]
    others = [p for p in model.parameters() if all(p is not w for w in scale_invariant)]
    decay = 0.0 if as_schedule else weight_decay
    optimizer = SGD([{"params": scale_invariant, "weight_decay": decay}, {"params": others}], lr=lr)
    recorder = _ScaleInvariantRecorder(optimizer, scale_invariant, lr, weight_decay, as_schedule)
    with threadpool_limits(1):
        fit(
            model,
            CrossEntropyLoss(),
            optimizer,
            (data.X_train, data.y_train, data.X_test, data.y_test),
            epochs=epochs,
            batch_size=BATCH_SIZE,
            rng=_shuffle_rng(seed),
            callbacks=[recorder],
        )
        model.eval()
        accuracy = float(np.mean(model(data.X_test).argmax(axis=1) == data.y_test))
        model.train()
        train_mode_logits = model(data.X_test)
    norm = np.array(recorder.norms).T
    row_norm_squared = np.array(recorder.row_norms_squared).transpose(1, 0, 2)  # (L, T + 1, C)
    return {
        "step": np.arange(norm.shape[1]),
        "norm": norm,
        # η_eff = η_t / ‖w_c‖², averaged over the output channels c (the rows of W)
        "effective_lr": (np.array(recorder.rates)[:, None] / row_norm_squared).mean(axis=2),
        "batch_loss": np.array(recorder.losses),
        "train_mode_logits": train_mode_logits,
        "test_accuracy": accuracy,
        "lr": lr,
    }


# -- dropout ------------------------------------------------------------------------------------


def trained_dropout_model(seed: int, dropout: float = 0.1) -> Sequential:
    """The network of `train_mlp(seed, dropout=dropout)` after training, ready to draw masks.

    Every ``Dropout`` layer draws from one new generator (stream 2 of ``seed``), shared by all
    of them: each forward pass in training mode gives every layer its own, independent mask, as
    during training.
    """
    model = build_model(seed, dropout=dropout)
    trained = train_mlp(seed, dropout=dropout)["state"]
    for parameter, value in zip(model.parameters(), trained, strict=True):
        parameter.data[...] = value
    mask_rng = rng_for(seed, 2)
    for layer in model.modules():
        if isinstance(layer, Dropout):
            layer.rng = mask_rng
    return model


@cached
def mc_dropout(
    seed: int,
    dropout: float = 0.1,
    max_masks: int = 64,
    repeats: int = 3,
) -> dict[str, np.ndarray]:
    r"""Monte Carlo dropout against the weight-scaling rule, on a trained dropout network.

    The network of `train_mlp(seed, dropout=dropout)` predicts the test set in two ways:
    evaluation mode (dropout off; with inverted dropout this *is* the weight-scaling rule),
    and training mode averaged over $K$ random masks,
    $\bar p = \frac1K \sum_{k=1}^K \operatorname{softmax}(f(x; m_k))$.

    Returns
    -------
    dict
        ``k``: shape (max_masks,), 1, 2, ..., ``max_masks``; ``mc_accuracy``: shape
        (repeats, max_masks), test accuracy of the average of the first $K$ masks, each row
        with fresh masks; ``weight_scaling_accuracy``: float.
    """
    data = digits()
    model = trained_dropout_model(seed, dropout)
    ks = np.arange(1, max_masks + 1)
    with threadpool_limits(1):
        model.eval()
        weight_scaling = float(np.mean(model(data.X_test).argmax(axis=1) == data.y_test))
        model.train()
        accuracy = np.empty((repeats, max_masks))
        for r in range(repeats):
            passes = np.stack([softmax(model(data.X_test)) for _ in range(max_masks)])
            # p̄_K = (1/K) Σ_{k ≤ K} softmax(f(x; m_k)), for every K at once
            running_mean = np.cumsum(passes, axis=0) / ks[:, None, None]
            accuracy[r] = np.mean(running_mean.argmax(axis=2) == data.y_test, axis=1)
    return {"k": ks, "mc_accuracy": accuracy, "weight_scaling_accuracy": weight_scaling}


def _variance_shift_model(seed: int, placement: str, dropout: float, sizes: tuple) -> Sequential:
    """Linear → BN → ReLU blocks with dropout after every block or only after the last one."""
    blocks = len(sizes) - 2
    if placement == "before":
        drop_probabilities = [dropout] * blocks
    else:
        drop_probabilities = [0.0] * (blocks - 1) + [dropout]
    return mlp(sizes, norm="batch", dropout=drop_probabilities, init="he_normal", rng=rng_for(seed))


def _shift_and_accuracy(model: Sequential, data: DigitsSplits) -> tuple[np.ndarray, float]:
    """Median running-to-test variance ratio of every BatchNorm, and the test accuracy."""
    model.eval()
    x, ratios = data.X_test, []
    for layer in model.layers:
        if isinstance(layer, BatchNorm1d):
            # σ²_running / σ²_test, per channel, then the median over channels
            ratios.append(float(np.median(layer.running_var / x.var(axis=0, ddof=1))))
        x = layer(x)
    return np.array(ratios), float(np.mean(x.argmax(axis=1) == data.y_test))


@cached
def variance_shift(
    seed: int,
    placement: str,
    dropout: float = 0.5,
    epochs: int = 30,
    sizes: tuple = (64, 100, 100, 100, 100, 10),
) -> dict[str, np.ndarray]:
    r"""The variance shift of every BatchNorm when dropout comes before it, or only after the last.

    ``placement="before"``: ``Linear → BN → ReLU → Dropout`` blocks, so every BatchNorm but the
    first receives dropped-out inputs. ``placement="after"``: the same blocks without dropout,
    and one ``Dropout`` after the last block, in front of the output layer. After training
    (plain SGD), each BatchNorm's running variance (collected in training, with dropout on) is
    compared with the variance its input actually has at test time (evaluation mode, dropout
    off) on the test set. Then the running statistics are collected again on the training
    images with dropout off (`refimpl.train.recalibrate_batch_norm`) and both are measured once
    more.

    Returns
    -------
    dict
        ``ratio``: shape (L,), for each BatchNorm the median over channels of
        $\sigma^2_\text{running} / \sigma^2_\text{test}$ (1 means no shift);
        ``test_accuracy``: float; ``recollected_ratio``, ``recollected_accuracy``: the same
        after `refimpl.train.recalibrate_batch_norm`.
    """
    if placement not in ("before", "after"):
        raise ValueError(f"placement must be 'before' or 'after', got {placement!r}")
    data = digits()
    model = _variance_shift_model(seed, placement, dropout, sizes)
    optimizer = SGD(model.parameters(), lr=0.05)
    with threadpool_limits(1):
        fit(
            model,
            CrossEntropyLoss(),
            optimizer,
            (data.X_train, data.y_train, data.X_test, data.y_test),
            epochs=epochs,
            batch_size=BATCH_SIZE,
            rng=_shuffle_rng(seed),
        )
        ratio, accuracy = _shift_and_accuracy(model, data)
        recalibrate_batch_norm(model, data.X_train, BATCH_SIZE)
        recollected_ratio, recollected_accuracy = _shift_and_accuracy(model, data)
    return {
        "ratio": ratio,
        "test_accuracy": accuracy,
        "recollected_ratio": recollected_ratio,
        "recollected_accuracy": recollected_accuracy,
    }


# -- ensembles ----------------------------------------------------------------------------------


def ensemble_accuracy(
    seeds: tuple = tuple(range(10)), draws: int = 20, seed: int = 0
) -> dict[str, np.ndarray]:
    r"""Test accuracy of averaging the predicted probabilities of $K$ independently trained nets.

    The pool is `train_mlp(s)` for every ``s`` in ``seeds`` (no regularization; different
    initial weights and minibatch orders). For each $K$, ``draws`` random subsets of $K$
    networks are averaged, $\bar p = \frac1K \sum_k p_k$, and the argmax is the prediction.

    Returns
    -------
    dict
        ``k``: shape (M,), 1..M with M = len(seeds); ``accuracy``: shape (draws, M);
        ``single``: shape (M,), the accuracy of each network alone.
    """
    data = digits()
    probabilities = np.stack([train_mlp(s)["test_probabilities"] for s in seeds])
    single = np.mean(probabilities.argmax(axis=2) == data.y_test, axis=1)
    rng = rng_for(seed)
    ks = np.arange(1, len(seeds) + 1)
    accuracy = np.empty((draws, len(ks)))
    for d in range(draws):
        for j, k in enumerate(ks):
            members = rng.choice(len(seeds), size=k, replace=False)
            # p̄ = (1/K) Σ p_k
            mean = probabilities[members].mean(axis=0)
            accuracy[d, j] = np.mean(mean.argmax(axis=1) == data.y_test)
    return {"k": ks, "accuracy": accuracy, "single": single}
