"""Figures of the home page."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from refimpl.figures import labels, register
from refimpl.functional import batch_norm_forward


def synthetic_batch(rng: np.random.Generator, batch_size: int = 256) -> np.ndarray:
    """A synthetic mini-batch of three features with very different means and scales.

    Returns
    -------
    ndarray, shape (batch_size, 3)
        Feature 0 ~ N(5, 0.5²), feature 1 ~ N(-2, 3²), feature 2 ~ Exponential(scale 2).
    """
    return np.column_stack(
        [
            rng.normal(5.0, 0.5, batch_size),
            rng.normal(-2.0, 3.0, batch_size),
            rng.exponential(2.0, batch_size),
        ]
    )


@register("home-batch-histogram", page="index")
def batch_histogram(lang: str = "ko"):
    """Histograms of a synthetic batch's three features before and after batch normalization."""
    text = labels(
        lang,
        ko={
            "before": "정규화 전",
            "after": "배치 정규화 후 (γ=1, β=0)",
            "value": "값",
            "count": "개수",
            "feature": "특성",
        },
        en={
            "before": "Before normalization",
            "after": "After batch normalization (γ=1, β=0)",
            "value": "value",
            "count": "count",
            "feature": "feature",
        },
    )
    x = synthetic_batch(np.random.default_rng(0))
    y, _ = batch_norm_forward(x, gamma=np.ones(3), beta=np.zeros(3))

    fig, axes = plt.subplots(1, 2, figsize=(5.2, 2.6), sharey=True)
    for ax, data, title in zip(axes, (x, y), (text["before"], text["after"]), strict=True):
        for j in range(3):
            ax.hist(data[:, j], bins=30, alpha=0.6, label=f"{text['feature']} {j}")
        ax.set_title(title)
        ax.set_xlabel(text["value"])
    axes[0].set_ylabel(text["count"])
    axes[0].legend(frameon=False)
    fig.tight_layout()
    return fig
