r"""Activations and the softmax cross-entropy loss, as pure forward/backward functions.

An activation has no parameters, so its backward returns only ``dx``. Each cache holds the one
array the derivative needs: the mask of positive inputs for ReLU, the output for sigmoid and
tanh (their derivatives are functions of the output), the input for SELU.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from refimpl import checks

__all__ = [
    "SELU_ALPHA",
    "SELU_SCALE",
    "CrossEntropyCache",
    "ReluCache",
    "SeluCache",
    "SigmoidCache",
    "TanhCache",
    "relu_backward",
    "relu_forward",
    "selu_backward",
    "selu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_forward",
    "tanh_backward",
    "tanh_forward",
]

#: $\alpha$ of SELU (Klambauer et al., 2017), the value PyTorch uses.
SELU_ALPHA = 1.6732632423543772848170429916717
#: $\lambda$ of SELU.
SELU_SCALE = 1.0507009873554804934193349852946


class ReluCache(NamedTuple):
    """What `relu_backward` needs: ``positive``, the bool mask of ``x > 0``.

    Examples
    --------
    >>> _, cache = relu_forward(np.array([-1.0, 0.0, 2.0]))
    >>> cache.positive
    array([False, False,  True])
    """

    positive: np.ndarray


class SigmoidCache(NamedTuple):
    """What `sigmoid_backward` needs: the output ``s`` (the derivative is ``s (1 - s)``).

    Examples
    --------
    >>> _, cache = sigmoid_forward(np.array([0.0]))
    >>> cache.out
    array([0.5])
    """

    out: np.ndarray


class TanhCache(NamedTuple):
    """What `tanh_backward` needs: the output ``t`` (the derivative is ``1 - t²``).

    Examples
    --------
    >>> _, cache = tanh_forward(np.array([0.0, 1.0]))
    >>> np.round(cache.out, 4)
    array([0.    , 0.7616])
    """

    out: np.ndarray


class SeluCache(NamedTuple):
    """What `selu_backward` needs: the input ``x``.

    Examples
    --------
    >>> _, cache = selu_forward(np.array([-1.0, 2.0]))
    >>> cache.x
    array([-1.,  2.])
    """

    x: np.ndarray


def _check_input(x) -> np.ndarray:
    x = checks.float_array(x, "x")
    checks.check_finite(x, "x")
    return x


def _check_dout(dout, expected: np.ndarray) -> np.ndarray:
    dout = checks.check_upstream(dout, expected)
    checks.check_finite(dout, "dout")
    return dout


# -- ReLU -------------------------------------------------------------------------------------


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, ReluCache]:
    r"""Rectified linear unit $\max(0, x)$.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, shape of x
    cache : ReluCache
        ``positive``: where ``x > 0``, shape of x.

    Raises
    ------
    TypeError
        If ``x`` is not floating point.
    ValueError
        If ``x`` holds NaN or inf.

    Equations
    ---------
    $$ y = \max(0, x), \qquad \frac{\partial y}{\partial x} = [x > 0] $$

    Examples
    --------
    >>> relu_forward(np.array([-1.0, 2.0]))[0]
    array([0., 2.])
    """
    x = _check_input(x)
    # y = max(0, x)
    return np.maximum(x, 0.0), ReluCache(positive=x > 0)


def relu_backward(dout: np.ndarray, cache: ReluCache) -> np.ndarray:
    r"""Gradient of `relu_forward`: $dx = dy \cdot [x > 0]$ (0 at $x = 0$, as PyTorch).

    Parameters
    ----------
    dout : ndarray, shape of the output
    cache : ReluCache

    Returns
    -------
    dx : ndarray, shape of dout

    Raises
    ------
    TypeError, ValueError
        If ``dout`` is not floating point, has another shape, or holds NaN or inf.

    Equations
    ---------
    $$ dx = dy \cdot [x > 0] $$

    Examples
    --------
    >>> out, cache = relu_forward(np.array([-1.0, 2.0]))
    >>> relu_backward(np.array([5.0, 5.0]), cache)
    array([0., 5.])
    """
    positive = cache.positive
    dout = checks.float_array(dout, "dout")
    if dout.shape != positive.shape:
        raise ValueError(
            f"dout must have the shape of the forward output {positive.shape}, got {dout.shape}"
        )
    checks.check_finite(dout, "dout")
    # dx = dy · [x > 0]    (a product with the boolean mask: one fast pass, unlike np.where;
    # where dy < 0 and x ≤ 0 it gives −0.0, which equals 0)
    return dout * positive


# -- sigmoid and tanh --------------------------------------------------------------------------


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, SigmoidCache]:
    r"""Logistic sigmoid $1 / (1 + e^{-x})$, computed without overflow.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, shape of x
        Values in (0, 1).
    cache : SigmoidCache
        The output $s$.

    Raises
    ------
    TypeError
        If ``x`` is not floating point.
    ValueError
        If ``x`` holds NaN or inf.

    Equations
    ---------
    $$ s = \frac{1}{1 + e^{-x}} = \frac{e^{x}}{1 + e^{x}} $$

    The first form is used for $x \ge 0$, the second for $x < 0$, so $e^{(\cdot)}$ never
    overflows.

    Examples
    --------
    >>> sigmoid_forward(np.array([0.0, -1000.0]))[0]
    array([0.5, 0. ])
    """
    x = _check_input(x)
    # e^{−|x|} ∈ (0, 1]: no overflow for either sign
    exp_neg_abs = np.exp(-np.abs(x))
    # s = 1 / (1 + e^{−x}) for x ≥ 0,  e^{x} / (1 + e^{x}) for x < 0
    out = np.where(x >= 0, 1.0, exp_neg_abs) / (1.0 + exp_neg_abs)
    return out, SigmoidCache(out)


def sigmoid_backward(dout: np.ndarray, cache: SigmoidCache) -> np.ndarray:
    r"""Gradient of `sigmoid_forward`.

    Parameters
    ----------
    dout : ndarray, shape of the output
    cache : SigmoidCache
        The forward output $s$.

    Returns
    -------
    dx : ndarray, shape of dout

    Raises
    ------
    TypeError, ValueError
        If ``dout`` is not floating point, has another dtype or shape, or holds NaN or inf.

    Equations
    ---------
    $$ dx = dy \cdot s (1 - s) $$

    Examples
    --------
    >>> _, cache = sigmoid_forward(np.array([0.0]))
    >>> sigmoid_backward(np.array([1.0]), cache)
    array([0.25])
    """
    s = cache.out
    dout = _check_dout(dout, s)
    # dx = dy · s (1 − s)
    return dout * s * (1.0 - s)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, TanhCache]:
    r"""Hyperbolic tangent.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, shape of x
    cache : TanhCache
        The output $t$.

    Raises
    ------
    TypeError
        If ``x`` is not floating point.
    ValueError
        If ``x`` holds NaN or inf.

    Equations
    ---------
    $$ t = \tanh x = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} $$

    Examples
    --------
    >>> tanh_forward(np.array([0.0]))[0]
    array([0.])
    """
    x = _check_input(x)
    out = np.tanh(x)
    return out, TanhCache(out)


def tanh_backward(dout: np.ndarray, cache: TanhCache) -> np.ndarray:
    r"""Gradient of `tanh_forward`.

    Parameters
    ----------
    dout : ndarray, shape of the output
    cache : TanhCache
        The forward output $t$.

    Returns
    -------
    dx : ndarray, shape of dout

    Raises
    ------
    TypeError, ValueError
        If ``dout`` is not floating point, has another dtype or shape, or holds NaN or inf.

    Equations
    ---------
    $$ dx = dy \cdot (1 - t^2) $$

    Examples
    --------
    >>> _, cache = tanh_forward(np.array([0.0]))
    >>> tanh_backward(np.array([2.0]), cache)
    array([2.])
    """
    t = cache.out
    dout = _check_dout(dout, t)
    # dx = dy · (1 − t²)
    return dout * (1.0 - t * t)


# -- SELU ---------------------------------------------------------------------------------------


def selu_forward(x: np.ndarray) -> tuple[np.ndarray, SeluCache]:
    r"""Scaled exponential linear unit (self-normalizing networks).

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, shape of x
    cache : SeluCache
        The input $x$.

    Raises
    ------
    TypeError
        If ``x`` is not floating point.
    ValueError
        If ``x`` holds NaN or inf.

    Equations
    ---------
    $$ \text{selu}(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0
       \end{cases} $$

    with $\alpha \approx 1.6733$, $\lambda \approx 1.0507$ chosen so that zero mean and unit
    variance are a fixed point of a layer with normalized weights.

    Examples
    --------
    >>> np.round(selu_forward(np.array([1.0, -1.0]))[0], 4)
    array([ 1.0507, -1.1113])
    """
    x = _check_input(x)
    # λ α (e^{x} − 1) for x ≤ 0    (expm1 is exact near 0; min(x, 0) keeps e^{x} ≤ 1)
    negative_part = SELU_SCALE * SELU_ALPHA * np.expm1(np.minimum(x, 0.0))
    # λ x for x > 0
    out = np.where(x > 0, SELU_SCALE * x, negative_part)
    return out.astype(x.dtype, copy=False), SeluCache(x)


def selu_backward(dout: np.ndarray, cache: SeluCache) -> np.ndarray:
    r"""Gradient of `selu_forward`.

    Parameters
    ----------
    dout : ndarray, shape of the output
    cache : SeluCache
        The forward input $x$.

    Returns
    -------
    dx : ndarray, shape of dout

    Raises
    ------
    TypeError, ValueError
        If ``dout`` is not floating point, has another dtype or shape, or holds NaN or inf.

    Equations
    ---------
    $$ \frac{d\,\text{selu}}{dx} = \lambda \begin{cases} 1 & x > 0 \\ \alpha e^{x} & x \le 0
       \end{cases} $$

    Examples
    --------
    >>> _, cache = selu_forward(np.array([1.0]))
    >>> np.round(selu_backward(np.array([1.0]), cache), 4)
    array([1.0507])
    """
    x = cache.x
    dout = _check_dout(dout, x)
    # λ for x > 0,  λ α e^{x} for x ≤ 0
    slope = np.where(x > 0, SELU_SCALE, SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(x, 0.0)))
    return (dout * slope).astype(x.dtype, copy=False)


# -- softmax cross-entropy ----------------------------------------------------------------------


class CrossEntropyCache(NamedTuple):
    """What `softmax_cross_entropy_backward` needs.

    Attributes
    ----------
    probs : ndarray, shape (N, K)
        Softmax probabilities.
    labels : ndarray of int, shape (N,)
        The class of each sample.

    Examples
    --------
    >>> _, cache = softmax_cross_entropy_forward(np.zeros((2, 4)), np.array([0, 3]))
    >>> cache.probs.shape, cache.labels.tolist()
    ((2, 4), [0, 3])
    """

    probs: np.ndarray
    labels: np.ndarray


def softmax(logits: np.ndarray) -> np.ndarray:
    r"""Softmax over the last axis, shifted by the row maximum so that $e^{(\cdot)} \le 1$.

    Parameters
    ----------
    logits : ndarray, shape (..., K)

    Returns
    -------
    ndarray, shape of logits
        Probabilities; each row sums to 1.

    Equations
    ---------
    $$ p_k = \frac{e^{z_k - \max_j z_j}}{\sum_j e^{z_j - \max_j z_j}} $$

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]]))
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    # z − max z: the largest exponent is e⁰ = 1
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    # p_k = e^{z_k} / Σ_j e^{z_j}
    return exp / exp.sum(axis=-1, keepdims=True)


def softmax_cross_entropy_forward(
    logits: np.ndarray, labels: np.ndarray
) -> tuple[float, CrossEntropyCache]:
    r"""Mean cross-entropy of a softmax over the logits, with integer class labels.

    The same as PyTorch's ``F.cross_entropy(logits, labels)`` (``reduction="mean"``).

    Parameters
    ----------
    logits : ndarray, shape (N, K)
        Unnormalized scores, one row per sample.
    labels : ndarray of int, shape (N,)
        The correct class of each sample, in ``[0, K)``.

    Returns
    -------
    loss : float
        The mean over the batch.
    cache : CrossEntropyCache

    Raises
    ------
    TypeError
        If ``logits`` is not floating point or ``labels`` is not integer.
    ValueError
        If ``logits`` is not 2-D or holds NaN or inf, or ``labels`` has the wrong shape or a
        label out of range.

    Equations
    ---------
    With the log-sum-exp written stably:

    $$ L = \frac{1}{N} \sum_n \Big( \log \sum_k e^{z_{nk}} - z_{n, y_n} \Big) $$

    Examples
    --------
    >>> loss, _ = softmax_cross_entropy_forward(np.zeros((2, 4)), np.array([0, 3]))
    >>> bool(np.isclose(loss, np.log(4)))  # uniform over 4 classes
    True
    """
    logits = checks.float_array(logits, "logits")
    checks.check_ndim(logits, (2,), "logits")
    checks.check_finite(logits, "logits")
    n, num_classes = logits.shape
    labels = checks.class_labels(labels, n, num_classes)

    # log p_k = (z_k − max z) − log Σ_j e^{z_j − max z}
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    # L = −(1/N) Σ_n log p_{n, y_n}
    loss = -log_probs[np.arange(n), labels].mean()
    return float(loss), CrossEntropyCache(np.exp(log_probs), labels)


def softmax_cross_entropy_backward(dloss: float, cache: CrossEntropyCache) -> np.ndarray:
    r"""Gradient of the mean softmax cross-entropy with respect to the logits.

    Parameters
    ----------
    dloss : float
        Upstream gradient of the scalar loss (1.0 when the loss is the final output).
    cache : CrossEntropyCache

    Returns
    -------
    dlogits : ndarray, shape (N, K)

    Raises
    ------
    ValueError
        If ``dloss`` is not finite.

    Equations
    ---------
    $$ \frac{\partial L}{\partial z_{nk}} = \frac{1}{N} \big( p_{nk} - [k = y_n] \big) $$

    Examples
    --------
    >>> _, cache = softmax_cross_entropy_forward(np.zeros((1, 2)), np.array([1]))
    >>> softmax_cross_entropy_backward(1.0, cache)
    array([[ 0.5, -0.5]])
    """
    if not np.isfinite(dloss):
        raise checks.NonFiniteError(f"dloss must be finite, got {dloss}")
    probs, labels = cache
    n = probs.shape[0]
    # p − onehot(y)
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1.0
    # · dL / N
    dlogits *= dloss / n
    return dlogits
