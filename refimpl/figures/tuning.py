"""Figures of the chapter "Hyperparameter search" (``docs/tuning/``).

Each function draws one figure from an experiment in `refimpl.experiments.tuning` and returns
it; the pages show it with `refimpl.plotting.show`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from refimpl.experiments import tuning as experiments
from refimpl.figures import labels, register

# one colour per searcher on every figure of the chapter (matplotlib's default cycle)
COLORS = {
    "grid": "C7",
    "random": "C0",
    "successive_halving": "C1",
    "hyperband": "C2",
    "tpe": "C3",
}
METHOD_NAMES = {
    "ko": {
        "grid": "격자 탐색",
        "random": "무작위 탐색",
        "successive_halving": "연속 반감",
        "hyperband": "Hyperband",
        "tpe": "TPE + 중앙값 가지치기",
    },
    "en": {
        "grid": "grid search",
        "random": "random search",
        "successive_halving": "successive halving",
        "hyperband": "Hyperband",
        "tpe": "TPE + median pruner",
    },
}


def anytime_medians(runs: list[dict], epochs: np.ndarray) -> np.ndarray:
    """Best validation accuracy reached within each budget of ``epochs``, one row per seed.

    Returns
    -------
    ndarray, shape (len(runs), len(epochs))
        NaN before a run's first evaluation; a run's last value after it stopped.
    """
    rows = []
    for run in runs:
        index = np.searchsorted(run["epochs"], epochs, side="right") - 1
        rows.append(np.where(index >= 0, run["best"][np.maximum(index, 0)], np.nan))
    return np.array(rows)


# -- page "validation" ------------------------------------------------------------------------


@register("tuning-selection-bias", page="tuning/validation")
def selection_bias(lang: str = "ko"):
    """Mean excess of the best of K validation scores over the true accuracy, against K."""
    text = labels(
        lang,
        ko={
            "title": "모든 모델의 실제 정확도가 {p:.1f}일 때, K개 중 최고 검증 점수의 편향",
            "x": "비교한 모델 수 K",
            "y": "최고 검증 정확도 − 실제 정확도 (%p)",
            "n": "검증 이미지 {n}장",
        },
        en={
            "title": "Bias of the best of K validation scores, every model being {p:.1f} accurate",
            "x": "number of models compared, K",
            "y": "best validation accuracy − true (points)",
            "n": "{n} validation images",
        },
    )
    result = experiments.best_of_k_bias()
    k = result["k"]
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for color, n in zip(("C0", "C1", "C2"), result["val_sizes"], strict=True):
        ax.plot(k, 100 * result["mean"][n], color=color, label=text["n"].format(n=n))
        ax.fill_between(
            k, 100 * result["q10"][n], 100 * result["q90"][n], color=color, alpha=0.15, lw=0
        )
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(text["x"])
    ax.set_ylabel(text["y"])
    ax.set_title(text["title"].format(p=result["true_accuracy"]), fontsize=10)
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


# -- page "random-search" ---------------------------------------------------------------------


@register("tuning-grid-vs-random", page="tuning/random-search")
def grid_vs_random(lang: str = "ko"):
    """Nine grid points and nine random points on a function of x only (Bergstra & Bengio)."""
    text = labels(
        lang,
        ko={
            "grid": "격자 3 × 3",
            "random": "무작위 9개",
            "x": "중요한 하이퍼파라미터 x",
            "y": "중요하지 않은 y",
            "g": "f",
            "best": "찾은 최고값 {v:.2f}, 서로 다른 x {n}개",
        },
        en={
            "grid": "grid 3 × 3",
            "random": "9 random points",
            "x": "important hyperparameter x",
            "y": "unimportant y",
            "g": "f",
            "best": "best found {v:.2f}, {n} distinct x",
        },
    )
    result = experiments.grid_vs_random()
    typical = result["typical"]  # the draw with the median advantage of random search
    centre = result["centres"][typical]
    layouts = {"grid": result["grid_points"], "random": result["random_points"][typical]}
    xs = np.linspace(0, 1, 400)
    fig, axes = plt.subplots(
        2, 2, figsize=(5.2, 4), sharex=True, gridspec_kw={"height_ratios": [1, 2.2]}
    )
    for column, (name, points) in enumerate(layouts.items()):
        top, main = axes[0, column], axes[1, column]
        values = experiments.peak(points[:, 0], centre, result["width"])
        top.plot(xs, experiments.peak(xs, centre, result["width"]), color="0.5", lw=1)
        top.plot(points[:, 0], values, "o", color="C0" if name == "grid" else "C1", ms=5)
        top.set_title(
            text[name] + "\n" + text["best"].format(v=values.max(), n=len(np.unique(points[:, 0]))),
            fontsize=10,
        )
        top.set_ylabel(text["g"])
        top.set_ylim(-0.05, 1.1)
        main.plot(points[:, 0], points[:, 1], "o", color="C0" if name == "grid" else "C1", ms=7)
        for x in points[:, 0]:
            main.axvline(x, color="0.75", lw=0.6, zorder=0)
        main.set_xlim(0, 1)
        main.set_ylim(0, 1)
        main.set_xlabel(text["x"])
        main.set_ylabel(text["y"])
    fig.tight_layout()
    return fig


@register("tuning-log-scale", page="tuning/random-search")
def log_scale(lang: str = "ko"):
    """Histograms on a log axis: uniform on [1e-4, 1], log-uniform, and the wrong formula."""
    text = labels(
        lang,
        ko={"x": "뽑힌 값 (로그 축)", "y": "비율", "share": "10⁻⁴~10⁻³ 구간: {v:.1%}"},
        en={"x": "value drawn (log axis)", "y": "fraction", "share": "in 10⁻⁴–10⁻³: {v:.1%}"},
    )
    samples = experiments.log_scale_samples()
    titles = {
        "uniform": "rng.uniform(1e-4, 1)",
        "log_uniform": "10 ** rng.uniform(-4, 0)",
        "wrong": "10 ** rng.uniform(1e-4, 1)",
    }
    bins = np.logspace(-4, 1, 51)
    fig, axes = plt.subplots(3, 1, figsize=(5.2, 6.2), sharex=True)
    for ax, (name, title), color in zip(axes, titles.items(), ("C0", "C2", "C3"), strict=True):
        x = samples[name]
        ax.hist(x, bins=bins, weights=np.full(len(x), 1 / len(x)), color=color)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.35)  # headroom: the note stays above the bars
        ax.set_xscale("log")
        ax.set_xlim(1e-4, 10)
        ax.set_title(title, family="monospace")
        ax.set_ylabel(text["y"])
        share = experiments.decade_shares(x)[0]
        ax.text(0.03, 0.95, text["share"].format(v=share), transform=ax.transAxes, va="top")
    axes[-1].set_xlabel(text["x"])
    fig.tight_layout()
    return fig


@register("tuning-random-search-curves", page="tuning/random-search")
def random_search_curves(lang: str = "ko"):
    """Training and validation accuracy of the 20 best trials of the first round."""
    text = labels(
        lang,
        ko={"val": "검증", "train": "학습", "x": "에포크", "y": "정확도", "rank": "{r}위"},
        en={
            "val": "validation",
            "train": "training",
            "x": "epoch",
            "y": "accuracy",
            "rank": "#{r}",
        },
    )
    trials = [t for t in experiments.scratch_search()["trials"] if t["round"] == 0]
    best = sorted(trials, key=lambda t: -t["val_accuracy"])[:20]
    # three columns (the 21st cell holds the legend): titles stay apart and readable on a phone
    fig, axes = plt.subplots(7, 3, figsize=(5.2, 10.0), sharex=True, sharey=True)
    for rank, (ax, trial) in enumerate(zip(axes.flat[: len(best)], best, strict=True), start=1):
        epochs = np.arange(1, len(trial["val_curve"]) + 1)
        ax.plot(epochs, trial["val_curve"], color="C0", label=text["val"])
        ax.plot(epochs, trial["train_curve"], "--", color="C1", label=text["train"])
        ax.set_title(
            f"{text['rank'].format(r=rank)}  lr={trial['lr']:.0e}\nwd={trial['weight_decay']:.0e}",
            fontsize=10,
        )
        ax.set_ylim(0, 1)
    # the empty last cell: the legend instead of a panel; the panel above it shows its epochs
    handles, names = axes[0, 0].get_legend_handles_labels()
    axes[-1, -1].axis("off")
    axes[-1, -1].legend(handles, names, frameon=False, loc="center")
    axes[-2, -1].xaxis.set_tick_params(labelbottom=True)
    fig.supxlabel(text["x"])
    fig.supylabel(text["y"])
    fig.tight_layout()
    return fig


@register("tuning-random-search-scatter", page="tuning/random-search")
def random_search_scatter(lang: str = "ko"):
    """(learning rate, weight decay) of both rounds, coloured by validation accuracy."""
    text = labels(
        lang,
        ko={
            "round": "{r}라운드",
            "x": "학습률",
            "y": "가중치 감소",
            "color": "검증 정확도",
            "box": "2라운드 범위",
        },
        en={
            "round": "round {r}",
            "x": "learning rate",
            "y": "weight decay",
            "color": "validation accuracy",
            "box": "round-2 ranges",
        },
    )
    result = experiments.scratch_search()
    trials, spaces = result["trials"], result["spaces"]
    norm = Normalize(0, 1)
    fig, axes = plt.subplots(1, 2, figsize=(5.2, 3.2), sharex=True, sharey=True)
    for r, ax in enumerate(axes):
        chosen = [t for t in trials if t["round"] == r]
        order = np.argsort([t["val_accuracy"] for t in chosen])  # best drawn on top
        lr = np.array([chosen[i]["lr"] for i in order])
        wd = np.array([chosen[i]["weight_decay"] for i in order])
        acc = np.array([chosen[i]["val_accuracy"] for i in order])
        points = ax.scatter(lr, wd, c=acc, cmap="viridis", norm=norm, s=28, edgecolors="none")
        _, lr_low, lr_high = spaces[1]["lr"]
        _, wd_low, wd_high = spaces[1]["weight_decay"]
        ax.add_patch(
            Rectangle(
                (lr_low, wd_low),
                lr_high - lr_low,
                wd_high - wd_low,
                fill=False,
                ls="--",
                lw=1,
                edgecolor="C3",
                label=text["box"],
            )
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(text["round"].format(r=r + 1))
        ax.set_xlabel(text["x"])
    axes[0].set_ylabel(text["y"])
    # below the panels, where it covers no trial
    axes[0].legend(frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.25))
    fig.colorbar(points, ax=axes, label=text["color"], shrink=0.9)
    return fig


# -- page "hyperband" -------------------------------------------------------------------------


@register("tuning-successive-halving", page="tuning/hyperband")
def successive_halving(lang: str = "ko"):
    """Validation curves of one bracket of successive halving (27 configurations, η = 3)."""
    text = labels(
        lang,
        ko={
            "x": "에포크 (로그 축)",
            "y": "검증 정확도",
            "rung": "{n}개 → {k}개",
            "last": "남은 1개",
        },
        en={
            "x": "epoch (log axis)",
            "y": "validation accuracy",
            "rung": "{n} → {k} kept",
            "last": "the one left",
        },
    )
    run = experiments.searcher_run("successive_halving", 0)
    first = [e for e in run["evaluations"] if e["trial"] < 27]
    budgets = sorted({e["budget"] for e in first})
    final_budget = {}
    for e in first:
        final_budget[e["trial"]] = e["budget"]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for trial, budget in final_budget.items():
        curve = run["curves"][trial]
        epochs = np.arange(1, budget + 1)
        color = "C1" if budget == budgets[-1] else "0.55"
        ax.plot(epochs, curve, color=color, lw=1.6 if budget == budgets[-1] else 0.9)
        ax.plot(budget, curve[-1], "o", color=color, ms=4)
    for i, budget in enumerate(budgets):
        n = sum(1 for b in final_budget.values() if b >= budget)
        kept = sum(1 for b in final_budget.values() if b > budget)
        ax.axvline(budget, color="C0", lw=0.8, ls=":")
        label = text["rung"].format(n=n, k=kept) if i + 1 < len(budgets) else text["last"]
        ax.text(
            budget,
            1.01,
            label,
            ha="center",
            va="bottom",
            color="C0",
            transform=ax.get_xaxis_transform(),
        )
    ax.set_xscale("log")
    ax.set_xticks(budgets, [str(b) for b in budgets])
    ax.set_xlabel(text["x"])
    ax.set_ylabel(text["y"])
    ax.set_ylim(0, 1)
    fig.tight_layout()
    return fig


def _anytime(lang: str, methods: tuple[str, ...], title: str):
    """Median (over seeds) best validation accuracy against epochs; right: the top, enlarged."""
    text = labels(
        lang,
        ko={
            "x": "학습에 쓴 에포크 (탐색 전체)",
            "y": "지금까지 최고 검증 정확도",
            "band": "시드 {n}개의 중앙값, 띠는 최소~최대",
            "zoom": "위쪽 확대",
        },
        en={
            "x": "epochs trained (whole search)",
            "y": "best validation accuracy so far",
            "band": "median of {n} seeds, band: min to max",
            "zoom": "the top, enlarged",
        },
    )
    runs = experiments.comparison(methods=methods)
    epochs = np.arange(1, runs[methods[0]][0]["epoch_budget"] + 1)
    fig, axes = plt.subplots(1, 2, figsize=(5.2, 3.5), gridspec_kw={"width_ratios": [1.5, 1]})
    for method in methods:
        values = anytime_medians(runs[method], epochs)
        seen = ~np.isnan(values).any(axis=0)  # every seed has made an evaluation
        x, values = epochs[seen], values[:, seen]
        color = COLORS[method]
        for ax, band in zip(axes, (True, False), strict=True):
            ax.step(
                x,
                np.median(values, axis=0),
                where="post",
                color=color,
                lw=1.8,
                label=METHOD_NAMES[lang][method],
            )
            if band:
                ax.fill_between(
                    x,
                    values.min(axis=0),
                    values.max(axis=0),
                    step="post",
                    color=color,
                    alpha=0.12,
                    lw=0,
                )
    for ax in axes:
        ax.axhline(0.9, color="0.5", lw=0.7, ls=":")
        ax.set_xlabel(text["x"])
    axes[0].set_xlim(0, epochs[-1])
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel(text["y"])
    axes[0].set_title(title + "\n" + text["band"].format(n=len(runs[methods[0]])), fontsize=10)
    axes[0].legend(frameon=False, loc="lower right")
    axes[1].set_xlim(60, epochs[-1])
    axes[1].set_ylim(0.85, 0.96)
    axes[1].set_title(text["zoom"], fontsize=10)
    fig.tight_layout()
    return fig


@register("tuning-hyperband-anytime", page="tuning/hyperband")
def hyperband_anytime(lang: str = "ko"):
    """Best validation accuracy against epochs: random search, successive halving, Hyperband."""
    title = labels(
        lang,
        ko={"t": "일찍 포기하는 탐색과 무작위 탐색"},
        en={"t": "Searches that give up early, and random search"},
    )["t"]
    return _anytime(lang, ("random", "successive_halving", "hyperband"), title)


# -- page "bayesian" --------------------------------------------------------------------------


@register("tuning-tpe-idea", page="tuning/bayesian")
def tpe_idea(lang: str = "ko"):
    """TPE's good and bad densities over log10 lr from the first round, and their ratio."""
    text = labels(
        lang,
        ko={
            "score": "검증 정확도",
            "good": "좋은 시도 (상위 10%)",
            "bad": "나머지",
            "l": "ℓ(x): 좋은 시도의 밀도",
            "g": "g(x): 나머지의 밀도",
            "ratio": "ℓ(x) / g(x)",
            "x": "log₁₀ 학습률",
            "next": "다음 제안",
        },
        en={
            "score": "validation accuracy",
            "good": "good trials (top 10%)",
            "bad": "the rest",
            "l": "ℓ(x): density of good trials",
            "g": "g(x): density of the rest",
            "ratio": "ℓ(x) / g(x)",
            "x": "log₁₀ learning rate",
            "next": "next proposal",
        },
    )
    r = experiments.tpe_illustration()
    fig, axes = plt.subplots(
        3, 1, figsize=(5.2, 5.4), sharex=True, gridspec_kw={"height_ratios": [1.3, 1, 1]}
    )
    good = r["good"]
    axes[0].plot(r["log_lr"][~good], r["score"][~good], "o", color="C0", ms=4, label=text["bad"])
    axes[0].plot(r["log_lr"][good], r["score"][good], "o", color="C3", ms=5, label=text["good"])
    axes[0].set_ylabel(text["score"])
    axes[0].legend(frameon=False, loc="upper left")
    axes[1].plot(r["grid"], r["l"], color="C3", label=text["l"])
    axes[1].plot(r["grid"], r["g"], color="C0", label=text["g"])
    axes[1].legend(frameon=False, loc="upper left")
    axes[2].plot(r["grid"], r["ratio"], color="C2", label=text["ratio"])
    axes[2].legend(frameon=False, loc="upper left")
    for ax in axes:
        ax.axvline(r["proposal"], color="C2", ls="--", lw=1)
    axes[2].annotate(
        text["next"],
        (r["proposal"], r["ratio"].max()),
        xytext=(-60, -8),
        textcoords="offset points",
        color="C2",
        ha="right",
        arrowprops={"arrowstyle": "->", "color": "C2"},
    )
    axes[2].set_xlabel(text["x"])
    fig.tight_layout()
    return fig


@register("tuning-anytime-all", page="tuning/bayesian")
def anytime_all(lang: str = "ko"):
    """Best validation accuracy against epochs for all five searchers."""
    title = labels(lang, ko={"t": "다섯 가지 탐색 방법"}, en={"t": "Five search methods"})["t"]
    return _anytime(lang, experiments.METHODS, title)
