"""Stateful layers: ``Linear``, ``Conv2d``, activations, ``Flatten`` and dropout.

Each module is a thin wrapper around the pure functions of `refimpl.functional`: ``forward``
calls ``*_forward`` and keeps the cache on ``self``; ``backward`` calls ``*_backward`` with it,
*adds* the parameter gradients to ``Parameter.grad`` and returns the input gradient. Names and
defaults follow ``torch.nn``.

Randomness (initial weights, dropout masks) comes from a ``numpy.random.Generator`` passed as
``rng``. When ``rng`` is None the module makes its own ``np.random.default_rng(0)``, so the
default is *deterministic*: two layers built without ``rng`` start with the same weights, and two
``Dropout`` layers built without ``rng`` draw the same mask at every step for inputs of the same
shape (``torch`` draws every mask from one global generator). Pass one generator to all layers of
a model to get different weights, independent masks and a reproducible run.
"""

from __future__ import annotations

import math

import numpy as np

from refimpl import checks
from refimpl import functional as F
from refimpl.nn.module import Module, Parameter

__all__ = [
    "SELU",
    "AlphaDropout",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Tanh",
]


def require_cache(module: Module, cache):
    """Return ``cache``, or raise RuntimeError if ``forward`` has not run yet."""
    if cache is None:
        raise RuntimeError(
            f"{type(module).__name__}.backward() called before forward(): "
            "run forward first, it stores what backward needs"
        )
    return cache


def _default_rng(rng: np.random.Generator | None) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng(0)
    checks.check_rng(rng)
    return rng


def _uniform(rng: np.random.Generator, bound: float, shape, dtype) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


# -- affine layers ------------------------------------------------------------------------------


class Linear(Module):
    r"""Fully connected layer $y = x W^\top + b$.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output sample.
    bias : bool, default True
        Learn an additive bias.
    rng : numpy.random.Generator, optional
        Source of the initial weights; None uses ``np.random.default_rng(0)`` (deterministic).
    dtype : numpy dtype, default np.float64

    Attributes
    ----------
    weight : Parameter, shape (out_features, in_features)
        Initialized from $U(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})$, as PyTorch does.
    bias : Parameter of shape (out_features,), or None
        Same distribution.

    Examples
    --------
    >>> layer = Linear(3, 2, rng=np.random.default_rng(0))
    >>> layer(np.ones((4, 3))).shape
    (4, 2)
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
        checks.check_positive_int(in_features, "in_features")
        checks.check_positive_int(out_features, "out_features")
        rng = _default_rng(rng)
        self.in_features = in_features
        self.out_features = out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(_uniform(rng, bound, (out_features, in_features), dtype), "weight")
        self.bias = Parameter(_uniform(rng, bound, out_features, dtype), "bias") if bias else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        bias = None if self.bias is None else self.bias.data
        out, self._cache = F.linear_forward(x, self.weight.data, bias)
        return out

    # Sequential.backward(dy, input_grad=False) may ask this layer to skip dx.
    input_grad_optional = True

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Store ``weight.grad`` and ``bias.grad``; return dx (None if ``input_grad`` is False)."""
        dx, dweight, dbias = F.linear_backward(
            dy, require_cache(self, self._cache), input_grad=input_grad
        )
        self.weight.grad += dweight
        if self.bias is not None:
            self.bias.grad += dbias
        return dx

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Conv2d(Module):
    r"""2-D convolution with stride and zero padding (``groups=1``, ``dilation=1``).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
    bias : bool, default True
    rng : numpy.random.Generator, optional
        Source of the initial weights; None uses ``np.random.default_rng(0)`` (deterministic).
    dtype : numpy dtype, default np.float64

    Attributes
    ----------
    weight : Parameter, shape (out_channels, in_channels, kh, kw)
        Initialized from $U(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})$ with
        $\text{fan\_in} = \text{in\_channels} \cdot k_h k_w$, as PyTorch does.
    bias : Parameter of shape (out_channels,), or None

    Examples
    --------
    >>> conv = Conv2d(3, 8, kernel_size=3, padding=1, rng=np.random.default_rng(0))
    >>> conv(np.ones((2, 3, 5, 5))).shape
    (2, 8, 5, 5)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
        dtype=np.float64,
    ) -> None:
        checks.check_positive_int(in_channels, "in_channels")
        checks.check_positive_int(out_channels, "out_channels")
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        checks.check_positive_int(kh, "kernel_size")
        checks.check_positive_int(kw, "kernel_size")
        rng = _default_rng(rng)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = (kh, kw)
        self.stride = stride
        self.padding = padding
        bound = 1.0 / math.sqrt(in_channels * kh * kw)
        shape = (out_channels, in_channels, kh, kw)
        self.weight = Parameter(_uniform(rng, bound, shape, dtype), "weight")
        self.bias = Parameter(_uniform(rng, bound, out_channels, dtype), "bias") if bias else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        bias = None if self.bias is None else self.bias.data
        out, self._cache = F.conv2d_forward(x, self.weight.data, bias, self.stride, self.padding)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx, dweight, dbias = F.conv2d_backward(dy, require_cache(self, self._cache))
        self.weight.grad += dweight
        if self.bias is not None:
            self.bias.grad += dbias
        return dx

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )


# -- activations and reshaping ------------------------------------------------------------------


class _Activation(Module):
    """An elementwise function without parameters: sub-classes name a forward/backward pair."""

    def __init__(self) -> None:
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = self._forward(x)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return self._backward(dy, require_cache(self, self._cache))


class ReLU(_Activation):
    r"""$\max(0, x)$ elementwise (see `refimpl.functional.relu_forward`).

    Examples
    --------
    >>> relu = ReLU()
    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    >>> relu.backward(np.array([5.0, 5.0]))
    array([0., 5.])
    """

    _forward = staticmethod(F.relu_forward)
    _backward = staticmethod(F.relu_backward)


class Sigmoid(_Activation):
    r"""$1 / (1 + e^{-x})$ elementwise (see `refimpl.functional.sigmoid_forward`).

    Examples
    --------
    >>> sigmoid = Sigmoid()
    >>> sigmoid(np.array([0.0]))
    array([0.5])
    >>> sigmoid.backward(np.array([1.0]))
    array([0.25])
    """

    _forward = staticmethod(F.sigmoid_forward)
    _backward = staticmethod(F.sigmoid_backward)


class Tanh(_Activation):
    r"""$\tanh x$ elementwise (see `refimpl.functional.tanh_forward`).

    Examples
    --------
    >>> tanh = Tanh()
    >>> tanh(np.array([0.0]))
    array([0.])
    >>> tanh.backward(np.array([2.0]))
    array([2.])
    """

    _forward = staticmethod(F.tanh_forward)
    _backward = staticmethod(F.tanh_backward)


class SELU(_Activation):
    r"""Scaled exponential linear unit (see `refimpl.functional.selu_forward`).

    Examples
    --------
    >>> selu = SELU()
    >>> np.round(selu(np.array([1.0, -1.0])), 4)
    array([ 1.0507, -1.1113])
    >>> np.round(selu.backward(np.array([1.0, 1.0])), 4)
    array([1.0507, 0.6468])
    """

    _forward = staticmethod(F.selu_forward)
    _backward = staticmethod(F.selu_backward)


class Flatten(Module):
    """Flatten axes ``start_dim`` to ``end_dim`` into one, e.g. ``(N, C, H, W) -> (N, C*H*W)``.

    Parameters
    ----------
    start_dim : int, default 1
    end_dim : int, default -1

    Examples
    --------
    >>> Flatten()(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = start_dim
        self.end_dim = end_dim
        self._input_shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        start = self.start_dim % x.ndim
        end = self.end_dim % x.ndim
        self._input_shape = x.shape
        return x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :])

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return np.asarray(dy).reshape(require_cache(self, self._input_shape))


# -- dropout ------------------------------------------------------------------------------------


class Dropout(Module):
    r"""Dropout with drop probability ``p``; inverted (PyTorch's) by default.

    Parameters
    ----------
    p : float, default 0.5
        Probability of dropping a unit, in [0, 1).
    inverted : bool, default True
        True: scale kept units by $1/(1-p)$ in training, identity in eval (``torch.nn.Dropout``).
        False: classic dropout, no scaling in training and $\times (1-p)$ in eval.
    rng : numpy.random.Generator, optional
        Source of the masks; None uses ``np.random.default_rng(0)`` (deterministic: two layers
        built without ``rng`` draw identical masks). Pass one generator shared by all layers.

    Examples
    --------
    >>> drop = Dropout(0.5, rng=np.random.default_rng(0))
    >>> drop(np.ones(6))
    array([2., 0., 0., 0., 2., 2.])
    >>> drop.eval()(np.ones(2))
    array([1., 1.])
    """

    def __init__(
        self, p: float = 0.5, inverted: bool = True, *, rng: np.random.Generator | None = None
    ) -> None:
        checks.check_drop_probability(p)
        self.p = p
        self.inverted = inverted
        self.rng = _default_rng(rng)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        forward = F.dropout_forward if self.inverted else F.classic_dropout_forward
        out, self._cache = forward(x, self.p, self.rng, self.training)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return F.dropout_backward(dy, require_cache(self, self._cache))

    def extra_repr(self) -> str:
        return f"p={self.p}, inverted={self.inverted}"


class AlphaDropout(Module):
    r"""Alpha dropout for SELU networks (see `refimpl.functional.alpha_dropout_forward`).

    Parameters
    ----------
    p : float, default 0.5
        Probability of dropping a unit, in [0, 1).
    rng : numpy.random.Generator, optional
        Source of the masks; None uses ``np.random.default_rng(0)`` (deterministic).

    Examples
    --------
    >>> AlphaDropout(0.2).eval()(np.ones(2))
    array([1., 1.])
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        checks.check_drop_probability(p)
        self.p = p
        self.rng = _default_rng(rng)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = F.alpha_dropout_forward(x, self.p, self.rng, self.training)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return F.dropout_backward(dy, require_cache(self, self._cache))

    def extra_repr(self) -> str:
        return f"p={self.p}"
