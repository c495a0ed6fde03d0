r"""Dropout as pure functions: inverted (PyTorch's), classic (the original paper's), and alpha.

``p`` is the probability of *dropping* a unit, as in PyTorch. Randomness comes only from the
``rng`` argument (a ``numpy.random.Generator``), never from global state. The mask drawn in
the forward pass is kept in the cache, and the backward pass multiplies by the *same* mask: a
unit that was dropped passes no gradient.

All three variants share one backward, $dx = dy \cdot \text{mask} \cdot \text{scale}$; they
differ only in what they put in the cache.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from refimpl import checks
from refimpl.functional.activations import SELU_ALPHA, SELU_SCALE

__all__ = [
    "DropoutCache",
    "alpha_dropout_forward",
    "classic_dropout_forward",
    "dropout_backward",
    "dropout_forward",
]


class DropoutCache(NamedTuple):
    """What `dropout_backward` needs.

    Attributes
    ----------
    mask : ndarray of bool, or None
        True where a unit was kept; None when nothing was dropped (evaluation mode).
    scale : float
        The factor the kept units were multiplied by.
    shape : tuple of int
        The shape of the output (to check ``dout``).

    Examples
    --------
    >>> _, cache = dropout_forward(np.ones(4), 0.5, np.random.default_rng(0))
    >>> cache.mask, cache.scale, cache.shape
    (array([ True, False, False, False]), 2.0, (4,))
    >>> dropout_forward(np.ones(4), 0.5, None, training=False)[1].mask is None
    True
    """

    mask: np.ndarray | None
    scale: float
    shape: tuple[int, ...]


def _check(x, p: float, rng, training: bool) -> np.ndarray:
    x = checks.float_array(x, "x")
    checks.check_drop_probability(p)
    checks.check_finite(x, "x")
    if training:
        checks.check_rng(rng)
    return x


def _keep_mask(shape: tuple[int, ...], p: float, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli(1 − p) mask: each unit is kept with probability ``1 - p``."""
    return rng.random(shape) >= p


# --8<-- [start:forward]
def dropout_forward(
    x: np.ndarray, p: float, rng: np.random.Generator | None, training: bool = True
) -> tuple[np.ndarray, DropoutCache]:
    r"""Inverted dropout: drop with probability ``p``, scale the survivors by $1/(1-p)$.

    Scaling during training keeps the expected activation unchanged, so evaluation is the
    identity. This is what ``torch.nn.Dropout`` does.

    Parameters
    ----------
    x : ndarray, any shape
    p : float
        Drop probability, in [0, 1).
    rng : numpy.random.Generator
        Source of the mask; not used (may be None) when ``training`` is False.
    training : bool, default True

    Returns
    -------
    out : ndarray, shape of x
    cache : DropoutCache

    Raises
    ------
    TypeError
        If ``x`` is not floating point, or ``rng`` is not a Generator in training.
    ValueError
        If ``p`` is outside [0, 1) or ``x`` holds NaN or inf.

    Equations
    ---------
    $$ \text{train: } y = \frac{m \odot x}{1 - p}, \quad m_i \sim \text{Bernoulli}(1 - p);
       \qquad \text{eval: } y = x $$

    $$ \mathbb{E}[y_i] = x_i $$

    Examples
    --------
    >>> out, cache = dropout_forward(np.ones(6), 0.5, np.random.default_rng(0))
    >>> out
    array([2., 0., 0., 0., 2., 2.])
    """
    x = _check(x, p, rng, training)
    if not training:
        return x.copy(), DropoutCache(None, 1.0, x.shape)
    mask = _keep_mask(x.shape, p, rng)
    scale = 1.0 / (1.0 - p)
    # y = m ⊙ x / (1 − p)
    out = x * mask
    out *= scale
    return out, DropoutCache(mask, scale, x.shape)
    # --8<-- [end:forward]


def classic_dropout_forward(
    x: np.ndarray, p: float, rng: np.random.Generator | None, training: bool = True
) -> tuple[np.ndarray, DropoutCache]:
    r"""Classic dropout (Srivastava et al., 2014): drop in training, scale by $1-p$ at test time.

    Parameters
    ----------
    x : ndarray, any shape
    p : float
        Drop probability, in [0, 1).
    rng : numpy.random.Generator
        Source of the mask; not used (may be None) when ``training`` is False.
    training : bool, default True

    Returns
    -------
    out : ndarray, shape of x
    cache : DropoutCache

    Raises
    ------
    TypeError
        If ``x`` is not floating point, or ``rng`` is not a Generator in training.
    ValueError
        If ``p`` is outside [0, 1) or ``x`` holds NaN or inf.

    Equations
    ---------
    $$ \text{train: } y = m \odot x, \quad m_i \sim \text{Bernoulli}(1 - p); \qquad
       \text{eval: } y = (1 - p)\, x $$

    Both give $\mathbb{E}[y_i] = (1 - p) x_i$; inverted dropout divides the same model by
    $1 - p$.

    Examples
    --------
    >>> classic_dropout_forward(np.ones(2), 0.25, None, training=False)[0]
    array([0.75, 0.75])
    """
    x = _check(x, p, rng, training)
    if not training:
        # y = (1 − p) x
        return x * (1.0 - p), DropoutCache(None, 1.0 - p, x.shape)
    mask = _keep_mask(x.shape, p, rng)
    # y = m ⊙ x
    return x * mask, DropoutCache(mask, 1.0, x.shape)


def alpha_dropout_forward(
    x: np.ndarray, p: float, rng: np.random.Generator | None, training: bool = True
) -> tuple[np.ndarray, DropoutCache]:
    r"""Alpha dropout for SELU networks: keeps the mean and variance of SELU activations.

    Dropped units are set to SELU's negative saturation value $\alpha' = -\lambda\alpha$
    instead of 0, then an affine map $a\,(\cdot) + b$ restores mean 0 and variance 1 for
    standardized inputs. Matches ``torch.nn.AlphaDropout`` (same $a$, $b$; the random stream
    differs).

    Parameters
    ----------
    x : ndarray, any shape
    p : float
        Drop probability, in [0, 1).
    rng : numpy.random.Generator
        Source of the mask; not used (may be None) when ``training`` is False.
    training : bool, default True

    Returns
    -------
    out : ndarray, shape of x
    cache : DropoutCache

    Raises
    ------
    TypeError
        If ``x`` is not floating point, or ``rng`` is not a Generator in training.
    ValueError
        If ``p`` is outside [0, 1) or ``x`` holds NaN or inf.

    Equations
    ---------
    $$ \alpha' = -\lambda \alpha, \qquad a = \big( (1 - p)(1 + p\,\alpha'^2) \big)^{-1/2},
       \qquad b = -a\,\alpha' p $$

    $$ \text{train: } y = a \big( m \odot x + \alpha' (1 - m) \big) + b; \qquad
       \text{eval: } y = x $$

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> out, _ = alpha_dropout_forward(rng.standard_normal(100_000), 0.2, rng)
    >>> round(float(out.mean()), 1), round(float(out.var()), 1)  # still mean 0, variance 1
    (0.0, 1.0)
    """
    x = _check(x, p, rng, training)
    if not training or p == 0:
        return x.copy(), DropoutCache(None, 1.0, x.shape)
    mask = _keep_mask(x.shape, p, rng)
    # α' = −λα, the value SELU tends to for x → −∞
    alpha_prime = -SELU_SCALE * SELU_ALPHA
    # a = ((1 − p)(1 + p α'²))^(−1/2),  b = −a α' p
    a = ((1.0 - p) * (1.0 + p * alpha_prime**2)) ** -0.5
    b = -a * alpha_prime * p
    # y = a (m ⊙ x + α' (1 − m)) + b
    out = np.where(mask, x, alpha_prime)
    out *= a
    out += b
    return out.astype(x.dtype, copy=False), DropoutCache(mask, a, x.shape)


# --8<-- [start:backward]
def dropout_backward(dout: np.ndarray, cache: DropoutCache) -> np.ndarray:
    r"""Gradient of every dropout variant: the forward mask, times the forward scale.

    Parameters
    ----------
    dout : ndarray, shape of the output
    cache : DropoutCache
        From `dropout_forward`, `classic_dropout_forward` or `alpha_dropout_forward`.

    Returns
    -------
    dx : ndarray, shape of dout

    Raises
    ------
    TypeError, ValueError
        If ``dout`` is not floating point, has another shape than the output, or holds NaN or
        inf.

    Equations
    ---------
    $$ dx = dy \odot m \cdot s $$

    with $s = 1/(1-p)$ (inverted), $1$ (classic, training), $1-p$ (classic, eval) or $a$
    (alpha). In evaluation mode $m = 1$.

    Examples
    --------
    >>> out, cache = dropout_forward(np.ones(6), 0.5, np.random.default_rng(0))
    >>> dropout_backward(np.ones(6), cache)  # zero exactly where the forward pass dropped
    array([2., 0., 0., 0., 2., 2.])
    """
    dout = checks.float_array(dout, "dout")
    if dout.shape != cache.shape:
        raise ValueError(
            f"dout must have the shape of the forward output {cache.shape}, got {dout.shape}"
        )
    checks.check_finite(dout, "dout")
    # dx = dy ⊙ m · s
    dx = dout.copy() if cache.mask is None else dout * cache.mask
    dx *= cache.scale
    return dx
    # --8<-- [end:backward]
