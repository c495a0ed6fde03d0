r"""The chapter's objective: an MLP on a small split of the digits, scored on the validation set.

``DigitsMLP()(config, budget)`` trains a ReLU network (by default 6 hidden layers of 100
units, as in the random search of *Deep Learning from Scratch*, ch. 6) with minibatch SGD and
L2 weight decay on 500 training images, and returns its accuracy on the 359 validation images
after ``budget`` epochs. ``config`` holds ``"lr"`` and ``"weight_decay"``.

The network is trained by a compact loop written for speed (one fused forward and backward per
minibatch, float32 by default): a search trains thousands of epochs. It computes exactly what
the library's modules compute: `refimpl.train.mlp` re-initialized with
``init_weights(model, "he_normal", rng)``, `refimpl.nn.CrossEntropyLoss`, and
`refimpl.optim.SGD` on `refimpl.optim.split_decay_groups` (weights decayed, biases not), with
minibatches from `refimpl.train.iterate_minibatches`; a test checks that both give the same
weights.

Every configuration trains from its own seed, derived from the objective's ``seed`` and the
configuration's values: the same configuration always gives the same curve, whichever searcher
asks for it. Each run is kept in memory, so asking for 9 epochs after 3 resumes the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from refimpl.data import load_digits_splits
from refimpl.nn.init import kaiming_normal
from refimpl.search.space import LogUniform, Space
from refimpl.train import iterate_minibatches

__all__ = ["COMPARISON_SPACE", "SCRATCH_SPACE", "DigitsMLP", "Run"]

#: The ranges of *Deep Learning from Scratch*, ch. 6: lr in 10^U(-6, -2), decay in 10^U(-8, -4).
SCRATCH_SPACE: Space = {"lr": LogUniform(1e-6, 1e-2), "weight_decay": LogUniform(1e-8, 1e-4)}

#: The space the searchers are compared on (the first round's lesson: larger learning rates).
COMPARISON_SPACE: Space = {"lr": LogUniform(1e-4, 1.0), "weight_decay": LogUniform(1e-6, 1e-2)}


@dataclass
class Run:
    """One configuration's training run, kept so that it can be resumed.

    Attributes
    ----------
    weights : list of ndarray, shapes (in, out)
        $W_l$ of each layer (the transpose of ``Linear.weight``).
    biases : list of ndarray, shapes (out,)
    rng : numpy.random.Generator
        Source of the minibatch order, continued from epoch to epoch.
    val_accuracy, train_accuracy, test_accuracy : list of float
        One entry per epoch trained; ``train_accuracy`` and ``test_accuracy`` stay empty
        unless the objective records them.
    diverged : bool
        Whether a weight became infinite or NaN. Training then stops; the network's
        predictions (the argmax of NaN logits is class 0) are scored as they are.

    Examples
    --------
    >>> run = DigitsMLP(hidden=(32,), n_train=200).run({"lr": 0.1}, budget=2)
    >>> run.epochs, [W.shape for W in run.weights], run.diverged
    (2, [(64, 32), (32, 10)], False)
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    rng: np.random.Generator
    val_accuracy: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    diverged: bool = False

    @property
    def epochs(self) -> int:
        return len(self.val_accuracy)


class DigitsMLP:
    """Validation accuracy of an MLP on the digits after a number of epochs of SGD.

    Parameters
    ----------
    hidden : tuple of int, default (100,) * 6
        Widths of the hidden layers.
    n_train : int, default 500
        Training images: the first ``n_train`` of the training split of
        ``load_digits_splits(seed=split_seed)``. The rest of that split (579 images by
        default) is kept aside as ``X_fresh``: data no search ever looks at.
    batch_size : int, default 100
    seed : int, default 0
        Seeds every run (together with the configuration's values).
    split_seed : int, default 0
        Seed of the train/validation/test split.
    dtype : dtype, default float32
    record_train : bool, default False
        Also measure the accuracy on the whole training set after every epoch.
    record_test : bool, default False
        Also measure the accuracy on the test set after every epoch (never shown to a
        searcher; used to check the configuration a search picks).

    Attributes
    ----------
    X_train, y_train, X_val, y_val, X_test, y_test, X_fresh, y_fresh : ndarray
        The data; pixel intensities divided by 16.
    epochs_trained : int
        Epochs actually trained so far, over all configurations.

    Examples
    --------
    >>> objective = DigitsMLP(hidden=(32,), n_train=200, batch_size=20)
    >>> config = {"lr": 0.3, "weight_decay": 1e-4}
    >>> round(objective(config, budget=3), 4)
    0.5877
    >>> round(objective(config, budget=5), 4), objective.epochs_trained  # resumed: 2 more epochs
    (0.7772, 5)
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (100,) * 6,
        n_train: int = 500,
        batch_size: int = 100,
        seed: int = 0,
        split_seed: int = 0,
        dtype=np.float32,
        record_train: bool = False,
        record_test: bool = False,
    ) -> None:
        splits = load_digits_splits(seed=split_seed)
        if not 1 <= n_train < len(splits.X_train):
            raise ValueError(f"n_train must be in [1, {len(splits.X_train)}), got {n_train}")
        self.sizes = (splits.X_train.shape[1], *hidden, 10)
        self.batch_size = batch_size
        self.seed = seed
        self.dtype = dtype
        self.record_train = record_train
        self.record_test = record_test
        self.X_train = splits.X_train[:n_train].astype(dtype)
        self.y_train = splits.y_train[:n_train]
        self.X_fresh = splits.X_train[n_train:].astype(dtype)
        self.y_fresh = splits.y_train[n_train:]
        self.X_val, self.y_val = splits.X_val.astype(dtype), splits.y_val
        self.X_test, self.y_test = splits.X_test.astype(dtype), splits.y_test
        self.epochs_trained = 0
        self._runs: dict[tuple, Run] = {}

    def __call__(self, config: dict[str, Any], budget: int) -> float:
        """Validation accuracy of ``config`` after ``budget`` epochs (resuming its run)."""
        return self.run(config, budget).val_accuracy[budget - 1]

    # -- runs -----------------------------------------------------------------------------

    def run(self, config: dict[str, Any], budget: int) -> Run:
        """The run of ``config``, trained to at least ``budget`` epochs."""
        unknown = set(config) - {"lr", "weight_decay"}
        if unknown or "lr" not in config:
            raise ValueError(f"config needs 'lr' (and may have 'weight_decay'), got {config}")
        key = tuple(sorted(config.items()))
        if key not in self._runs:
            self._runs[key] = self._new_run(config)
        run = self._runs[key]
        while run.epochs < budget:
            self._train_epoch(run, config["lr"], config.get("weight_decay", 0.0))
        return run

    def config_seed(self, config: dict[str, Any]) -> np.random.SeedSequence:
        """The seed of a configuration's run: the objective's seed and the values' bits."""
        bits = [int(np.float64(config[name]).view(np.uint64)) for name in sorted(config)]
        return np.random.SeedSequence([self.seed, *bits])

    def _new_run(self, config: dict[str, Any]) -> Run:
        init_seed, order_seed = self.config_seed(config).spawn(2)
        init_rng = np.random.default_rng(init_seed)
        weights, biases = [], []
        for n_in, n_out in pairwise(self.sizes):
            # He initialization: W ~ N(0, 2 / n_in), drawn as Linear's (out, in) weight
            weights.append(kaiming_normal((n_out, n_in), init_rng).T.astype(self.dtype, order="C"))
            biases.append(np.zeros(n_out, dtype=self.dtype))
        return Run(weights, biases, np.random.default_rng(order_seed))

    # -- the network ----------------------------------------------------------------------

    def logits(self, run: Run, X: np.ndarray) -> np.ndarray:
        """Forward pass: $h_l = \\max(0, h_{l-1} W_l + b_l)$, logits $= h_{L-1} W_L + b_L$."""
        h = X
        with np.errstate(all="ignore"):
            for W, b in zip(run.weights[:-1], run.biases[:-1], strict=True):
                h = np.maximum(h @ W + b, 0)
            return h @ run.weights[-1] + run.biases[-1]

    def accuracy(self, run: Run, X: np.ndarray, y: np.ndarray) -> float:
        """Fraction of rows of ``X`` whose argmax logit is the label."""
        return float(np.mean(self.logits(run, X).argmax(axis=1) == y))

    def _train_epoch(self, run: Run, lr: float, weight_decay: float) -> None:
        if not run.diverged:
            with np.errstate(all="ignore"):
                for batch in iterate_minibatches(len(self.X_train), self.batch_size, run.rng):
                    self._step(run, self.X_train[batch], self.y_train[batch], lr, weight_decay)
            run.diverged = not all(np.isfinite(W).all() for W in run.weights)
            self.epochs_trained += 1
        run.val_accuracy.append(self.accuracy(run, self.X_val, self.y_val))
        if self.record_train:
            run.train_accuracy.append(self.accuracy(run, self.X_train, self.y_train))
        if self.record_test:
            run.test_accuracy.append(self.accuracy(run, self.X_test, self.y_test))

    @staticmethod
    def _step(run: Run, x: np.ndarray, y: np.ndarray, lr: float, weight_decay: float) -> None:
        """One SGD step on the minibatch ``(x, y)``: forward, backward, update, in place."""
        W, b = run.weights, run.biases
        # forward, keeping every layer's input h_0 = x, h_1, ..., h_{L-1}
        hs = [x]
        for l in range(len(W) - 1):
            hs.append(np.maximum(hs[-1] @ W[l] + b[l], 0))
        z = hs[-1] @ W[-1] + b[-1]
        # ∂loss/∂z = (softmax(z) − onehot(y)) / B for the mean cross-entropy
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(y)), y] -= 1
        g = p / len(y)
        for l in reversed(range(len(W))):
            dW, db = hs[l].T @ g, g.sum(axis=0)
            if l > 0:
                # through the layer and the ReLU before it: g ← (g W_lᵀ) ⊙ [h_l > 0]
                g = (g @ W[l].T) * (hs[l] > 0)
            # SGD with L2 decay on the weights: W ← W − η (∂W + λ W); b ← b − η ∂b
            W[l] -= lr * (dW + weight_decay * W[l])
            b[l] -= lr * db
