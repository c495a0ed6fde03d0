"""Figures of the chapter "Training vs inference, limits and alternatives".

Each function draws one figure from an experiment in `refimpl.experiments.inference` and returns
it; the pages show it with `refimpl.plotting.show`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Polygon

from refimpl.experiments import inference as experiments
from refimpl.figures import labels, register
from refimpl.plotting import ink, korean_math_labels

# one colour per normalization on every figure of the chapter (matplotlib's default cycle)
COLORS = {"bn": "C0", "ln": "C1", "gn": "C2", "wn": "C3", "selu": "C4", "none": "C7"}


def _spread(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median over the last axis and the distance to the min and max, for ``errorbar``."""
    median = np.median(values, axis=-1)
    return median, np.stack([median - values.min(axis=-1), values.max(axis=-1) - median])


# -- page "train-vs-eval" -----------------------------------------------------------------------


@register("inference-running-average", page="inference/train-vs-eval")
def running_average(lang: str = "ko"):
    """Running mean of PyTorch's update for several momenta: how much of the data's mean it holds
    after T updates (with the curve 1 − (1 − α)^T, α the momentum), and how far it is from the
    data's mean."""
    text = labels(
        lang,
        ko={
            "left": "이동 평균이 데이터 평균에 다가가는 속도",
            "right": "이동 평균의 오차 (특성 {f}개의 RMS)",
            "steps": "갱신 횟수 T",
            "fraction": "running_mean / 데이터 평균",
            "error": "|running_mean − μ| / σ",
            "theory": r"$1 - (1 - \alpha)^T$, $\alpha$ = 모멘텀",
            "cumulative": "momentum=None (누적 평균)",
        },
        en={
            "left": "How fast the running mean reaches the data's mean",
            "right": "Error of the running mean (RMS over {f} features)",
            "steps": "number of updates T",
            "fraction": "running_mean / data mean",
            "error": "|running_mean − μ| / σ",
            "theory": r"$1 - (1 - \alpha)^T$, $\alpha$ = momentum",
            "cumulative": "momentum=None (cumulative)",
        },
    )
    result = experiments.running_average_traces()
    steps = result["steps"]
    fig, (left, right) = plt.subplots(2, 1, figsize=(5.2, 5.7), sharex=True)
    for index, label in enumerate(result["momenta"]):
        trace = result[label]
        name = text["cumulative"] if label == "None" else f"momentum={label}"
        color = f"C{index}"
        left.plot(steps, trace["mean_fraction"], color=color, linewidth=1.2, label=name)
        right.plot(steps, trace["mean_error"], color=color, linewidth=1.2, label=name)
        if label != "None":
            theory = experiments.ema_weight(float(label), steps)
            left.plot(steps, theory, "--", color=ink(), linewidth=0.8, alpha=0.7)
    left.plot([], [], "--", color=ink(), linewidth=0.8, label=text["theory"])
    left.set_xscale("log")
    left.set_ylim(-0.05, 1.25)
    left.set_title(text["left"])
    left.set_ylabel(text["fraction"])
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_title(text["right"].format(f=result["num_features"]))
    right.set_xlabel(text["steps"])
    right.set_ylabel(text["error"])
    korean_math_labels(fig)
    fig.tight_layout()
    # below both panels, where it covers no curve
    handles, names = left.get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False)
    return fig


# -- page "limits" ------------------------------------------------------------------------------


@register("inference-batch-noise", page="inference/limits")
def batch_noise(lang: str = "ko"):
    """Error of one batch's mean and variance against the batch size, on digits pre-activations,
    with the standard error of the mean."""
    text = labels(
        lang,
        ko={
            "title": "미니배치 통계의 잡음 (손글씨 숫자 데이터의 활성화 전 값)",
            "size": "배치 크기 B",
            "error": "전체 학습 데이터 통계와의 차이 (RMS)",
            "mean": r"평균: $|\mu_B - \mu| / \sigma$",
            "var": r"분산: $|\sigma_B^2 - \sigma^2| / \sigma^2$",
            "theory": "평균의 표준오차 √((n−B)/(B(n−1)))",
        },
        en={
            "title": "Noise of mini-batch statistics (digits pre-activations)",
            "size": "batch size B",
            "error": "difference from the training-set statistic (RMS)",
            "mean": r"mean: $|\mu_B - \mu| / \sigma$",
            "var": r"variance: $|\sigma_B^2 - \sigma^2| / \sigma^2$",
            "theory": "standard error of the mean √((n−B)/(B(n−1)))",
        },
    )
    result = experiments.batch_statistics_noise()
    sizes = result["batch_sizes"]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    ax.plot(sizes, result["mean_noise"], "o-", color="C0", label=text["mean"])
    ax.plot(sizes, result["var_noise"], "s-", color="C1", label=text["var"])
    ax.plot(sizes, result["mean_theory"], "--", color=ink(), linewidth=0.9, label=text["theory"])
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel(text["size"])
    ax.set_ylabel(text["error"])
    ax.set_title(text["title"])
    ax.legend(frameon=False)
    korean_math_labels(fig)
    fig.tight_layout()
    return fig


@register("inference-batch-size-accuracy", page="inference/limits")
def batch_size_accuracy(lang: str = "ko"):
    """Test accuracy of BN, GroupNorm and LayerNorm MLPs on digits against the batch size
    (median and range over seeds)."""
    text = labels(
        lang,
        ko={
            "title": "배치 크기에 따른 테스트 정확도 (시드 {s}개의 중앙값과 범위)",
            "size": "배치 크기 B",
            "accuracy": "테스트 정확도",
        },
        en={
            "title": "Test accuracy against batch size (median and range of {s} seeds)",
            "size": "batch size B",
            "accuracy": "test accuracy",
        },
    )
    result = experiments.batch_size_sweep()
    sizes = result["batch_sizes"]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for offset, method in zip((-0.06, 0.0, 0.06), result["methods"], strict=True):
        median, spread = _spread(result[method])
        ax.errorbar(
            sizes * 2**offset,
            median,
            yerr=spread,
            fmt="o-",
            capsize=3,
            color=COLORS[method],
            label=experiments.METHODS[method],
        )
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel(text["size"])
    ax.set_ylabel(text["accuracy"])
    ax.set_title(text["title"].format(s=len(result["seeds"])))
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


@register("inference-finetune", page="inference/limits")
def finetune(lang: str = "ko"):
    """Test accuracy after training a new head on a frozen BN backbone, with BN in training mode
    (batch statistics) or in eval mode (frozen running statistics), per fine-tuning batch size."""
    text = labels(
        lang,
        ko={
            "title": "고정한 백본 위에 새 출력층을 미세 조정했을 때\n(숫자 5–9, 이미지 100장)",
            "batch": "BN 학습 모드 (배치 통계, 이동 통계 갱신)",
            "frozen": "BN 평가 모드 (이동 통계 고정)",
            "size": "미세 조정 배치 크기",
            "accuracy": "테스트 정확도 (세로축은 0.5부터)",
            "seed": "점: 시드 하나",
        },
        en={
            "title": "Fine-tuning a new head on a frozen backbone\n(digits 5–9, 100 images)",
            "batch": "BN in training mode\n(batch statistics, running statistics updated)",
            "frozen": "BN in eval mode (running statistics frozen)",
            "size": "fine-tuning batch size",
            "accuracy": "test accuracy (axis starts at 0.5)",
            "seed": "dots: one seed each",
        },
    )
    result = experiments.finetune_comparison()
    sizes = result["batch_sizes"]
    positions = np.arange(len(sizes))
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    for offset, variant, color in ((-0.18, "batch", "C1"), (0.18, "frozen", "C0")):
        values = result[variant]
        ax.bar(
            positions + offset,
            np.median(values, axis=1),
            width=0.34,
            color=color,
            alpha=0.5,
            label=text[variant],
        )
        for k in range(len(sizes)):
            ax.plot(
                np.full(values.shape[1], positions[k] + offset),
                values[k],
                "o",
                color=color,
                markersize=4,
            )
    ax.set_xticks(positions, [f"B = {s}" for s in sizes])
    ax.set_xlabel(text["size"])
    ax.set_ylabel(text["accuracy"])
    ax.set_ylim(0.5, 1.0)
    ax.set_title(text["title"], fontsize=10)
    # below the axes, outside the bars and the dots
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, frameon=False, loc="lower center", title=text["seed"])
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    return fig


# -- page "alternatives" ------------------------------------------------------------------------


def _draw_block(ax, mask: np.ndarray, color: str) -> None:
    """Draw an ``(N, C, L)`` block as a cube in oblique projection; shade the cells of ``mask``.

    The front face shows sample 0 (channels across, positions down), the top face the first
    position of every sample, the right face the last channel of every sample. Samples go back
    and to the right.
    """
    N, C, L = mask.shape
    depth = np.array([0.45, 0.35])  # one sample step back, in (x, y)
    right, up = np.array([1.0, 0.0]), np.array([0.0, 1.0])

    def cell(corners, shaded):
        face = "0.55" if not shaded else color
        alpha = 0.25 if not shaded else 0.85
        ax.add_patch(
            Polygon(
                corners, closed=True, facecolor=face, alpha=alpha, edgecolor=ink(), linewidth=0.6
            )
        )

    # front face: sample 0, channel c across (x), position l downward (y)
    for c in range(C):
        for l in range(L):
            x, y = c, L - 1 - l
            cell([(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1)], mask[0, c, l])
    # top face: position 0, channel c across, sample n going back
    for n in range(N):
        for c in range(C):
            base = np.array([c, L]) + n * depth
            corners = [base, base + right, base + right + depth, base + depth]
            cell(corners, mask[n, c, 0])
    # right face: channel C−1, sample n going back, position l downward
    for n in range(N):
        for l in range(L):
            base = np.array([C, L - 1 - l]) + n * depth
            corners = [base, base + depth, base + depth + up, base + up]
            cell(corners, mask[n, C - 1, l])
    ax.set_xlim(-1.2, C + N * depth[0] + 0.6)
    ax.set_ylim(-1.0, L + N * depth[1] + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    # axis names: C along the front's bottom, H×W along its left side, N along the depth
    ax.annotate("C", (C / 2, -0.55), ha="center", va="center", fontsize=11)
    ax.annotate("H×W", (-0.35, L / 2), ha="right", va="center", fontsize=11)
    ax.annotate(
        "N",
        tuple(np.array([C, 0]) + N * depth / 2 + [0.45, -0.15]),
        ha="left",
        va="center",
        fontsize=11,
    )


@register("inference-norm-axes", page="inference/alternatives")
def norm_axes(lang: str = "ko"):
    """Which values of an (N, C, H×W) block share one mean and variance under batch, layer,
    instance and group normalization (the shaded cells, for one value)."""
    text = labels(
        lang,
        ko={
            "batch": "배치 정규화 (BatchNorm)",
            "layer": "층 정규화 (LayerNorm)",
            "instance": "인스턴스 정규화 (InstanceNorm)",
            "group": "그룹 정규화 (GroupNorm, 그룹 {g}개)",
            "note": "색칠한 칸: 샘플 0, 채널 1의 값과 같은 평균·분산으로 정규화되는 값",
        },
        en={
            "batch": "Batch norm (BatchNorm)",
            "layer": "Layer norm (LayerNorm)",
            "instance": "Instance norm\n(InstanceNorm)",
            "group": "Group norm\n(GroupNorm, {g} groups)",
            "note": ("Shaded: normalized with the same mean and variance\nas sample 0, channel 1"),
        },
    )
    shape, groups = (4, 6, 5), 2
    fig, axes = plt.subplots(2, 2, figsize=(5.2, 5.5))
    kinds = (("batch", "C0"), ("layer", "C1"), ("instance", "C4"), ("group", "C2"))
    for ax, (kind, color) in zip(axes.flat, kinds, strict=True):
        mask = experiments.shared_statistics_mask(kind, shape, n=0, c=1, num_groups=groups)
        _draw_block(ax, mask, color)
        ax.set_title(text[kind].format(g=groups), fontsize=11)
    fig.suptitle(text["note"], fontsize=10, y=0.02, va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


@register("inference-comparison", page="inference/alternatives")
def comparison(lang: str = "ko"):
    """Test accuracy of every normalization at a small and a large batch size (median and range
    over seeds)."""
    text = labels(
        lang,
        ko={
            "title": "정규화 방법 비교: 테스트 정확도\n(시드 {s}개의 중앙값과 범위)",
            "size": "배치 크기 {b}",
            "accuracy": "테스트 정확도 (세로축은 0.6부터)",
            "none": "정규화 없음",
            "wn": "WeightNorm + 평균만 빼는 BN",
        },
        en={
            "title": "Normalizations compared: test accuracy\n(median and range of {s} seeds)",
            "size": "batch size {b}",
            "accuracy": "test accuracy (axis starts at 0.6)",
            "none": "no normalization",
            "wn": "WeightNorm + mean-only BN",
        },
    )
    result = experiments.normalizer_comparison()
    methods, sizes = result["methods"], result["batch_sizes"]
    positions = np.arange(len(methods))
    # horizontal bars, one method per row: the methods' names fit on a phone
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    width = 0.38
    for k, (size, color) in enumerate(zip(sizes, ("C1", "C0"), strict=True)):
        values = np.array([result[m][k] for m in methods])
        median, spread = _spread(values)
        offset = (k - 0.5) * width
        ax.barh(
            positions + offset,
            median,
            height=width,
            color=color,
            alpha=0.6,
            label=text["size"].format(b=size),
        )
        ax.errorbar(
            median,
            positions + offset,
            xerr=spread,
            fmt="none",
            ecolor=ink(),
            capsize=3,
            linewidth=1,
        )
    names = [text[m] if m in ("none", "wn") else experiments.METHODS[m] for m in methods]
    names = [name.replace(" + ", "\n+ ") for name in names]
    ax.set_yticks(positions, names)
    ax.invert_yaxis()  # the first method on top
    ax.set_xlim(0.6, 1.0)
    ax.set_xlabel(text["accuracy"])
    ax.set_title(text["title"].format(s=len(result["seeds"])), fontsize=10)
    handles, labels_ = ax.get_legend_handles_labels()
    fig.legend(handles, labels_, frameon=False, loc="lower center", ncol=2)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
