"""The gradient checker itself: it must pass correct code and, above all, fail wrong code."""

from __future__ import annotations

import numpy as np
import pytest

from refimpl import functional as F
from refimpl.gradcheck import (
    check_function_gradients,
    check_gradients,
    numerical_gradient,
    relative_error,
)
from refimpl.nn import BatchNorm1d, Dropout, Linear, Module, Parameter


class ScaledLinear(Module):
    """y = x Wᵀ with a backward that can be made wrong on purpose."""

    def __init__(self, weight, bug=None):
        self.weight = Parameter(weight, "weight")
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.weight.data.T

    def backward(self, dy):
        dweight = dy.T @ self.x
        if self.bug == "weight-transposed":
            dweight = (self.x.T @ dy).T * 1.001
        if self.bug == "weight-missing-half":
            dweight = dweight / 2
        self.weight.grad += dweight
        dx = dy @ self.weight.data
        if self.bug == "input-sign":
            dx = -dx
        return dx


class BatchNormWithoutMeanTerm(BatchNorm1d):
    """A classic mistake: treating the batch mean as a constant in backward."""

    def backward(self, dy):
        cache = self._cache
        dx_true = super().backward(dy)
        dy_sum = dy.sum(axis=0)
        gamma_over_std = cache.gamma * cache.inv_std
        return dx_true + gamma_over_std * dy_sum / dy.shape[0]


def test_relative_error_definition():
    a = np.array([1.0, -2.0, 0.0])
    b = np.array([1.0, -2.5, 0.0])
    assert relative_error(a, b) == pytest.approx(0.5 / 4.5)
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # not NaN
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_a_known_function():
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda: float(np.sum(np.sin(a) * a)), a)
    np.testing.assert_allclose(grad, np.cos(a) * a + np.sin(a), rtol=1e-8)
    np.testing.assert_array_equal(a, [[1.0, -2.0], [0.5, 3.0]])  # restored


def test_correct_backward_passes(rng):
    errors = check_gradients(ScaledLinear(rng.standard_normal((3, 4))), rng.random((5, 4)), rng)
    assert set(errors) == {"x", "weight"}
    assert max(errors.values()) < 1e-8


@pytest.mark.parametrize(
    ("bug", "wrong"),
    [("input-sign", "x"), ("weight-missing-half", "weight"), ("weight-transposed", "weight")],
)
def test_wrong_backward_fails(rng, bug, wrong):
    module = ScaledLinear(rng.standard_normal((3, 4)), bug=bug)
    errors = check_gradients(module, rng.random((5, 4)), rng)
    assert errors[wrong] > 1e-4, errors


def test_batchnorm_without_the_mean_term_fails(rng):
    x = 3 + 5 * rng.standard_normal((6, 3))
    assert check_gradients(BatchNorm1d(3), x, rng)["x"] < 1e-7
    assert check_gradients(BatchNormWithoutMeanTerm(3), x, rng)["x"] > 1e-2


def test_random_upstream_gradient_catches_what_all_ones_would_hide(rng):
    """Why dy must be random: for BN the true dx of sum(y) is 0, so an all-ones dy cannot tell
    the right backward from one that always returns zeros. A random dy tells them apart."""
    x = 3 + 5 * rng.standard_normal((6, 3))

    def numerical_dx(dy):
        return numerical_gradient(lambda: float(np.sum(dy * F.batch_norm_forward(x)[0])), x)

    def zero_backward(dy, cache):  # a broken backward: no input gradient at all
        return np.zeros_like(dy)

    _, cache = F.batch_norm_forward(x)
    ones, random = np.ones_like(x), rng.standard_normal(x.shape)
    # all ones: the true dx is 0 up to rounding, exactly what the broken backward returns
    assert np.abs(zero_backward(ones, cache) - numerical_dx(ones)).max() < 1e-8
    # random: the broken backward is off by the whole gradient, the right one agrees
    assert relative_error(zero_backward(random, cache), numerical_dx(random)) == 1.0
    right = F.batch_norm_backward(random, cache)[0]
    assert relative_error(right, numerical_dx(random)) < 1e-7


def test_module_is_not_modified(rng):
    bn = BatchNorm1d(3)
    weight = bn.weight.data.copy()
    check_gradients(bn, 3 + 5 * rng.standard_normal((4, 3)), rng)
    assert bn.num_batches_tracked == 0
    np.testing.assert_array_equal(bn.running_mean, 0.0)
    np.testing.assert_array_equal(bn.weight.data, weight)
    np.testing.assert_array_equal(bn.weight.grad, 0.0)


def test_random_modules_see_the_same_mask_in_every_evaluation(rng):
    # the module shares `rng` with the checker: the copies must still agree
    errors = check_gradients(Dropout(0.5, rng=rng), rng.standard_normal((6, 5)), rng)
    assert errors["x"] < 1e-8


def test_float32_is_refused(rng):
    with pytest.raises(TypeError, match="float64"):
        check_gradients(Linear(2, 2), np.ones((2, 2), np.float32), rng)
    with pytest.raises(TypeError, match="float64"):
        check_gradients(Linear(2, 2, dtype=np.float32), np.ones((2, 2)), rng)


def test_function_checker_reports_each_input(rng):
    inputs = {"x": rng.standard_normal((4, 3)), "weight": rng.standard_normal((2, 3))}
    inputs["bias"] = None
    errors = check_function_gradients(F.linear_forward, F.linear_backward, inputs, rng)
    assert set(errors) == {"x", "weight"}
    assert max(errors.values()) < 1e-8


def test_function_checker_catches_a_wrong_backward(rng):
    def wrong_backward(dout, cache):
        dx, dgamma, dbeta = F.batch_norm_backward(dout, cache)
        return dx, dgamma, 1.01 * dbeta

    inputs = {"x": rng.standard_normal((5, 2)), "gamma": np.ones(2), "beta": np.zeros(2)}
    errors = check_function_gradients(F.batch_norm_forward, wrong_backward, inputs, rng)
    assert errors["x"] < 1e-7 and errors["gamma"] < 1e-7
    assert errors["beta"] > 1e-3
