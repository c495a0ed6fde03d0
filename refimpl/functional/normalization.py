r"""Layer norm, group norm, instance norm and weight norm as pure forward/backward functions.

Layer, group and instance norm differ from batch norm only in *which* values share a mean and
a variance: batch norm pools a channel over the batch, these pool within one sample, so they
behave the same in training and evaluation and work with a batch of one. All three reshape the
input into rows, one row per (sample, group), and use the same two helpers:

$$ \hat x = \frac{x - \mu_{\text{row}}}{\sqrt{\sigma^2_{\text{row}} + \epsilon}}, \qquad
   dx = \frac{1}{M \sqrt{\sigma^2 + \epsilon}}
   \Big( M g - \sum_j g_j - \hat x \sum_j g_j \hat x_j \Big), \quad g = \gamma \, dy $$

with $M$ values per row. Weight norm is different: it reparametrizes a weight, not activations.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from refimpl import checks

__all__ = [
    "GroupNormCache",
    "LayerNormCache",
    "WeightNormCache",
    "group_norm_backward",
    "group_norm_forward",
    "instance_norm_backward",
    "instance_norm_forward",
    "layer_norm_backward",
    "layer_norm_forward",
    "weight_norm_backward",
    "weight_norm_forward",
]


class LayerNormCache(NamedTuple):
    """What `layer_norm_backward` needs.

    Attributes
    ----------
    x_hat : ndarray, shape of the input
        The normalized input.
    inv_std : ndarray, shape (B,)
        $1/\\sqrt{\\sigma^2 + \\epsilon}$ per sample (``B`` = product of the leading axes).
    gamma : ndarray of shape normalized_shape, or None
        The elementwise scale.
    normalized_ndim : int
        How many trailing axes were normalized together.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2, 3, 4))
    >>> _, cache = layer_norm_forward(x, (3, 4))
    >>> cache.x_hat.shape, cache.inv_std.shape, cache.normalized_ndim
    ((2, 3, 4), (2,), 2)
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray | None
    normalized_ndim: int


class GroupNormCache(NamedTuple):
    """What `group_norm_backward` needs.

    Attributes
    ----------
    x_hat : ndarray, shape (N, C, *spatial)
        The normalized input.
    inv_std : ndarray, shape (N * G,)
        $1/\\sqrt{\\sigma^2 + \\epsilon}$ per sample and group.
    gamma : ndarray of shape (C,), or None
        The per-channel scale.
    num_groups : int
        $G$.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2, 4, 3))
    >>> _, cache = group_norm_forward(x, num_groups=2)
    >>> cache.inv_std.shape, cache.num_groups
    ((4,), 2)
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray | None
    num_groups: int


class WeightNormCache(NamedTuple):
    """What `weight_norm_backward` needs.

    Attributes
    ----------
    direction : ndarray, shape of v
        $v / \\lVert v \\rVert$, one unit vector per output unit.
    norm : ndarray, shape (out,)
        $\\lVert v \\rVert$ per output unit.
    g : ndarray, shape (out,)
        The length of each output unit's weight vector.

    Examples
    --------
    >>> _, cache = weight_norm_forward(np.array([[3.0, 4.0]]), np.array([10.0]))
    >>> cache.direction, cache.norm, cache.g
    (array([[0.6, 0.8]]), array([5.]), array([10.]))
    """

    direction: np.ndarray
    norm: np.ndarray
    g: np.ndarray


# -- shared by layer, group and instance norm -------------------------------------------------


# --8<-- [start:normalize-rows]
def _normalize_rows(x_rows: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Normalize each row of a ``(B, M)`` array; return ``(x_hat, inv_std)``."""
    # μ = (1/M) Σ x_j    per row
    mean = x_rows.mean(axis=1, keepdims=True)
    # x − μ
    x_hat = x_rows - mean
    # σ² = (1/M) Σ (x_j − μ)²    (two-pass variance)
    var = np.einsum("bm,bm->b", x_hat, x_hat) / x_rows.shape[1]
    # 1 / √(σ² + ε)
    inv_std = 1.0 / np.sqrt(var + eps)
    # x̂ = (x − μ) / √(σ² + ε)
    x_hat *= inv_std[:, None]
    return x_hat, inv_std
    # --8<-- [end:normalize-rows]


def _normalized_rows_backward(g: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray):
    """Input gradient of `_normalize_rows` given ``g = dL/dx̂`` (all ``(B, M)``)."""
    count = x_hat.shape[1]
    # Σ g_j and Σ g_j x̂_j    per row
    g_sum = g.sum(axis=1, keepdims=True)
    g_xhat_sum = np.einsum("bm,bm->b", g, x_hat)[:, None]
    # dx = (1 / (M √(σ² + ε))) (M g − Σ g_j − x̂ Σ g_j x̂_j)
    return (inv_std[:, None] / count) * (count * g - g_sum - x_hat * g_xhat_sum)


def _check_affine(x, gamma, beta, shape):
    gamma = checks.optional_float_array(gamma, "gamma")
    beta = checks.optional_float_array(beta, "beta")
    checks.check_shape(gamma, shape, "gamma")
    checks.check_shape(beta, shape, "beta")
    checks.check_same_dtype(x, gamma=gamma, beta=beta)
    return gamma, beta


# -- layer norm -------------------------------------------------------------------------------


# --8<-- [start:layer-norm-forward]
def layer_norm_forward(
    x: np.ndarray,
    normalized_shape: int | tuple[int, ...],
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
) -> tuple[np.ndarray, LayerNormCache]:
    r"""Layer normalization: normalize each sample over its trailing ``normalized_shape`` axes.

    Parameters
    ----------
    x : ndarray, shape (*, *normalized_shape)
        Input; any number of leading axes.
    normalized_shape : int or tuple of int
        The trailing shape normalized together (e.g. ``C`` for ``(N, C)``, ``(C, H, W)``).
    gamma, beta : ndarray of shape normalized_shape, optional
        Elementwise scale and shift; None means 1 and 0.
    eps : float, default 1e-5

    Returns
    -------
    out : ndarray, shape of x
    cache : LayerNormCache

    Raises
    ------
    TypeError
        If an array is not floating point or the dtypes differ.
    ValueError
        If the trailing shape of ``x`` is not ``normalized_shape``, ``x`` holds NaN or inf, or
        ``eps <= 0``.

    Equations
    ---------
    For one sample with $M$ = prod(normalized_shape) values $x_j$:

    $$ \mu = \frac{1}{M} \sum_j x_j, \qquad \sigma^2 = \frac{1}{M} \sum_j (x_j - \mu)^2, \qquad
       y_j = \gamma_j \frac{x_j - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_j $$

    Examples
    --------
    >>> out, _ = layer_norm_forward(np.array([[1.0, 3.0], [10.0, 30.0]]), 2)
    >>> np.round(out, 4)
    array([[-1.,  1.],
           [-1.,  1.]])
    """
    x = checks.float_array(x, "x")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.ndim < len(shape) or x.shape[x.ndim - len(shape) :] != shape:
        raise ValueError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(x.shape)}"
        )
    gamma, beta = _check_affine(x, gamma, beta, shape)
    checks.check_eps(eps)
    checks.check_finite(x, "x")
    rows = x.reshape(-1, math.prod(shape))

    # x̂ = (x − μ) / √(σ² + ε)    per sample
    x_hat, inv_std = _normalize_rows(rows, eps)
    x_hat = x_hat.reshape(x.shape)
    # y = γ x̂ + β
    out = x_hat.copy() if gamma is None else x_hat * gamma
    if beta is not None:
        out += beta
    return out, LayerNormCache(x_hat, inv_std, gamma, len(shape))
    # --8<-- [end:layer-norm-forward]


def layer_norm_backward(
    dout: np.ndarray, cache: LayerNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of `layer_norm_forward`.

    Parameters
    ----------
    dout : ndarray, shape of the forward output
    cache : LayerNormCache

    Returns
    -------
    dx : ndarray, shape of dout
    dgamma, dbeta : ndarray, shape normalized_shape
        Also without ``gamma`` or ``beta`` in the forward pass (then at $\gamma = 1$).

    Raises
    ------
    TypeError, ValueError
        If ``dout`` has another dtype or shape than the forward output, or holds NaN or inf.

    Equations
    ---------
    Sums over the leading (sample) axes for the parameters, over the $M$ normalized values of
    one sample for the input, with $g = \gamma \, dy$:

    $$ \frac{\partial L}{\partial \gamma} = \sum_{\text{samples}} dy \, \hat x, \qquad
       \frac{\partial L}{\partial \beta} = \sum_{\text{samples}} dy $$

    $$ dx_j = \frac{1}{M \sqrt{\sigma^2 + \epsilon}}
       \Big( M g_j - \sum_k g_k - \hat x_j \sum_k g_k \hat x_k \Big) $$

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2, 3))
    >>> out, cache = layer_norm_forward(x, 3, np.ones(3), np.zeros(3))
    >>> dx, dgamma, dbeta = layer_norm_backward(np.ones((2, 3)), cache)
    >>> np.allclose(dx, 0.0)  # a constant upstream gradient only shifts: no input gradient
    True
    """
    dout = checks.check_upstream(dout, cache.x_hat)
    checks.check_finite(dout, "dout")
    x_hat = cache.x_hat
    sample_axes = tuple(range(x_hat.ndim - cache.normalized_ndim))
    # ∂L/∂γ = Σ dy x̂,  ∂L/∂β = Σ dy    over the samples
    dgamma = (dout * x_hat).sum(axis=sample_axes)
    dbeta = dout.sum(axis=sample_axes)
    # g = γ dy,  then the normalization gradient per sample
    g = dout if cache.gamma is None else dout * cache.gamma
    rows = x_hat.reshape(cache.inv_std.shape[0], -1)
    dx = _normalized_rows_backward(g.reshape(rows.shape), rows, cache.inv_std)
    return dx.reshape(dout.shape), dgamma, dbeta


# -- group norm and instance norm ---------------------------------------------------------------


def group_norm_forward(
    x: np.ndarray,
    num_groups: int,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
) -> tuple[np.ndarray, GroupNormCache]:
    r"""Group normalization: normalize each sample over groups of ``C / G`` channels.

    Parameters
    ----------
    x : ndarray, shape (N, C, *spatial)
        Input; ``C`` must be divisible by ``num_groups``.
    num_groups : int
        $G$. ``G = 1`` normalizes a whole sample (like layer norm over ``(C, *spatial)`` with
        per-channel affine); ``G = C`` is instance norm.
    gamma, beta : ndarray of shape (C,), optional
        Per-channel scale and shift; None means 1 and 0.
    eps : float, default 1e-5

    Returns
    -------
    out : ndarray, shape of x
    cache : GroupNormCache

    Raises
    ------
    TypeError
        If an array is not floating point or the dtypes differ.
    ValueError
        If ``x`` has fewer than 2 dimensions, ``G`` does not divide ``C``, ``x`` holds NaN or
        inf, or ``eps <= 0``.

    Equations
    ---------
    For sample $n$ and group $g$ with its $M = (C/G) \cdot L$ values:

    $$ \mu_{ng} = \frac{1}{M} \sum_{j \in (n, g)} x_j, \qquad
       \sigma^2_{ng} = \frac{1}{M} \sum_{j \in (n, g)} (x_j - \mu_{ng})^2 $$

    $$ y_{ncl} = \gamma_c \frac{x_{ncl} - \mu_{ng}}{\sqrt{\sigma^2_{ng} + \epsilon}} + \beta_c $$

    Examples
    --------
    >>> x = np.array([[1.0, 3.0, 10.0, 30.0]])
    >>> out, _ = group_norm_forward(x, num_groups=2)
    >>> np.round(out, 4)
    array([[-1.,  1., -1.,  1.]])
    """
    x = checks.float_array(x, "x")
    checks.check_min_ndim(x, 2, "input")
    checks.check_positive_int(num_groups, "num_groups")
    n, c = x.shape[:2]
    if c % num_groups != 0:
        raise ValueError(f"num_channels={c} must be divisible by num_groups={num_groups}")
    gamma, beta = _check_affine(x, gamma, beta, (c,))
    checks.check_eps(eps)
    checks.check_finite(x, "x")
    per_channel = (1, c) + (1,) * (x.ndim - 2)

    # x̂ = (x − μ) / √(σ² + ε)    per sample and group
    x_hat, inv_std = _normalize_rows(x.reshape(n * num_groups, -1), eps)
    x_hat = x_hat.reshape(x.shape)
    # y = γ_c x̂ + β_c
    out = x_hat.copy() if gamma is None else x_hat * gamma.reshape(per_channel)
    if beta is not None:
        out += beta.reshape(per_channel)
    return out, GroupNormCache(x_hat, inv_std, gamma, num_groups)


def group_norm_backward(
    dout: np.ndarray, cache: GroupNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of `group_norm_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, C, *spatial)
    cache : GroupNormCache

    Returns
    -------
    dx : ndarray, shape of dout
    dgamma, dbeta : ndarray, shape (C,)
        Also without ``gamma`` or ``beta`` in the forward pass (then at $\gamma = 1$).

    Raises
    ------
    TypeError, ValueError
        If ``dout`` has another dtype or shape than the forward output, or holds NaN or inf.

    Equations
    ---------
    $$ \frac{\partial L}{\partial \gamma_c} = \sum_{n, l} dy_{ncl} \hat x_{ncl}, \qquad
       \frac{\partial L}{\partial \beta_c} = \sum_{n, l} dy_{ncl} $$

    and, with $g = \gamma_c \, dy$ and sums over the $M$ values of one (sample, group),

    $$ dx_j = \frac{1}{M \sqrt{\sigma^2_{ng} + \epsilon}}
       \Big( M g_j - \sum_k g_k - \hat x_j \sum_k g_k \hat x_k \Big) $$

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2, 4, 3))
    >>> out, cache = group_norm_forward(x, 2, np.ones(4), np.zeros(4))
    >>> dx, dgamma, dbeta = group_norm_backward(np.ones_like(x), cache)
    >>> dbeta
    array([6., 6., 6., 6.])
    """
    dout = checks.check_upstream(dout, cache.x_hat)
    checks.check_finite(dout, "dout")
    x_hat = cache.x_hat
    n, c = x_hat.shape[:2]
    other_axes = (0, *range(2, x_hat.ndim))
    # ∂L/∂γ_c = Σ dy x̂,  ∂L/∂β_c = Σ dy    over samples and positions
    dgamma = (dout * x_hat).sum(axis=other_axes)
    dbeta = dout.sum(axis=other_axes)
    # g = γ_c dy,  then the normalization gradient per (sample, group)
    per_channel = (1, c) + (1,) * (x_hat.ndim - 2)
    g = dout if cache.gamma is None else dout * cache.gamma.reshape(per_channel)
    rows = x_hat.reshape(n * cache.num_groups, -1)
    dx = _normalized_rows_backward(g.reshape(rows.shape), rows, cache.inv_std)
    return dx.reshape(dout.shape), dgamma, dbeta


def instance_norm_forward(
    x: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
) -> tuple[np.ndarray, GroupNormCache]:
    r"""Instance normalization: each channel of each sample over its spatial positions.

    The same as `group_norm_forward` with one group per channel.

    Parameters
    ----------
    x : ndarray, shape (N, C, *spatial)
        Input with more than one spatial position.
    gamma, beta : ndarray of shape (C,), optional
        Per-channel scale and shift (PyTorch's ``InstanceNorm2d`` has none by default).
    eps : float, default 1e-5

    Returns
    -------
    out : ndarray, shape of x
    cache : GroupNormCache
        For `instance_norm_backward`.

    Raises
    ------
    TypeError, ValueError
        As `group_norm_forward`; ValueError also if there is only one spatial position (the
        variance of one value is 0: PyTorch refuses it too).

    Equations
    ---------
    $$ y_{ncl} = \gamma_c \frac{x_{ncl} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}} + \beta_c $$

    with $\mu_{nc}, \sigma^2_{nc}$ over the positions $l$ of channel $c$ in sample $n$.

    Examples
    --------
    >>> x = np.array([[[1.0, 3.0], [10.0, 30.0]]])
    >>> out, _ = instance_norm_forward(x)
    >>> np.round(out, 4)
    array([[[-1.,  1.],
            [-1.,  1.]]])
    """
    x = checks.float_array(x, "x")
    checks.check_min_ndim(x, 3, "input")
    if math.prod(x.shape[2:]) < 2:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {x.shape}"
        )
    return group_norm_forward(x, x.shape[1], gamma, beta, eps)


def instance_norm_backward(
    dout: np.ndarray, cache: GroupNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of `instance_norm_forward` (see `group_norm_backward` with $G = C$).

    Parameters
    ----------
    dout : ndarray, shape (N, C, *spatial)
    cache : GroupNormCache

    Returns
    -------
    dx : ndarray, shape of dout
    dgamma, dbeta : ndarray, shape (C,)
        Also without ``gamma`` or ``beta`` in the forward pass (then at $\gamma = 1$).

    Raises
    ------
    TypeError, ValueError
        As `group_norm_backward`.

    Equations
    ---------
    $$ dx_l = \frac{\gamma_c}{L \sqrt{\sigma^2_{nc} + \epsilon}}
       \Big( L \, dy_l - \sum_k dy_k - \hat x_l \sum_k dy_k \hat x_k \Big) $$

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(1, 2, 3))
    >>> dx, _, _ = instance_norm_backward(np.ones_like(x), instance_norm_forward(x)[1])
    >>> np.allclose(dx, 0.0)
    True
    """
    return group_norm_backward(dout, cache)


# -- weight norm --------------------------------------------------------------------------------


def weight_norm_forward(v: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, WeightNormCache]:
    r"""Weight normalization: a weight whose direction and length are separate parameters.

    Parameters
    ----------
    v : ndarray, shape (out, *rest)
        Direction parameter (e.g. ``(out_features, in_features)`` for a Linear layer); no row
        may be all zeros.
    g : ndarray, shape (out,)
        Length of each output unit's weight vector. (PyTorch's ``weight_g`` has shape
        ``(out, 1, ...)``; the values are the same.)

    Returns
    -------
    w : ndarray, shape of v
        The weight to use in the layer.
    cache : WeightNormCache

    Raises
    ------
    TypeError
        If ``v`` or ``g`` is not floating point or the dtypes differ.
    ValueError
        If ``v`` has fewer than 2 dimensions, ``g`` is not of shape ``(out,)``, an array holds
        NaN or inf, or a row of ``v`` has norm 0.

    Equations
    ---------
    Per output unit $i$, with the norm over all other axes:

    $$ w_i = g_i \frac{v_i}{\lVert v_i \rVert} $$

    Examples
    --------
    >>> w, _ = weight_norm_forward(np.array([[3.0, 4.0]]), np.array([10.0]))
    >>> w
    array([[6., 8.]])
    """
    v = checks.float_array(v, "v")
    g = checks.float_array(g, "g")
    checks.check_min_ndim(v, 2, "v")
    checks.check_shape(g, (v.shape[0],), "g")
    checks.check_same_dtype(v, g=g)
    checks.check_finite(v, "v")
    checks.check_finite(g, "g")
    per_unit = (-1,) + (1,) * (v.ndim - 1)
    other_axes = tuple(range(1, v.ndim))

    # ‖v_i‖ = √(Σ v_i²)
    norm = np.sqrt((v * v).sum(axis=other_axes))
    if (norm == 0).any():
        raise ValueError("weight norm needs every row of v to be nonzero (‖v_i‖ = 0 found)")
    # u_i = v_i / ‖v_i‖
    direction = v / norm.reshape(per_unit)
    # w_i = g_i u_i
    w = g.reshape(per_unit) * direction
    return w, WeightNormCache(direction, norm, g)


def weight_norm_backward(dw: np.ndarray, cache: WeightNormCache) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients of `weight_norm_forward` with respect to ``v`` and ``g``.

    Parameters
    ----------
    dw : ndarray, shape of v
        Gradient of the loss with respect to the weight $w$.
    cache : WeightNormCache

    Returns
    -------
    dv : ndarray, shape of v
    dg : ndarray, shape (out,)

    Raises
    ------
    TypeError, ValueError
        If ``dw`` has another dtype or shape than ``v``, or holds NaN or inf.

    Equations
    ---------
    With $u_i = v_i / \lVert v_i \rVert$:

    $$ \frac{\partial L}{\partial g_i} = \langle dw_i, u_i \rangle, \qquad
       \frac{\partial L}{\partial v_i} = \frac{g_i}{\lVert v_i \rVert}
       \big( dw_i - u_i \langle dw_i, u_i \rangle \big) $$

    The gradient of $v$ is orthogonal to $v$: it turns the direction, $g$ sets the length.

    Examples
    --------
    >>> w, cache = weight_norm_forward(np.array([[3.0, 4.0]]), np.array([10.0]))
    >>> dv, dg = weight_norm_backward(np.array([[3.0, 4.0]]), cache)  # dw parallel to v
    >>> dv, dg
    (array([[0., 0.]]), array([5.]))
    """
    dw = checks.check_upstream(dw, cache.direction, "dw")
    checks.check_finite(dw, "dw")
    u = cache.direction
    per_unit = (-1,) + (1,) * (u.ndim - 1)
    other_axes = tuple(range(1, u.ndim))
    # ∂L/∂g_i = ⟨dw_i, u_i⟩
    dg = (dw * u).sum(axis=other_axes)
    # ∂L/∂v_i = (g_i / ‖v_i‖) (dw_i − u_i ⟨dw_i, u_i⟩)
    dv = (cache.g / cache.norm).reshape(per_unit) * (dw - u * dg.reshape(per_unit))
    return dv, dg
