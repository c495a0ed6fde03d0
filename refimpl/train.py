r"""A small training loop: minibatches, ``fit``, ``evaluate``, ``predict``, and an MLP builder.

One training step is the same four lines as in PyTorch, with an explicit backward pass::

    logits = model(X[batch])
    loss = loss_fn.forward(logits, y[batch])
    optimizer.zero_grad()
    model.backward(loss_fn.backward())
    optimizer.step()

Everything random (the shuffling here, the weights and dropout masks in the layers) draws from
``numpy.random.Generator`` objects passed in explicitly, so a seed fixes a whole run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from refimpl.checks import NonFiniteError, check_finite, check_rng
from refimpl.nn.layers import Dropout
from refimpl.nn.module import Module, Sequential
from refimpl.nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, SyncBatchNorm
from refimpl.optim import Optimizer

if TYPE_CHECKING:
    from refimpl.data import DigitsSplits

__all__ = [
    "Diverged",
    "History",
    "evaluate",
    "fit",
    "iterate_minibatches",
    "mlp",
    "predict",
    "recalibrate_batch_norm",
    "train_step",
]


class Diverged(ArithmeticError):
    """A training step met a NaN or an infinity: in its loss, on the way to it, or in the
    weights it produced. The run diverged (usually: the learning rate is too large).

    Only this is caught by the experiments that plot a diverged run as such; a wrong shape or
    dtype still raises its own ValueError or TypeError and stops the build.
    """


def train_step(model: Module, loss_fn: Module, optimizer: Optimizer, X: np.ndarray, y) -> float:
    """One optimizer step on one minibatch ``(X, y)``, in the model's current mode.

    Parameters
    ----------
    model : Module
        Maps inputs (B, D) to logits (B, C).
    loss_fn : Module
        ``forward(logits, y)`` returns the mean loss; ``backward()`` its gradient.
    optimizer : Optimizer
        Built on ``model.parameters()``.
    X : numpy.ndarray
        The minibatch, shape (B, D); ``y`` its labels, shape (B,).

    Returns
    -------
    float
        The minibatch loss before the step.

    Raises
    ------
    Diverged
        If the loss is not finite, if a layer refused a NaN or an infinity on the way
        (`refimpl.checks.NonFiniteError`), or if the step left a parameter non-finite.
    """
    check_finite(X, "the minibatch X")  # bad data is not a divergence: NonFiniteError, not caught
    try:
        logits = model(X)
        loss = float(loss_fn.forward(logits, y))
        if not np.isfinite(loss):
            raise Diverged(f"the loss is {loss}")
        optimizer.zero_grad()
        if model.input_grad_optional:  # the input is data: no gradient needed for it
            model.backward(loss_fn.backward(), input_grad=False)
        else:
            model.backward(loss_fn.backward())
        optimizer.step()
    except NonFiniteError as error:
        raise Diverged(str(error)) from error
    for parameter in model.parameters():
        if not np.isfinite(parameter.data).all():
            raise Diverged(f"the step left {parameter.name or 'a parameter'} non-finite")
    return loss


def iterate_minibatches(
    n: int, batch_size: int, rng: np.random.Generator, drop_last: bool = False
) -> Iterator[np.ndarray]:
    """Yield the row indices of one epoch of shuffled minibatches.

    Each call draws a fresh permutation of ``range(n)`` from ``rng`` and cuts it into
    consecutive pieces of ``batch_size``, so every example is used exactly once per epoch
    (sampling without replacement).

    Parameters
    ----------
    n : int
        Number of examples.
    batch_size : int
        Examples per minibatch; the last one is smaller when ``batch_size`` does not divide
        ``n``.
    rng : numpy.random.Generator
        Source of the permutation; call again with the same generator for the next epoch.
    drop_last : bool, default False
        Skip the last, smaller minibatch (as ``torch.utils.data.DataLoader`` does). Useful with
        BatchNorm, whose statistics are noisy on a tiny batch and undefined on a batch of one.

    Yields
    ------
    ndarray of int64, shape (batch_size,) or smaller
        Indices into the data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> [len(batch) for batch in iterate_minibatches(10, 4, rng)]
    [4, 4, 2]
    """
    check_rng(rng)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def predict(model: Module, X: np.ndarray) -> np.ndarray:
    """Return the predicted class of each row of ``X``: the argmax of the logits.

    The model runs in evaluation mode (BatchNorm uses its running statistics, dropout is off)
    and is put back in the mode it was in.

    Returns
    -------
    ndarray of int64, shape (N,)

    Examples
    --------
    >>> model = mlp((4, 8, 3), rng=np.random.default_rng(0))
    >>> labels = predict(model, np.random.default_rng(1).normal(size=(5, 4)))
    >>> labels.shape, labels.dtype, model.training  # the model is back in training mode
    ((5,), dtype('int64'), True)
    """
    was_training = model.training
    model.eval()
    try:
        logits = model(X)
    finally:
        model.train(was_training)
    return logits.argmax(axis=1).astype(np.int64)


def evaluate(model: Module, loss_fn: Module, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return the mean loss and the accuracy of ``model`` on ``(X, y)``.

    One forward pass over all of ``X`` in evaluation mode; the model is then put back in the
    mode it was in.

    Parameters
    ----------
    model : Module
        Maps ``X`` of shape (N, D) to logits of shape (N, C).
    loss_fn : Module
        ``loss_fn.forward(logits, y)`` returns the mean loss, e.g. ``CrossEntropyLoss()``.
    X : ndarray, shape (N, D)
    y : ndarray of int, shape (N,)

    Returns
    -------
    loss : float
        The mean loss over the N examples.
    accuracy : float
        The fraction of examples whose argmax logit is the label.

    Examples
    --------
    >>> from refimpl.nn import CrossEntropyLoss
    >>> rng = np.random.default_rng(0)
    >>> model = mlp((4, 8, 3), rng=rng)
    >>> X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    >>> loss, accuracy = evaluate(model, CrossEntropyLoss(), X, y)
    >>> round(loss, 4), round(accuracy, 4)
    (1.1268, 0.4333)
    """
    was_training = model.training
    model.eval()
    check_finite(X, "the minibatch X")  # bad data is not a divergence: NonFiniteError, not caught
    try:
        logits = model(X)
        loss = float(loss_fn.forward(logits, y))
    finally:
        model.train(was_training)
    accuracy = float(np.mean(logits.argmax(axis=1) == y))
    return loss, accuracy


@dataclass
class History:
    """What `fit` measured, one entry per epoch (``epoch[k]`` is the number of entry ``k``).

    Attributes
    ----------
    epoch : list of int
        1, 2, ..., up to the last epoch trained.
    train_loss, train_accuracy : list of float
        Mean loss and accuracy on the whole training set, measured in evaluation mode after
        the epoch (the same way as on the validation set, so the two are comparable).
    val_loss, val_accuracy : list of float
        The same on the validation set.
    batch_loss : list of float
        The loss of every minibatch, as computed during training (training mode, before that
        step's update): the noisy curve one step at a time.
    best_epoch : int
        The epoch (counted from 1) with the lowest validation loss; the first one if tied;
        0 before any epoch or if no validation loss was a number.
    stopped_early : bool
        Whether early stopping ended training before ``epochs``.

    Examples
    --------
    >>> from refimpl import nn, optim
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    >>> model = mlp((4, 8, 3), rng=rng)
    >>> history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
    ...               (X, y, X, y), epochs=3, batch_size=10, rng=rng)
    >>> history.epoch, len(history.val_loss), len(history.batch_loss)  # 4 minibatches an epoch
    ([1, 2, 3], 3, 12)
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False


def fit(
    model: Module,
    loss_fn: Module,
    optimizer: Optimizer,
    data: DigitsSplits | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    early_stopping_patience: int | None = None,
    drop_last: bool = False,
    callback: Callable[[int, History], bool | None] | None = None,
) -> History:
    """Train ``model`` with minibatch gradient descent and record the learning curves.

    Every epoch shuffles the training set with ``rng`` (`iterate_minibatches`), takes one
    optimizer step per minibatch in training mode, then measures loss and accuracy on the
    whole training and validation sets in evaluation mode (`evaluate`).

    Parameters
    ----------
    model : Module
        Maps inputs (N, D) to logits (N, C).
    loss_fn : Module
        ``forward(logits, y)`` returns the mean loss, ``backward()`` its gradient with
        respect to the logits, e.g. ``CrossEntropyLoss()``.
    optimizer : Optimizer
        Built on ``model.parameters()`` (or parameter groups of it).
    data : DigitsSplits or tuple
        Either a `refimpl.data.DigitsSplits` (its train and validation splits are used) or
        ``(X_train, y_train, X_val, y_val)``. To watch the test set instead, pass
        ``(X_train, y_train, X_test, y_test)``.
    epochs : int
        Maximum number of passes over the training set.
    batch_size : int
        Examples per optimizer step.
    rng : numpy.random.Generator
        Source of the shuffling.
    early_stopping_patience : int, optional
        Stop when the validation loss has not improved on its best value for this many
        epochs in a row. The model keeps the weights of the *last* epoch trained; nothing is
        restored. ``history.best_epoch`` tells which epoch was best; to use its weights,
        retrain for ``best_epoch`` epochs with the same seeds.
    drop_last : bool, default False
        Skip each epoch's last, smaller minibatch (see `iterate_minibatches`).
    callback : callable, optional
        Called as ``callback(epoch, history)`` after each epoch's measurements; returning
        ``True`` stops training (e.g. to print progress or to stop on a condition).

    Returns
    -------
    History
        The per-epoch curves, the best epoch and whether training stopped early.

    Raises
    ------
    Diverged
        If a step meets a NaN or an infinity (`train_step`).

    Examples
    --------
    >>> from refimpl import nn, optim
    >>> from refimpl.data import load_digits_splits
    >>> rng = np.random.default_rng(0)
    >>> model = mlp((64, 32, 10), rng=rng)
    >>> history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
    ...               load_digits_splits(n_train=200), epochs=3, batch_size=20, rng=rng)
    >>> history.epoch, history.val_accuracy[-1] > history.val_accuracy[0]
    ([1, 2, 3], True)
    """
    if hasattr(data, "X_train"):
        X_train, y_train, X_val, y_val = data.X_train, data.y_train, data.X_val, data.y_val
    else:
        X_train, y_train, X_val, y_val = data
    if early_stopping_patience is not None and early_stopping_patience < 1:
        raise ValueError(f"early_stopping_patience must be >= 1, got {early_stopping_patience}")

    history = History()
    best_loss = np.inf
    for epoch in range(1, epochs + 1):
        model.train()
        for batch in iterate_minibatches(len(X_train), batch_size, rng, drop_last):
            loss = train_step(model, loss_fn, optimizer, X_train[batch], y_train[batch])
            history.batch_loss.append(loss)

        train_loss, train_accuracy = evaluate(model, loss_fn, X_train, y_train)
        val_loss, val_accuracy = evaluate(model, loss_fn, X_val, y_val)
        history.epoch.append(epoch)
        history.train_loss.append(train_loss)
        history.train_accuracy.append(train_accuracy)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        if val_loss < best_loss:
            best_loss, history.best_epoch = val_loss, epoch

        if callback is not None and callback(epoch, history):
            break
        if (
            early_stopping_patience is not None
            and epoch - history.best_epoch >= early_stopping_patience
        ):
            history.stopped_early = epoch < epochs
            break
    return history


BATCH_NORMS = (BatchNorm1d, BatchNorm2d, BatchNorm3d, SyncBatchNorm)
"""The layers whose running statistics `recalibrate_batch_norm` re-estimates."""


def recalibrate_batch_norm(
    model: Module,
    X: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None = None,
    drop_last: bool = False,
) -> Module:
    """Re-estimate every BatchNorm's running statistics from ``X``; the weights stay as they are.

    Each BatchNorm is reset and switched to the cumulative average (``momentum=None``), every
    Dropout is switched off, and one pass over ``X`` runs forward in training mode with no
    optimizer step, so each running mean ends as the average of the batch means. Afterwards the
    momenta are restored and the model is in eval mode. PyTorch's
    ``torch.optim.swa_utils.update_bn`` does the same.

    Parameters
    ----------
    model : Module
    X : numpy.ndarray
        Inputs (N, D), usually the training set.
    batch_size : int
        Examples per forward pass: the batch size the statistics should describe.
    rng : numpy.random.Generator, optional
        Shuffle ``X`` into batches with it (`iterate_minibatches`); ``None`` takes the batches in
        order.
    drop_last : bool, default False
        Skip the last, smaller batch.

    Returns
    -------
    Module
        ``model``, in eval mode.
    """
    batch_norms = [m for m in model.modules() if isinstance(m, BATCH_NORMS)]
    momenta = [layer.momentum for layer in batch_norms]
    for layer in batch_norms:
        layer.reset_running_stats()
        layer.momentum = None
    model.train()
    for layer in model.modules():
        if isinstance(layer, Dropout):
            layer.eval()
    if rng is None:  # in order: X[0:B], X[B:2B], ...
        batches = [
            np.arange(start, min(start + batch_size, len(X)))
            for start in range(0, len(X), batch_size)
        ]
        if drop_last and len(batches[-1]) < batch_size:
            batches = batches[:-1]
    else:
        batches = iterate_minibatches(len(X), batch_size, rng, drop_last=drop_last)
    for batch in batches:
        model(X[batch])
    for layer, momentum in zip(batch_norms, momenta, strict=True):
        layer.momentum = momentum
    return model.eval()


_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "selu": "SELU"}


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    batchnorm: bool = False,
    dropout: float = 0.0,
    *,
    rng: np.random.Generator,
    dtype=np.float64,
) -> Sequential:
    """Build a multilayer perceptron: ``Linear → [BatchNorm1d] → activation → [Dropout]``.

    Every hidden layer gets the same block; the last ``Linear`` outputs the logits with no
    activation after it. BatchNorm goes between the affine map and the activation, as in the
    original paper (Ioffe & Szegedy, 2015).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``(64, 100, 100, 10)``.
    activation : {"relu", "sigmoid", "tanh", "selu"}, default "relu"
    batchnorm : bool, default False
        Insert ``BatchNorm1d`` after every hidden ``Linear``.
    dropout : float, default 0.0
        Drop probability of a ``Dropout`` after every hidden activation (none if 0).
    rng : numpy.random.Generator
        Source of the initial weights (each ``Linear`` in turn, PyTorch's default
        initialization) and of the dropout masks.
    dtype : dtype, default float64
        Type of the parameters.

    Returns
    -------
    Sequential

    Examples
    --------
    >>> model = mlp((64, 100, 10), batchnorm=True, dropout=0.1, rng=np.random.default_rng(0))
    >>> [type(layer).__name__ for layer in model.layers]
    ['Linear', 'BatchNorm1d', 'ReLU', 'Dropout', 'Linear']
    """
    from refimpl.nn import layers, normalization

    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    Activation = getattr(layers, _ACTIVATIONS[activation])

    *hidden, last = pairwise(sizes)
    modules: list[Module] = []
    for n_in, n_out in hidden:
        modules.append(layers.Linear(n_in, n_out, rng=rng, dtype=dtype))
        if batchnorm:
            modules.append(normalization.BatchNorm1d(n_out, dtype=dtype))
        modules.append(Activation())
        if dropout > 0:
            modules.append(layers.Dropout(dropout, rng=rng))
    modules.append(layers.Linear(*last, rng=rng, dtype=dtype))
    return Sequential(*modules)
