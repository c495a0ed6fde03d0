r"""Normalization modules: batch norm (1d, 2d, 3d, synchronized), layer, group, instance and
weight norm.

They wrap the pure functions of `refimpl.functional` and add what needs state: the parameters
(``weight`` $= \gamma$, ``bias`` $= \beta$, as in PyTorch), the running statistics of batch norm,
and the train/eval switch. Constructor arguments, defaults and the meaning of ``momentum`` are
PyTorch's.
"""

from __future__ import annotations

import numpy as np

from refimpl import checks
from refimpl import functional as F
from refimpl.nn.layers import Linear, require_cache
from refimpl.nn.module import Module, Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "GroupNorm",
    "InstanceNorm2d",
    "LayerNorm",
    "MeanOnlyBatchNorm",
    "SyncBatchNorm",
    "WeightNormLinear",
    "is_batch_norm",
]


def _data(parameter: Parameter | None) -> np.ndarray | None:
    return None if parameter is None else parameter.data


def _add_grad(parameter: Parameter | None, grad: np.ndarray) -> None:
    if parameter is not None:
        parameter.grad += grad


# -- batch norm -------------------------------------------------------------------------------


class _BatchNorm(Module):
    r"""Batch normalization over axis 1 of ``(N, C, *spatial)``; sub-classes fix the dimensions.

    Parameters
    ----------
    num_features : int
        $C$, the number of channels (features).
    eps : float, default 1e-5
        Added to the variance before the square root; must be > 0.
    momentum : float or None, default 0.1
        Weight of the *new* batch in the running averages:
        ``running = (1 - momentum) * running + momentum * batch``. None: cumulative moving
        average over all batches so far (uses ``num_batches_tracked``).
    affine : bool, default True
        Learn ``weight`` ($\gamma$, starts at 1) and ``bias`` ($\beta$, starts at 0).
    track_running_stats : bool, default True
        Keep running averages and use them in eval mode. If False, batch statistics are used
        in both modes and ``running_mean``, ``running_var``, ``num_batches_tracked`` are None.
    dtype : numpy dtype, default np.float64
        Of the parameters and running statistics; the input must have the same dtype.

    Attributes
    ----------
    weight, bias : Parameter of shape (C,), or None
    running_mean : ndarray of shape (C,), or None
        Starts at 0.
    running_var : ndarray of shape (C,), or None
        Starts at 1; updated with the unbiased batch variance.
    num_batches_tracked : int or None
        Training batches seen.
    """

    _input_ndims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype=np.float64,
    ) -> None:
        checks.check_positive_int(num_features, "num_features")
        checks.check_eps(eps)
        checks.check_momentum(momentum)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.dtype = np.dtype(dtype)
        self.weight = Parameter(np.ones(num_features, dtype), "weight") if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype), "bias") if affine else None
        self.running_mean: np.ndarray | None = None
        self.running_var: np.ndarray | None = None
        self.num_batches_tracked: int | None = None
        self.reset_running_stats()
        self._cache = None
        self._backward_fn = None

    def reset_running_stats(self) -> None:
        """Set the running mean to 0, the running variance to 1 and the batch count to 0."""
        if self.track_running_stats:
            self.running_mean = np.zeros(self.num_features, self.dtype)
            self.running_var = np.ones(self.num_features, self.dtype)
            self.num_batches_tracked = 0

    def _check_input(self, x) -> np.ndarray:
        x = checks.float_array(x, "input")
        if self._input_ndims:
            checks.check_ndim(x, self._input_ndims, "input")
        else:  # no fixed number of dimensions (SyncBatchNorm): any (N, C, *spatial)
            checks.check_min_ndim(x, 2, "input")
        checks.check_channels(x, self.num_features)
        checks.check_same_dtype(x, weight=_data(self.weight), running_mean=self.running_mean)
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        gamma, beta = _data(self.weight), _data(self.bias)
        if self.training or not self.track_running_stats:
            out, self._cache = F.batch_norm_forward(x, gamma, beta, self.eps)
            self._backward_fn = F.batch_norm_backward
            if self.training and self.track_running_stats:
                self._update_running_stats(self._cache.mean, self._cache.var, x.size // x.shape[1])
        else:
            out, self._cache = F.batch_norm_eval_forward(
                x, self.running_mean, self.running_var, gamma, beta, self.eps
            )
            self._backward_fn = F.batch_norm_eval_backward
        return out

    def _update_running_stats(self, batch_mean, batch_var, count: int) -> None:
        self.running_mean, self.running_var, self.num_batches_tracked = F.update_running_stats(
            self.running_mean,
            self.running_var,
            batch_mean,
            batch_var,
            count,
            self.momentum,
            self.num_batches_tracked,
        )

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx, dgamma, dbeta = self._backward_fn(dy, require_cache(self, self._cache))
        _add_grad(self.weight, dgamma)
        _add_grad(self.bias, dbeta)
        return dx

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


def is_batch_norm(module: Module) -> bool:
    """Whether ``module`` is a batch normalization with running statistics: `BatchNorm1d`,
    `BatchNorm2d`, `BatchNorm3d` or `SyncBatchNorm` (not `MeanOnlyBatchNorm`)."""
    return isinstance(module, _BatchNorm)


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` input, per channel ``C``.

    See `_BatchNorm` for the parameters and `refimpl.functional.batch_norm_forward` for the math.

    Examples
    --------
    >>> bn = BatchNorm1d(3)
    >>> out = bn(np.random.default_rng(0).normal(5.0, 2.0, size=(16, 3)))
    >>> np.allclose(out.mean(axis=0), 0.0), bn.num_batches_tracked
    (True, 1)
    """

    _input_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` input, per channel over ``N, H, W``.

    See `_BatchNorm` for the parameters and `refimpl.functional.batch_norm_forward` for the math.

    Examples
    --------
    >>> bn = BatchNorm2d(3)
    >>> out = bn(np.random.default_rng(0).normal(5.0, 2.0, size=(4, 3, 5, 5)))
    >>> np.allclose(out.mean(axis=(0, 2, 3)), 0.0)
    True
    """

    _input_ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of ``(N, C, D, H, W)`` input, per channel.

    See `_BatchNorm` for the parameters.

    Examples
    --------
    >>> bn = BatchNorm3d(2)
    >>> out = bn(np.random.default_rng(0).normal(5.0, 2.0, size=(2, 2, 3, 4, 4)))
    >>> out.shape, bool(np.allclose(out.mean(axis=(0, 2, 3, 4)), 0.0))
    ((2, 2, 3, 4, 4), True)
    """

    _input_ndims = (5,)


class SyncBatchNorm(_BatchNorm):
    r"""Batch normalization over a batch split into K shards, one per simulated device.

    ``forward`` takes a *list* of shards and returns a list of outputs (``backward`` takes and
    returns lists too); the statistics are those
    of all shards together. This simulation uses two all-reduces of per-channel sums in the
    forward pass (the sum, then the squared deviations from the global mean) and one in the
    backward pass; see `refimpl.functional.sync_batch_norm_forward`. PyTorch's ``SyncBatchNorm``
    instead all-gathers each device's mean, inverse standard deviation and count once and
    combines them with the parallel-variance formula. The result, the gradients and the running
    statistics equal those of `BatchNorm1d`/`BatchNorm2d` on the concatenated batch, which is
    the point of synchronizing.

    The constructor takes the same arguments as `BatchNorm2d`; any input with ``ndim >= 2`` is
    accepted.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(8, 3))
    >>> outs = SyncBatchNorm(3)([x[:3], x[3:]])
    >>> np.allclose(np.concatenate(outs), BatchNorm1d(3)(x))
    True
    """

    def forward(self, shards: list[np.ndarray]) -> list[np.ndarray]:
        if not isinstance(shards, list | tuple) or len(shards) == 0:
            raise TypeError("SyncBatchNorm.forward takes a non-empty list of shards")
        shards = [self._check_input(shard) for shard in shards]
        gamma, beta = _data(self.weight), _data(self.bias)
        if self.training or not self.track_running_stats:
            outs, self._cache = F.sync_batch_norm_forward(shards, gamma, beta, self.eps)
            self._backward_fn = F.sync_batch_norm_backward
            if self.training and self.track_running_stats:
                cache = self._cache
                self._update_running_stats(cache.mean, cache.var, cache.count)
        else:
            results = [
                F.batch_norm_eval_forward(
                    shard, self.running_mean, self.running_var, gamma, beta, self.eps
                )
                for shard in shards
            ]
            outs = [out for out, _ in results]
            self._cache = [cache for _, cache in results]
            self._backward_fn = self._eval_backward
        return outs

    @staticmethod
    def _eval_backward(douts: list[np.ndarray], caches: list) -> tuple:
        grads = [
            F.batch_norm_eval_backward(dout, cache)
            for dout, cache in zip(douts, caches, strict=True)
        ]
        dxs = [dx for dx, _, _ in grads]
        return dxs, sum(g[1] for g in grads), sum(g[2] for g in grads)


# -- per-sample normalization -------------------------------------------------------------------


class LayerNorm(Module):
    r"""Layer normalization over the trailing ``normalized_shape`` axes of each sample.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape to normalize, e.g. ``C`` for ``(N, C)`` input.
    eps : float, default 1e-5
    elementwise_affine : bool, default True
        Learn ``weight`` (ones) and ``bias`` (zeros) of shape ``normalized_shape``.
    bias : bool, default True
        With ``elementwise_affine``, learn the bias too (PyTorch >= 2.1).
    dtype : numpy dtype, default np.float64

    Examples
    --------
    >>> ln = LayerNorm(4)
    >>> out = ln(np.array([[1.0, 2.0, 3.0, 4.0]]))
    >>> np.allclose(out.mean(axis=1), 0.0)
    True
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype=np.float64,
    ) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        for size in shape:
            checks.check_positive_int(size, "normalized_shape")
        checks.check_eps(eps)
        self.normalized_shape = tuple(shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        affine_bias = elementwise_affine and bias
        self.weight = Parameter(np.ones(shape, dtype), "weight") if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, dtype), "bias") if affine_bias else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = F.layer_norm_forward(
            x, self.normalized_shape, _data(self.weight), _data(self.bias), self.eps
        )
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx, dgamma, dbeta = F.layer_norm_backward(dy, require_cache(self, self._cache))
        _add_grad(self.weight, dgamma)
        _add_grad(self.bias, dbeta)
        return dx

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class GroupNorm(Module):
    r"""Group normalization: per sample, over groups of ``num_channels / num_groups`` channels.

    Parameters
    ----------
    num_groups : int
        Must divide ``num_channels``.
    num_channels : int
    eps : float, default 1e-5
    affine : bool, default True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    dtype : numpy dtype, default np.float64

    Examples
    --------
    >>> gn = GroupNorm(2, 4)
    >>> gn(np.random.default_rng(0).normal(size=(3, 4, 5))).shape
    (3, 4, 5)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        *,
        dtype=np.float64,
    ) -> None:
        checks.check_positive_int(num_groups, "num_groups")
        checks.check_positive_int(num_channels, "num_channels")
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels={num_channels} must be divisible by num_groups={num_groups}"
            )
        checks.check_eps(eps)
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self.weight = Parameter(np.ones(num_channels, dtype), "weight") if affine else None
        self.bias = Parameter(np.zeros(num_channels, dtype), "bias") if affine else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = checks.float_array(x, "input")
        checks.check_min_ndim(x, 2, "input")
        checks.check_channels(x, self.num_channels, "num_channels")
        out, self._cache = F.group_norm_forward(
            x, self.num_groups, _data(self.weight), _data(self.bias), self.eps
        )
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx, dgamma, dbeta = F.group_norm_backward(dy, require_cache(self, self._cache))
        _add_grad(self.weight, dgamma)
        _add_grad(self.bias, dbeta)
        return dx

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class InstanceNorm2d(GroupNorm):
    r"""Instance normalization of ``(N, C, H, W)``: each channel of each sample on its own.

    One group per channel of `GroupNorm`. As PyTorch's ``InstanceNorm2d`` with its defaults:
    ``affine=False`` and no running statistics (``track_running_stats=True`` is not
    implemented here), so training and eval compute the same thing.

    Parameters
    ----------
    num_features : int
        $C$.
    eps : float, default 1e-5
    affine : bool, default False
    dtype : numpy dtype, default np.float64

    Examples
    --------
    >>> out = InstanceNorm2d(3)(np.random.default_rng(0).normal(size=(2, 3, 4, 4)))
    >>> np.allclose(out.mean(axis=(2, 3)), 0.0)
    True
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, affine: bool = False, *, dtype=np.float64
    ) -> None:
        super().__init__(num_features, num_features, eps, affine, dtype=dtype)
        self.num_features = num_features

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = checks.float_array(x, "input")
        checks.check_ndim(x, (4,), "input")
        checks.check_channels(x, self.num_features)
        out, self._cache = F.instance_norm_forward(
            x, _data(self.weight), _data(self.bias), self.eps
        )
        return out

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, affine={self.affine}"


# -- weight norm --------------------------------------------------------------------------------


class WeightNormLinear(Module):
    r"""A `Linear` layer whose weight is reparametrized as $w = g \, v / \lVert v \rVert$.

    The same as ``torch.nn.utils.weight_norm(nn.Linear(...))`` (``dim=0``: one $g$ per output
    unit), except that ``weight_g`` has shape ``(out_features,)`` instead of
    ``(out_features, 1)``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool, default True
    rng : numpy.random.Generator, optional
        Source of the initial ``v`` (drawn as a `Linear` weight); None uses
        ``np.random.default_rng(0)`` (deterministic).
    dtype : numpy dtype, default np.float64

    Attributes
    ----------
    weight_g : Parameter, shape (out_features,)
        Starts at $\lVert v \rVert$, so the initial weight equals ``weight_v``.
    weight_v : Parameter, shape (out_features, in_features)
    bias : Parameter of shape (out_features,), or None
    weight : ndarray, shape (out_features, in_features)
        The effective weight $g \, v / \lVert v \rVert$ (read-only, computed when read).

    Examples
    --------
    >>> layer = WeightNormLinear(3, 2, rng=np.random.default_rng(0))
    >>> np.allclose(layer.weight, layer.weight_v.data)
    True
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
        dtype=np.float64,
    ) -> None:
        linear = Linear(in_features, out_features, bias, rng=rng, dtype=dtype)
        v = linear.weight.data
        self.in_features = in_features
        self.out_features = out_features
        self.weight_g = Parameter(np.sqrt((v * v).sum(axis=1)), "weight_g")
        self.weight_v = Parameter(v, "weight_v")
        self.bias = None if linear.bias is None else Parameter(linear.bias.data, "bias")
        self._weight_cache = None
        self._linear_cache = None

    @property
    def weight(self) -> np.ndarray:
        """The effective weight $g \\, v / \\lVert v \\rVert$, shape ``(out, in)``: an attribute, as
        in PyTorch, computed from ``weight_g`` and ``weight_v`` when read (never stale)."""
        return F.weight_norm_forward(self.weight_v.data, self.weight_g.data)[0]

    def forward(self, x: np.ndarray) -> np.ndarray:
        weight, self._weight_cache = F.weight_norm_forward(self.weight_v.data, self.weight_g.data)
        out, self._linear_cache = F.linear_forward(x, weight, _data(self.bias))
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx, dweight, dbias = F.linear_backward(dy, require_cache(self, self._linear_cache))
        dv, dg = F.weight_norm_backward(dweight, self._weight_cache)
        self.weight_v.grad += dv
        self.weight_g.grad += dg
        _add_grad(self.bias, dbias)
        return dx

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class MeanOnlyBatchNorm(Module):
    r"""Batch norm that only centres: subtract the batch mean, add a learned shift.

    Salimans & Kingma (2016, "Weight Normalization") pair weight normalization with this layer:
    weight norm fixes the scale of each unit's pre-activation, mean-only BN fixes its centre,
    and dividing by a noisy batch standard deviation is no longer needed.

    Parameters
    ----------
    num_features : int
        $C$.
    momentum : float, default 0.1
        Weight of the new batch in the running mean (PyTorch's meaning).

    Attributes
    ----------
    bias : Parameter, shape (C,)
        The shift $\beta$, starts at 0.
    running_mean : ndarray, shape (C,)
        Used in eval mode; starts at 0.

    Equations
    ---------
    $$ \text{train: } y_i = x_i - \mu_B + \beta, \qquad \text{eval: } y = x - \mu_{\text{running}}
       + \beta $$
    """

    def __init__(self, num_features: int, momentum: float = 0.1) -> None:
        self.bias = Parameter(np.zeros(num_features), "bias")
        self.running_mean = np.zeros(num_features)
        self.momentum = momentum
        self._used_batch_mean = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, C) → (N, C)."""
        x = checks.float_array(x, "input")
        checks.check_ndim(x, (2,), "input")
        if x.shape[1] != self.bias.data.shape[0]:
            raise ValueError(
                f"input has {x.shape[1]} features, but MeanOnlyBatchNorm expects "
                f"{self.bias.data.shape[0]}"
            )
        checks.check_finite(x, "input")
        if self.training:
            if x.shape[0] < 2:
                raise ValueError(f"Expected more than 1 value per channel, got {x.shape}")
            # μ_B = (1/m) Σ x_i
            mean = x.mean(axis=0)
            # running ← (1 − α) running + α μ_B
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
        else:
            mean = self.running_mean
        self._used_batch_mean = self.training
        # y = x − μ + β
        return x - mean + self.bias.data

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy: (N, C) → dx: (N, C); adds ∂L/∂β to ``bias.grad``."""
        if self._used_batch_mean is None:
            raise RuntimeError("MeanOnlyBatchNorm.backward() called before forward()")
        # ∂L/∂β = Σ dy_i
        self.bias.grad += dy.sum(axis=0)
        if self._used_batch_mean:
            # μ_B depends on every x_i:  dx_i = dy_i − (1/m) Σ dy_j
            return dy - dy.mean(axis=0)
        return dy.copy()
