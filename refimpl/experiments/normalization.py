r"""Experiments of the chapter "Normalization and batch normalization".

Every function here is pure and seeded: the same arguments give the same numbers. The expensive
ones are memoized with `refimpl.cache.cached`, so the Korean and the English page (and the
tests) share one run. All of them use small MLPs on scikit-learn's handwritten digits
(`refimpl.data.load_digits_splits`) or clearly labelled synthetic data, and run single-threaded:
for matrices this small, one BLAS thread is faster than several competing for two cores.

Pages of the chapter and the experiments behind them:

- ``normalization/input``: `gradient_descent_paths`.
- ``normalization/covariate-shift``: `preactivation_percentiles`, `noisy_batchnorm`,
  `loss_smoothness`.
- ``normalization/initialization``: `activation_histograms`, `weight_scale_grid`,
  `smallest_scale_eps`, `learning_rate_sweep`.
- ``normalization/algorithm``: `placement_over_seeds`.
"""

from __future__ import annotations

import copy
import math

import numpy as np
from threadpoolctl import threadpool_limits

from refimpl.cache import cached
from refimpl.data import load_digits_splits
from refimpl.nn import (
    BatchNorm1d,
    CrossEntropyLoss,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
)
from refimpl.optim import SGD
from refimpl.seeds import rng_for, shifted
from refimpl.train import Callback, fit, mlp

__all__ = [
    "NoisyShift",
    "activation_histograms",
    "build_mlp",
    "gradient_descent_paths",
    "learning_rate_sweep",
    "loss_smoothness",
    "noisy_batchnorm",
    "placement_over_seeds",
    "preactivation_percentiles",
    "smallest_scale_eps",
    "train_classifier",
    "weight_scale_grid",
]

# -- building blocks ------------------------------------------------------------------------------


class NoisyShift(Module):
    r"""Multiply each feature by a random scale and add a random shift, new ones every step.

    Put right after a batch-norm layer, it makes the distribution of the next layer's input
    move at random from one training step to the next: a deliberate, large "internal covariate
    shift" (the "noisy BN" of Santurkar et al., 2018, in a simplified form). In evaluation mode
    it is the identity.

    The simplification: one scale $s$ and one shift $m$ per feature are shared by the whole
    batch, so after BN this is $y = (s\gamma)\,\hat x + (s\beta + m)$, a random per-step
    perturbation of BN's $\gamma$ and $\beta$. Santurkar et al. instead add i.i.d. noise to each
    activation of each sample, from a distribution with a non-zero mean and non-unit variance
    that changes over time.

    Parameters
    ----------
    num_features : int
        $C$.
    rng : numpy.random.Generator
        Source of the noise.
    shift : float, default 1.0
        Shifts are drawn from $U(-\text{shift}, \text{shift})$.
    max_scale : float, default 2.0
        Scales are drawn log-uniformly from $[1/\text{max\_scale}, \text{max\_scale}]$.

    Equations
    ---------
    At training step $t$, for every feature $j$ (the same for all samples of the batch):

    $$ s_{tj} = \text{max\_scale}^{u_{tj}},\ u_{tj} \sim U(-1, 1), \qquad
       m_{tj} \sim U(-\text{shift}, \text{shift}), \qquad y_{ij} = s_{tj} x_{ij} + m_{tj} $$
    """

    def __init__(
        self,
        num_features: int,
        rng: np.random.Generator,
        shift: float = 1.0,
        max_scale: float = 2.0,
    ) -> None:
        self.num_features = num_features
        self.rng = rng
        self.shift = shift
        self.max_scale = max_scale
        self._scale = np.ones(num_features)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training:
            self._scale = np.ones(self.num_features)
            return x
        # s = max_scale^u, u ~ U(−1, 1);  m ~ U(−shift, shift)
        self._scale = self.max_scale ** self.rng.uniform(-1.0, 1.0, self.num_features)
        shift = self.rng.uniform(-self.shift, self.shift, self.num_features)
        # y = s x + m
        return x * self._scale + shift

    def backward(self, dy: np.ndarray) -> np.ndarray:
        # ∂y/∂x = s
        return dy * self._scale


def build_mlp(
    sizes: tuple[int, ...],
    activation: str = "relu",
    norm: str = "none",
    rng: np.random.Generator | None = None,
    weight_std: float | str | None = None,
    noise_rng: np.random.Generator | None = None,
) -> Sequential:
    r"""The chapter's MLPs: `refimpl.train.mlp` with a choice of where batch normalization goes.

    Parameters
    ----------
    sizes : tuple of int
        Widths from input to output, e.g. ``(64, 100, 100, 10)``.
    activation : {"relu", "sigmoid"}
    norm : {"none", "before", "after", "noisy"}
        ``"before"``: ``Linear(bias=False) → BatchNorm1d → activation`` (the original paper);
        ``"after"``: ``Linear → activation → BatchNorm1d``; ``"noisy"``: like ``"before"`` with
        a `NoisyShift` after each ``BatchNorm1d``; ``"none"``: ``Linear → activation``.
    rng : numpy.random.Generator
        Source of the weights (see `refimpl.train.mlp`: each ``Linear`` draws from its own
        stream), so two models built from generators with the same seed share the weights of
        every layer they both have, whatever ``norm`` is.
    weight_std : float or {"xavier", "he"}, optional
        Draw every weight from $\mathcal N(0, \text{std}^2)$ (biases 0); ``"xavier"`` uses
        $\text{std} = \sqrt{2 / (\text{fan\_in} + \text{fan\_out})}$, ``"he"``
        $\sqrt{2 / \text{fan\_in}}$. None keeps PyTorch's default uniform initialization.
    noise_rng : numpy.random.Generator, optional
        Source of the `NoisyShift` noise (needed for ``norm="noisy"``).

    Returns
    -------
    Sequential
    """
    if norm not in ("none", "before", "after", "noisy"):
        raise ValueError(f"norm must be 'none', 'before', 'after' or 'noisy', got {norm!r}")
    if weight_std is None:
        init, init_std = None, None
    elif weight_std == "xavier":
        init, init_std = "xavier_normal", None
    elif weight_std == "he":
        init, init_std = "kaiming_normal", None
    else:
        init, init_std = "normal", float(weight_std)
    model = mlp(
        sizes,
        activation,
        norm=None if norm == "none" else "batch",
        norm_position="after" if norm == "after" else "before",
        init=init,
        init_std=init_std,
        rng=rng,
    )
    if norm == "noisy":  # a NoisyShift right after each BatchNorm
        layers: list[Module] = []
        for layer in model.layers:
            layers.append(layer)
            if isinstance(layer, BatchNorm1d):
                layers.append(NoisyShift(layer.num_features, noise_rng))
        model = Sequential(*layers)
    return model


def train_classifier(
    model: Module,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    lr: float,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
) -> dict:
    """Train with plain SGD and cross-entropy; stop (and say so) if the numbers blow up.

    Parameters
    ----------
    model : Module
    data : tuple
        ``(X_train, y_train, X_val, y_val)``.
    lr : float
        Learning rate of SGD (no momentum).
    epochs, batch_size : int
    rng : numpy.random.Generator
        Source of the shuffling.

    Returns
    -------
    dict
        ``train_accuracy``, ``val_accuracy`` (arrays of shape (epochs,), measured in
        evaluation mode after each epoch, NaN after a divergence), ``batch_loss`` (array of
        every minibatch loss, in training mode) and ``diverged`` (bool): whether a NaN or an
        infinity stopped the run.
    """
    optimizer = SGD(model.parameters(), lr=lr)
    with np.errstate(all="ignore"):  # the sweeps diverge on purpose at large learning rates
        history = fit(
            model,
            CrossEntropyLoss(),
            optimizer,
            data,
            epochs,
            batch_size,
            rng,
            drop_last=True,
            stop_on_divergence=True,
        )
    # one entry per epoch, NaN from the diverging epoch on
    train_accuracy = np.full(epochs, np.nan)
    val_accuracy = np.full(epochs, np.nan)
    train_accuracy[: len(history.epoch)] = history.train_accuracy
    val_accuracy[: len(history.epoch)] = history.val_accuracy
    return {
        "train_accuracy": train_accuracy,
        "val_accuracy": val_accuracy,
        "batch_loss": np.array(history.batch_loss),
        "diverged": history.diverged,
    }


def _digits(seed: int, n_train: int | None, scale: str):
    splits = load_digits_splits(seed=shifted(seed), n_train=n_train, scale=scale)
    return splits.X_train, splits.y_train, splits.X_val, splits.y_val


# -- page "input": gradient descent before and after standardizing --------------------------------


def _quadratic_gd(H: np.ndarray, g: np.ndarray, lr: float, tol: float, max_steps: int):
    """Gradient descent on L(w) = ½ wᵀHw − gᵀw + c from w = 0, until L − L* <= tol."""
    w_star = np.linalg.solve(H, g)

    def excess(w):
        # L(w) − L* = ½ (w − w*)ᵀ H (w − w*)
        d = w - w_star
        return 0.5 * d @ H @ d

    w = np.zeros(len(g))
    path, gaps = [w.copy()], [excess(w)]
    while gaps[-1] > tol and len(path) <= max_steps:
        # w ← w − η ∇L(w),  ∇L(w) = Hw − g
        w = w - lr * (H @ w - g)
        path.append(w.copy())
        gaps.append(excess(w))
    return np.array(path), np.array(gaps), w_star


@cached
def gradient_descent_paths(seed: int = 0, n: int = 200, tol: float = 1e-3) -> dict:
    r"""Gradient descent on a least-squares loss with raw, standardized and whitened inputs.

    Synthetic data (labelled as such on the page): two correlated features with very different
    means and scales, $x_1 \sim \mathcal N(8, 4^2)$ (like a pixel intensity 0..16) and
    $x_2 \approx 0.05 x_1 + \mathcal N(0.5, 0.2^2)$, and a target
    $t = 0.3 x_1 - 2 x_2 + \text{noise}$. The model $\hat t = w^\top x$ has two weights, so its
    loss can be drawn as contours. Standardized and whitened inputs are fitted to the centred
    target (a standardized model's bias is then exactly $\bar t$ and drops out).

    Each variant runs gradient descent from $w = 0$ with $\eta = 1 / \lambda_{\max}(H)$ until
    the excess loss $L(w) - L^*$ is below ``tol``.

    Returns
    -------
    dict
        For each of ``"raw"``, ``"standardized"``, ``"whitened"``: ``H`` (2, 2) and ``g`` (2,)
        of $L(w) = \frac12 w^\top H w - g^\top w + c$, ``path`` (steps + 1, 2), ``gaps``
        (steps + 1,) the excess losses, ``w_star`` (2,), ``steps`` (int), ``lr``,
        ``condition_number`` ($\lambda_{\max} / \lambda_{\min}$).
    """
    rng = rng_for(seed)
    x1 = rng.normal(8.0, 4.0, n)
    x2 = 0.05 * x1 + rng.normal(0.5, 0.2, n)
    X = np.column_stack([x1, x2])
    t = 0.3 * x1 - 2.0 * x2 + rng.normal(0.0, 0.1, n)

    # standardize: z = (x − μ) / σ
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    # whiten (ZCA): u = z Σ^(−1/2), with Σ the covariance of z
    eigenvalues, eigenvectors = np.linalg.eigh(Z.T @ Z / n)
    U = Z @ eigenvectors @ np.diag(eigenvalues**-0.5) @ eigenvectors.T

    results = {}
    for name, inputs, target in (
        ("raw", X, t),
        ("standardized", Z, t - t.mean()),
        ("whitened", U, t - t.mean()),
    ):
        # L(w) = (1/2n) Σ (wᵀx − t)²  =  ½ wᵀHw − gᵀw + c,  H = XᵀX/n, g = Xᵀt/n
        H = inputs.T @ inputs / n
        g = inputs.T @ target / n
        curvatures = np.linalg.eigvalsh(H)
        lr = 1.0 / curvatures[-1]
        path, gaps, w_star = _quadratic_gd(H, g, lr, tol, max_steps=100_000)
        results[name] = {
            "H": H,
            "g": g,
            "c": float(target @ target / (2 * n)),
            "path": path,
            "gaps": gaps,
            "w_star": w_star,
            "steps": len(path) - 1,
            "lr": float(lr),
            "condition_number": float(curvatures[-1] / curvatures[0]),
        }
    return results


# -- page "covariate-shift" -----------------------------------------------------------------------


def _layer_inputs(model: Sequential, X: np.ndarray, index: int) -> np.ndarray:
    """The input of ``model[index]`` for the batch X (training-mode statistics), computed on a
    copy so that the model's running statistics and caches are left alone."""
    h = X
    for layer in copy.deepcopy(model).layers[:index]:
        h = layer.forward(h)
    return h


def _activation_index(model: Sequential, which: int) -> int:
    """Position of the ``which``-th activation module (0-based) in ``model``."""
    positions = [k for k, layer in enumerate(model.layers) if isinstance(layer, ReLU | Sigmoid)]
    return positions[which]


class _PercentileRecorder(Callback):
    """Before every ``every``-th step, the 15th, 50th and 85th percentiles of the input of the
    model's last activation on the probe batch; stops training after step ``last_step``."""

    def __init__(self, model: Sequential, X_probe: np.ndarray, every: int, last_step: int):
        self.model, self.X_probe = model, X_probe
        self.every, self.last_step = every, last_step
        self.index = _activation_index(model, -1)
        self.percentiles: list[np.ndarray] = []

    def on_step_start(self, step, X, y):
        if step % self.every == 0:
            h = _layer_inputs(self.model, self.X_probe, self.index)
            self.percentiles.append(np.percentile(h, [15, 50, 85], axis=0))

    def on_step_end(self, step, loss):
        return step == self.last_step


@cached
def preactivation_percentiles(
    seed: int = 0,
    sizes: tuple[int, ...] = (64, 100, 100, 100, 10),
    lr: float = 0.5,
    steps: int = 600,
    every: int = 10,
    batch_size: int = 60,
) -> dict:
    r"""Percentiles of the last hidden layer's sigmoid inputs over training, with and without BN.

    Two sigmoid MLPs with the same initial weights are trained with SGD on standardized digits,
    one with ``Linear → Sigmoid`` blocks, one with ``Linear → BatchNorm1d → Sigmoid``. Every
    ``every`` steps the input of the last sigmoid is computed for a fixed probe batch (the 359
    validation images, in training mode, so BN uses the probe batch's statistics) and its
    15th, 50th and 85th percentiles are recorded for every unit.

    Returns
    -------
    dict
        ``step`` (T,) and, for ``"none"`` and ``"before"``: ``percentiles`` (T, 3, units),
        ``drift`` (units,) the largest move of any of the three percentiles from its value at
        step 0, divided by the unit's spread (85th − 15th percentile, averaged over the
        recorded steps), ``train_accuracy`` after training.
    """
    data = _digits(seed, None, "standardize")
    X_train, X_probe = data[0], data[2]
    # steps 0, 1, ..., steps: one more than ``steps`` updates, over as many epochs as that takes
    epochs = math.ceil((steps + 1) / (len(X_train) // batch_size))
    results: dict = {}
    with threadpool_limits(1):
        for norm in ("none", "before"):
            model = build_mlp(sizes, "sigmoid", norm, rng=rng_for(seed))
            recorder = _PercentileRecorder(model, X_probe, every, last_step=steps)
            history = fit(
                model,
                CrossEntropyLoss(),
                SGD(model.parameters(), lr=lr),
                data,
                epochs,
                batch_size,
                rng_for(seed + 1),
                drop_last=True,
                callbacks=[recorder],
            )
            recorded = recorder.percentiles
            percentiles = np.array(recorded)
            # spread of a unit: its 85th − 15th percentile, averaged over the recorded steps
            spread = (percentiles[:, 2] - percentiles[:, 0]).mean(axis=0)
            drift = np.abs(percentiles - percentiles[:1]).max(axis=(0, 1)) / spread
            results[norm] = {
                "percentiles": percentiles,
                "drift": drift,
                "train_accuracy": history.train_accuracy[-1],
            }
    results["step"] = np.arange(0, steps + 1, every)
    return results


def _activation_input_moments(model: Sequential, X_probe: np.ndarray) -> np.ndarray:
    """Mean and std of every activation's input on the probe batch (training-mode forward, on
    the model itself: its BN running statistics and noise generators move on), shape
    (activations, 2, units)."""
    stats = []
    h = X_probe
    for layer in model.layers:
        if isinstance(layer, ReLU | Sigmoid):
            stats.append(np.stack([h.mean(axis=0), h.std(axis=0)]))
        h = layer.forward(h)
    return np.array(stats)


class _MotionRecorder(Callback):
    """Before every step, how far the activations' input moments moved since the last step:
    the mean absolute change of `_activation_input_moments` (none before the first step)."""

    def __init__(self, model: Sequential, X_probe: np.ndarray):
        self.model, self.X_probe = model, X_probe
        self.previous: np.ndarray | None = None
        self.motions: list[float] = []

    def on_step_start(self, step, X, y):
        stats = _activation_input_moments(self.model, self.X_probe)
        if self.previous is not None:
            self.motions.append(float(np.abs(stats - self.previous).mean()))
        self.previous = stats


@cached
def noisy_batchnorm(
    seeds: tuple[int, ...] = (0, 1, 2),
    sizes: tuple[int, ...] = (64, 100, 100, 100, 10),
    activation: str = "relu",
    lr: float = 0.1,
    epochs: int = 8,
    batch_size: int = 60,
    shift: float = 1.0,
    max_scale: float = 2.0,
) -> dict:
    r"""Train without BN, with BN, and with "noisy BN" (`NoisyShift` after each BN).

    For each seed and variant: train on standardized digits with SGD, recording the loss of
    every minibatch and the accuracy after every epoch; and measure how much the distribution
    of the activations' inputs moves from one step to the next: the mean absolute change of the
    per-unit mean and standard deviation on a fixed probe batch (the validation images, training
    mode, so the noise is included), averaged over the steps of the first epoch.

    Returns
    -------
    dict
        For each variant ``"none"``, ``"before"``, ``"noisy"``: ``batch_loss`` (seeds, steps),
        ``train_accuracy`` and ``val_accuracy`` (seeds, epochs), ``motion`` (seeds,).
    """
    data = _digits(0, None, "standardize")
    X_probe = data[2]
    results: dict = {}
    with threadpool_limits(1), np.errstate(all="ignore"):
        for norm in ("none", "before", "noisy"):
            runs = []
            for seed in seeds:
                model = build_mlp(
                    sizes,
                    activation,
                    norm,
                    rng=rng_for(seed),
                    noise_rng=rng_for(1000 + seed),
                )
                for layer in model.layers:
                    if isinstance(layer, NoisyShift):
                        layer.shift, layer.max_scale = shift, max_scale
                # how far the activations' input distributions move per step, first epoch
                motion_model = copy.deepcopy(model)
                motion = _MotionRecorder(motion_model, X_probe)
                optimizer = SGD(motion_model.parameters(), lr=lr)
                fit(
                    motion_model,
                    CrossEntropyLoss(),
                    optimizer,
                    data,
                    1,
                    batch_size,
                    rng_for(seed + 1),
                    drop_last=True,
                    callbacks=[motion],
                )
                run = train_classifier(model, data, lr, epochs, batch_size, rng_for(seed + 1))
                run["motion"] = float(np.mean(motion.motions))
                runs.append(run)
            results[norm] = {
                key: np.array([run[key] for run in runs])
                for key in ("batch_loss", "train_accuracy", "val_accuracy", "motion")
            }
    return results


def _loss_and_gradient(model: Sequential, X: np.ndarray, y: np.ndarray):
    """Loss and flattened parameter gradient on one batch, in training mode, without side
    effects on the model (it runs on a copy, so running statistics are not touched)."""
    probe = copy.deepcopy(model)
    probe.train()
    loss_fn = CrossEntropyLoss()
    loss = loss_fn(probe(X), y)
    probe.zero_grad()
    probe.backward(loss_fn.backward())
    return loss, np.concatenate([p.grad.ravel() for p in probe.parameters()])


def _moved(model: Sequential, direction: np.ndarray, step: float) -> Sequential:
    """A copy of ``model`` with its parameters moved by ``-step * direction``."""
    moved = copy.deepcopy(model)
    start = 0
    for p in moved.parameters():
        size = p.data.size
        p.data -= step * direction[start : start + size].reshape(p.data.shape)
        start += size
    return moved


def _smoothness_run(
    seed: int,
    sizes: tuple[int, ...],
    weight_init,
    norm: str,
    lr: float,
    epochs: int,
    batch_size: int,
    every: int,
    multipliers: tuple[float, ...],
) -> dict:
    """One training run of `loss_smoothness`, measuring along the gradient every few steps."""
    data = _digits(seed, None, "standardize")
    model = build_mlp(sizes, "relu", norm, rng=rng_for(seed), weight_std=weight_init)
    probe = _SmoothnessProbe(model, lr, every, multipliers)
    optimizer = SGD(model.parameters(), lr=lr)
    fit(
        model,
        CrossEntropyLoss(),
        optimizer,
        data,
        epochs,
        batch_size,
        rng_for(seed + 1),
        drop_last=True,
        callbacks=[probe],
    )
    return {key: np.array(value) for key, value in probe.measured.items()}


class _SmoothnessProbe(Callback):
    """Every ``every`` steps, before the step: how the loss and the gradient change along the
    gradient on the step's minibatch, for step sizes ``c * lr`` (see `loss_smoothness`)."""

    def __init__(self, model: Sequential, lr: float, every: int, multipliers: tuple[float, ...]):
        self.model, self.lr, self.every, self.multipliers = model, lr, every, multipliers
        self.measured: dict[str, list] = {
            "loss_range": [],
            "gradient_change": [],
            "beta_smoothness": [],
            "gradient_norm": [],
        }

    def on_step_start(self, step, X, y):
        if step % self.every != 0:
            return
        loss0, g = _loss_and_gradient(self.model, X, y)
        losses, changes, betas = [loss0], [], []
        for c in self.multipliers:
            eta = c * self.lr
            loss, g_eta = _loss_and_gradient(_moved(self.model, g, eta), X, y)
            # ‖∇L(θ − ηg) − ∇L(θ)‖
            change = np.linalg.norm(g_eta - g)
            losses.append(loss)
            changes.append(change)
            # ‖∇L(θ − ηg) − ∇L(θ)‖ / ‖ηg‖
            betas.append(change / (eta * np.linalg.norm(g)))
        self.measured["loss_range"].append(max(losses) - min(losses))
        self.measured["gradient_change"].append(max(changes))
        self.measured["beta_smoothness"].append(max(betas))
        self.measured["gradient_norm"].append(np.linalg.norm(g))


@cached
def loss_smoothness(
    seeds: tuple[int, ...] = (0, 1, 2),
    sizes: tuple[int, ...] = (64, 100, 100, 100, 10),
    weight_inits: tuple = ("he", None),
    lr: float = 0.1,
    epochs: int = 6,
    batch_size: int = 60,
    every: int = 5,
    multipliers: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0),
) -> dict:
    r"""How much the loss and the gradient change along the gradient step, with and without BN.

    ReLU MLPs on standardized digits, trained with SGD. Every ``every`` training steps, on the
    current minibatch $B$ (training mode), with $g = \nabla L(\theta)$ and step sizes
    $\eta = c \cdot \text{lr}$ for $c$ in ``multipliers``:

    $$ \Delta L = \max_\eta L(\theta - \eta g) - \min_\eta L(\theta - \eta g), \qquad
       \Delta g = \max_\eta \lVert \nabla L(\theta - \eta g) - g \rVert, \qquad
       \beta_{\text{eff}} = \max_\eta
       \frac{\lVert \nabla L(\theta - \eta g) - g \rVert}{\eta \lVert g \rVert} $$

    (the "loss landscape", "gradient predictiveness" and "effective β-smoothness" of Santurkar
    et al., 2018, on a small scale; $\eta = 0$ is included in the range of $L$). The model then
    takes its normal step with ``lr``. Each initialization in ``weight_inits`` (see
    `build_mlp`: ``"he"``, or None for PyTorch's default) is run with and without BN, for every
    seed (which fixes the weights and the shuffling, the same with and without BN).

    Returns
    -------
    dict
        ``step`` (K,) the steps measured at, and ``results[init][norm]`` for init in
        ``("he", "default")`` and norm in ``("none", "before")``: ``loss_range``,
        ``gradient_change``, ``beta_smoothness`` and ``gradient_norm``, each (seeds, K).
    """
    results: dict = {}
    with threadpool_limits(1), np.errstate(all="ignore"):
        for weight_init in weight_inits:
            name = "default" if weight_init is None else str(weight_init)
            results[name] = {}
            for norm in ("none", "before"):
                runs = [
                    _smoothness_run(
                        seed, sizes, weight_init, norm, lr, epochs, batch_size, every, multipliers
                    )
                    for seed in seeds
                ]
                results[name][norm] = {key: np.array([run[key] for run in runs]) for key in runs[0]}
    steps_per_epoch = len(_digits(seeds[0], None, "standardize")[0]) // batch_size
    results["step"] = np.arange(0, epochs * steps_per_epoch, every)
    return results


# -- page "initialization" ------------------------------------------------------------------------

WEIGHT_SCHEMES = (1.0, 0.01, "xavier", "he")


@cached
def activation_histograms(
    seed: int = 0,
    n_samples: int = 500,
    width: int = 100,
    depth: int = 5,
    schemes: tuple = WEIGHT_SCHEMES,
) -> dict:
    r"""Activations of each layer of a 5-layer network at initialization, with and without BN.

    The input is ``n_samples`` standardized digits; every hidden layer has ``width`` units and
    weights drawn from $\mathcal N(0, s^2)$ for each scheme (std 1, std 0.01, Xavier, He),
    biases 0. With BN, a ``BatchNorm1d`` ($\gamma = 1$, $\beta = 0$, batch statistics) sits
    between each ``Linear`` and its activation. Only a forward pass, no training.

    Returns
    -------
    dict
        ``sigmoid_bins`` (31,) on [0, 1]; ``relu_bins`` (61,) on $\log_{10}$ of the positive
        ReLU outputs. ``results[activation][norm][scheme]`` for activation in
        ``("sigmoid", "relu")``, norm in ``("none", "before")``, scheme in ``schemes`` (as a
        string) holds ``counts`` (depth, bins - 1) histograms (fractions of all values),
        ``std`` (depth,), ``mean`` (depth,), ``saturated`` (depth,) the fraction of sigmoid
        outputs below 0.01 or above 0.99, ``zero`` (depth,) the fraction of ReLU outputs that
        are exactly 0.
    """
    X = _digits(seed, n_samples, "standardize")[0]
    sigmoid_bins = np.linspace(0.0, 1.0, 31)
    relu_bins = np.linspace(-9.0, 6.0, 61)
    results: dict = {"sigmoid_bins": sigmoid_bins, "relu_bins": relu_bins}
    sizes = (X.shape[1],) + (width,) * depth + (10,)
    with threadpool_limits(1), np.errstate(all="ignore"):
        for activation in ("sigmoid", "relu"):
            results[activation] = {}
            for norm in ("none", "before"):
                results[activation][norm] = {}
                for scheme in schemes:
                    # the same weights with and without BN: every Linear of build_mlp draws
                    # from its own stream spawned from this seed
                    model = build_mlp(sizes, activation, norm, rng_for(seed), weight_std=scheme)
                    model.train()
                    outputs, h = [], X
                    for layer in model.layers[:-1]:
                        h = layer.forward(h)
                        if isinstance(layer, ReLU | Sigmoid):
                            outputs.append(h)
                    entry: dict[str, list] = {
                        "counts": [],
                        "std": [],
                        "mean": [],
                        "saturated": [],
                        "zero": [],
                    }
                    for a in outputs:
                        if activation == "sigmoid":
                            counts = np.histogram(a, sigmoid_bins)[0]
                        else:
                            counts = np.histogram(np.log10(a[a > 0]), relu_bins)[0]
                        entry["counts"].append(counts / a.size)
                        entry["std"].append(a.std())
                        entry["mean"].append(a.mean())
                        entry["saturated"].append(np.mean((a < 0.01) | (a > 0.99)))
                        entry["zero"].append(np.mean(a == 0))
                    results[activation][norm][str(scheme)] = {
                        key: np.array(value) for key, value in entry.items()
                    }
    return results


@cached
def weight_scale_grid(
    seed: int = 0,
    scales: tuple[float, ...] = tuple(np.logspace(0, -4, 16)),
    n_train: int = 1000,
    width: int = 100,
    depth: int = 5,
    lr: float = 0.01,
    epochs: int = 20,
    batch_size: int = 100,
) -> dict:
    r"""Training accuracy with and without BN for 16 weight scales (after *Deep Learning from
    Scratch*, ch. 6).

    A ReLU MLP with ``depth`` hidden layers of ``width`` units, every weight drawn from
    $\mathcal N(0, s^2)$, trained with plain SGD on ``n_train`` digits (pixels divided by 16,
    like dividing by 255 in the book) for ``epochs`` epochs. Both models of a scale start from
    the same weights and see the same minibatches.

    Returns
    -------
    dict
        ``scales`` (16,), ``epoch`` (epochs,), and for ``"none"`` and ``"before"``:
        ``train_accuracy`` (16, epochs) measured in evaluation mode after each epoch (NaN after
        a divergence) and ``diverged`` (16,) bool.
    """
    X_train, y_train, X_val, y_val = _digits(seed, n_train, "divide16")
    sizes = (X_train.shape[1],) + (width,) * depth + (10,)
    results: dict = {"scales": np.array(scales), "epoch": np.arange(1, epochs + 1)}
    with threadpool_limits(1):
        for norm in ("none", "before"):
            accuracy, diverged = [], []
            for scale in scales:
                model = build_mlp(sizes, "relu", norm, rng_for(seed), weight_std=float(scale))
                run = train_classifier(
                    model,
                    (X_train, y_train, X_val, y_val),
                    lr,
                    epochs,
                    batch_size,
                    rng_for(seed + 1),
                )
                accuracy.append(run["train_accuracy"])
                diverged.append(run["diverged"])
            results[norm] = {"train_accuracy": np.array(accuracy), "diverged": np.array(diverged)}
    return results


@cached
def smallest_scale_eps(
    seed: int = 0,
    scale: float = 1e-4,
    eps_values: tuple[float, ...] = (1e-5, 1e-10),
    n_train: int = 1000,
    width: int = 100,
    depth: int = 5,
    lr: float = 0.01,
    epochs: int = 20,
    batch_size: int = 100,
) -> dict:
    r"""The smallest weight scale of `weight_scale_grid` with BN, for two values of BN's ε.

    The same network, data and training as `weight_scale_grid` at weight std ``scale``, with
    every ``BatchNorm1d`` given ``eps``. Before training, the standard deviation of each hidden
    layer's ReLU output is measured on the whole training set (training mode).

    Returns
    -------
    dict
        ``eps`` (E,), ``layer_std`` (E, depth) at initialization, ``train_accuracy``
        (E, epochs).
    """
    X_train, y_train, X_val, y_val = _digits(seed, n_train, "divide16")
    sizes = (X_train.shape[1],) + (width,) * depth + (10,)
    layer_std, accuracy = [], []
    with threadpool_limits(1):
        for eps in eps_values:
            model = build_mlp(sizes, "relu", "before", rng_for(seed), weight_std=scale)
            for layer in model.layers:
                if isinstance(layer, BatchNorm1d):
                    layer.eps = eps
            h, stds = X_train, []
            for layer in copy.deepcopy(model).layers[:-1]:
                h = layer.forward(h)
                if isinstance(layer, ReLU):
                    stds.append(h.std())
            layer_std.append(stds)
            run = train_classifier(
                model,
                (X_train, y_train, X_val, y_val),
                lr,
                epochs,
                batch_size,
                rng_for(seed + 1),
            )
            accuracy.append(run["train_accuracy"])
    return {
        "eps": np.array(eps_values),
        "layer_std": np.array(layer_std),
        "train_accuracy": np.array(accuracy),
    }


@cached
def learning_rate_sweep(
    seeds: tuple[int, ...] = (0, 1, 2),
    learning_rates: tuple[float, ...] = tuple(np.logspace(-3, 1, 9)),
    sizes: tuple[int, ...] = (64, 100, 100, 100, 10),
    epochs: int = 6,
    batch_size: int = 60,
) -> dict:
    r"""Validation accuracy after a fixed budget, over a sweep of learning rates, with and
    without BN.

    ReLU MLPs (PyTorch's default initialization) on standardized digits, plain SGD, for
    ``epochs`` epochs per run; each seed fixes the weights and the shuffling, the same for both
    models.

    Returns
    -------
    dict
        ``learning_rates`` (L,), and for ``"none"`` and ``"before"``: ``val_accuracy``
        (seeds, L) after the last epoch (0.1, chance level, for a diverged run) and
        ``diverged`` (seeds, L) bool.
    """
    data = _digits(0, None, "standardize")
    results: dict = {"learning_rates": np.array(learning_rates)}
    with threadpool_limits(1):
        for norm in ("none", "before"):
            accuracy = np.zeros((len(seeds), len(learning_rates)))
            diverged = np.zeros((len(seeds), len(learning_rates)), dtype=bool)
            for i, seed in enumerate(seeds):
                for j, lr in enumerate(learning_rates):
                    model = build_mlp(sizes, "relu", norm, rng_for(seed))
                    run = train_classifier(
                        model, data, float(lr), epochs, batch_size, rng_for(seed)
                    )
                    diverged[i, j] = run["diverged"]
                    final = run["val_accuracy"][-1]
                    accuracy[i, j] = 0.1 if np.isnan(final) else final
            results[norm] = {"val_accuracy": accuracy, "diverged": diverged}
    return results


# -- page "algorithm" -----------------------------------------------------------------------------


@cached
def placement_over_seeds(
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    sizes: tuple[int, ...] = (64, 100, 100, 100, 10),
    lr: float = 0.1,
    epochs: int = 8,
    batch_size: int = 60,
) -> dict:
    r"""BN before the ReLU (``Linear → BN → ReLU``) against BN after it (``Linear → ReLU → BN``).

    Each seed fixes the initial weights and the shuffling, the same for both orders; standardized
    digits, plain SGD. A third row without BN is the baseline.

    Returns
    -------
    dict
        ``epoch`` (epochs,), and for ``"before"``, ``"after"`` and ``"none"``:
        ``train_loss`` (seeds, epochs) the mean minibatch loss of each epoch,
        ``val_accuracy`` (seeds, epochs).
    """
    data = _digits(0, None, "standardize")
    results: dict = {"epoch": np.arange(1, epochs + 1)}
    with threadpool_limits(1):
        for norm in ("before", "after", "none"):
            losses, accuracies = [], []
            for seed in seeds:
                model = build_mlp(sizes, "relu", norm, rng_for(seed))
                run = train_classifier(model, data, lr, epochs, batch_size, rng_for(seed + 1))
                losses.append(run["batch_loss"].reshape(epochs, -1).mean(axis=1))
                accuracies.append(run["val_accuracy"])
            results[norm] = {"train_loss": np.array(losses), "val_accuracy": np.array(accuracies)}
    return results
