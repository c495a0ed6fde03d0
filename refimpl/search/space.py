r"""Search spaces: one object per hyperparameter that knows how to sample it and lay a grid on it.

A *space* is a plain ``dict`` from a hyperparameter's name to a dimension, e.g.
``{"lr": LogUniform(1e-6, 1e-2), "weight_decay": LogUniform(1e-8, 1e-4)}``, and a
*configuration* is a ``dict`` from the same names to values, e.g.
``{"lr": 3e-3, "weight_decay": 2e-6}``.

Every numeric dimension maps its range onto the unit interval $[0, 1]$ in its own scale
(`to_unit`, `from_unit`): linearly for `Uniform`, through $\log_{10}$ for `LogUniform`. Sampling
draws $u \sim U(0, 1)$ in that scale, a grid takes evenly spaced points in it, and coarse-to-fine
narrowing (`refimpl.search.coarse_to_fine`) shrinks a range in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Choice",
    "LogUniform",
    "Space",
    "Uniform",
    "grid_points",
    "sample_configs",
    "suggested_space",
]


@dataclass(frozen=True)
class Uniform:
    r"""A real hyperparameter drawn uniformly from ``[low, high]``.

    Equations
    ---------
    $$ x = a + u\,(b - a), \qquad u \sim U(0, 1) $$

    Examples
    --------
    >>> dropout = Uniform(0.0, 0.5)
    >>> dropout.grid(2)
    array([0.125, 0.375])
    >>> round(float(dropout.sample(np.random.default_rng(0))), 4), float(dropout.to_unit(0.25))
    (0.3185, 0.5)
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"{type(self).__name__} needs low < high, got {self.low}, {self.high}")

    def to_unit(self, x):
        """Position of ``x`` in the range, 0 at ``low`` and 1 at ``high``."""
        return (np.asarray(x, dtype=float) - self.low) / (self.high - self.low)

    def from_unit(self, u):
        """The value at position ``u`` (inverse of `to_unit`)."""
        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)

    def sample(self, rng: np.random.Generator, size: int | None = None):
        """Draw ``size`` values (one float if ``size`` is None)."""
        return self.from_unit(rng.uniform(0.0, 1.0, size))[()]

    def grid(self, k: int) -> np.ndarray:
        """``k`` points at the centres of ``k`` equal cells of the range, shape (k,)."""
        return self.from_unit((np.arange(k) + 0.5) / k)

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class LogUniform(Uniform):
    r"""A positive hyperparameter whose base-10 logarithm is uniform on ``[log10 low, log10 high]``.

    Every decade of the range gets the same share of the samples: for ``LogUniform(1e-4, 1)``
    a quarter fall in each of $[10^{-4}, 10^{-3}]$, ..., $[10^{-1}, 1]$.

    Equations
    ---------
    $$ x = 10^{\,v}, \qquad v \sim U(\log_{10} a,\ \log_{10} b), \qquad
    P(x \le t) = \frac{\log_{10} t - \log_{10} a}{\log_{10} b - \log_{10} a} $$

    Examples
    --------
    >>> lr = LogUniform(1e-4, 1.0)
    >>> np.round(np.log10(lr.grid(4)), 4)  # the centre of each decade
    array([-3.5, -2.5, -1.5, -0.5])
    >>> round(float(lr.to_unit(1e-2)), 4)
    0.5
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.low <= 0:
            raise ValueError(f"LogUniform needs low > 0, got {self.low}")

    def to_unit(self, x):
        # u = (log10 x − log10 a) / (log10 b − log10 a)
        log_low, log_high = np.log10(self.low), np.log10(self.high)
        return (np.log10(np.asarray(x, dtype=float)) - log_low) / (log_high - log_low)

    def from_unit(self, u):
        # x = 10^(log10 a + u (log10 b − log10 a))
        log_low, log_high = np.log10(self.low), np.log10(self.high)
        return 10.0 ** (log_low + np.asarray(u, dtype=float) * (log_high - log_low))


@dataclass(frozen=True)
class Choice:
    """A categorical hyperparameter: one of ``values``, each equally likely.

    Examples
    --------
    >>> batch_size = Choice([32, 64, 128])
    >>> batch_size.sample(np.random.default_rng(0), size=4), batch_size.grid()
    ([128, 64, 64, 32], [32, 64, 128])
    """

    values: tuple

    def __init__(self, values: Sequence) -> None:
        if len(values) == 0:
            raise ValueError("Choice needs at least one value")
        object.__setattr__(self, "values", tuple(values))

    def sample(self, rng: np.random.Generator, size: int | None = None):
        """Draw ``size`` values (one value if ``size`` is None)."""
        index = rng.integers(len(self.values), size=size)
        if size is None:
            return self.values[int(index)]
        return [self.values[int(i)] for i in index]

    def grid(self, k: int | None = None) -> list:
        """All values (``k`` is ignored: a categorical grid is every category)."""
        return list(self.values)

    def __str__(self) -> str:
        return f"Choice({', '.join(map(str, self.values))})"


Space = dict[str, Uniform | LogUniform | Choice]


def sample_configs(space: Space, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Draw ``n`` configurations independently; dimensions are sampled in the order of ``space``.

    Returns
    -------
    list of dict
        ``n`` configurations, each mapping every name of ``space`` to a Python float (or, for
        a `Choice`, to one of its values).

    Examples
    --------
    >>> space = {"lr": LogUniform(1e-4, 1.0), "batch_size": Choice([32, 64])}
    >>> configs = sample_configs(space, 3, np.random.default_rng(0))
    >>> [(f"{config['lr']:.1e}", config["batch_size"]) for config in configs]
    [('3.5e-02', 64), ('1.5e-04', 32), ('1.2e-04', 32)]
    """
    configs = []
    for _ in range(n):
        config = {}
        for name, dimension in space.items():
            value = dimension.sample(rng)
            config[name] = float(value) if isinstance(value, np.floating | float) else value
        configs.append(config)
    return configs


def grid_points(space: Space, points: int | dict[str, int]) -> list[dict[str, Any]]:
    """Every configuration of the grid: the product of each dimension's ``grid``.

    Parameters
    ----------
    space : Space
    points : int or dict
        Points per numeric dimension: the same for all, or one count per name.

    Returns
    -------
    list of dict
        ``prod(points)`` configurations; the last dimension of ``space`` varies fastest.

    Examples
    --------
    >>> space = {"lr": LogUniform(1e-4, 1e-2), "batch_size": Choice([32, 64])}
    >>> [(round(float(np.log10(c["lr"])), 4), c["batch_size"]) for c in grid_points(space, 2)]
    [(-3.5, 32), (-3.5, 64), (-2.5, 32), (-2.5, 64)]
    """
    names = list(space)
    axes = []
    for name in names:
        k = points[name] if isinstance(points, dict) else points
        axes.append([v.item() if hasattr(v, "item") else v for v in space[name].grid(k)])
    configs = [{}]
    for name, axis in zip(names, axes, strict=True):
        configs = [{**config, name: value} for config in configs for value in axis]
    return configs


def suggested_space() -> Space:
    """Ranges that are common starting points for a first random search of a small network.

    These are conventions from practice, not results: learning rates for SGD with momentum
    (for Adam, about ten times smaller), coupled L2 weight decay (for AdamW's decoupled decay,
    roughly 1e-3 to 1e-1), and the usual powers of two for sizes. Narrow them after a first
    round; widen them when the best trials sit at an edge.

    Examples
    --------
    >>> space = suggested_space()
    >>> list(space)
    ['lr', 'weight_decay', 'batch_size', 'width', 'depth', 'dropout', 'batchnorm']
    >>> str(space["lr"]), str(space["batch_size"])
    ('LogUniform(0.0001, 1)', 'Choice(32, 64, 128, 256)')
    """
    return {
        "lr": LogUniform(1e-4, 1.0),
        "weight_decay": LogUniform(1e-6, 1e-2),
        "batch_size": Choice((32, 64, 128, 256)),
        "width": Choice((64, 128, 256, 512)),
        "depth": Choice((2, 3, 4, 6)),
        "dropout": Uniform(0.0, 0.5),
        "batchnorm": Choice(("before activation", "after activation", "none")),
    }
