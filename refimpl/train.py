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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from refimpl.checks import NonFiniteError, check_finite, check_rng
from refimpl.nn.layers import Dropout
from refimpl.nn.module import Module, Sequential
from refimpl.nn.normalization import is_batch_norm
from refimpl.optim import Optimizer

if TYPE_CHECKING:
    from refimpl.data import DigitsSplits

__all__ = [
    "Callback",
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
    n: int, batch_size: int, rng: np.random.Generator | None, drop_last: bool = False
) -> Iterator[np.ndarray]:
    """Yield the row indices of one epoch of shuffled minibatches.

    Each call draws a fresh permutation of ``range(n)`` from ``rng`` and cuts it into
    consecutive pieces of ``batch_size``, so every example is used exactly once per epoch
    (sampling without replacement). With ``rng=None`` the rows are taken in order.

    Parameters
    ----------
    n : int
        Number of examples.
    batch_size : int
        Examples per minibatch; the last one is smaller when ``batch_size`` does not divide
        ``n``.
    rng : numpy.random.Generator or None
        Source of the permutation; call again with the same generator for the next epoch.
        None: no shuffling, the batches are ``[0, B)``, ``[B, 2B)``, ...
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
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if rng is None:
        order = np.arange(n)
    else:
        check_rng(rng)
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
    (1.1457, 0.3)
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
    diverged : bool
        Whether a step diverged (`Diverged`) and ``fit(..., stop_on_divergence=True)`` stopped
        there; the diverging epoch has no entry in the per-epoch lists.

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
    diverged: bool = False


class Callback:
    """Hooks that `fit` calls while it trains: subclass it and override the ones you need.

    The order within one epoch::

        model.train();  on_epoch_start(epoch, model)
        for each minibatch (X, y):
            on_step_start(step, X, y);  loss = train_step(...);  on_step_end(step, loss)
        measure on the training and validation sets;  on_epoch_end(epoch, history)

    ``epoch`` counts from 1, ``step`` counts the minibatches of the whole run from 0. When
    ``on_step_end`` returns True, training stops after that step (the epoch is still measured);
    when ``on_epoch_end`` returns True, it stops after that epoch.

    Examples
    --------
    >>> from refimpl import nn, optim
    >>> class LossLog(Callback):
    ...     def __init__(self):
    ...         self.losses = []
    ...     def on_step_end(self, step, loss):
    ...         self.losses.append(loss)
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    >>> model = mlp((4, 8, 3), rng=rng)
    >>> log = LossLog()
    >>> history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
    ...               (X, y, X, y), epochs=2, batch_size=10, rng=rng, callbacks=[log])
    >>> len(log.losses), log.losses == history.batch_loss  # 4 minibatches an epoch
    (8, True)
    """

    def on_epoch_start(self, epoch: int, model: Module) -> None:
        """Called after ``model.train()``, before the epoch's first step (e.g. to freeze
        some layers in eval mode)."""

    def on_step_start(self, step: int, X: np.ndarray, y: np.ndarray) -> None:
        """Called before each optimizer step with its minibatch (X of shape (B, D))."""

    def on_step_end(self, step: int, loss: float) -> bool | None:
        """Called after each optimizer step with the minibatch loss; True stops training."""

    def on_epoch_end(self, epoch: int, history: History) -> bool | None:
        """Called after the epoch's measurements; True stops training."""


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
    callbacks: Sequence[Callback] = (),
    stop_on_divergence: bool = False,
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
    callbacks : sequence of Callback, default ()
        Hooks called at the start and end of every epoch and step (see `Callback`), e.g. to
        record something during training, change the learning rate, or stop.
    stop_on_divergence : bool, default False
        When a step diverges, stop and return the history so far with ``history.diverged``
        set, instead of raising `Diverged` (for sweeps that plot a diverged run as such).

    Returns
    -------
    History
        The per-epoch curves, the best epoch, and whether training stopped early or diverged.

    Raises
    ------
    Diverged
        If a step meets a NaN or an infinity (`train_step`), or the weights it left overflow
        on the training or validation set; unless ``stop_on_divergence``.

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

    # bad data is an error of its own (NonFiniteError); after this, a NaN means divergence
    check_finite(X_train, "the training inputs")
    check_finite(X_val, "the validation inputs")
    history = History()
    best_loss = np.inf
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        for callback in callbacks:
            callback.on_epoch_start(epoch, model)
        stop = False
        try:
            for batch in iterate_minibatches(len(X_train), batch_size, rng, drop_last):
                X, y = X_train[batch], y_train[batch]
                for callback in callbacks:
                    callback.on_step_start(step, X, y)
                loss = train_step(model, loss_fn, optimizer, X, y)
                history.batch_loss.append(loss)
                # a list, not a generator: every callback sees every step
                stop = any([callback.on_step_end(step, loss) for callback in callbacks])
                step += 1
                if stop:
                    break
            train_loss, train_accuracy = _evaluate_trained(model, loss_fn, X_train, y_train)
            val_loss, val_accuracy = _evaluate_trained(model, loss_fn, X_val, y_val)
        except Diverged:
            if not stop_on_divergence:
                raise
            history.diverged = True
            break

        history.epoch.append(epoch)
        history.train_loss.append(train_loss)
        history.train_accuracy.append(train_accuracy)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        if val_loss < best_loss:
            best_loss, history.best_epoch = val_loss, epoch

        if any([callback.on_epoch_end(epoch, history) for callback in callbacks]) or stop:
            break
        if (
            early_stopping_patience is not None
            and epoch - history.best_epoch >= early_stopping_patience
        ):
            history.stopped_early = epoch < epochs
            break
    return history


def _evaluate_trained(model: Module, loss_fn: Module, X: np.ndarray, y: np.ndarray):
    """`evaluate` on data already checked: a NaN or an infinity can only come from the weights
    (finite, but so large that the forward pass overflows), so it is a divergence."""
    try:
        return evaluate(model, loss_fn, X, y)
    except NonFiniteError as error:
        raise Diverged(f"the trained model overflows: {error}") from error


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
    batch_norms = [m for m in model.modules() if is_batch_norm(m)]
    momenta = [layer.momentum for layer in batch_norms]
    for layer in batch_norms:
        layer.reset_running_stats()
        layer.momentum = None
    model.train()
    for layer in model.modules():
        if isinstance(layer, Dropout):
            layer.eval()
    for batch in iterate_minibatches(len(X), batch_size, rng, drop_last=drop_last):
        model(X[batch])
    for layer, momentum in zip(batch_norms, momenta, strict=True):
        layer.momentum = momentum
    return model.eval()


_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "selu": "SELU"}
_NORMS = (None, "batch", "layer", "group", "weight")


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    norm: str | None = None,
    norm_position: str = "before",
    bias: bool | None = None,
    dropout: float | Sequence[float] = 0.0,
    init: str | None = None,
    init_std: float | None = None,
    groups: int = 8,
    *,
    rng: np.random.Generator,
    dtype=np.float64,
) -> Sequential:
    """Build a multilayer perceptron: every hidden layer is ``Linear → [norm] → activation →
    [Dropout]`` (or ``Linear → activation → [norm] → [Dropout]``), and a last ``Linear``
    outputs the logits. The one model builder of every chapter.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``(64, 100, 100, 10)``.
    activation : {"relu", "sigmoid", "tanh", "selu"}, default "relu"
    norm : {None, "batch", "layer", "group", "weight"}, default None
        The normalization of each hidden layer: ``BatchNorm1d``, ``LayerNorm``,
        ``GroupNorm(groups, width)``, or weight normalization (a ``WeightNormLinear`` followed
        by a ``MeanOnlyBatchNorm``, as Salimans & Kingma, 2016, recommend).
    norm_position : {"before", "after"}, default "before"
        Normalize before the activation (as in the original BN paper) or after it.
    bias : bool, optional
        Whether the hidden ``Linear`` layers have a bias. The default (None) leaves it out
        where a batch normalization follows the ``Linear`` directly (``norm="batch"`` or
        ``"weight"`` before the activation): the normalization subtracts the batch mean, and
        the bias with it, so its gradient is zero and its own shift (β) does the job.
    dropout : float or sequence of float, default 0.0
        Drop probability of a ``Dropout`` after every hidden block (none where it is 0), or
        one probability per hidden block.
    init : str, optional
        Re-initialize every weight with this scheme of `refimpl.nn.init.init_weights` (biases
        0), e.g. ``"he_normal"``, ``"xavier_normal"``, ``"lecun_normal"`` or ``"normal"`` with
        ``init_std``. None keeps PyTorch's default initialization.
    init_std : float, optional
        The standard deviation for ``init="normal"``.
    groups : int, default 8
        Number of groups for ``norm="group"``.
    rng : numpy.random.Generator
        Source of all randomness. Each ``Linear`` draws its weights from its own stream
        spawned from ``rng`` (``rng.spawn``), and ``init`` from one more; the dropout masks
        come from ``rng`` itself. So a layer's weights do not depend on what the layers before
        it drew: two models built from the same seed start from the same weights in every
        ``Linear`` they share, with or without a bias or a normalization.
    dtype : dtype, default float64
        Type of the parameters.

    Returns
    -------
    Sequential

    Examples
    --------
    >>> model = mlp((64, 100, 10), norm="batch", dropout=0.1, rng=np.random.default_rng(0))
    >>> [type(layer).__name__ for layer in model.layers]
    ['Linear', 'BatchNorm1d', 'ReLU', 'Dropout', 'Linear']
    >>> model[0].bias is None  # BN subtracts a bias again: the Linear in front has none
    True
    >>> plain = mlp((64, 100, 10), rng=np.random.default_rng(0))
    >>> bool((plain[0].weight.data == model[0].weight.data).all())  # same seed, same weights
    True
    """
    from refimpl.nn import init as nn_init
    from refimpl.nn import layers, normalization

    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
    if norm_position not in ("before", "after"):
        raise ValueError(f"norm_position must be 'before' or 'after', got {norm_position!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes}")
    *hidden, (last_in, last_out) = pairwise(sizes)
    drop_probabilities = [dropout] * len(hidden) if np.isscalar(dropout) else list(dropout)
    if len(drop_probabilities) != len(hidden):
        raise ValueError(f"dropout needs one value per hidden layer ({len(hidden)}), got {dropout}")
    if not all(0.0 <= p < 1.0 for p in drop_probabilities):
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    check_rng(rng)
    if bias is None:
        bias = not (norm in ("batch", "weight") and norm_position == "before")
    Activation = getattr(layers, _ACTIVATIONS[activation])
    Linear = normalization.WeightNormLinear if norm == "weight" else layers.Linear

    def norm_layer(width: int) -> Module:
        if norm == "batch":
            return normalization.BatchNorm1d(width, dtype=dtype)
        if norm == "layer":
            return normalization.LayerNorm(width, dtype=dtype)
        if norm == "group":
            return normalization.GroupNorm(groups, width, dtype=dtype)
        return normalization.MeanOnlyBatchNorm(width)

    *linear_rngs, init_rng = rng.spawn(len(sizes))
    modules: list[Module] = []
    for (n_in, n_out), linear_rng, p in zip(hidden, linear_rngs, drop_probabilities, strict=False):
        modules.append(Linear(n_in, n_out, bias, rng=linear_rng, dtype=dtype))
        if norm is not None and norm_position == "before":
            modules.append(norm_layer(n_out))
        modules.append(Activation())
        if norm is not None and norm_position == "after":
            modules.append(norm_layer(n_out))
        if p > 0:
            modules.append(layers.Dropout(p, rng=rng))
    modules.append(layers.Linear(last_in, last_out, rng=linear_rngs[-1], dtype=dtype))
    model = Sequential(*modules)
    if init is not None:
        nn_init.init_weights(model, init, init_rng, std=init_std)
    return model
