"""Dropout: inverted and classic scaling, the same mask in backward, alpha dropout for SELU."""

from __future__ import annotations

import numpy as np
import pytest

from refimpl import functional as F
from refimpl.gradcheck import check_function_gradients, check_gradients
from refimpl.nn import SELU, AlphaDropout, Dropout

FORWARDS = [F.dropout_forward, F.classic_dropout_forward, F.alpha_dropout_forward]


def test_inverted_dropout_scales_kept_units(rng):
    x = rng.standard_normal((50, 40))
    out, cache = F.dropout_forward(x, 0.3, rng)
    kept = cache.mask
    np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-15)
    np.testing.assert_array_equal(out[~kept], 0.0)
    assert 0.25 < 1 - kept.mean() < 0.35  # about p of the units are dropped


def test_inverted_dropout_keeps_the_expected_value():
    x = np.full(200_000, 2.0)
    out, _ = F.dropout_forward(x, 0.4, np.random.default_rng(0))
    np.testing.assert_allclose(out.mean(), 2.0, rtol=0.01)


def test_inverted_dropout_is_identity_in_eval(rng):
    x = rng.standard_normal((3, 4))
    drop = Dropout(0.5, rng=rng).eval()
    np.testing.assert_array_equal(drop(x), x)
    np.testing.assert_array_equal(drop.backward(np.ones_like(x)), 1.0)


def test_classic_dropout_scales_at_test_time(rng):
    x = rng.standard_normal((30, 30))
    drop = Dropout(0.25, inverted=False, rng=rng)
    out = drop(x)
    kept = drop._cache.mask
    np.testing.assert_array_equal(out[kept], x[kept])  # no scaling in training
    np.testing.assert_array_equal(out[~kept], 0.0)
    drop.eval()
    np.testing.assert_allclose(drop(x), 0.75 * x, rtol=1e-15)
    np.testing.assert_allclose(drop.backward(np.ones_like(x)), 0.75)


def test_classic_and_inverted_differ_only_by_a_constant():
    x = np.ones((4, 5))
    inverted, _ = F.dropout_forward(x, 0.5, np.random.default_rng(7))
    classic, _ = F.classic_dropout_forward(x, 0.5, np.random.default_rng(7))
    np.testing.assert_allclose(inverted, classic / 0.5)


@pytest.mark.parametrize("forward", FORWARDS)
def test_backward_uses_the_forward_mask(rng, forward):
    x = rng.standard_normal((20, 20))
    _, cache = forward(x, 0.5, rng)
    dx = F.dropout_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(dx[~cache.mask], 0.0)  # dropped units pass no gradient
    assert np.all(dx[cache.mask] > 0)
    # a second backward sees the same mask, even though rng has moved on
    np.testing.assert_array_equal(F.dropout_backward(np.ones_like(x), cache), dx)


def test_module_backward_uses_the_mask_of_its_last_forward(rng):
    drop = Dropout(0.5, rng=rng)
    x = np.ones((10, 10))
    out = drop(x)
    dx = drop.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, out)  # for x = 1 the output is the mask times 2


@pytest.mark.parametrize("forward", FORWARDS)
def test_functional_gradients(rng, forward):
    x = 3 + 5 * rng.standard_normal((4, 6))
    errors = check_function_gradients(
        forward, F.dropout_backward, {"x": x}, rng, {"p": 0.3, "rng": rng}
    )
    assert errors["x"] < 1e-7, errors


@pytest.mark.parametrize(
    "module",
    [Dropout(0.3), Dropout(0.3, inverted=False), AlphaDropout(0.3), Dropout(0.3).eval()],
    ids=["inverted", "classic", "alpha", "eval"],
)
def test_module_gradients(rng, module):
    errors = check_gradients(module, 3 + 5 * rng.standard_normal((4, 6)), rng)
    assert errors["x"] < 1e-7, errors


def test_masks_come_from_the_generator_passed_in():
    x = np.ones((8, 8))
    a, _ = F.dropout_forward(x, 0.5, np.random.default_rng(42))
    b, _ = F.dropout_forward(x, 0.5, np.random.default_rng(42))
    c, _ = F.dropout_forward(x, 0.5, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # two modules with the same seed drop the same units; successive calls differ
    d1, d2 = Dropout(0.5, rng=np.random.default_rng(1)), Dropout(0.5, rng=np.random.default_rng(1))
    first = d1(x)
    np.testing.assert_array_equal(first, d2(x))
    assert not np.array_equal(first, d1(x))


def test_p_zero_keeps_everything(rng):
    x = rng.standard_normal((3, 3))
    for forward in FORWARDS:
        out, _ = forward(x, 0.0, rng)
        np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance_of_selu_activations(p):
    rng = np.random.default_rng(0)
    # SELU of standard normal inputs has mean 0 and variance 1 (its fixed point)
    activations = SELU()(rng.standard_normal(400_000))
    np.testing.assert_allclose([activations.mean(), activations.var()], [0, 1], atol=0.01)
    out = AlphaDropout(p, rng=rng)(activations)
    np.testing.assert_allclose([out.mean(), out.var()], [0, 1], atol=0.01)
    # plain dropout would not: it changes the variance
    plain = Dropout(p, rng=rng)(activations)
    assert abs(plain.var() - 1) > 0.05


def test_alpha_dropout_sets_dropped_units_to_the_saturation_value(rng):
    p = 0.2
    x = rng.standard_normal((50, 50))
    out, cache = F.alpha_dropout_forward(x, p, rng)
    alpha_prime = -F.SELU_SCALE * F.SELU_ALPHA
    a = ((1 - p) * (1 + p * alpha_prime**2)) ** -0.5
    b = -a * alpha_prime * p
    np.testing.assert_allclose(out[~cache.mask], a * alpha_prime + b, rtol=1e-14)
    np.testing.assert_allclose(out[cache.mask], a * x[cache.mask] + b, rtol=1e-14)
    assert cache.scale == pytest.approx(a)


def test_float32_stays_float32(rng):
    x = rng.standard_normal((4, 4)).astype(np.float32)
    for forward in FORWARDS:
        for training in (True, False):
            out, cache = forward(x, 0.3, rng, training)
            assert out.dtype == np.float32
            assert F.dropout_backward(np.ones_like(x), cache).dtype == np.float32
