r"""Batch normalization as pure functions: forward, backward, running statistics, folding, sync.

Every function works on ``(N, C)`` and on ``(N, C, *spatial)`` arrays alike. Statistics are
taken per channel $c$ over the $m = N \cdot \prod \text{spatial}$ values that share it: a sum
over every axis but axis 1, and a per-channel value broadcast back as shape ``(1, C, 1, ...)``.

Two choices keep the numbers right, and are the same in every function:

- Per-channel sums are accumulated in float64, also for float32 input
  (``x.sum(axis=..., dtype=np.float64)``); the results come back in the input's dtype.
- The variance is computed in two passes, mean first and then the mean of squared deviations,
  because the one-pass $\overline{x^2} - \bar x^2$ cancels catastrophically when the mean is
  large compared to the spread (1e8 + noise in float64, 1e4 + noise in float32).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from refimpl import checks

__all__ = [
    "BatchNormCache",
    "SyncBatchNormCache",
    "batch_norm_backward",
    "batch_norm_eval_backward",
    "batch_norm_eval_forward",
    "batch_norm_forward",
    "fold_batch_norm",
    "sync_batch_norm_backward",
    "sync_batch_norm_forward",
    "update_running_stats",
]


class BatchNormCache(NamedTuple):
    """What the backward pass needs from a batch-norm forward pass.

    Attributes
    ----------
    x_hat : ndarray, shape (N, C, *spatial)
        The normalized input $\\hat x$.
    inv_std : ndarray, shape (C,)
        $1 / \\sqrt{\\sigma^2 + \\epsilon}$ per channel.
    gamma : ndarray, shape (C,)
        The scale $\\gamma$ (ones when the forward pass was given None).
    mean, var : ndarray, shape (C,)
        The statistics used (biased variance). Backward does not read them; they are here so
        that a caller can update running averages without another pass over the batch.

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> _, cache = batch_norm_forward(x, np.ones(2), np.zeros(2))
    >>> cache.mean, cache.var
    (array([ 2., 20.]), array([  1., 100.]))
    >>> np.round(cache.inv_std, 4)
    array([1. , 0.1])
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    var: np.ndarray


class SyncBatchNormCache(NamedTuple):
    """What `sync_batch_norm_backward` needs: one normalized shard per device, shared stats.

    Attributes
    ----------
    x_hats : list of ndarray
        The normalized input of each shard, shapes ``(N_k, C, *spatial)``.
    inv_std : ndarray, shape (C,)
        $1 / \\sqrt{\\sigma^2 + \\epsilon}$ from the statistics of all shards together.
    gamma : ndarray, shape (C,)
        The scale $\\gamma$ (ones when the forward pass was given None).
    mean, var : ndarray, shape (C,)
        The global statistics (for the running averages; backward does not read them).
    count : int
        $m$, the number of values per channel over all shards.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(4, 2)
    >>> _, cache = sync_batch_norm_forward([x[:1], x[1:]])
    >>> [x_hat.shape for x_hat in cache.x_hats], cache.count
    ([(1, 2), (3, 2)], 4)
    """

    x_hats: list[np.ndarray]
    inv_std: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    count: int


# -- input checks, shared by every function below ---------------------------------------------


def _check_input(x, gamma, beta, eps: float, name: str = "x"):
    """Check a batch-norm input and its parameters; return them as arrays (None: γ = 1, β = 0)."""
    x = checks.float_array(x, name)
    checks.check_min_ndim(x, 2, "input")
    checks.check_finite(x, name)
    channels = (x.shape[1],)
    gamma = np.ones(channels, x.dtype) if gamma is None else checks.float_array(gamma, "gamma")
    beta = np.zeros(channels, x.dtype) if beta is None else checks.float_array(beta, "beta")
    checks.check_shape(gamma, channels, "gamma")
    checks.check_shape(beta, channels, "beta")
    checks.check_same_dtype(x, gamma=gamma, beta=beta)
    checks.check_eps(eps)
    return x, gamma, beta


def _check_count(m: int, shape) -> None:
    """Training needs two values per channel: the variance of one value is 0."""
    if m < 2:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {shape}"
        )


def _check_variance(var: np.ndarray, x: np.ndarray) -> None:
    """A variance that overflowed would normalize everything to 0: say so instead."""
    if not np.isfinite(var).all():
        message = f"x is too large for {x.dtype}: its squared deviations overflow"
        raise checks.NonFiniteError(message)


def _check_upstream(dout, x_hat: np.ndarray, name: str = "dout") -> np.ndarray:
    dout = checks.check_upstream(dout, x_hat, name)
    checks.check_finite(dout, name)
    return dout


# -- training mode ------------------------------------------------------------------------------


# --8<-- [start:forward]
def batch_norm_forward(
    x: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchNormCache]:
    r"""Batch normalization in training mode: normalize each channel with the batch statistics.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)
        Input, float32 or float64.
    gamma : ndarray, shape (C,), optional
        Scale $\gamma$ (PyTorch's ``weight``); None means 1.
    beta : ndarray, shape (C,), optional
        Shift $\beta$ (PyTorch's ``bias``); None means 0.
    eps : float, default 1e-5
        Added to the variance before the square root.

    Returns
    -------
    out : ndarray, shape of x
        $y = \gamma \hat x + \beta$, same dtype as ``x``.
    cache : BatchNormCache
        For `batch_norm_backward`; ``cache.mean`` and ``cache.var`` are the batch statistics.

    Raises
    ------
    TypeError
        If ``x``, ``gamma`` or ``beta`` is not floating point, or their dtypes differ.
    ValueError
        If ``x`` has fewer than 2 dimensions, holds NaN or inf, has only one value per channel,
        if ``gamma`` or ``beta`` is not of shape ``(C,)``, or if ``eps <= 0``.

    Equations
    ---------
    For each channel $c$, over its $m$ values $x_i$ (all samples and positions):

    $$ \mu = \frac{1}{m} \sum_{i=1}^{m} x_i, \qquad
       \sigma^2 = \frac{1}{m} \sum_{i=1}^{m} (x_i - \mu)^2 $$

    $$ \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
       y_i = \gamma \hat x_i + \beta $$

    $\sigma^2$ is the biased variance (divided by $m$), as in PyTorch.

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> out, cache = batch_norm_forward(x, np.ones(2), np.zeros(2))
    >>> np.round(out, 4)
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    x, gamma, beta = _check_input(x, gamma, beta, eps)
    m = x.size // x.shape[1]  # values per channel
    _check_count(m, x.shape)
    axes = (0, *range(2, x.ndim))  # every axis but the channels
    shape = (1, -1) + (1,) * (x.ndim - 2)  # a per-channel value, broadcast as (1, C, 1, ...)

    # μ = (1/m) Σ x_i    (the sum in float64, also for float32 input)
    mean = x.sum(axis=axes, dtype=np.float64) / m
    # x_i − μ
    centered = x - mean.astype(x.dtype).reshape(shape)
    # σ² = (1/m) Σ (x_i − μ)²    (the second of two passes: no cancellation)
    var = (centered * centered).sum(axis=axes, dtype=np.float64) / m
    _check_variance(var, x)
    # 1 / √(σ² + ε)
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
    # x̂_i = (x_i − μ) / √(σ² + ε)
    x_hat = centered * inv_std.reshape(shape)
    # y_i = γ x̂_i + β
    out = gamma.reshape(shape) * x_hat + beta.reshape(shape)

    cache = BatchNormCache(x_hat, inv_std, gamma, mean.astype(x.dtype), var.astype(x.dtype))
    return out, cache
    # --8<-- [end:forward]


# --8<-- [start:backward]
def batch_norm_backward(
    dout: np.ndarray, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of training-mode batch normalization, in the compact form.

    Parameters
    ----------
    dout : ndarray, shape (N, C) or (N, C, *spatial)
        Upstream gradient $\partial L / \partial y$, shape and dtype of the forward output.
    cache : BatchNormCache
        From `batch_norm_forward`.

    Returns
    -------
    dx : ndarray, shape of dout
        $\partial L / \partial x$.
    dgamma, dbeta : ndarray, shape (C,)
        $\partial L / \partial \gamma$ and $\partial L / \partial \beta$ (also without
        ``gamma`` or ``beta`` in the forward pass: then at $\gamma = 1$, $\beta = 0$).

    Raises
    ------
    TypeError
        If ``dout`` is not floating point or its dtype differs from the forward pass.
    ValueError
        If ``dout`` has another shape than the forward output or holds NaN or inf.

    Equations
    ---------
    With sums over the $m$ values of a channel:

    $$ \frac{\partial L}{\partial \beta} = \sum_i dy_i, \qquad
       \frac{\partial L}{\partial \gamma} = \sum_i dy_i \, \hat x_i $$

    $$ dx_i = \frac{\gamma}{m \sqrt{\sigma^2 + \epsilon}}
       \Big( m \, dy_i - \sum_j dy_j - \hat x_i \sum_j dy_j \hat x_j \Big) $$

    The batch statistics depend on every $x_i$, hence the two sums: without them this would be
    the eval-mode gradient $\gamma \, dy_i / \sqrt{\sigma^2 + \epsilon}$.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(3.0, 5.0, size=(8, 4))
    >>> out, cache = batch_norm_forward(x, np.ones(4), np.zeros(4))
    >>> dx, dgamma, dbeta = batch_norm_backward(rng.normal(size=(8, 4)), cache)
    >>> np.allclose(dx.sum(axis=0), 0.0)  # shifting a channel does not change the output
    True
    """
    x_hat, inv_std, gamma = cache.x_hat, cache.inv_std, cache.gamma
    dy = _check_upstream(dout, x_hat)
    m = x_hat.size // x_hat.shape[1]  # values per channel
    axes = (0, *range(2, x_hat.ndim))  # every axis but the channels
    shape = (1, -1) + (1,) * (x_hat.ndim - 2)  # a per-channel value, broadcast as (1, C, 1, ...)

    # ∂L/∂β = Σ dy_i
    dbeta = dy.sum(axis=axes, dtype=np.float64).astype(dy.dtype)
    # ∂L/∂γ = Σ dy_i x̂_i
    dgamma = (dy * x_hat).sum(axis=axes, dtype=np.float64).astype(dy.dtype)
    # dx_i = γ / (m √(σ² + ε)) · (m dy_i − Σ_j dy_j − x̂_i Σ_j dy_j x̂_j)
    dx = (gamma * inv_std / m).reshape(shape) * (
        m * dy - dbeta.reshape(shape) - x_hat * dgamma.reshape(shape)
    )
    return dx, dgamma, dbeta
    # --8<-- [end:backward]


# -- evaluation mode ----------------------------------------------------------------------------


def batch_norm_eval_forward(
    x: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchNormCache]:
    r"""Batch normalization in evaluation mode: normalize with the running statistics.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)
        Input; any batch size, including 1.
    running_mean, running_var : ndarray, shape (C,)
        The statistics to normalize with (e.g. from `update_running_stats`).
    gamma, beta : ndarray of shape (C,), optional
        Scale and shift; None means 1 and 0.
    eps : float, default 1e-5
        Added to the variance before the square root.

    Returns
    -------
    out : ndarray, shape of x
        $y = \gamma \hat x + \beta$.
    cache : BatchNormCache
        For `batch_norm_eval_backward`.

    Raises
    ------
    TypeError
        If an array is not floating point or the dtypes differ.
    ValueError
        If shapes do not match, ``x`` holds NaN or inf, a variance is negative, or ``eps <= 0``.

    Equations
    ---------
    $$ \hat x_i = \frac{x_i - \mu_{\text{running}}}{\sqrt{\sigma^2_{\text{running}} + \epsilon}},
       \qquad y_i = \gamma \hat x_i + \beta $$

    Every sample is normalized on its own: the output does not depend on the rest of the batch.

    Examples
    --------
    >>> out, _ = batch_norm_eval_forward(np.array([[2.0]]), np.array([1.0]), np.array([4.0]))
    >>> np.round(out, 4)
    array([[0.5]])
    """
    x, gamma, beta = _check_input(x, gamma, beta, eps)
    running_mean = checks.float_array(running_mean, "running_mean")
    running_var = checks.float_array(running_var, "running_var")
    checks.check_shape(running_mean, (x.shape[1],), "running_mean")
    checks.check_shape(running_var, (x.shape[1],), "running_var")
    checks.check_same_dtype(x, running_mean=running_mean, running_var=running_var)
    if (running_var < 0).any():
        raise ValueError("running_var must be >= 0")
    shape = (1, -1) + (1,) * (x.ndim - 2)  # a per-channel value, broadcast as (1, C, 1, ...)

    # 1 / √(σ²_running + ε)
    inv_std = 1.0 / np.sqrt(running_var + eps)
    # x̂_i = (x_i − μ_running) / √(σ²_running + ε)
    x_hat = (x - running_mean.reshape(shape)) * inv_std.reshape(shape)
    # y_i = γ x̂_i + β
    out = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    return out, BatchNormCache(x_hat, inv_std, gamma, running_mean, running_var)


def batch_norm_eval_backward(
    dout: np.ndarray, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of evaluation-mode batch normalization (fixed statistics).

    Parameters
    ----------
    dout : ndarray, shape (N, C) or (N, C, *spatial)
        Upstream gradient.
    cache : BatchNormCache
        From `batch_norm_eval_forward`.

    Returns
    -------
    dx : ndarray, shape of dout
    dgamma, dbeta : ndarray, shape (C,)

    Raises
    ------
    TypeError, ValueError
        As `batch_norm_backward`.

    Equations
    ---------
    The statistics are constants here, so BN is a per-channel affine map:

    $$ dx_i = \frac{\gamma \, dy_i}{\sqrt{\sigma^2_{\text{running}} + \epsilon}}, \qquad
       \frac{\partial L}{\partial \gamma} = \sum_i dy_i \hat x_i, \qquad
       \frac{\partial L}{\partial \beta} = \sum_i dy_i $$

    Examples
    --------
    >>> out, cache = batch_norm_eval_forward(np.ones((2, 1)), np.zeros(1), np.full(1, 3.0), eps=1.0)
    >>> dx, dgamma, dbeta = batch_norm_eval_backward(np.ones((2, 1)), cache)
    >>> dx
    array([[0.5],
           [0.5]])
    """
    x_hat, inv_std, gamma = cache.x_hat, cache.inv_std, cache.gamma
    dy = _check_upstream(dout, x_hat)
    axes = (0, *range(2, x_hat.ndim))  # every axis but the channels
    shape = (1, -1) + (1,) * (x_hat.ndim - 2)  # a per-channel value, broadcast as (1, C, 1, ...)

    # ∂L/∂β = Σ dy_i
    dbeta = dy.sum(axis=axes, dtype=np.float64).astype(dy.dtype)
    # ∂L/∂γ = Σ dy_i x̂_i
    dgamma = (dy * x_hat).sum(axis=axes, dtype=np.float64).astype(dy.dtype)
    # dx_i = γ dy_i / √(σ²_running + ε)
    dx = (gamma * inv_std).reshape(shape) * dy
    return dx, dgamma, dbeta


# -- running statistics -------------------------------------------------------------------------


# --8<-- [start:running-stats]
def update_running_stats(
    running_mean: np.ndarray,
    running_var: np.ndarray,
    batch_mean: np.ndarray,
    batch_var: np.ndarray,
    count: int,
    momentum: float | None = 0.1,
    num_batches_tracked: int = 0,
) -> tuple[np.ndarray, np.ndarray, int]:
    r"""Blend one batch's statistics into the running averages, as PyTorch does.

    A pure function: the inputs are not modified, new arrays are returned.

    Parameters
    ----------
    running_mean, running_var : ndarray, shape (C,)
        The current running averages (PyTorch starts them at 0 and 1).
    batch_mean, batch_var : ndarray, shape (C,)
        The batch statistics from `batch_norm_forward` (biased variance, as used to normalize).
    count : int
        $m$, the number of values per channel in the batch (``N * prod(spatial)``); >= 2.
    momentum : float or None, default 0.1
        Weight of the new batch. None gives the cumulative moving average (equal weights for
        every batch so far).
    num_batches_tracked : int, default 0
        Batches seen before this one.

    Returns
    -------
    running_mean, running_var : ndarray, shape (C,)
        The updated averages.
    num_batches_tracked : int
        ``num_batches_tracked + 1``.

    Raises
    ------
    TypeError
        If an array is not floating point.
    ValueError
        If ``count < 2`` or ``momentum`` is outside [0, 1].

    Equations
    ---------
    $$ \mu_{\text{running}} \leftarrow (1 - \alpha)\, \mu_{\text{running}} + \alpha\, \mu_B,
       \qquad
       \sigma^2_{\text{running}} \leftarrow (1 - \alpha)\, \sigma^2_{\text{running}}
       + \alpha\, \frac{m}{m - 1} \sigma^2_B $$

    with $\alpha$ = ``momentum``, or $\alpha = 1/t$ for the $t$-th batch when ``momentum`` is
    None. The variance enters unbiased ($\cdot\, m/(m-1)$) although the batch was normalized
    with the biased one; this is what PyTorch does.

    Examples
    --------
    >>> mean, var, t = update_running_stats(
    ...     np.zeros(1), np.ones(1), np.array([2.0]), np.array([3.0]), count=4
    ... )
    >>> mean, var, t
    (array([0.2]), array([1.3]), 1)
    """
    running_mean = checks.float_array(running_mean, "running_mean")
    running_var = checks.float_array(running_var, "running_var")
    batch_mean = checks.float_array(batch_mean, "batch_mean")
    batch_var = checks.float_array(batch_var, "batch_var")
    checks.check_momentum(momentum)
    if count < 2:
        raise ValueError(f"count must be at least 2 to unbias the variance, got {count}")
    num_batches_tracked = num_batches_tracked + 1
    # α = momentum, or 1/t for a cumulative average
    factor = 1.0 / num_batches_tracked if momentum is None else momentum
    # σ²_unbiased = σ²_B · m / (m − 1)
    unbiased_var = batch_var * (count / (count - 1))
    # running ← (1 − α) running + α batch
    new_mean = (1.0 - factor) * running_mean + factor * batch_mean
    new_var = (1.0 - factor) * running_var + factor * unbiased_var
    return (
        new_mean.astype(running_mean.dtype),
        new_var.astype(running_var.dtype),
        num_batches_tracked,
    )
    # --8<-- [end:running-stats]


# -- folding into the previous layer -------------------------------------------------------------


# --8<-- [start:fold]
def fold_batch_norm(
    weight: np.ndarray,
    bias: np.ndarray | None,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    gamma: np.ndarray | None,
    beta: np.ndarray | None,
    eps: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Fold an eval-mode BatchNorm into the Linear or Conv2d layer before it.

    Parameters
    ----------
    weight : ndarray, shape (C_out, C_in) or (C_out, C_in, kh, kw)
        Weight of the layer before BN (``Linear`` or ``Conv2d``).
    bias : ndarray of shape (C_out,), or None
        Its bias (None: no bias, i.e. 0).
    running_mean, running_var : ndarray, shape (C_out,)
        BN's running statistics.
    gamma, beta : ndarray of shape (C_out,), or None
        BN's scale and shift (None: 1 and 0, for ``affine=False``).
    eps : float, default 1e-5
        BN's eps.

    Returns
    -------
    weight : ndarray, shape of weight
        $W'$.
    bias : ndarray, shape (C_out,)
        $b'$ (always present, even when the layer had no bias).

    Raises
    ------
    TypeError
        If an array is not floating point or the dtypes differ.
    ValueError
        If ``weight`` is not 2-D or 4-D, or a per-channel array is not of shape ``(C_out,)``.

    Equations
    ---------
    In eval mode BN is an affine map per output channel $c$, so it merges with the layer:

    $$ s_c = \frac{\gamma_c}{\sqrt{\sigma^2_c + \epsilon}}, \qquad
       W'_c = s_c W_c, \qquad b'_c = s_c (b_c - \mu_c) + \beta_c $$

    $$ \text{BN}(W x + b) = W' x + b' $$

    Examples
    --------
    >>> w, b = fold_batch_norm(np.eye(2), None, np.array([1.0, 2.0]), np.array([3.0, 0.0]),
    ...                       None, None, eps=1.0)
    >>> w
    array([[0.5, 0. ],
           [0. , 1. ]])
    >>> b
    array([-0.5, -2. ])
    """
    weight = checks.float_array(weight, "weight")
    checks.check_ndim(weight, (2, 4), "weight")
    checks.check_eps(eps)
    channels = (weight.shape[0],)
    defaults = {"bias": 0.0, "running_mean": None, "running_var": None, "gamma": 1.0, "beta": 0.0}
    given = {"bias": bias, "running_mean": running_mean, "running_var": running_var}
    given.update(gamma=gamma, beta=beta)
    arrays = {}
    for name, array in given.items():
        if array is None and defaults[name] is not None:
            array = np.full(channels, defaults[name], weight.dtype)
        arrays[name] = checks.float_array(array, name)
        checks.check_shape(arrays[name], channels, name)
        checks.check_same_dtype(weight, **{name: arrays[name]})
    bias, running_mean, running_var, gamma, beta = arrays.values()

    # s = γ / √(σ² + ε)
    scale = gamma / np.sqrt(running_var + eps)
    # W' = s W    (one s per output channel: row c of W, or filter c of a convolution)
    folded_weight = weight * scale.reshape(-1, *[1] * (weight.ndim - 1))
    # b' = s (b − μ) + β
    folded_bias = scale * (bias - running_mean) + beta
    return folded_weight, folded_bias
    # --8<-- [end:fold]


# -- synchronized batch norm over K shards ---------------------------------------------------


def sync_batch_norm_forward(
    shards: list[np.ndarray],
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
) -> tuple[list[np.ndarray], SyncBatchNormCache]:
    r"""Batch norm over a batch split across K devices, with statistics shared by all-reduce.

    Each shard plays one device. Devices exchange only per-channel numbers: counts and sums for
    the mean, then sums of squared deviations for the variance (two passes, as in
    `batch_norm_forward`). The result equals `batch_norm_forward` on the concatenated batch.

    Parameters
    ----------
    shards : list of ndarray, shapes (N_k, C, *spatial)
        The per-device batches; same dtype, same ``C`` and spatial shape; ``N_k`` may differ.
    gamma, beta : ndarray of shape (C,), optional
        Scale and shift, shared by all devices.
    eps : float, default 1e-5

    Returns
    -------
    outs : list of ndarray
        One output per shard, shapes of the shards.
    cache : SyncBatchNormCache

    Raises
    ------
    TypeError, ValueError
        As `batch_norm_forward`, for any shard; ValueError if ``shards`` is empty or the shards
        disagree in shape.

    Equations
    ---------
    With $m_k$ values and $S_k$ the sum of a channel on device $k$:

    $$ m = \sum_k m_k, \qquad \mu = \frac{1}{m} \sum_k S_k, \qquad
       \sigma^2 = \frac{1}{m} \sum_k \sum_{i \in k} (x_i - \mu)^2 $$

    and every device normalizes its own values with these $\mu, \sigma^2$.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(4, 2)
    >>> outs, _ = sync_batch_norm_forward([x[:1], x[1:]])
    >>> np.allclose(np.concatenate(outs), batch_norm_forward(x)[0])
    True
    """
    if len(shards) == 0:
        raise ValueError("sync batch norm needs at least one shard")
    checked = [_check_input(x, gamma, beta, eps, f"shards[{k}]") for k, x in enumerate(shards)]
    shards, (_, gamma, beta) = [x for x, _, _ in checked], checked[0]
    first = shards[0]
    for k, shard in enumerate(shards):
        if shard.shape[1:] != first.shape[1:] or shard.dtype != first.dtype:
            raise ValueError(
                f"every shard needs shape (N_k, *{first.shape[1:]}) and dtype {first.dtype}; "
                f"shard {k} has shape {shard.shape} and dtype {shard.dtype}"
            )
    # m = Σ_k m_k
    m = sum(shard.size // shard.shape[1] for shard in shards)
    _check_count(m, [shard.shape for shard in shards])
    axes = (0, *range(2, first.ndim))  # every axis but the channels
    shape = (1, -1) + (1,) * (first.ndim - 2)  # a per-channel value, broadcast as (1, C, 1, ...)

    # all-reduce 1: μ = (1/m) Σ_k Σ_{i∈k} x_i
    mean = sum(shard.sum(axis=axes, dtype=np.float64) for shard in shards) / m
    # each device: x_i − μ
    centered = [shard - mean.astype(first.dtype).reshape(shape) for shard in shards]
    # all-reduce 2: σ² = (1/m) Σ_k Σ_{i∈k} (x_i − μ)²
    var = sum((c * c).sum(axis=axes, dtype=np.float64) for c in centered) / m
    _check_variance(var, first)
    # 1 / √(σ² + ε)
    inv_std = (1.0 / np.sqrt(var + eps)).astype(first.dtype)
    # each device: x̂_i = (x_i − μ) / √(σ² + ε),  y_i = γ x̂_i + β
    x_hats = [c * inv_std.reshape(shape) for c in centered]
    outs = [gamma.reshape(shape) * x_hat + beta.reshape(shape) for x_hat in x_hats]

    mean, var = mean.astype(first.dtype), var.astype(first.dtype)
    return outs, SyncBatchNormCache(x_hats, inv_std, gamma, mean, var, m)


def sync_batch_norm_backward(
    douts: list[np.ndarray], cache: SyncBatchNormCache
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    r"""Gradients of `sync_batch_norm_forward`: all-reduce two sums, then a local formula.

    Parameters
    ----------
    douts : list of ndarray
        Upstream gradient of each shard's output.
    cache : SyncBatchNormCache

    Returns
    -------
    dxs : list of ndarray
        Gradient of each shard.
    dgamma, dbeta : ndarray, shape (C,)
        Summed over all devices (the all-reduce gives every device the same values).

    Raises
    ------
    TypeError, ValueError
        As `batch_norm_backward`, for any shard, or if the number of gradients is not K.

    Equations
    ---------
    $$ \Sigma_{dy} = \sum_k \sum_{i \in k} dy_i, \qquad
       \Sigma_{dy \hat x} = \sum_k \sum_{i \in k} dy_i \hat x_i $$

    $$ dx_i = \frac{\gamma}{m \sqrt{\sigma^2 + \epsilon}}
       \big( m \, dy_i - \Sigma_{dy} - \hat x_i \Sigma_{dy \hat x} \big) $$

    Examples
    --------
    >>> x = np.arange(8.0).reshape(4, 2)
    >>> _, cache = sync_batch_norm_forward([x[:2], x[2:]], np.ones(2), np.zeros(2))
    >>> dxs, dgamma, dbeta = sync_batch_norm_backward([np.ones((2, 2)), np.ones((2, 2))], cache)
    >>> dbeta
    array([4., 4.])
    """
    if len(douts) != len(cache.x_hats):
        raise ValueError(f"expected {len(cache.x_hats)} upstream gradients, got {len(douts)}")
    pairs = [
        (_check_upstream(dout, x_hat, f"douts[{k}]"), x_hat)
        for k, (dout, x_hat) in enumerate(zip(douts, cache.x_hats, strict=True))
    ]
    m, dtype, ndim = cache.count, cache.inv_std.dtype, cache.x_hats[0].ndim
    axes = (0, *range(2, ndim))  # every axis but the channels
    shape = (1, -1) + (1,) * (ndim - 2)  # a per-channel value, broadcast as (1, C, 1, ...)

    # all-reduce: ∂L/∂β = Σ_k Σ_{i∈k} dy_i,  ∂L/∂γ = Σ_k Σ_{i∈k} dy_i x̂_i
    dbeta = sum(dy.sum(axis=axes, dtype=np.float64) for dy, _ in pairs).astype(dtype)
    dgamma = sum((dy * x_hat).sum(axis=axes, dtype=np.float64) for dy, x_hat in pairs)
    dgamma = dgamma.astype(dtype)
    # each device: dx_i = γ / (m √(σ² + ε)) · (m dy_i − Σ dy − x̂_i Σ dy x̂)
    scale = (cache.gamma * cache.inv_std / m).reshape(shape)
    dxs = [
        scale * (m * dy - dbeta.reshape(shape) - x_hat * dgamma.reshape(shape))
        for dy, x_hat in pairs
    ]
    return dxs, dgamma, dbeta
