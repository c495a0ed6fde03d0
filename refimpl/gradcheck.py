r"""Numerical gradient checks for modules and for forward/backward function pairs.

A backward pass is checked against central differences of the scalar

$$ \ell(x, \theta) = \sum_i dy_i \, f(x, \theta)_i $$

with a *random* upstream gradient $dy$. Its exact gradient is what ``backward(dy)`` returns,
so the two must agree. A constant $dy$ (e.g. all ones) would prove little: for batch norm the
true input gradient of $\sum_i y_i$ is exactly zero, and a backward pass returning zeros would
pass. Everything runs in float64, where a correct backward pass agrees to about $10^{-9}$ and
a wrong one is off by $10^{-2}$ or more.

Examples
--------
>>> import numpy as np
>>> from refimpl.nn import BatchNorm1d
>>> rng = np.random.default_rng(0)
>>> errors = check_gradients(BatchNorm1d(3), 3 + 5 * rng.standard_normal((4, 3)), rng)
>>> sorted(errors), all(error < 1e-7 for error in errors.values())
(['bias', 'weight', 'x'], True)
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from refimpl.nn.module import Module

__all__ = ["check_function_gradients", "check_gradients", "numerical_gradient", "relative_error"]


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    r"""Largest absolute difference, relative to the size of the gradients.

    Parameters
    ----------
    analytic, numeric : ndarray, same shape

    Returns
    -------
    float
        0 for identical arrays; about $10^{-9}$ or less for a correct float64 backward pass.

    Equations
    ---------
    $$ \text{err}(a, b) = \frac{\max_i |a_i - b_i|}
       {\max\big(\max_i (|a_i| + |b_i|),\ \text{tiny}\big)} $$

    with tiny the smallest positive float64, so that two zero gradients give 0, not NaN.

    Examples
    --------
    >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.000002]))  # doctest: +ELLIPSIS
    4.99...e-07
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"shapes differ: {analytic.shape} and {numeric.shape}")
    if analytic.size == 0:
        return 0.0
    largest_difference = np.max(np.abs(analytic - numeric))
    scale = np.max(np.abs(analytic) + np.abs(numeric))
    return float(largest_difference / max(scale, np.finfo(np.float64).tiny))


def numerical_gradient(f: Callable[[], float], array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    r"""Gradient of the scalar ``f()`` with respect to ``array``, by central differences.

    ``array`` is changed in place one entry at a time (``f`` must read it) and restored.

    Parameters
    ----------
    f : callable
        No arguments; returns a float that depends on the current contents of ``array``.
    array : ndarray of float64
        The variable.
    h : float, default 1e-6
        Step.

    Returns
    -------
    ndarray, shape of array

    Equations
    ---------
    $$ \frac{\partial f}{\partial a_i} \approx \frac{f(a + h e_i) - f(a - h e_i)}{2h} $$

    with error $O(h^2)$ from truncation plus $O(\epsilon_{\text{mach}} |f| / h)$ from rounding.

    Examples
    --------
    >>> a = np.array([1.0, 2.0])
    >>> np.round(numerical_gradient(lambda: float(np.sum(a**2)), a), 6)
    array([2., 4.])
    """
    if array.dtype != np.float64:
        raise TypeError(f"numerical gradients need float64, got {array.dtype}")
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + h
        f_plus = f()
        array[index] = original - h
        f_minus = f()
        array[index] = original
        # ∂f/∂a_i ≈ (f(a + h e_i) − f(a − h e_i)) / 2h
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def _float64(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError(f"gradient checks run in float64; {name} has dtype {x.dtype}")
    return x.copy()


def check_gradients(
    module: Module, x: np.ndarray, rng: np.random.Generator, h: float = 1e-6
) -> dict[str, float]:
    r"""Compare a module's ``backward`` with numerical gradients; return the relative errors.

    Every evaluation runs on a fresh copy of ``module`` as it was passed in, so the module is
    not changed, and state that a forward pass alters (running statistics) or draws (dropout
    masks, from the module's own generator) is the same in every evaluation.

    Parameters
    ----------
    module : Module
        With float64 parameters, in the mode to check (``train()`` or ``eval()``).
    x : ndarray of float64
        Input. Use unstandardized values (e.g. ``3 + 5 * randn``) and a batch of N >= 2.
    rng : numpy.random.Generator
        Source of the random upstream gradient $dy$.
    h : float, default 1e-6
        Finite-difference step.

    Returns
    -------
    dict of str to float
        ``"x"`` for the input, then each parameter by its name in ``named_parameters()``
        (e.g. ``"weight"``, ``"bias"``, ``"0.weight"``): the `relative_error` between
        ``backward`` and central differences.

    Raises
    ------
    TypeError
        If ``x`` or a parameter is not float64.

    Notes
    -----
    A parameter whose exact gradient is zero, such as the bias of a layer right before batch
    norm (BN subtracts it again), has no scale to compare with: both gradients are rounding
    noise and the relative error is near 1. Build such layers with ``bias=False``, as one
    should anyway.

    Equations
    ---------
    $$ \ell = \sum_i dy_i \, f(x)_i, \qquad dy_i \sim \mathcal N(0, 1), \qquad
       \text{err}\Big(\texttt{backward}(dy),\ \frac{\ell(x + h e_j) - \ell(x - h e_j)}{2h}\Big) $$

    Examples
    --------
    >>> from refimpl.nn import Linear
    >>> rng = np.random.default_rng(0)
    >>> errors = check_gradients(Linear(3, 2, rng=rng), rng.standard_normal((4, 3)), rng)
    >>> max(errors.values()) < 1e-7
    True
    """
    x = _float64(x, "x")
    for name, parameter in module.named_parameters():
        _float64(parameter.data, f"parameter {name!r}")

    # copies taken before anything draws from a generator the module may share with `rng`
    analytic_module = copy.deepcopy(module)
    probe = copy.deepcopy(module)

    # analytic gradients
    analytic_module.zero_grad()
    out = analytic_module.forward(x.copy())
    dy = rng.standard_normal(np.shape(out))
    analytic = {"x": analytic_module.backward(dy)}
    analytic |= {name: p.grad for name, p in analytic_module.named_parameters()}

    # numerical gradients: perturb the input or a parameter of `probe`, evaluate a copy of it
    def loss() -> float:
        # ℓ = Σ dy ⊙ f(x)
        return float(np.sum(dy * copy.deepcopy(probe).forward(x)))

    numeric = {"x": numerical_gradient(loss, x, h)}
    for name, parameter in probe.named_parameters():
        numeric[name] = numerical_gradient(loss, parameter.data, h)
    return {name: relative_error(analytic[name], numeric[name]) for name in numeric}


def check_function_gradients(
    forward: Callable,
    backward: Callable,
    inputs: dict[str, np.ndarray | None],
    rng: np.random.Generator,
    constants: dict | None = None,
    h: float = 1e-6,
) -> dict[str, float]:
    r"""Compare a pure ``backward`` function with numerical gradients of its ``forward``.

    Parameters
    ----------
    forward : callable
        ``forward(**inputs, **constants) -> (out, cache)``.
    backward : callable
        ``backward(dout, cache) -> (d_input_1, d_input_2, ...)`` in the order of ``inputs`` (or
        just ``dx`` for a single input).
    inputs : dict of str to ndarray (float64) or None
        The differentiable arguments by their parameter names; None entries are passed on and
        not checked (e.g. ``{"x": x, "gamma": None, "beta": None}``).
    rng : numpy.random.Generator
        Source of the random upstream gradient.
    constants : dict, optional
        Other arguments of ``forward`` by name (``eps``, ``stride``, labels, a generator...).
        They are deep-copied for every call, so a generator gives the same draws each time.
    h : float, default 1e-6

    Returns
    -------
    dict of str to float
        The `relative_error` of each checked input.

    Raises
    ------
    TypeError
        If an input is not float64.

    Examples
    --------
    >>> from refimpl.functional import batch_norm_backward, batch_norm_forward
    >>> rng = np.random.default_rng(0)
    >>> inputs = {"x": 3 + 5 * rng.standard_normal((5, 2)), "gamma": rng.standard_normal(2),
    ...           "beta": rng.standard_normal(2)}
    >>> errors = check_function_gradients(batch_norm_forward, batch_norm_backward, inputs, rng)
    >>> max(errors.values()) < 1e-7
    True
    """
    inputs = {
        name: None if value is None else _float64(value, name) for name, value in inputs.items()
    }
    # copied before `rng` draws dy, in case a constant is that same generator
    constants = copy.deepcopy(constants or {})

    def evaluate():
        return forward(**inputs, **copy.deepcopy(constants))

    out, cache = evaluate()
    dy = rng.standard_normal(np.shape(out))
    grads = backward(dy, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(inputs):
        raise ValueError(f"backward returned {len(grads)} gradients for {len(inputs)} inputs")
    analytic = dict(zip(inputs, grads, strict=True))

    def loss() -> float:
        # ℓ = Σ dy ⊙ f(inputs)
        return float(np.sum(dy * evaluate()[0]))

    errors = {}
    for name, value in inputs.items():
        if value is not None:
            errors[name] = relative_error(analytic[name], numerical_gradient(loss, value, h))
    return errors
