r"""Optimizers: SGD (with momentum and Nesterov), Adagrad, RMSprop, Adam and AdamW.

Each optimizer updates ``Parameter.data`` in place from ``Parameter.grad`` with exactly the
update rule of the ``torch.optim`` class of the same name (PyTorch 2.13, single-tensor code path,
``maximize=False``), so a run here and a run in PyTorch from the same start give the same
numbers up to floating-point rounding.

Two kinds of weight decay appear below, and they are not the same thing:

- **coupled L2** (``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``): the gradient of
  $\frac{\lambda}{2}\lVert\theta\rVert^2$ is added to the gradient,
  $g \leftarrow g + \lambda\theta$, and then goes through the optimizer's scaling like any
  other gradient;
- **decoupled** (``AdamW``): the weights shrink directly,
  $\theta \leftarrow (1 - \eta\lambda)\theta$, outside Adam's per-coordinate scaling.

For plain SGD without momentum the two give the same update,
$\theta \leftarrow (1 - \eta\lambda)\theta - \eta g$; with momentum or an adaptive method
they do not.

Parameter groups work as in PyTorch: pass a list of dicts, each with a ``"params"`` entry and
any hyperparameters that should differ from the constructor's, e.g. to exempt biases and
normalization parameters from weight decay (see `split_decay_groups`).

Differences from ``torch.optim`` (none change the numbers):

- ``maximize``, ``foreach``, ``fused``, ``amsgrad``, ``capturable`` and ``step(closure)`` are
  not implemented;
- every parameter is updated on every ``step`` (our gradients are arrays, never ``None``; a
  parameter whose gradient is zero still has its momentum and weight decay applied, as in
  PyTorch after ``zero_grad(set_to_none=False)``);
- ``eps`` must be strictly positive (PyTorch accepts ``eps = 0``, which divides 0 by 0 where
  a gradient is zero), and a parameter group may not contain unknown keys (PyTorch silently
  keeps them, so a typo such as ``"weight_dacay"`` would go unnoticed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from refimpl.nn.module import Module, Parameter

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "split_decay_groups",
]


class Optimizer:
    """Base class: parameter groups, per-parameter state and ``zero_grad``.

    Parameters
    ----------
    params : iterable of Parameter, or iterable of dict
        Either the parameters to optimize (e.g. ``model.parameters()``), or parameter groups:
        dicts with a ``"params"`` entry (an iterable of `Parameter`) and optional
        hyperparameters that override ``defaults`` for that group.
    defaults : dict
        The hyperparameters of every group that does not override them.

    Attributes
    ----------
    param_groups : list of dict
        One dict per group, holding ``"params"`` (a list of `Parameter`) and every
        hyperparameter, filled in from ``defaults``. Change e.g. ``group["lr"]`` between steps
        to schedule the learning rate.
    state : dict
        ``state[p]`` is a dict with the optimizer's running quantities for parameter ``p``
        (momentum buffers, moment estimates, step counts), created on the first ``step``.
    defaults : dict
        The constructor's hyperparameters.

    Examples
    --------
    >>> from refimpl.nn.module import Parameter
    >>> w, b = Parameter(np.ones((2, 2)), "w"), Parameter(np.zeros(2), "b")
    >>> optimizer = SGD([{"params": [w]}, {"params": [b], "lr": 0.0}], lr=0.1)
    >>> [group["lr"] for group in optimizer.param_groups]
    [0.1, 0.0]
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict], defaults: dict) -> None:
        if isinstance(params, Parameter | Module | np.ndarray | dict):
            raise TypeError(
                "params should be an iterable of Parameters or a list of dicts, got "
                f"{type(params).__name__}; pass model.parameters() to optimize a model"
            )
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Parameter, dict[str, Any]] = {}

        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group; missing hyperparameters are taken from ``defaults``.

        Raises
        ------
        TypeError
            If the group is not a dict or holds something other than `Parameter` objects.
        ValueError
            If it has no ``"params"``, has an unknown key, repeats a parameter already being
            optimized, or sets an invalid hyperparameter.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group must have a 'params' entry")
        unknown = set(param_group) - set(self.defaults) - {"params", "name"}
        if unknown:
            raise ValueError(
                f"unknown key(s) {sorted(unknown)} in parameter group; expected 'params' and "
                f"any of {sorted(self.defaults)}"
            )

        params = param_group["params"]
        params = [params] if isinstance(params, Parameter) else list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"an optimizer can only optimize Parameters, got {type(p).__name__}"
                )

        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for p in params:
            if id(p) in seen:
                raise ValueError(
                    f"parameter {p.name or p.shape!r} appears more than once in the optimizer"
                )
            seen.add(id(p))

        group = {**self.defaults, **param_group, "params": params}
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    def _check_hyperparameters(self, group: dict) -> None:
        """Raise ``ValueError`` if a hyperparameter of ``group`` is out of range."""
        _check_at_least("lr", group["lr"], 0.0)
        _check_at_least("weight_decay", group["weight_decay"], 0.0)
        if "eps" in group and not group["eps"] > 0.0:
            raise ValueError(f"Invalid eps: expected eps > 0, got {group['eps']}")

    def zero_grad(self) -> None:
        """Set the gradient of every parameter in every group to zero."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad()

    def step(self) -> None:
        """Update every parameter once from its current gradient."""
        raise NotImplementedError

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines.extend(f"    {key}: {value}" for key, value in group.items() if key != "params")
        return "\n".join([*lines, ")"])


def _check_at_least(name: str, value: float, lower: float) -> None:
    if not value >= lower:
        raise ValueError(f"Invalid {name}: expected {name} >= {lower}, got {value}")


def _check_beta(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {name}: expected 0 <= {name} < 1, got {value}")


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    Parameters
    ----------
    params : iterable of Parameter or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float, default 1e-3
        Learning rate $\eta \ge 0$ (PyTorch's default).
    momentum : float, default 0
        Momentum factor $\mu \ge 0$; 0 is plain SGD.
    dampening : float, default 0
        Dampening $\tau$ of the gradient added to the momentum buffer.
    weight_decay : float, default 0
        Coupled L2 coefficient $\lambda \ge 0$.
    nesterov : bool, default False
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening = 0``).

    Equations
    ---------
    With gradient $g_t$ of parameter $\theta_{t-1}$:

    $$ g_t \leftarrow g_t + \lambda \theta_{t-1} $$

    $$ b_1 = g_1, \qquad b_t = \mu b_{t-1} + (1 - \tau) g_t \quad (t > 1) $$

    $$ d_t = \begin{cases} g_t + \mu b_t & \text{Nesterov} \\ b_t & \text{otherwise}
    \end{cases} $$

    $$ \theta_t = \theta_{t-1} - \eta\, d_t $$

    Without momentum, $d_t = g_t$. Note that the first buffer is the gradient itself, without
    dampening, as in PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> from refimpl.nn.module import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> w.grad[...] = [0.5, 0.5]
    >>> SGD([w], lr=0.1).step()
    >>> w.data
    array([ 0.95, -2.05])
    """

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        super()._check_hyperparameters(group)
        _check_at_least("momentum", group["momentum"], 0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def step(self) -> None:
        """Update every parameter once: see Equations."""
        for group in self.param_groups:
            lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                g = p.grad
                if weight_decay != 0:
                    # g ← g + λθ
                    g = g + weight_decay * p.data
                if mu != 0:
                    state = self.state.setdefault(p, {})
                    if "momentum_buffer" not in state:
                        # b₁ = g₁
                        state["momentum_buffer"] = g.copy()
                    else:
                        # b ← μ b + (1 − τ) g
                        state["momentum_buffer"] *= mu
                        state["momentum_buffer"] += (1 - tau) * g
                    b = state["momentum_buffer"]
                    # d = g + μ b (Nesterov)   or   d = b
                    g = g + mu * b if nesterov else b
                # θ ← θ − η d
                p.data -= lr * g


class Adagrad(Optimizer):
    r"""Adagrad: per-coordinate step sizes shrinking with the sum of squared gradients.

    Parameters
    ----------
    params : iterable of Parameter or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float, default 0.01
        Learning rate $\eta \ge 0$.
    lr_decay : float, default 0
        Learning-rate decay $\delta \ge 0$.
    weight_decay : float, default 0
        Coupled L2 coefficient $\lambda \ge 0$.
    initial_accumulator_value : float, default 0
        Starting value $s_0 \ge 0$ of the sum of squares.
    eps : float, default 1e-10
        $\epsilon > 0$ added to the root of the sum, for stability.

    Equations
    ---------
    $$ g_t \leftarrow g_t + \lambda \theta_{t-1} $$

    $$ \tilde\eta_t = \frac{\eta}{1 + (t - 1)\,\delta} $$

    $$ s_t = s_{t-1} + g_t^2 $$

    $$ \theta_t = \theta_{t-1} - \tilde\eta_t \, \frac{g_t}{\sqrt{s_t} + \epsilon} $$

    Examples
    --------
    >>> from refimpl.nn.module import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> w.grad[...] = [0.5, -4.0]
    >>> Adagrad([w], lr=0.1).step()
    >>> np.round(w.data, 4)  # the first step is lr * sign(g), whatever the gradient's size
    array([ 0.9, -1.9])
    """

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        super()._check_hyperparameters(group)
        _check_at_least("lr_decay", group["lr_decay"], 0.0)
        _check_at_least("initial_accumulator_value", group["initial_accumulator_value"], 0.0)

    def step(self) -> None:
        """Update every parameter once: see Equations."""
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            weight_decay = group["weight_decay"]
            for p in group["params"]:
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = 0
                    state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
                state["step"] += 1
                t = state["step"]

                g = p.grad
                if weight_decay != 0:
                    # g ← g + λθ
                    g = g + weight_decay * p.data
                # η̃ = η / (1 + (t − 1) δ)
                clr = lr / (1 + (t - 1) * lr_decay)
                # s ← s + g²
                state["sum"] += g * g
                # θ ← θ − η̃ g / (√s + ε)
                p.data -= clr * g / (np.sqrt(state["sum"]) + eps)


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root mean square of recent gradients.

    Parameters
    ----------
    params : iterable of Parameter or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float, default 0.01
        Learning rate $\eta \ge 0$.
    alpha : float, default 0.99
        Smoothing constant $\alpha \ge 0$ of the running averages.
    eps : float, default 1e-8
        $\epsilon > 0$ added to the root mean square, for stability.
    weight_decay : float, default 0
        Coupled L2 coefficient $\lambda \ge 0$.
    momentum : float, default 0
        Momentum factor $\mu \ge 0$.
    centered : bool, default False
        Divide by an estimate of the gradient's standard deviation instead of its root mean
        square: subtract the square of the running mean gradient $\bar g_t$.

    Equations
    ---------
    With $v_0 = 0$, $\bar g_0 = 0$, $b_0 = 0$:

    $$ g_t \leftarrow g_t + \lambda \theta_{t-1} $$

    $$ v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2 $$

    $$ \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t, \qquad
    r_t = \sqrt{v_t - \bar g_t^2} + \epsilon \quad (\text{centered}) $$

    $$ r_t = \sqrt{v_t} + \epsilon \quad (\text{otherwise}) $$

    $$ b_t = \mu b_{t-1} + g_t / r_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t $$

    Without momentum, $\theta_t = \theta_{t-1} - \eta\, g_t / r_t$.

    Examples
    --------
    >>> from refimpl.nn.module import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> w.grad[...] = [0.5, -4.0]
    >>> RMSprop([w], lr=0.01).step()
    >>> np.round(w.data, 4)  # the first step is lr * g / sqrt((1 - alpha) g^2) = 10 lr sign(g)
    array([ 0.9, -1.9])
    """

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        super()._check_hyperparameters(group)
        _check_at_least("alpha", group["alpha"], 0.0)
        _check_at_least("momentum", group["momentum"], 0.0)

    def step(self) -> None:
        """Update every parameter once: see Equations."""
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            weight_decay, mu, centered = group["weight_decay"], group["momentum"], group["centered"]
            for p in group["params"]:
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(p.data)
                    if mu > 0:
                        state["momentum_buffer"] = np.zeros_like(p.data)
                    if centered:
                        state["grad_avg"] = np.zeros_like(p.data)
                state["step"] += 1

                g = p.grad
                if weight_decay != 0:
                    # g ← g + λθ
                    g = g + weight_decay * p.data
                # v ← α v + (1 − α) g²
                v = state["square_avg"]
                v *= alpha
                v += (1 - alpha) * g * g
                if centered:
                    # ḡ ← α ḡ + (1 − α) g
                    g_avg = state["grad_avg"]
                    g_avg *= alpha
                    g_avg += (1 - alpha) * g
                    # r = √(v − ḡ²) + ε
                    r = np.sqrt(v - g_avg * g_avg) + eps
                else:
                    # r = √v + ε
                    r = np.sqrt(v) + eps
                if mu > 0:
                    # b ← μ b + g / r;   θ ← θ − η b
                    b = state["momentum_buffer"]
                    b *= mu
                    b += g / r
                    p.data -= lr * b
                else:
                    # θ ← θ − η g / r
                    p.data -= lr * g / r


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, scaled by a running root mean square, bias-corrected.

    Parameters
    ----------
    params : iterable of Parameter or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float, default 1e-3
        Learning rate $\eta \ge 0$.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates $(\beta_1, \beta_2)$ of the first and second moment estimates, each in
        $[0, 1)$.
    eps : float, default 1e-8
        $\epsilon > 0$ added to the root of the second moment, for stability.
    weight_decay : float, default 0
        Coupled L2 coefficient $\lambda \ge 0$, added to the gradient. For decoupled weight
        decay use `AdamW`.

    Equations
    ---------
    With $m_0 = v_0 = 0$ and step count $t = 1, 2, \dots$:

    $$ g_t \leftarrow g_t + \lambda \theta_{t-1} $$

    $$ m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t $$

    $$ v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 $$

    $$ \theta_t = \theta_{t-1} - \frac{\eta}{1 - \beta_1^t} \,
    \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon} $$

    That is $\theta_t = \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$ with
    $\hat m_t = m_t / (1 - \beta_1^t)$, $\hat v_t = v_t / (1 - \beta_2^t)$; the first form is the
    order of operations PyTorch uses, and the one computed here.

    Examples
    --------
    >>> from refimpl.nn.module import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> w.grad[...] = [0.5, -4.0]
    >>> Adam([w], lr=0.1).step()
    >>> np.round(w.data, 4)  # bias-corrected: the first step is lr * sign(g)
    array([ 0.9, -1.9])
    """

    _decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict) -> None:
        super()._check_hyperparameters(group)
        if len(group["betas"]) != 2:
            raise ValueError(f"Invalid betas: expected two values, got {group['betas']}")
        _check_beta("betas[0]", group["betas"][0])
        _check_beta("betas[1]", group["betas"][1])

    def step(self) -> None:
        """Update every parameter once: see Equations."""
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay = group["weight_decay"]
            for p in group["params"]:
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p.data)
                    state["exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] += 1
                t = state["step"]

                g = p.grad
                if weight_decay != 0:
                    if self._decoupled_weight_decay:
                        # θ ← (1 − ηλ) θ      (AdamW)
                        p.data *= 1 - lr * weight_decay
                    else:
                        # g ← g + λθ          (Adam with L2)
                        g = g + weight_decay * p.data
                # m ← β₁ m + (1 − β₁) g
                m = state["exp_avg"]
                m *= beta1
                m += (1 - beta1) * g
                # v ← β₂ v + (1 − β₂) g²
                v = state["exp_avg_sq"]
                v *= beta2
                v += (1 - beta2) * g * g
                # θ ← θ − η / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
                step_size = lr / (1 - beta1**t)
                denominator = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
                p.data -= step_size * m / denominator


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Parameters
    ----------
    params : iterable of Parameter or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float, default 1e-3
        Learning rate $\eta \ge 0$.
    betas : tuple of float, default (0.9, 0.999)
        $(\beta_1, \beta_2)$, each in $[0, 1)$.
    eps : float, default 1e-8
        $\epsilon > 0$.
    weight_decay : float, default 1e-2
        Decoupled decay coefficient $\lambda \ge 0$. Note the default is not zero.

    Equations
    ---------
    The weights shrink first, and the gradient is *not* changed:

    $$ \theta_{t-1} \leftarrow (1 - \eta\lambda)\, \theta_{t-1} $$

    then the `Adam` update follows with $\lambda = 0$. With Adam's coupled L2, the decay term
    $\lambda\theta$ is divided by $\sqrt{\hat v_t}$ like the gradient, so weights with large
    gradients are decayed less; AdamW decays every weight at the same rate $\eta\lambda$.

    Examples
    --------
    >>> from refimpl.nn.module import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))  # its gradient is zero
    >>> AdamW([w], lr=0.1, weight_decay=0.5).step()
    >>> np.round(w.data, 4)  # shrunk by 1 - lr * weight_decay = 0.95
    array([ 0.95, -1.9 ])
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Parameter] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def split_decay_groups(model: Module, weight_decay: float) -> list[dict]:
    r"""Split a model's parameters into a group with weight decay and a group without.

    The rule: a parameter with ``ndim >= 2`` (the weight matrix of ``Linear``, the kernel of
    ``Conv2d``) is decayed; a parameter with ``ndim <= 1`` (every bias, and the $\gamma$ and
    $\beta$ of BatchNorm, LayerNorm and GroupNorm) is not. Decaying $\gamma$ and $\beta$ would
    pull the normalized activations toward zero, and shrinking a bias does not make a model
    smoother, so both are usually exempt.

    Parameters
    ----------
    model : Module
        The model whose ``parameters()`` to split.
    weight_decay : float
        The decay coefficient of the first group.

    Returns
    -------
    list of dict
        ``[{"params": weights, "weight_decay": weight_decay},
        {"params": others, "weight_decay": 0.0}]``, in ``model.parameters()`` order; a group
        may be empty. Pass it to any optimizer in place of ``model.parameters()``.

    Examples
    --------
    >>> from refimpl.nn import BatchNorm1d, Linear, ReLU, Sequential
    >>> model = Sequential(Linear(64, 32), BatchNorm1d(32), ReLU(), Linear(32, 10))
    >>> groups = split_decay_groups(model, 0.05)
    >>> [[p.shape for p in group["params"]] for group in groups]
    [[(32, 64), (10, 32)], [(32,), (32,), (32,), (10,)]]
    >>> optimizer = AdamW(groups, lr=1e-3)
    """
    decay = [p for p in model.parameters() if p.data.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.data.ndim < 2]
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
