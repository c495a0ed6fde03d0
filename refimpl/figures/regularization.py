"""Figures of the chapter "Overfitting and regularization".

Each function draws one figure from an experiment in `refimpl.experiments.regularization` and
returns it; the pages show it with `refimpl.plotting.show`. Curves over seeds are drawn as the
mean with a band from the lowest to the highest seed.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from refimpl.experiments import regularization as experiments
from refimpl.figures import labels, register
from refimpl.plotting import ink, korean_math_labels

TRAIN_STYLE = {"linestyle": "-"}
TEST_STYLE = {"linestyle": "--"}


def _band(ax, x, rows, color, label=None, **style):
    """Mean of ``rows`` (seeds × points) as a line, min-max over seeds as a light band."""
    rows = np.asarray(rows)
    ax.plot(x, rows.mean(axis=0), color=color, label=label, **style)
    ax.fill_between(x, rows.min(axis=0), rows.max(axis=0), color=color, alpha=0.15, lw=0)


def _curves_and_gap(ax_acc, ax_gap, runs: dict, text: dict) -> None:
    """Train (solid) and test (dashed) accuracy per configuration, and their gap per epoch."""
    for index, (name, run) in enumerate(runs.items()):
        color = f"C{index}"
        epoch = run["epoch"]
        _band(
            ax_acc, epoch, run["train_accuracy"], color, f"{name}, {text['train']}", **TRAIN_STYLE
        )
        _band(ax_acc, epoch, run["test_accuracy"], color, f"{name}, {text['test']}", **TEST_STYLE)
        _band(ax_gap, epoch, run["train_accuracy"] - run["test_accuracy"], color, name)
    ax_acc.set_xlabel(text["epoch"])
    ax_acc.set_ylabel(text["accuracy"])
    ax_acc.set_ylim(0.0, 1.02)
    ax_gap.set_xlabel(text["epoch"])
    ax_gap.set_ylabel(text["gap"])
    ax_gap.axhline(0.0, color="0.5", lw=0.8)
    # one legend for both panels, below them, so that it covers no curve
    handles, names = ax_acc.get_legend_handles_labels()
    ax_acc.figure.legend(
        handles,
        names,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(len(runs), 3),
        frameon=False,
    )


CURVE_TEXT = {
    "ko": {
        "train": "학습",
        "test": "테스트",
        "epoch": "에포크",
        "accuracy": "정확도",
        "gap": "격차 (학습 − 테스트 정확도)",
    },
    "en": {
        "train": "train",
        "test": "test",
        "epoch": "epoch",
        "accuracy": "accuracy",
        "gap": "gap (train − test accuracy)",
    },
}


# -- page "overfitting" ---------------------------------------------------------------------------


@register("regularization-overfitting-curves", page="regularization/overfitting")
def overfitting_curves(lang: str = "ko"):
    """Train and test accuracy per epoch of the six-layer MLP on 300 images; the gap labelled."""
    text = labels(
        lang,
        ko={
            "train": "학습 데이터 정확도",
            "test": "테스트 데이터 정확도",
            "epoch": "에포크",
            "accuracy": "정확도",
            "gap": "격차 {gap:.3f}",
        },
        en={
            "train": "training accuracy",
            "test": "test accuracy",
            "epoch": "epoch",
            "accuracy": "accuracy",
            "gap": "gap {gap:.3f}",
        },
    )
    run = experiments.overfitting_runs()
    epoch = run["epoch"]
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    _band(ax, epoch, run["train_accuracy"], "C0", text["train"], **TRAIN_STYLE)
    _band(ax, epoch, run["test_accuracy"], "C1", text["test"], **TEST_STYLE)
    train_end = run["train_accuracy"][:, -1].mean()
    test_end = run["test_accuracy"][:, -1].mean()
    x = epoch[-1]
    ax.annotate(
        "",
        xy=(x, test_end),
        xytext=(x, train_end),
        arrowprops={"arrowstyle": "<->", "color": "C3", "lw": 1.5},
    )
    ax.text(
        x - 2,
        (train_end + test_end) / 2,
        text["gap"].format(gap=train_end - test_end),
        color="C3",
        ha="right",
        va="center",
    )
    ax.set_xlabel(text["epoch"])
    ax.set_ylabel(text["accuracy"])
    ax.set_ylim(0.0, 1.02)
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


# -- page "weight-decay" --------------------------------------------------------------------------


@register("regularization-weight-decay-curves", page="regularization/weight-decay")
def weight_decay_curves(lang: str = "ko"):
    """The overfitting run with λ = 0 and λ = 0.1: accuracy curves and the gap per epoch."""
    text = labels(lang, ko=CURVE_TEXT["ko"], en=CURVE_TEXT["en"])
    runs = {f"λ = {wd:g}": experiments.overfitting_runs(weight_decay=wd) for wd in (0.0, 0.1)}
    fig, (ax_acc, ax_gap) = plt.subplots(1, 2, figsize=(5.2, 3))
    _curves_and_gap(ax_acc, ax_gap, runs, text)
    fig.tight_layout()
    return fig


@register("regularization-weight-decay-sweep", page="regularization/weight-decay")
def weight_decay_sweep(lang: str = "ko"):
    """Final train and test accuracy, their gap, and the weight norm over a range of λ."""
    text = labels(
        lang,
        ko={
            "train": "학습 정확도",
            "test": "테스트 정확도",
            "gap": "격차\n(학습 − 테스트 정확도)",
            "lambda": "가중치 감소 λ",
            "accuracy": "정확도\n(100 에포크 뒤)",
            "norm": "가중치 노름 ‖W‖",
        },
        en={
            "train": "training accuracy",
            "test": "test accuracy",
            "gap": "gap\n(train − test accuracy)",
            "lambda": "weight decay λ",
            "accuracy": "accuracy\n(after 100 epochs)",
            "norm": "weight norm ‖W‖",
        },
    )
    sweep = experiments.decay_sweep()
    x = np.arange(len(sweep["weight_decay"]))
    ticks = [f"{wd:g}" for wd in sweep["weight_decay"]]
    fig, (ax, ax_gap, ax_norm) = plt.subplots(3, 1, figsize=(5.2, 6.4), sharex=True)
    panels = (
        (ax, "train_accuracy", "C0", "o", text["train"]),
        (ax, "test_accuracy", "C1", "s", text["test"]),
        (ax_gap, "gap", "C3", "^", text["gap"]),
        (ax_norm, "weight_norm", "C2", "o", text["norm"]),
    )
    for axis, key, color, marker, label in panels:
        values = sweep[key]
        axis.errorbar(
            x,
            values.mean(axis=1),
            yerr=values.std(axis=1),
            color=color,
            marker=marker,
            capsize=3,
            label=label,
        )
    ax.set_ylabel(text["accuracy"])
    ax.legend(frameon=False, loc="lower left")
    ax_gap.set_ylabel(text["gap"])
    ax_gap.set_ylim(0, None)
    ax_norm.set_ylabel(text["norm"])
    ax_norm.set_ylim(0, None)
    ax_norm.set_xticks(x, ticks)
    ax_norm.set_xlabel(text["lambda"])
    fig.align_ylabels()
    fig.tight_layout()
    return fig


@register("regularization-adam-l2-vs-adamw", page="regularization/weight-decay")
def adam_l2_vs_adamw(lang: str = "ko"):
    """What is left of weights after decay under Adam with L2 and under AdamW, by gradient size."""
    text = labels(
        lang,
        ko={
            "adam": "Adam + L2 (weight_decay)",
            "adamw": "AdamW",
            "pure": "감소만 있을 때 (1 − ηλ)ᵀ",
            "scale": "손실 기울기의 크기 s (로그 축)",
            "left": r"남은 가중치 $|\theta_T|$ (처음 1)",
        },
        en={
            "adam": "Adam + L2 (weight_decay)",
            "adamw": "AdamW",
            "pure": "decay alone, (1 − ηλ)ᵀ",
            "scale": "size s of the loss gradient (log axis)",
            "left": r"weight left, $|\theta_T|$ (starts at 1)",
        },
    )
    result = experiments.adam_l2_vs_adamw()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.plot(result["scale"], result["adam_l2"], "o-", color="C0", label=text["adam"])
    ax.plot(result["scale"], result["adamw"], "s-", color="C1", label=text["adamw"])
    ax.axhline(result["pure_decay"], color="0.4", linestyle=":", label=text["pure"])
    ax.set_xscale("log")
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel(text["scale"])
    ax.set_ylabel(text["left"])
    ax.legend(frameon=False, loc="upper left")  # above the flat curves, left of the rising one
    korean_math_labels(fig)
    fig.tight_layout()
    return fig


BN_DECAY = 0.05
BN_SEEDS = (0, 1, 2)


@register("regularization-bn-weight-norm", page="regularization/weight-decay")
def bn_weight_norm(lang: str = "ko"):
    """‖W‖ of the weights in front of BatchNorm over training, and η/‖w_c‖², with/without decay."""
    text = labels(
        lang,
        ko={
            "step": "스텝",
            "norm": "‖W‖ (BN 앞 층, 로그 축)",
            "lr": r"유효 학습률 $\eta/\Vert w_c\Vert^2$, 행 평균 (로그 축)",
            "decay": "λ = {wd:g}",
            "pure": "(1 − ηλ)ᵗ ‖W₀‖",
        },
        en={
            "step": "step",
            "norm": "‖W‖ (layers before BN, log axis)",
            "lr": r"effective learning rate $\eta/\Vert w_c\Vert^2$, row mean (log axis)",
            "decay": "λ = {wd:g}",
            "pure": "(1 − ηλ)ᵗ ‖W₀‖",
        },
    )
    fig, (ax_norm, ax_lr) = plt.subplots(1, 2, figsize=(5.2, 2.9))
    for index, wd in enumerate((0.0, BN_DECAY)):
        runs = [experiments.bn_weight_norm(seed, wd) for seed in BN_SEEDS]
        step = runs[0]["step"]
        # every seed and every layer is one row
        norm = np.concatenate([run["norm"] for run in runs])
        lr = np.concatenate([run["effective_lr"] for run in runs])
        label = text["decay"].format(wd=wd)
        _band(ax_norm, step, norm, f"C{index}", label)
        _band(ax_lr, step, lr, f"C{index}", label)
        if wd > 0:
            start = norm[:, 0].mean()
            ax_norm.plot(
                step,
                start * (1 - runs[0]["lr"] * wd) ** step,
                color="0.4",
                linestyle=":",
                label=text["pure"],
            )
    for ax, key in ((ax_norm, "norm"), (ax_lr, "lr")):
        ax.set_yscale("log")
        ax.set_xlabel(text["step"])
        ax.set_ylabel(text[key])
        ax.legend(frameon=False)
    korean_math_labels(fig)
    fig.tight_layout()
    return fig


# -- page "dropout" -------------------------------------------------------------------------------


DROPOUT_RATES = (0.0, 0.1, 0.2)


@register("regularization-dropout-curves", page="regularization/dropout")
def dropout_curves(lang: str = "ko"):
    """The overfitting run with dropout p = 0, 0.1, 0.2: accuracy curves and the gap per epoch."""
    text = labels(lang, ko=CURVE_TEXT["ko"], en=CURVE_TEXT["en"])
    runs = {f"p = {p:g}": experiments.overfitting_runs(dropout=p) for p in DROPOUT_RATES}
    fig, (ax_acc, ax_gap) = plt.subplots(1, 2, figsize=(5.2, 3))
    _curves_and_gap(ax_acc, ax_gap, runs, text)
    fig.tight_layout()
    return fig


@register("regularization-mc-dropout", page="regularization/dropout")
def mc_dropout(lang: str = "ko"):
    """Test accuracy of Monte Carlo dropout against the number of masks K, and weight scaling."""
    text = labels(
        lang,
        ko={
            "mc": "MC 드롭아웃 (마스크 K개의 평균)",
            "ws": "가중치 스케일링 (평가 모드)",
            "k": "마스크 수 K (로그 축)",
            "accuracy": "테스트 정확도",
        },
        en={
            "mc": "MC dropout (mean over K masks)",
            "ws": "weight scaling (eval mode)",
            "k": "number of masks K (log axis)",
            "accuracy": "test accuracy",
        },
    )
    runs = [experiments.mc_dropout(seed) for seed in experiments.SEEDS]
    k = runs[0]["k"]
    # one row per seed: the mean over that seed's repeats
    mc = np.stack([run["mc_accuracy"].mean(axis=0) for run in runs])
    ws = np.array([run["weight_scaling_accuracy"] for run in runs])
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    _band(ax, k, mc, "C0", text["mc"])
    ax.axhline(ws.mean(), color="C1", linestyle="--", label=text["ws"])
    ax.axhspan(ws.min(), ws.max(), color="C1", alpha=0.12, lw=0)
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 2, 4, 8, 16, 32, 64], ["1", "2", "4", "8", "16", "32", "64"])
    ax.set_xlabel(text["k"])
    ax.set_ylabel(text["accuracy"])
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


VARIANCE_SHIFT_CASES = (("before", 0.2), ("before", 0.5), ("after", 0.5))
VARIANCE_SHIFT_SEEDS = (0, 1, 2)


@register("regularization-variance-shift", page="regularization/dropout")
def variance_shift(lang: str = "ko"):
    """Running variance over test-time variance of every BatchNorm's input, per placement."""
    text = labels(
        lang,
        ko={
            "before": "드롭아웃 → BN (p = {p:g})",
            "after": "마지막 BN 뒤에만 드롭아웃 (p = {p:g})",
            "layer": "BN 층 (입력 쪽부터)",
            "ratio": "σ²(running) / σ²(테스트) (로그 축)",
        },
        en={
            "before": "dropout → BN (p = {p:g})",
            "after": "dropout only after the last BN (p = {p:g})",
            "layer": "BN layer (from the input)",
            "ratio": "σ²(running) / σ²(test) (log axis)",
        },
    )
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    width = 0.26
    for index, (placement, p) in enumerate(VARIANCE_SHIFT_CASES):
        ratios = np.stack(
            [
                experiments.variance_shift(seed, placement, dropout=p)["ratio"]
                for seed in VARIANCE_SHIFT_SEEDS
            ]
        )
        layers = np.arange(1, ratios.shape[1] + 1)
        mean = ratios.mean(axis=0)
        ax.bar(
            layers + (index - 1) * width,
            mean,
            width,
            yerr=[mean - ratios.min(axis=0), ratios.max(axis=0) - mean],
            capsize=2,
            ecolor=ink(),
            color=f"C{index}",
            label=text[placement].format(p=p),
        )
    ax.axhline(1.0, color="0.4", lw=1)
    ax.set_yscale("log")
    ax.set_xticks(layers)
    ax.set_xlabel(text["layer"])
    ax.set_ylabel(text["ratio"])
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


# -- page "ensembles" -----------------------------------------------------------------------------


@register("regularization-ensemble", page="regularization/ensembles")
def ensemble(lang: str = "ko"):
    """Ensemble accuracy against K, the single networks, and K masks of one dropout network."""
    text = labels(
        lang,
        ko={
            "ensemble": "독립 신경망 K개의 앙상블",
            "single": "신경망 하나씩",
            "mc": "드롭아웃 신경망 하나, 마스크 K개 (p = 0.1)",
            "ws": "드롭아웃 신경망, 평가 모드",
            "k": "평균한 예측의 수 K",
            "accuracy": "테스트 정확도",
        },
        en={
            "ensemble": "ensemble of K independent networks",
            "single": "single networks",
            "mc": "one dropout network, K masks (p = 0.1)",
            "ws": "dropout network, eval mode",
            "k": "number of averaged predictions K",
            "accuracy": "test accuracy",
        },
    )
    result = experiments.ensemble_accuracy()
    k = result["k"]
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    _band(ax, k, result["accuracy"], "C0", text["ensemble"])
    ax.plot(
        np.ones_like(result["single"]),
        result["single"],
        "o",
        color="C0",
        alpha=0.5,
        markersize=4,
        label=text["single"],
    )
    runs = [experiments.mc_dropout(seed) for seed in experiments.SEEDS]
    mc = np.stack([run["mc_accuracy"].mean(axis=0)[: len(k)] for run in runs])
    _band(ax, k, mc, "C1", text["mc"], linestyle="--")
    ws = np.mean([run["weight_scaling_accuracy"] for run in runs])
    ax.axhline(ws, color="C1", linestyle=":", label=text["ws"])
    ax.set_xticks(k)
    ax.set_xlabel(text["k"])
    ax.set_ylabel(text["accuracy"])
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    return fig
