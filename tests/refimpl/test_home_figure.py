"""The home page's figure claims: BN centres and scales each feature but keeps its shape."""

from __future__ import annotations

import numpy as np

from refimpl.figures.home import synthetic_batch
from refimpl.functional import batch_norm_forward


def skewness(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean(axis=0)
    return (centred**3).mean(axis=0) / centred.var(axis=0) ** 1.5


def test_features_start_apart_and_end_centred_with_the_same_shape():
    x = synthetic_batch(np.random.default_rng(0))
    y, _ = batch_norm_forward(x, gamma=np.ones(3), beta=np.zeros(3))
    # before: locations and spreads differ a lot
    assert np.ptp(x.mean(axis=0)) > 5 and x.std(axis=0).max() / x.std(axis=0).min() > 4
    # after: every feature centred at 0 with unit variance (up to eps)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1, atol=1e-4)
    # the shape is unchanged: feature 2 (exponential) stays skewed, by exactly as much
    np.testing.assert_allclose(skewness(y), skewness(x), rtol=1e-9)
    assert skewness(y)[2] > 1
