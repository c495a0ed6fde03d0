"""Properties that must hold for every input, checked on inputs Hypothesis chooses."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from refimpl import functional as F

SETTINGS = settings(max_examples=40, deadline=None)

EPS = 1e-5


@st.composite
def batches(draw, min_ndim=2, max_ndim=4):
    """Arrays of shape (N, C, *spatial) with at least 2 values per channel."""
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = [draw(st.integers(2, 6)), draw(st.integers(1, 4))]
    shape += [draw(st.integers(1, 3)) for _ in range(ndim - 2)]
    elements = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    return draw(hnp.arrays(np.float64, tuple(shape), elements=elements))


@st.composite
def noisy_batches(draw, min_ndim=2, max_ndim=4):
    """``offset + scale * noise`` per channel, with moderate offsets and scales."""
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = [draw(st.integers(2, 6)), draw(st.integers(1, 4))]
    shape += [draw(st.integers(1, 3)) for _ in range(ndim - 2)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    offset = draw(st.floats(-1e3, 1e3))
    scale = draw(st.floats(0.1, 100.0))
    return offset + scale * rng.standard_normal(shape)


def channel_axes(x):
    return (0, *range(2, x.ndim))


def rounding_tolerance(x, var, axes):
    """Absolute error of x̂ from rounding the mean: a few ulps of |x|, over the std (with eps).

    For a (nearly) constant channel of large values, μ cannot be represented exactly and the
    difference x − μ is pure rounding, amplified by 1/√ε.
    """
    largest = np.abs(x).max(axis=axes)
    return 1e-9 + 8 * np.finfo(np.float64).eps * largest / np.sqrt(var + EPS)


# -- batch norm -------------------------------------------------------------------------------


@SETTINGS
@given(batches())
def test_batchnorm_output_has_mean_zero_and_unit_biased_variance(x):
    out, cache = F.batch_norm_forward(x, eps=EPS)
    axes = channel_axes(x)
    var = x.var(axis=axes)
    tolerance = rounding_tolerance(x, var, axes)
    # mean 0, and variance σ²/(σ² + ε): 1 up to eps (0 for a constant channel)
    assert np.all(np.abs(out.mean(axis=axes)) <= tolerance)
    expected_var = var / (var + EPS)
    assert np.all(np.abs(out.var(axis=axes) - expected_var) <= 1e-9 * expected_var + 3 * tolerance)
    # the variance itself: relative accuracy, or ulps of |x| squared for a constant channel
    ulps = 8 * np.finfo(np.float64).eps * np.abs(x).max(axis=axes)
    assert np.all(np.abs(cache.var - var) <= 1e-9 * var + ulps**2)


@SETTINGS
@given(noisy_batches(), st.floats(0.5, 10.0), st.floats(-100.0, 100.0))
def test_batchnorm_ignores_positive_scale_and_shift(x, a, b):
    axes = channel_axes(x)
    assume(x.var(axis=axes).min() > 0.1)
    out, _ = F.batch_norm_forward(x, eps=EPS)
    scaled, _ = F.batch_norm_forward(a * x + b, eps=EPS)
    # exactly: BN_ε(a x + b) = BN_{ε/a²}(x); eps alone makes the two differ, by at most
    # |x̂| · ε/(2σ²) · |1 − 1/a²|
    var_min = x.var(axis=axes).min()
    tolerance = np.abs(out).max() * EPS / (2 * var_min) * abs(1 - 1 / a**2) + 1e-9
    np.testing.assert_allclose(scaled, out, rtol=0, atol=tolerance)
    same_eps, _ = F.batch_norm_forward(x, eps=EPS / a**2)
    np.testing.assert_allclose(scaled, same_eps, rtol=1e-7, atol=1e-8)


@SETTINGS
@given(noisy_batches(), st.integers(0, 2**32 - 1))
def test_sync_batchnorm_equals_full_batch(x, seed):
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    cuts = np.sort(rng.choice(np.arange(1, n), size=rng.integers(0, n), replace=False))
    gamma, beta = rng.standard_normal(x.shape[1]), rng.standard_normal(x.shape[1])
    dy = rng.standard_normal(x.shape)
    outs, sync_cache = F.sync_batch_norm_forward(np.split(x, cuts), gamma, beta)
    dxs, dgamma, dbeta = F.sync_batch_norm_backward(np.split(dy, cuts), sync_cache)
    out, cache = F.batch_norm_forward(x, gamma, beta)
    dx, full_dgamma, full_dbeta = F.batch_norm_backward(dy, cache)
    np.testing.assert_allclose(np.concatenate(outs), out, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.concatenate(dxs), dx, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dgamma, full_dgamma, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dbeta, full_dbeta, rtol=1e-10, atol=1e-10)


# -- layer norm ---------------------------------------------------------------------------------


@SETTINGS
@given(batches(min_ndim=2, max_ndim=4), st.integers(1, 3))
def test_layer_norm_standardizes_each_sample(x, normalized_ndim):
    normalized_ndim = min(normalized_ndim, x.ndim - 1)
    normalized_shape = x.shape[x.ndim - normalized_ndim :]
    out, _ = F.layer_norm_forward(x, normalized_shape, eps=EPS)
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    var = x.var(axis=axes)
    tolerance = rounding_tolerance(x, var, axes)
    assert np.all(np.abs(out.mean(axis=axes)) <= tolerance)
    expected_var = var / (var + EPS)
    assert np.all(np.abs(out.var(axis=axes) - expected_var) <= 1e-9 * expected_var + 3 * tolerance)


@SETTINGS
@given(noisy_batches(min_ndim=2, max_ndim=3), st.floats(0.5, 10.0), st.floats(-100.0, 100.0))
def test_layer_norm_ignores_positive_scale_and_shift_per_sample(x, a, b):
    normalized_shape = x.shape[1:]
    axes = tuple(range(1, x.ndim))
    assume(x.shape[1:] != (1,) * (x.ndim - 1))
    assume(x.var(axis=axes).min() > 0.1)
    # each sample may get its own shift
    shifts = b * np.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
    out, _ = F.layer_norm_forward(x, normalized_shape, eps=EPS)
    scaled, _ = F.layer_norm_forward(a * x + shifts, normalized_shape, eps=EPS)
    tolerance = np.abs(out).max() * EPS / (2 * x.var(axis=axes).min()) * abs(1 - 1 / a**2)
    np.testing.assert_allclose(scaled, out, rtol=0, atol=tolerance + 1e-9)


# -- folding ------------------------------------------------------------------------------------


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_folded_batchnorm_equals_batchnorm_after_the_layer(seed, conv, has_bias):
    rng = np.random.default_rng(seed)
    c_in, c_out = rng.integers(1, 4, size=2)
    running_mean = rng.normal(0, 3, c_out)
    running_var = rng.uniform(0.01, 10, c_out)
    gamma, beta = rng.normal(1, 1, c_out), rng.standard_normal(c_out)
    if conv:
        weight = rng.standard_normal((c_out, c_in, 3, 2))
        x = rng.normal(2, 3, (2, c_in, 5, 4))
    else:
        weight = rng.standard_normal((c_out, c_in))
        x = rng.normal(2, 3, (4, c_in))
    bias = rng.standard_normal(c_out) if has_bias else None

    def layer(w, b):
        if conv:
            return F.conv2d_forward(x, w, b, stride=(1, 2), padding=1)[0]
        return F.linear_forward(x, w, b)[0]

    expected, _ = F.batch_norm_eval_forward(
        layer(weight, bias), running_mean, running_var, gamma, beta, EPS
    )
    folded_weight, folded_bias = F.fold_batch_norm(
        weight, bias, running_mean, running_var, gamma, beta, EPS
    )
    np.testing.assert_allclose(layer(folded_weight, folded_bias), expected, rtol=1e-9, atol=1e-9)
