"""Figures of the chapter "Normalization and batch normalization".

Each function draws one figure from an experiment in `refimpl.experiments.normalization` (or,
for the two small ones, from a few lines of NumPy) and returns it; the pages show it with
`refimpl.plotting.show`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from refimpl.experiments import normalization as experiments
from refimpl.figures import labels, register
from refimpl.plotting import ink

# one colour per variant on every figure of the chapter (matplotlib's default cycle)
COLORS = {"none": "C0", "before": "C1", "noisy": "C2", "after": "C2"}


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average over ``window`` values (shorter at the start)."""
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    ends = np.arange(1, len(values) + 1)
    return (cumulative[ends] - cumulative[ends - counts]) / counts


# -- page "input" ---------------------------------------------------------------------------------


@register("normalization-gd-paths", page="normalization/input")
def gd_paths(lang: str = "ko"):
    """Gradient descent on the same least-squares problem with raw, standardized, whitened
    inputs: loss contours, the path, and the number of steps to reach the same excess loss."""
    text = labels(
        lang,
        ko={
            "raw": "원래 입력",
            "standardized": "표준화한 입력",
            "whitened": "백색화한 입력",
            "steps": "{n}걸음",
            "one_step": "{n}걸음",
            "start": "시작",
            "minimum": "최솟값",
        },
        en={
            "raw": "raw inputs",
            "standardized": "standardized inputs",
            "whitened": "whitened inputs",
            "steps": "{n} steps",
            "one_step": "{n} step",
            "start": "start",
            "minimum": "minimum",
        },
    )
    result = experiments.gradient_descent_paths()
    fig, axes = plt.subplots(1, 3, figsize=(5.2, 2.9))
    for ax, name in zip(axes, ("raw", "standardized", "whitened"), strict=True):
        run = result[name]
        path, w_star, H = run["path"], run["w_star"], run["H"]
        # a square box (equal scales on both axes) around the path and the minimum
        low = np.minimum(path.min(axis=0), w_star)
        high = np.maximum(path.max(axis=0), w_star)
        center, half = (low + high) / 2, 0.6 * (high - low).max()
        w1 = np.linspace(center[0] - half, center[0] + half, 240)
        w2 = np.linspace(center[1] - half, center[1] + half, 240)
        W1, W2 = np.meshgrid(w1, w2)
        D = np.stack([W1 - w_star[0], W2 - w_star[1]], axis=-1)
        # excess loss ½ (w − w*)ᵀ H (w − w*), on log-spaced levels
        excess = 0.5 * np.einsum("...i,ij,...j->...", D, H, D)
        levels = np.geomspace(max(excess.min(), 1e-4), excess.max(), 12)
        ax.contour(W1, W2, excess, levels=levels, colors="0.6", linewidths=0.7)
        ax.plot(path[:, 0], path[:, 1], "-", color="C3", linewidth=1.0, marker=".", markersize=3)
        ax.plot(*path[0], "o", color="C0", markersize=6, label=text["start"])
        ax.plot(*w_star, "*", color="C1", markersize=12, label=text["minimum"])
        steps = text["one_step" if run["steps"] == 1 else "steps"].format(n=run["steps"])
        ax.set_title(f"{text[name]}\n{steps}")
        ax.set_xlabel("$w_1$")
        ax.set_ylabel("$w_2$")
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0].legend(frameon=False, loc="lower left")
    fig.tight_layout()
    return fig


# -- page "covariate-shift" -----------------------------------------------------------------------


@register("normalization-ics-percentiles", page="normalization/covariate-shift")
def ics_percentiles(lang: str = "ko", unit: int = 0):
    """15th, 50th and 85th percentiles of one unit's sigmoid input over training, with and
    without BN."""
    text = labels(
        lang,
        ko={
            "none": "배치 정규화 없음",
            "before": "배치 정규화 있음",
            "step": "학습 스텝",
            "value": "시그모이드 입력값",
            "p": "{q}번째 백분위수",
        },
        en={
            "none": "without batch normalization",
            "before": "with batch normalization",
            "step": "training step",
            "value": "input of the sigmoid",
            "p": "{q}th percentile",
        },
    )
    result = experiments.preactivation_percentiles()
    fig, axes = plt.subplots(1, 2, figsize=(5.2, 2.8), sharey=True)
    for ax, norm in zip(axes, ("none", "before"), strict=True):
        percentiles = result[norm]["percentiles"][:, :, unit]
        for k, q in enumerate((15, 50, 85)):
            ax.plot(
                result["step"],
                percentiles[:, k],
                color=COLORS[norm],
                linestyle=("--", "-", ":")[k],
                label=text["p"].format(q=q),
            )
        ax.set_title(text[norm])
        ax.set_xlabel(text["step"])
    axes[0].set_ylabel(text["value"])
    axes[0].legend(frameon=False)
    fig.tight_layout()
    return fig


@register("normalization-noisy-bn", page="normalization/covariate-shift")
def noisy_bn(lang: str = "ko"):
    """Training loss of no BN, BN and noisy BN, and how far their activations' input
    distributions move per step."""
    text = labels(
        lang,
        ko={
            "none": "배치 정규화 없음",
            "before": "배치 정규화",
            "noisy": "잡음 섞은 배치 정규화",
            "step": "학습 스텝",
            "loss": "미니배치 손실\n(이동 평균)",
            "motion": "한 스텝당 분포 이동량\n(로그 축)",
            "loss_title": "학습 손실",
            "motion_title": "활성화 입력 분포의 움직임",
        },
        en={
            "none": "no batch normalization",
            "before": "batch normalization",
            "noisy": "noisy batch normalization",
            "step": "training step",
            "loss": "mini-batch loss\n(moving average)",
            "motion": "distribution change\nper step (log scale)",
            "loss_title": "training loss",
            "motion_title": "movement of activation inputs",
        },
    )
    result = experiments.noisy_batchnorm()
    # one panel above the other, so the bars' names fit side by side on a phone
    fig, (left, right) = plt.subplots(2, 1, figsize=(5.2, 5.4))
    names = ("none", "before", "noisy")
    for name in names:
        losses = result[name]["batch_loss"]
        steps = np.arange(1, losses.shape[1] + 1)
        for seed_losses in losses:
            left.plot(steps, _smooth(seed_losses, 10), color=COLORS[name], alpha=0.35, lw=0.8)
        left.plot(steps, _smooth(losses.mean(axis=0), 10), color=COLORS[name], label=text[name])
    left.set_xlabel(text["step"])
    left.set_ylabel(text["loss"])
    left.set_title(text["loss_title"])
    # above the panels, outside the curves and the axes' labels
    handles, legend_names = left.get_legend_handles_labels()
    fig.legend(handles, legend_names, frameon=False, loc="upper center", ncol=2)
    motion = [result[name]["motion"] for name in names]
    positions = np.arange(len(names))
    right.bar(
        positions,
        [m.mean() for m in motion],
        color=[COLORS[name] for name in names],
        width=0.6,
    )
    for position, values in zip(positions, motion, strict=True):
        right.plot(np.full(len(values), position), values, ".", color=ink(), markersize=4)
    right.set_yscale("log")
    # English names wrap before "normalization", so the three fit side by side
    ticks = [text[name].replace(" normalization", "\nnormalization") for name in names]
    right.set_xticks(positions, ticks)
    right.set_ylabel(text["motion"])
    right.set_title(text["motion_title"])
    fig.tight_layout(rect=(0, 0, 1, 0.92), h_pad=1.5)
    return fig


@register("normalization-smoothness", page="normalization/covariate-shift")
def smoothness(lang: str = "ko"):
    """Effective β-smoothness along the gradient step, with and without BN, for two
    initializations."""
    text = labels(
        lang,
        ko={
            "none": "배치 정규화 없음",
            "before": "배치 정규화",
            "he": "He 초기화",
            "default": "PyTorch 기본 초기화 (더 작은 가중치)",
            "step": "학습 스텝",
            "beta": "유효 β-평활도 (로그 축)",
        },
        en={
            "none": "no batch normalization",
            "before": "batch normalization",
            "he": "He initialization",
            "default": "PyTorch default init.\n(smaller weights)",
            "step": "training step",
            "beta": "effective β-smoothness (log scale)",
        },
    )
    result = experiments.loss_smoothness()
    fig, axes = plt.subplots(1, 2, figsize=(5.2, 2.8), sharey=True)
    for ax, init in zip(axes, ("he", "default"), strict=True):
        for norm in ("none", "before"):
            values = result[init][norm]["beta_smoothness"]
            for seed_values in values:
                ax.plot(result["step"], seed_values, color=COLORS[norm], alpha=0.3, lw=0.8)
            ax.plot(
                result["step"],
                np.median(values, axis=0),
                color=COLORS[norm],
                marker=".",
                label=text[norm],
            )
        ax.set_yscale("log")
        ax.set_title(text[init])
        ax.set_xlabel(text["step"])
    axes[0].set_ylabel(text["beta"])
    axes[0].legend(frameon=False)
    fig.tight_layout()
    return fig


# -- page "initialization" ------------------------------------------------------------------------

SCHEME_NAMES = {
    "ko": {"1.0": "표준편차 1", "0.01": "표준편차 0.01", "xavier": "Xavier", "he": "He"},
    "en": {"1.0": "std 1", "0.01": "std 0.01", "xavier": "Xavier", "he": "He"},
}


def _activation_grid(lang: str, activation: str):
    text = labels(
        lang,
        ko={
            "none": "배치 정규화 없음",
            "before": "배치 정규화 있음",
            "layer": "{k}층",
            "sigmoid_x": "시그모이드 출력",
            "relu_x": "log₁₀(ReLU 출력), 0 제외",
        },
        en={
            "none": "without batch normalization",
            "before": "with batch normalization",
            "layer": "layer {k}",
            "sigmoid_x": "sigmoid output",
            "relu_x": "log₁₀(ReLU output), zeros left out",
        },
    )
    result = experiments.activation_histograms()
    bins = result[f"{activation}_bins"]
    schemes = list(result[activation]["none"])
    depth = result[activation]["none"][schemes[0]]["counts"].shape[0]
    fig, axes = plt.subplots(
        len(schemes), depth, figsize=(5.2, 1.3 * len(schemes) + 1.0), sharex=True, sharey="row"
    )
    widths = np.diff(bins)
    for row, scheme in enumerate(schemes):
        for k in range(depth):
            ax = axes[row, k]
            for norm in ("none", "before"):
                counts = result[activation][norm][scheme]["counts"][k]
                # without BN a light fill, with BN an outline on top: no blended overlap
                shape = {"fill": True, "alpha": 0.5} if norm == "none" else {"linewidth": 1.4}
                ax.stairs(counts / widths, bins, color=COLORS[norm], **shape)
            ax.set_yticks([])
            ax.grid(False)
            if row == 0:
                ax.set_title(text["layer"].format(k=k + 1))
        axes[row, 0].set_ylabel(SCHEME_NAMES[lang][scheme])
    fig.supxlabel(text[f"{activation}_x"])
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=COLORS["none"], alpha=0.5),
        plt.Line2D([], [], color=COLORS["before"], linewidth=1.4),
    ]
    fig.legend(
        handles,
        [text["none"], text["before"]],
        loc="upper center",
        ncol=2,
        frameon=False,
        bbox_to_anchor=(0.5, 1.0),
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


@register("normalization-activations-sigmoid", page="normalization/initialization")
def activations_sigmoid(lang: str = "ko"):
    """Histograms of each layer's sigmoid outputs for four weight scales, with and without BN."""
    return _activation_grid(lang, "sigmoid")


@register("normalization-activations-relu", page="normalization/initialization")
def activations_relu(lang: str = "ko"):
    """Histograms of each layer's positive ReLU outputs (log scale) for four weight scales,
    with and without BN."""
    return _activation_grid(lang, "relu")


@register("normalization-weight-scale-grid", page="normalization/initialization")
def weight_scale_grid(lang: str = "ko"):
    """Training accuracy per epoch with and without BN for 16 weight scales (4x4 grid)."""
    text = labels(
        lang,
        ko={
            "none": "배치 정규화 없음",
            "before": "배치 정규화 있음",
            "epoch": "에포크",
            "accuracy": "학습 정확도",
            "scale": "표준편차 {s}",
            "diverged": "발산",
        },
        en={
            "none": "without batch normalization",
            "before": "with batch normalization",
            "epoch": "epoch",
            "accuracy": "training accuracy",
            "scale": "std {s}",
            "diverged": "diverged",
        },
    )
    result = experiments.weight_scale_grid()
    fig, axes = plt.subplots(8, 2, figsize=(5.2, 9.6), sharex=True, sharey=True)
    for index, (ax, scale) in enumerate(zip(axes.flat, result["scales"], strict=True)):
        for norm in ("none", "before"):  # batch normalization's solid line on top
            curve = result[norm]["train_accuracy"][index]
            ax.plot(
                result["epoch"],
                curve,
                color=COLORS[norm],
                linestyle="-" if norm == "before" else "--",
                label=text[norm],
            )
            if result[norm]["diverged"][index]:
                ax.text(
                    0.95,
                    0.08,
                    text["diverged"],
                    color=COLORS[norm],
                    transform=ax.transAxes,
                    ha="right",
                )
        ax.set_title(text["scale"].format(s=f"{scale:.2g}"))
        ax.set_ylim(0, 1.02)
    for ax in axes[-1]:
        ax.set_xlabel(text["epoch"])
    fig.supylabel(text["accuracy"])
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.975))
    return fig


@register("normalization-lr-sweep", page="normalization/initialization")
def lr_sweep(lang: str = "ko"):
    """Validation accuracy after a fixed budget over learning rates, with and without BN."""
    text = labels(
        lang,
        ko={
            "none": "배치 정규화 없음",
            "before": "배치 정규화 있음",
            "lr": "학습률 (로그 축)",
            "accuracy": "검증 정확도",
        },
        en={
            "none": "without batch normalization",
            "before": "with batch normalization",
            "lr": "learning rate (log scale)",
            "accuracy": "validation accuracy",
        },
    )
    result = experiments.learning_rate_sweep()
    rates = result["learning_rates"]
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    for norm in ("none", "before"):
        accuracy = result[norm]["val_accuracy"]
        median = np.median(accuracy, axis=0)
        ax.errorbar(
            rates,
            median,
            yerr=[median - accuracy.min(axis=0), accuracy.max(axis=0) - median],
            color=COLORS[norm],
            marker="o",
            capsize=3,
            label=text[norm],
        )
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(text["lr"])
    ax.set_ylabel(text["accuracy"])
    # above the axes, outside the data
    ax.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    fig.tight_layout()
    return fig


# -- page "algorithm" -----------------------------------------------------------------------------


@register("normalization-sigmoid-linear", page="normalization/algorithm")
def sigmoid_linear(lang: str = "ko", gamma: float = 3.0, beta: float = 2.0):
    """Normalized inputs fall on the nearly linear middle of the sigmoid; γ and β move them."""
    text = labels(
        lang,
        ko={
            "sigmoid": "시그모이드 σ(z)",
            "tangent": "z = 0에서의 접선",
            "plain": "정규화된 입력 (γ=1, β=0)",
            "shifted": "γ={g:g}, β={b:g}로 옮긴 입력",
            "z": "시그모이드 입력 z",
            "density": "밀도",
            "x_hat": "정규화된 값 x̂",
            "output": "시그모이드 출력",
            "right_title": "다음 층이 받는 값",
        },
        en={
            "sigmoid": "sigmoid σ(z)",
            "tangent": "tangent at z = 0",
            "plain": "normalized inputs (γ=1, β=0)",
            "shifted": "inputs moved by γ={g:g}, β={b:g}",
            "z": "sigmoid input z",
            "density": "density",
            "x_hat": "normalized value x̂",
            "output": "sigmoid output",
            "right_title": "what the next layer\nreceives",
        },
    )
    x_hat = np.random.default_rng(0).standard_normal(5000)
    z = np.linspace(-8, 12, 400)
    fig, (ax, right) = plt.subplots(1, 2, figsize=(5.2, 3.7), width_ratios=(1.6, 1))
    ax.plot(z, 1 / (1 + np.exp(-z)), color=ink(), label=text["sigmoid"])
    ax.plot(z, 0.5 + z / 4, color="0.5", linestyle="--", label=text["tangent"])
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(text["z"])
    ax.set_ylabel("σ(z)")
    density = ax.twinx()
    bins = np.linspace(-8, 12, 81)
    density.hist(x_hat, bins, density=True, color="C0", alpha=0.4, label=text["plain"])
    density.hist(
        gamma * x_hat + beta,
        bins,
        density=True,
        color="C1",
        alpha=0.4,
        label=text["shifted"].format(g=gamma, b=beta),
    )
    density.set_ylabel(text["density"])
    density.set_ylim(0, 1.0)
    density.grid(False)
    density.spines["right"].set_visible(True)
    lines, names = ax.get_legend_handles_labels()
    bars, bar_names = density.get_legend_handles_labels()
    # below both panels, outside the curves and the axes' labels
    fig.legend(lines + bars, names + bar_names, frameon=False, loc="lower center", ncol=2)

    # what the next layer receives, as a function of the normalized value
    grid = np.linspace(-3, 3, 200)
    right.plot(grid, 1 / (1 + np.exp(-grid)), color="C0", label=text["plain"])
    right.plot(
        grid,
        1 / (1 + np.exp(-(gamma * grid + beta))),
        color="C1",
        label=text["shifted"].format(g=gamma, b=beta),
    )
    right.set_xlabel(text["x_hat"])
    right.set_ylabel(text["output"])
    right.set_title(text["right_title"], fontsize=10)
    fig.tight_layout(rect=(0, 0.17, 1, 1), w_pad=1.5)
    return fig


@register("normalization-bn-graph", page="normalization/algorithm")
def bn_graph(lang: str = "ko"):
    """The computational graph of batch normalization, forward left to right."""
    text = labels(
        lang,
        ko={"forward": "순전파 →", "backward": "← 역전파: 기울기가 거꾸로 흐름"},
        en={"forward": "forward →", "backward": "← backward: gradients flow back"},
    )
    nodes = {
        "x": (0.0, 1.0, "$x_i$"),
        "mu": (1.3, 2.0, r"$\mu = \frac{1}{m}\sum_i x_i$"),
        "xc": (2.7, 1.0, r"$c_i = x_i - \mu$"),
        "var": (4.5, 2.0, r"$\sigma^2 = \frac{1}{m}\sum_i c_i^2$"),
        "inv": (7.8, 2.0, r"$s = (\sigma^2+\epsilon)^{-1/2}$"),
        "xhat": (5.7, 1.0, r"$\hat x_i = c_i\, s$"),
        "y": (8.5, 1.0, r"$y_i = \gamma \hat x_i + \beta$"),
        "gb": (8.5, 0.1, r"$\gamma,\ \beta$"),
    }
    edges = [
        ("x", "mu"),
        ("x", "xc"),
        ("mu", "xc"),
        ("xc", "var"),
        ("var", "inv"),
        ("xc", "xhat"),
        ("inv", "xhat"),
        ("xhat", "y"),
        ("gb", "y"),
    ]
    fig, ax = plt.subplots(figsize=(5.2, 2.4))
    boxes = {}
    for name, (x, y, label) in nodes.items():
        boxes[name] = ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=12,
            color=ink(),
            bbox={
                "boxstyle": "round,pad=0.35",
                "facecolor": plt.rcParams["axes.facecolor"],
                "edgecolor": "C0",
            },
        )
    for start, end in edges:
        x0, y0, _ = nodes[start]
        x1, y1, _ = nodes[end]
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": "0.4",
                "linewidth": 1.2,
                "patchA": boxes[start].get_bbox_patch(),
                "patchB": boxes[end].get_bbox_patch(),
                "shrinkA": 2,
                "shrinkB": 2,
            },
        )
    ax.text(0.0, 2.55, text["forward"], fontsize=10, color="C0")
    ax.text(1.6, -0.35, text["backward"], fontsize=10, color="C3")
    ax.set_xlim(-0.6, 9.9)
    ax.set_ylim(-0.6, 2.8)
    ax.axis("off")
    fig.tight_layout()
    return fig


@register("normalization-placement", page="normalization/algorithm")
def placement(lang: str = "ko"):
    """BN before versus after the ReLU over five seeds: training loss and validation accuracy
    per epoch, mean and standard deviation over seeds."""
    text = labels(
        lang,
        ko={
            "before": "Linear → BN → ReLU (원 논문)",
            "after": "Linear → ReLU → BN",
            "none": "배치 정규화 없음",
            "epoch": "에포크",
            "loss": "학습 손실 (로그 축)",
            "accuracy": "검증 정확도",
        },
        en={
            "before": "Linear → BN → ReLU (original paper)",
            "after": "Linear → ReLU → BN",
            "none": "no batch normalization",
            "epoch": "epoch",
            "loss": "training loss (log scale)",
            "accuracy": "validation accuracy",
        },
    )
    result = experiments.placement_over_seeds()
    epochs = result["epoch"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(5.2, 3.6))
    for offset, norm in zip((-0.1, 0.1, 0.0), ("before", "after", "none"), strict=True):
        for ax, key in ((left, "train_loss"), (right, "val_accuracy")):
            values = result[norm][key]
            ax.errorbar(
                epochs + offset,
                values.mean(axis=0),
                yerr=values.std(axis=0),
                color=COLORS[norm],
                marker="o",
                markersize=4,
                capsize=3,
                label=text[norm],
            )
    left.set_yscale("log")
    left.set_ylabel(text["loss"])
    right.set_ylabel(text["accuracy"])
    for ax in (left, right):
        ax.set_xlabel(text["epoch"])
    # below both panels, outside the data and the axes' labels
    handles, names = left.get_legend_handles_labels()
    fig.legend(handles, names, frameon=False, loc="lower center", ncol=1)
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    return fig
