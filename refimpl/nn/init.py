r"""Weight initializers: fixed-std normal, Xavier/Glorot, Kaiming/He and LeCun.

Every function returns a new array and draws from the ``rng`` it is given (a
``numpy.random.Generator``), never from global state, so the same seed gives the same weights.
Fans are computed as PyTorch computes them, for a weight of shape ``(out, in)`` (``Linear``) or
``(out, in, kh, kw)`` (``Conv2d``):

$$ \text{fan\_in} = \text{in} \cdot k_h k_w, \qquad \text{fan\_out} = \text{out} \cdot k_h k_w $$

The names and defaults follow ``torch.nn.init`` (``xavier_uniform_``, ``kaiming_normal_``, ...)
without the trailing underscore, since these functions return arrays instead of filling a
tensor in place. The same distribution is used, but not the same random stream: NumPy and
PyTorch generators give different numbers for the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from refimpl.checks import check_rng
from refimpl.nn.module import Module

__all__ = [
    "calculate_gain",
    "fan_in_and_fan_out",
    "he_normal",
    "he_uniform",
    "init_weights",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "normal",
    "xavier_normal",
    "xavier_uniform",
]

Shape = int | tuple[int, ...]


def fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    r"""Return ``(fan_in, fan_out)`` of a weight of the given shape, as PyTorch computes them.

    Parameters
    ----------
    shape : tuple of int
        ``(out, in)`` for a ``Linear`` weight, ``(out, in, *kernel)`` for a convolution.

    Returns
    -------
    fan_in, fan_out : int
        The number of inputs and of outputs each weight touches.

    Equations
    ---------
    $$ \text{fan\_in} = \text{shape}[1] \prod_{i \ge 2} \text{shape}[i], \qquad
    \text{fan\_out} = \text{shape}[0] \prod_{i \ge 2} \text{shape}[i] $$

    Raises
    ------
    ValueError
        If ``shape`` has fewer than two dimensions (a bias has no fan-in and fan-out).

    Examples
    --------
    >>> fan_in_and_fan_out((10, 64))  # Linear(64, 10)
    (64, 10)
    >>> fan_in_and_fan_out((32, 16, 3, 3))  # Conv2d(16, 32, kernel_size=3)
    (144, 288)
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out need a weight with at least 2 dimensions, got shape {shape}"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain $g$ for an activation, as in ``torch.nn.init.calculate_gain``.

    Parameters
    ----------
    nonlinearity : str
        ``"linear"``, ``"conv2d"``, ``"sigmoid"`` (gain 1), ``"tanh"`` (5/3), ``"relu"``
        ($\sqrt 2$), ``"leaky_relu"`` or ``"selu"`` (3/4).
    param : float, optional
        The negative slope $a$ of ``"leaky_relu"`` (default 0.01, as in PyTorch).

    Returns
    -------
    float
        For leaky ReLU, $g = \sqrt{2 / (1 + a^2)}$.

    Examples
    --------
    >>> round(calculate_gain("relu"), 4), round(calculate_gain("tanh"), 4)
    (1.4142, 1.6667)
    >>> round(calculate_gain("leaky_relu", 0.2), 4)
    1.3868
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        negative_slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"unsupported nonlinearity {nonlinearity!r}; expected one of 'linear', 'conv2d', "
        "'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'"
    )


def normal(shape: Shape, std: float, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    r"""Draw from a zero-mean normal distribution with a fixed standard deviation.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the result.
    std : float
        Standard deviation $\sigma \ge 0$, e.g. 0.01.
    rng : numpy.random.Generator
        Source of randomness.
    dtype : dtype, default float64
        Type of the result (drawn in float64, then cast).

    Returns
    -------
    ndarray, shape ``shape``

    Equations
    ---------
    $$ W_{ij} \sim \mathcal N(0, \sigma^2) $$

    Examples
    --------
    >>> w = normal((100, 50), 0.01, np.random.default_rng(0))
    >>> w.shape, round(float(w.std()), 3)
    ((100, 50), 0.01)
    """
    check_rng(rng)
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std}")
    # W ~ N(0, σ²)
    return (std * rng.standard_normal(shape)).astype(dtype, copy=False)


def _uniform(shape: Shape, bound: float, rng: np.random.Generator, dtype) -> np.ndarray:
    # W ~ U(−bound, bound)
    return rng.uniform(-bound, bound, size=shape).astype(dtype, copy=False)


def xavier_uniform(
    shape: Shape, rng: np.random.Generator, gain: float = 1.0, dtype=np.float64
) -> np.ndarray:
    r"""Xavier/Glorot uniform initialization (Glorot & Bengio, 2010).

    Parameters
    ----------
    shape : tuple of int
        ``(out, in)`` or ``(out, in, kh, kw)``.
    rng : numpy.random.Generator
        Source of randomness.
    gain : float, default 1.0
        Scale factor $g$ (see `calculate_gain`).
    dtype : dtype, default float64

    Returns
    -------
    ndarray, shape ``shape``

    Equations
    ---------
    $$ W_{ij} \sim \mathcal U(-a, a), \qquad
    a = g \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}} $$

    so that $\operatorname{Var} W_{ij} = a^2 / 3
    = 2 g^2 / (\text{fan\_in} + \text{fan\_out})$.

    Examples
    --------
    >>> w = xavier_uniform((200, 100), np.random.default_rng(0))
    >>> bound = np.sqrt(6 / (100 + 200))
    >>> w.shape, bool(np.abs(w).max() <= bound), round(float(w.var() / (bound**2 / 3)), 2)
    ((200, 100), True, 0.99)
    """
    check_rng(rng)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    # a = g √(6 / (fan_in + fan_out))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(shape, bound, rng, dtype)


def xavier_normal(
    shape: Shape, rng: np.random.Generator, gain: float = 1.0, dtype=np.float64
) -> np.ndarray:
    r"""Xavier/Glorot normal initialization (Glorot & Bengio, 2010).

    Parameters
    ----------
    shape : tuple of int
        ``(out, in)`` or ``(out, in, kh, kw)``.
    rng : numpy.random.Generator
        Source of randomness.
    gain : float, default 1.0
        Scale factor $g$ (see `calculate_gain`).
    dtype : dtype, default float64

    Returns
    -------
    ndarray, shape ``shape``

    Equations
    ---------
    $$ W_{ij} \sim \mathcal N(0, \sigma^2), \qquad
    \sigma = g \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}} $$

    Examples
    --------
    >>> w = xavier_normal((200, 100), np.random.default_rng(0))
    >>> std = np.sqrt(2 / (100 + 200))  # fan_in = 100, fan_out = 200
    >>> w.shape, round(float(w.std() / std), 2)
    ((200, 100), 1.0)
    """
    check_rng(rng)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    # σ = g √(2 / (fan_in + fan_out))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal(shape, std, rng, dtype)


def _kaiming_std(shape: Shape, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    # σ = g / √fan
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(
    shape: Shape,
    rng: np.random.Generator,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    dtype=np.float64,
) -> np.ndarray:
    r"""Kaiming/He uniform initialization (He et al., 2015).

    Parameters
    ----------
    shape : tuple of int
        ``(out, in)`` or ``(out, in, kh, kw)``.
    rng : numpy.random.Generator
        Source of randomness.
    a : float, default 0.0
        Negative slope of the leaky ReLU that follows (only used with ``"leaky_relu"``).
    mode : {"fan_in", "fan_out"}, default "fan_in"
        ``"fan_in"`` keeps the variance of the activations in the forward pass,
        ``"fan_out"`` that of the gradients in the backward pass.
    nonlinearity : str, default "leaky_relu"
        The activation that follows (see `calculate_gain`); with ``a = 0`` the default gives
        the ReLU gain $\sqrt 2$.
    dtype : dtype, default float64

    Returns
    -------
    ndarray, shape ``shape``

    Equations
    ---------
    $$ W_{ij} \sim \mathcal U(-b, b), \qquad b = \sqrt 3 \, \frac{g}{\sqrt{\text{fan}}} $$

    Examples
    --------
    >>> w = kaiming_uniform((256, 128), np.random.default_rng(0))  # ReLU gain, fan_in = 128
    >>> bool(np.abs(w).max() <= np.sqrt(6 / 128)), round(float(w.std()), 3), float(np.sqrt(2 / 128))
    (True, 0.125, 0.125)
    """
    check_rng(rng)
    std = _kaiming_std(shape, a, mode, nonlinearity)
    # b = √3 σ, so that Var U(−b, b) = b²/3 = σ²
    return _uniform(shape, math.sqrt(3.0) * std, rng, dtype)


def kaiming_normal(
    shape: Shape,
    rng: np.random.Generator,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    dtype=np.float64,
) -> np.ndarray:
    r"""Kaiming/He normal initialization (He et al., 2015).

    Parameters
    ----------
    shape : tuple of int
        ``(out, in)`` or ``(out, in, kh, kw)``.
    rng : numpy.random.Generator
        Source of randomness.
    a : float, default 0.0
        Negative slope of the leaky ReLU that follows (only used with ``"leaky_relu"``).
    mode : {"fan_in", "fan_out"}, default "fan_in"
        Which fan to preserve the variance over (see `kaiming_uniform`).
    nonlinearity : str, default "leaky_relu"
        The activation that follows; with ``a = 0`` the default gives the ReLU gain $\sqrt 2$.
    dtype : dtype, default float64

    Returns
    -------
    ndarray, shape ``shape``

    Equations
    ---------
    $$ W_{ij} \sim \mathcal N(0, \sigma^2), \qquad \sigma = \frac{g}{\sqrt{\text{fan}}}
    \quad \Bigl(= \sqrt{2 / \text{fan\_in}} \text{ for ReLU}\Bigr) $$

    Examples
    --------
    >>> w = kaiming_normal((256, 128), np.random.default_rng(0))  # ReLU gain, fan_in = 128
    >>> round(float(w.std()), 3), float(np.sqrt(2 / 128))
    (0.125, 0.125)
    """
    check_rng(rng)
    std = _kaiming_std(shape, a, mode, nonlinearity)
    return normal(shape, std, rng, dtype)


he_normal = kaiming_normal
he_uniform = kaiming_uniform


def lecun_normal(shape: Shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    r"""LeCun normal initialization, the one SELU networks assume (Klambauer et al., 2017).

    The same as ``kaiming_normal(shape, rng, nonlinearity="linear")``.

    Equations
    ---------
    $$ W_{ij} \sim \mathcal N(0, \sigma^2), \qquad \sigma = \frac{1}{\sqrt{\text{fan\_in}}} $$

    Examples
    --------
    >>> w = lecun_normal((100, 400), np.random.default_rng(0))
    >>> round(float(w.std()), 3), float(1 / np.sqrt(400))  # fan_in = 400
    (0.05, 0.05)
    """
    return kaiming_normal(shape, rng, nonlinearity="linear", dtype=dtype)


# The layer classes whose ``weight`` init_weights re-initializes (matched by class name, so this
# file does not import the layers).
_WEIGHT_LAYERS = ("Linear", "Conv1d", "Conv2d")

_SCHEMES: dict[str, Callable[..., np.ndarray]] = {
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "kaiming_normal": kaiming_normal,
    "he_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "he_uniform": kaiming_uniform,
    "lecun_normal": lecun_normal,
}


def init_weights(
    model: Module, scheme: str, rng: np.random.Generator, std: float | None = None
) -> Module:
    r"""Re-initialize the weight of every ``Linear`` and ``Conv2d`` layer; set biases to zero.

    Layers are visited in ``model.modules()`` order (depth first, as constructed), each weight
    drawn in turn from ``rng``, so a seed fixes the whole model. Weights are overwritten in
    place, keeping their dtype; other parameters (e.g. BatchNorm's $\gamma$, $\beta$) and running
    statistics are left as they are.

    Parameters
    ----------
    model : Module
        The model to re-initialize.
    scheme : str
        ``"normal"`` (needs ``std``), ``"xavier_normal"``, ``"xavier_uniform"``,
        ``"kaiming_normal"`` (alias ``"he_normal"``), ``"kaiming_uniform"`` (``"he_uniform"``)
        or ``"lecun_normal"``. The Kaiming schemes use the ReLU gain $\sqrt 2$ and fan-in.
    rng : numpy.random.Generator
        Source of randomness.
    std : float, optional
        Standard deviation for ``scheme="normal"``; must not be given for other schemes.

    Returns
    -------
    Module
        ``model`` itself, for chaining.

    Examples
    --------
    >>> from refimpl.nn import Linear, ReLU, Sequential
    >>> model = Sequential(Linear(64, 100), ReLU(), Linear(100, 10))
    >>> model = init_weights(model, "normal", np.random.default_rng(0), std=0.01)
    >>> round(float(model[0].weight.data.std()), 4), float(abs(model[0].bias.data).max())
    (0.01, 0.0)
    """
    check_rng(rng)
    if scheme not in _SCHEMES and scheme != "normal":
        raise ValueError(
            f"unknown scheme {scheme!r}; expected 'normal' or one of {sorted(_SCHEMES)}"
        )
    if scheme == "normal" and std is None:
        raise ValueError("scheme='normal' needs std, e.g. std=0.01")
    if scheme != "normal" and std is not None:
        raise ValueError(f"std is only used with scheme='normal', got scheme={scheme!r}")

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        if scheme == "normal":
            return normal(shape, std, rng)
        return _SCHEMES[scheme](shape, rng)

    for module in model.modules():
        if not any(cls.__name__ in _WEIGHT_LAYERS for cls in type(module).__mro__):
            continue
        module.weight.data[...] = draw(module.weight.data.shape)
        if getattr(module, "bias", None) is not None:
            module.bias.data[...] = 0.0
    return model
