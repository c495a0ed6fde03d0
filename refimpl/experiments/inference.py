r"""Experiments of the chapter "Training vs inference, limits and alternatives".

Every function here is pure and seeded: the same arguments give the same numbers. The training
runs are memoized with `refimpl.cache.cached` one run at a time, so a sweep and a comparison
that share a configuration train it once, and the Korean and the English page share every run.
They use small MLPs on scikit-learn's handwritten digits (`refimpl.data.load_digits_splits`)
and run single-threaded: for matrices this small one BLAS thread is faster than several.

Pages of the chapter and the experiments behind them:

- ``inference/train-vs-eval``: `running_average_traces`.
- ``inference/folding``: `folding_timing`.
- ``inference/limits``: `batch_statistics_noise`, `batch_size_sweep`, `accumulation_gap`,
  `finetune_comparison`.
- ``inference/alternatives``: `shared_statistics_mask`, `moments_through_depth`,
  `normalizer_comparison`.
- ``inference/troubleshooting``: `eval_gap`, `eval_gaps`.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

from refimpl import functional as F
from refimpl.cache import cached, one_blas_thread
from refimpl.data import load_digits_splits
from refimpl.nn import (
    BatchNorm1d,
    CrossEntropyLoss,
    Linear,
    is_batch_norm,
)
from refimpl.nn import init as nn_init
from refimpl.optim import Adam
from refimpl.seeds import rng_for, shifted
from refimpl.train import Callback, evaluate, fit, mlp, recalibrate_batch_norm

__all__ = [
    "METHODS",
    "accumulation_gap",
    "batch_size_sweep",
    "batch_statistics_noise",
    "build_mlp",
    "ema_weight",
    "eval_gap",
    "eval_gaps",
    "finetune_comparison",
    "finetune_run",
    "folding_timing",
    "moments_through_depth",
    "normalizer_comparison",
    "running_average_traces",
    "shared_statistics_mask",
    "train_run",
]

#: The normalization methods the training experiments compare, and how each is labelled.
METHODS = {
    "bn": "BatchNorm",
    "ln": "LayerNorm",
    "gn": "GroupNorm",
    "wn": "WeightNorm + mean-only BN",
    "selu": "SELU",
    "none": "no normalization",
}


# -- running statistics -------------------------------------------------------------------------


def ema_weight(momentum: float, steps: np.ndarray) -> np.ndarray:
    r"""Weight the data have in a running average started at 0, after ``steps`` updates.

    Parameters
    ----------
    momentum : float
        PyTorch's momentum $\alpha$ (the weight of the newest batch).
    steps : ndarray of int
        Numbers of updates $N$.

    Returns
    -------
    ndarray, shape of steps
        $1 - (1 - \alpha)^T$: the running mean's expected value as a fraction of the data's mean.
    """
    # running_T = (1 − α)^T · running_0 + (1 − (1 − α)^T) · μ    in expectation
    return 1.0 - (1.0 - momentum) ** np.asarray(steps, dtype=np.float64)


def running_average_traces(
    momenta: tuple = (0.5, 0.1, 0.01, None),
    steps: int = 1000,
    batch_size: int = 32,
    num_features: int = 16,
    mean: float = 3.0,
    std: float = 2.0,
    seed: int = 0,
) -> dict:
    r"""Follow PyTorch's running statistics on batches of a fixed distribution.

    Every step draws one batch of ``batch_size`` values per feature from
    $\mathcal N(\text{mean}, \text{std}^2)$ and feeds its statistics to
    `refimpl.functional.update_running_stats`, starting from PyTorch's initial values
    (running mean 0, running variance 1). Every momentum sees the same batches.

    Returns
    -------
    dict
        ``steps`` (1..N); ``momenta``: the labels, the numbers and "None" for the cumulative
        average; ``num_features``; and per label a dict of arrays (N,): ``mean_fraction``, the
        running mean averaged over the features and divided by the true mean; ``mean_error``,
        the root mean square over the features of (running mean − mean) / std; ``var_ratio``,
        the running variance averaged over the features and divided by std². Also
        ``biased_var_ratio``: the average biased batch variance divided by std², and
        ``expected_biased_ratio`` $= (B-1)/B$.
    """
    rng = rng_for(seed)
    batches = rng.normal(mean, std, size=(steps, batch_size, num_features))
    labels = ["None" if m is None else str(m) for m in momenta]
    result = {"steps": np.arange(1, steps + 1), "momenta": labels, "num_features": num_features}
    for label, momentum in zip(labels, momenta, strict=True):
        running_mean, running_var, tracked = np.zeros(num_features), np.ones(num_features), 0
        fraction, error, var_ratio = np.empty(steps), np.empty(steps), np.empty(steps)
        for t in range(steps):
            batch = batches[t]
            running_mean, running_var, tracked = F.update_running_stats(
                running_mean,
                running_var,
                batch.mean(axis=0),
                batch.var(axis=0),
                count=batch_size,
                momentum=momentum,
                num_batches_tracked=tracked,
            )
            fraction[t] = running_mean.mean() / mean
            error[t] = np.sqrt(np.mean(((running_mean - mean) / std) ** 2))
            var_ratio[t] = running_var.mean() / std**2
        result[label] = {"mean_fraction": fraction, "mean_error": error, "var_ratio": var_ratio}
    result["biased_var_ratio"] = float(batches.var(axis=1).mean() / std**2)
    result["expected_biased_ratio"] = (batch_size - 1) / batch_size
    return result


# -- batch statistics as estimates --------------------------------------------------------------


@one_blas_thread
def batch_statistics_noise(
    batch_sizes: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256),
    num_batches: int = 400,
    hidden: int = 32,
    seed: int = 0,
) -> dict:
    r"""How far one mini-batch's mean and variance are from the training set's, per batch size.

    The values are real pre-activations: the digits training set (pixels / 16) through one
    randomly initialized ``Linear(64, hidden)``. For each batch size, ``num_batches`` batches are
    drawn without replacement (as an epoch's batches are), and each feature's batch mean and
    (biased) batch variance are compared with the same feature's statistics over all training
    images.

    Returns
    -------
    dict
        ``batch_sizes`` (K,); ``mean_noise`` (K,): the root mean square of
        $(\mu_B - \mu) / \sigma$ over batches and features; ``var_noise`` (K,): the same for
        $(\sigma^2_B - \sigma^2) / \sigma^2$; ``mean_theory`` (K,): $\sqrt{(n - B) / (B (n - 1))}$,
        the standard error of a mean of $B$ values drawn without replacement from $n$;
        ``n``: the number of training images.
    """
    rng = rng_for(seed)
    X = load_digits_splits(seed=shifted(0)).X_train
    layer = Linear(64, hidden, rng=rng)
    h = layer(X)
    n = h.shape[0]
    mu, var = h.mean(axis=0), h.var(axis=0)
    mean_noise, var_noise = [], []
    for size in batch_sizes:
        rows = np.stack([rng.choice(n, size, replace=False) for _ in range(num_batches)])
        batches = h[rows]  # (num_batches, size, hidden)
        # (μ_B − μ) / σ  and  (σ²_B − σ²) / σ²    per batch and feature
        mean_error = (batches.mean(axis=1) - mu) / np.sqrt(var)
        var_error = (batches.var(axis=1) - var) / var
        mean_noise.append(np.sqrt(np.mean(mean_error**2)))
        var_noise.append(np.sqrt(np.mean(var_error**2)))
    sizes = np.asarray(batch_sizes, dtype=np.float64)
    return {
        "batch_sizes": np.asarray(batch_sizes),
        "mean_noise": np.array(mean_noise),
        "var_noise": np.array(var_noise),
        # standard error of the mean, sampling without replacement
        "mean_theory": np.sqrt((n - sizes) / (sizes * (n - 1))),
        "n": n,
    }


# -- models -------------------------------------------------------------------------------------


def build_mlp(method: str, rng: np.random.Generator, width: int = 64, groups: int = 8):
    """The chapter's MLP ``64 → width → width → 10`` (`refimpl.train.mlp`), with the
    normalization ``method`` in each hidden block.

    Parameters
    ----------
    method : {"bn", "ln", "gn", "wn", "selu", "none"}
        ``bn``: Linear → BatchNorm1d → ReLU. ``ln``: Linear → LayerNorm → ReLU. ``gn``: Linear →
        GroupNorm(groups) → ReLU. ``wn``: WeightNormLinear → MeanOnlyBatchNorm → ReLU.
        ``selu``: Linear → SELU with LeCun-normal weights and zero biases. ``none``: Linear →
        ReLU.
    rng : numpy.random.Generator
        Source of the initial weights.
    width : int, default 64
    groups : int, default 8
        Number of groups of GroupNorm.

    Returns
    -------
    Sequential
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    norms = {"bn": "batch", "ln": "layer", "gn": "group", "wn": "weight"}
    return mlp(
        (64, width, width, 10),
        activation="selu" if method == "selu" else "relu",
        norm=norms.get(method),
        groups=groups,
        # SELU's fixed point needs weights with variance 1/fan_in (Klambauer et al., 2017)
        init="lecun_normal" if method == "selu" else None,
        rng=rng,
    )


def learning_rate(batch_size: int, base: float = 1e-3) -> float:
    r"""Adam's learning rate for a batch size, square-root scaling: $\eta = \eta_0 \sqrt{B / 2}$."""
    return base * math.sqrt(batch_size / 2)


@cached
def train_run(method: str, batch_size: int, seed: int, epochs: int = 4) -> dict:
    """Train one MLP on the standardized digits and measure it.

    Adam with `learning_rate` (batch_size), ``epochs`` passes, shuffled batches of
    ``batch_size`` with the last incomplete batch dropped (BatchNorm cannot train on a batch of
    one). The split is fixed (data seed 0); ``seed`` sets the initial weights and the shuffling.

    Returns
    -------
    dict
        ``test_accuracy`` and ``val_accuracy`` after the last epoch (eval mode);
        ``last_epoch_batch_loss``: the mean training loss of the last epoch's steps, as computed
        during training (training mode: batch statistics); ``train_loss_eval``: the loss on the
        same training images afterwards in eval mode (running statistics).
    """
    data = load_digits_splits(seed=shifted(0), scale="standardize")
    rng = rng_for(seed)
    model = build_mlp(method, rng)
    loss_fn = CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=learning_rate(batch_size))
    with threadpool_limits(1):
        history = fit(model, loss_fn, optimizer, data, epochs, batch_size, rng, drop_last=True)
        _, test_accuracy = evaluate(model, loss_fn, data.X_test, data.y_test)
    steps_per_epoch = len(history.batch_loss) // epochs
    return {
        "test_accuracy": test_accuracy,
        "val_accuracy": history.val_accuracy[-1],
        "last_epoch_batch_loss": float(np.mean(history.batch_loss[-steps_per_epoch:])),
        "train_loss_eval": history.train_loss[-1],
    }


def _accuracy_grid(methods, batch_sizes, seeds, epochs) -> dict:
    result = {"methods": list(methods), "batch_sizes": np.asarray(batch_sizes)}
    result["seeds"] = list(seeds)
    for method in methods:
        result[method] = np.array(
            [
                [train_run(method, size, seed, epochs)["test_accuracy"] for seed in seeds]
                for size in batch_sizes
            ]
        )
    return result


def batch_size_sweep(
    methods: tuple[str, ...] = ("bn", "gn", "ln"),
    batch_sizes: tuple[int, ...] = (2, 4, 8, 32, 128),
    seeds: tuple[int, ...] = (0, 1, 2),
    epochs: int = 4,
) -> dict:
    """Test accuracy against batch size for several normalizations (`train_run` each).

    Returns
    -------
    dict
        ``methods``, ``batch_sizes`` (K,), ``seeds`` (S,), and per method an array (K, S) of
        test accuracies.
    """
    return _accuracy_grid(methods, batch_sizes, seeds, epochs)


def normalizer_comparison(
    methods: tuple[str, ...] = ("bn", "ln", "gn", "wn", "selu", "none"),
    batch_sizes: tuple[int, ...] = (2, 128),
    seeds: tuple[int, ...] = (0, 1, 2),
    epochs: int = 4,
) -> dict:
    """Every method at a small and a large batch size, several seeds (`train_run` each).

    Returns
    -------
    dict
        As `batch_size_sweep`.
    """
    return _accuracy_grid(methods, batch_sizes, seeds, epochs)


# -- running statistics that lag behind ---------------------------------------------------------


@cached
def eval_gap(momentum: float, epochs: int = 1, batch_size: int = 32, seed: int = 0) -> dict:
    """Train a BN MLP briefly and compare its test accuracy with batch and with running statistics.

    The MLP of `build_mlp` ("bn") with every BatchNorm1d's ``momentum`` set, trained with Adam
    for ``epochs`` on the standardized digits. Its test accuracy is then measured three ways:
    with the statistics of the test set itself (training mode, the whole test set as one batch,
    on a copy so nothing is updated), in eval mode with the running statistics, and in eval mode
    after `refimpl.train.recalibrate_batch_norm` on the training set.

    Returns
    -------
    dict
        ``steps`` (optimizer steps taken), ``batch_statistics``, ``running_statistics``,
        ``recalibrated``: test accuracies.
    """
    data = load_digits_splits(seed=shifted(0), scale="standardize")
    rng = rng_for(seed)
    model = build_mlp("bn", rng)
    for module in model.modules():
        if isinstance(module, BatchNorm1d):
            module.momentum = momentum
    loss_fn = CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=learning_rate(batch_size))
    with threadpool_limits(1):
        history = fit(model, loss_fn, optimizer, data, epochs, batch_size, rng, drop_last=True)
        probe = copy.deepcopy(model).train()
        batch_accuracy = float(np.mean(probe(data.X_test).argmax(axis=1) == data.y_test))
        running_accuracy = evaluate(model, loss_fn, data.X_test, data.y_test)[1]
        recalibrate_batch_norm(model, data.X_train, batch_size, rng, drop_last=True)
        recalibrated_accuracy = evaluate(model, loss_fn, data.X_test, data.y_test)[1]
    return {
        "steps": len(history.batch_loss),
        "batch_statistics": batch_accuracy,
        "running_statistics": running_accuracy,
        "recalibrated": recalibrated_accuracy,
    }


def eval_gaps(momenta: tuple[float, ...] = (0.1, 0.01), seeds: tuple[int, ...] = tuple(range(10))):
    """`eval_gap` for each momentum and seed.

    Returns
    -------
    dict
        ``momenta`` (M,), ``seeds`` (S,), and ``steps``, ``batch_statistics``,
        ``running_statistics``, ``recalibrated``: arrays (M, S), one entry per run.
    """
    runs = [[eval_gap(momentum, seed=seed) for seed in seeds] for momentum in momenta]
    keys = ("steps", "batch_statistics", "running_statistics", "recalibrated")
    result = {key: np.array([[run[key] for run in row] for row in runs]) for key in keys}
    return {"momenta": np.asarray(momenta), "seeds": list(seeds), **result}


# -- gradient accumulation ----------------------------------------------------------------------


@one_blas_thread
def accumulation_gap(batchnorm: bool, micro_batches: int = 4, batch_size: int = 32, seed: int = 0):
    r"""Compare the gradient of one batch with the gradient accumulated over its micro-batches.

    A fresh MLP (``64 → 32 → 10``, with or without BatchNorm1d) computes the gradient of the
    mean loss on ``batch_size`` digits in one pass, then again as the sum over
    ``micro_batches`` equal parts of (micro-batch mean loss / micro_batches).

    Returns
    -------
    float
        $\max |g_{\text{accumulated}} - g_{\text{full}}| / \max |g_{\text{full}}|$ over every
        parameter.
    """
    data = load_digits_splits(seed=shifted(0))
    X, y = data.X_train[:batch_size], data.y_train[:batch_size]
    model = mlp((64, 32, 10), norm="batch" if batchnorm else None, rng=rng_for(seed))
    loss_fn = CrossEntropyLoss()

    model.zero_grad()
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    full = [p.grad.copy() for p in model.parameters()]

    model.zero_grad()
    for part in np.array_split(np.arange(batch_size), micro_batches):
        loss_fn(model(X[part]), y[part])
        # each micro-batch loss is a mean over its part: divide by the number of parts
        model.backward(loss_fn.backward(1.0 / micro_batches))
    accumulated = [p.grad for p in model.parameters()]

    scale = max(np.abs(g).max() for g in full)
    return max(np.abs(a - g).max() for a, g in zip(accumulated, full, strict=True)) / scale


# -- fine-tuning --------------------------------------------------------------------------------


def _classes(X: np.ndarray, y: np.ndarray, classes: tuple[int, ...]):
    keep = np.isin(y, classes)
    return X[keep], y[keep] - min(classes)


class _FreezeBatchNorm(Callback):
    """Puts every BatchNorm in eval mode at the start of each epoch: it normalizes with its
    running statistics and leaves them unchanged, while the rest of the model trains."""

    def on_epoch_start(self, epoch, model):
        for module in model.modules():
            if is_batch_norm(module):
                module.eval()


@cached
def finetune_run(
    batch_size: int,
    seed: int,
    n_finetune: int = 100,
    pretrain_epochs: int = 5,
    finetune_epochs: int = 10,
) -> dict:
    """Pretrain a BN MLP on digits 0-4, then train a new head for digits 5-9 on few images.

    The backbone (both hidden blocks) is frozen: its parameters are not given to the optimizer.
    Two copies of the pretrained model are fine-tuned identically except for the BN layers:

    - ``"batch"``: the whole model is in training mode, so BN normalizes with each fine-tuning
      batch's statistics and keeps updating its running statistics (what PyTorch does after
      ``requires_grad_(False)`` on the backbone and ``model.train()``);
    - ``"frozen"``: the BN layers are in eval mode, so they normalize with the running
      statistics of pretraining and leave them unchanged.

    Returns
    -------
    dict
        Test accuracy on digits 5-9 (eval mode) for ``"batch"`` and ``"frozen"``.
    """
    data = load_digits_splits(seed=shifted(0), scale="standardize")
    old, new = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
    rng = rng_for(seed)
    loss_fn = CrossEntropyLoss()
    with threadpool_limits(1):
        model = build_mlp("bn", rng)
        model.layers[-1] = Linear(64, 5, rng=rng)
        pretrain = (
            *_classes(data.X_train, data.y_train, old),
            *_classes(data.X_val, data.y_val, old),
        )
        optimizer = Adam(model.parameters(), lr=3e-3)
        fit(model, loss_fn, optimizer, pretrain, pretrain_epochs, 32, rng, drop_last=True)

        X_new, y_new = _classes(data.X_train, data.y_train, new)
        X_new, y_new = X_new[:n_finetune], y_new[:n_finetune]
        X_test, y_test = _classes(data.X_test, data.y_test, new)
        result = {}
        for variant in ("batch", "frozen"):
            tuned = copy.deepcopy(model)
            head_rng = rng_for(1000 + seed)
            tuned.layers[-1] = Linear(64, 5, rng=head_rng)
            optimizer = Adam(tuned.layers[-1].parameters(), lr=learning_rate(batch_size, 3e-3))
            history = fit(
                tuned,
                loss_fn,
                optimizer,
                (X_new, y_new, X_test, y_test),
                finetune_epochs,
                batch_size,
                head_rng,
                drop_last=True,
                callbacks=[_FreezeBatchNorm()] if variant == "frozen" else [],
            )
            result[variant] = history.val_accuracy[-1]
    return result


def finetune_comparison(
    batch_sizes: tuple[int, ...] = (2, 16), seeds: tuple[int, ...] = tuple(range(10))
):
    """`finetune_run` for each batch size and seed.

    Ten seeds by default: one run's test accuracy moves by a few points with the seed and the
    data split, as much as the effect at batch size 16, so a median over three seeds could land
    on either side of zero.

    Returns
    -------
    dict
        ``batch_sizes`` (K,), ``seeds`` (S,), and ``"batch"`` and ``"frozen"``: arrays (K, S) of
        test accuracies.
    """
    runs = [[finetune_run(size, seed) for seed in seeds] for size in batch_sizes]
    return {
        "batch_sizes": np.asarray(batch_sizes),
        "seeds": list(seeds),
        "batch": np.array([[run["batch"] for run in row] for row in runs]),
        "frozen": np.array([[run["frozen"] for run in row] for row in runs]),
    }


# -- folding ------------------------------------------------------------------------------------


def folding_timing(
    batch_size: int = 256,
    in_features: int = 64,
    out_features: int = 256,
    number: int = 20,
    repeat: int = 15,
    seed: int = 0,
) -> dict:
    """Time Linear followed by eval-mode BN against the folded Linear (a measurement, not cached).

    The two variants take turns: ``repeat`` rounds, each timing ``number`` calls of one and then
    of the other, so that other work on the machine disturbs both alike. The best round of each
    is kept (the least disturbed).

    Returns
    -------
    dict
        ``unfolded`` and ``folded``: seconds per call; ``max_difference``: the largest absolute
        difference between the two outputs.
    """
    rng = rng_for(seed)
    x = rng.normal(size=(batch_size, in_features))
    weight = rng.normal(size=(out_features, in_features)) / math.sqrt(in_features)
    bias = rng.normal(size=out_features)
    mean, var = rng.normal(size=out_features), rng.uniform(0.5, 2.0, out_features)
    gamma, beta = rng.uniform(0.5, 1.5, out_features), rng.normal(size=out_features)
    folded_weight, folded_bias = F.fold_batch_norm(weight, bias, mean, var, gamma, beta)

    def unfolded():
        h, _ = F.linear_forward(x, weight, bias)
        return F.batch_norm_eval_forward(h, mean, var, gamma, beta)[0]

    def folded():
        return F.linear_forward(x, folded_weight, folded_bias)[0]

    def seconds_per_call(function) -> float:
        start = time.perf_counter()
        for _ in range(number):
            function()
        return (time.perf_counter() - start) / number

    times = {"unfolded": [], "folded": []}
    with threadpool_limits(1):
        for _ in range(repeat):
            times["unfolded"].append(seconds_per_call(unfolded))
            times["folded"].append(seconds_per_call(folded))
        max_difference = float(np.abs(unfolded() - folded()).max())
    return {
        "unfolded": min(times["unfolded"]),
        "folded": min(times["folded"]),
        "max_difference": max_difference,
    }


# -- which values share statistics --------------------------------------------------------------


@one_blas_thread
def shared_statistics_mask(
    kind: str, shape: tuple[int, int, int], n: int, c: int, num_groups: int = 2
) -> np.ndarray:
    """Which values of an ``(N, C, L)`` block share their statistics with value ``(n, c, ·)``.

    Parameters
    ----------
    kind : {"batch", "layer", "instance", "group"}
    shape : (N, C, L)
        ``L`` is the number of spatial positions (H × W).
    n, c : int
        The sample and channel of the reference value.
    num_groups : int, default 2
        For ``"group"``: the number of groups; must divide C.

    Returns
    -------
    ndarray of bool, shape (N, C, L)
        True where a value enters the same statistics.
    """
    C = shape[1]
    mask = np.zeros(shape, dtype=bool)
    if kind == "batch":
        mask[:, c, :] = True  # one channel, every sample and position
    elif kind == "layer":
        mask[n, :, :] = True  # one sample, every channel and position
    elif kind == "instance":
        mask[n, c, :] = True  # one sample and channel, every position
    elif kind == "group":
        size = C // num_groups
        start = (c // size) * size
        mask[n, start : start + size, :] = True  # one sample, the channels of c's group
    else:
        raise ValueError(f"kind must be batch, layer, instance or group, got {kind!r}")
    return mask


# -- self-normalizing networks ------------------------------------------------------------------


@one_blas_thread
def moments_through_depth(
    activation: str, init: str, depth: int = 32, width: int = 256, n: int = 1000, seed: int = 0
) -> dict:
    r"""Mean and variance of the activations of a deep random MLP, layer by layer (no training).

    Standardized Gaussian input goes through ``depth`` blocks Linear → activation, all weights
    drawn from ``init`` and biases 0.

    Parameters
    ----------
    activation : {"selu", "relu"}
    init : {"lecun_normal", "kaiming_normal", "default"}
        ``default`` is PyTorch's Linear initialization $U(-1/\sqrt{\text{fan\_in}},
        1/\sqrt{\text{fan\_in}})$ (variance $1 / (3\,\text{fan\_in})$).

    Returns
    -------
    dict
        ``mean`` and ``var``: arrays (depth,), over all samples and units of each layer's output.
    """
    rng = rng_for(seed)
    x = rng.normal(size=(n, width))
    forward = {"selu": F.selu_forward, "relu": F.relu_forward}[activation]
    means, variances = [], []
    for _ in range(depth):
        shape = (width, width)
        if init == "default":
            bound = 1.0 / math.sqrt(width)
            weight = rng.uniform(-bound, bound, size=shape)
        elif init == "lecun_normal":
            weight = nn_init.lecun_normal(shape, rng)
        elif init == "kaiming_normal":
            weight = nn_init.kaiming_normal(shape, rng)
        else:
            raise ValueError(f"unknown init {init!r}")
        x, _ = forward(x @ weight.T)
        means.append(x.mean())
        variances.append(x.var())
    return {"mean": np.array(means), "var": np.array(variances)}
