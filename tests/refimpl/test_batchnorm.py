"""Batch norm: gradients, running statistics, numerics, folding and synchronized BN."""

from __future__ import annotations

import numpy as np
import pytest

from refimpl import functional as F
from refimpl.gradcheck import check_function_gradients, check_gradients
from refimpl.nn import BatchNorm1d, BatchNorm2d, Conv2d, Linear, Module, SyncBatchNorm

TOL = 1e-7
SHAPES = [(6, 3), (4, 3, 5), (3, 2, 4, 3)]


def unstandardized(rng, shape):
    return 3.0 + 5.0 * rng.standard_normal(shape)


def channel_axes(x):
    return (0, *range(2, x.ndim))


def batchnorm_by_chain_rule(x, gamma, beta, dy, eps=1e-5):
    """Forward and backward written step by step (no compact formula), as an independent check."""
    axes = channel_axes(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    mu = x.mean(axis=axes, keepdims=True)
    xc = x - mu
    var = (xc**2).mean(axis=axes, keepdims=True)
    std = np.sqrt(var + eps)
    x_hat = xc / std
    out = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    dx_hat = dy * gamma.reshape(shape)
    dvar = np.sum(dx_hat * xc * -0.5 * std**-3, axis=axes, keepdims=True)
    dmu = np.sum(-dx_hat / std, axis=axes, keepdims=True) + dvar * np.mean(
        -2 * xc, axis=axes, keepdims=True
    )
    dx = dx_hat / std + dvar * 2 * xc / m + dmu / m
    return out, dx, np.sum(dy * x_hat, axis=axes), np.sum(dy, axis=axes)


# -- gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_functional_gradients(rng, shape):
    c = shape[1]
    inputs = {
        "x": unstandardized(rng, shape),
        "gamma": 1 + rng.standard_normal(c),
        "beta": rng.standard_normal(c),
    }
    errors = check_function_gradients(F.batch_norm_forward, F.batch_norm_backward, inputs, rng)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < TOL, errors


def test_functional_gradients_without_affine(rng):
    inputs = {"x": unstandardized(rng, (5, 3, 2)), "gamma": None, "beta": None}
    errors = check_function_gradients(F.batch_norm_forward, F.batch_norm_backward, inputs, rng)
    assert errors["x"] < TOL


@pytest.mark.parametrize("shape", SHAPES)
def test_eval_functional_gradients(rng, shape):
    c = shape[1]
    inputs = {
        "x": unstandardized(rng, shape),
        "gamma": 1 + rng.standard_normal(c),
        "beta": rng.standard_normal(c),
    }
    constants = {"running_mean": rng.standard_normal(c), "running_var": 1 + rng.random(c)}
    errors = check_function_gradients(
        F.batch_norm_eval_forward, F.batch_norm_eval_backward, inputs, rng, constants
    )
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize(
    ("module", "shape"),
    [
        (BatchNorm1d(3), (6, 3)),
        (BatchNorm1d(3), (4, 3, 5)),
        (BatchNorm2d(2), (3, 2, 4, 3)),
        (BatchNorm2d(2, affine=False), (3, 2, 4, 3)),
        (BatchNorm2d(2, track_running_stats=False).eval(), (3, 2, 2, 2)),
        (BatchNorm1d(3).eval(), (2, 3)),
    ],
    ids=["1d", "1d-3D-input", "2d", "2d-no-affine", "2d-batch-stats-in-eval", "1d-eval"],
)
def test_module_gradients(rng, module, shape):
    for parameter in module.parameters():
        parameter.data[...] = rng.normal(1.0, 0.5, parameter.shape)
    if module.running_var is not None:
        module.running_var = 1 + rng.random(module.num_features)
        module.running_mean = rng.standard_normal(module.num_features)
    errors = check_gradients(module, unstandardized(rng, shape), rng)
    expected = {"x"} | ({"weight", "bias"} if module.affine else set())
    assert set(errors) == expected
    assert max(errors.values()) < TOL, errors


def test_compact_backward_matches_chain_rule(rng):
    x = unstandardized(rng, (5, 3, 2, 2))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    dy = rng.standard_normal(x.shape)
    out, cache = F.batch_norm_forward(x, gamma, beta)
    dx, dgamma, dbeta = F.batch_norm_backward(dy, cache)
    ref_out, ref_dx, ref_dgamma, ref_dbeta = batchnorm_by_chain_rule(x, gamma, beta, dy)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dgamma, ref_dgamma, rtol=1e-12)
    np.testing.assert_allclose(dbeta, ref_dbeta, rtol=1e-12)


def test_input_gradient_is_orthogonal_to_shift_and_scale(rng):
    # BN's output ignores a per-channel shift of x, and (for eps -> 0) a per-channel scale:
    # dx sums to 0 per channel and is orthogonal to x̂ per channel.
    x = unstandardized(rng, (8, 3, 2))
    _, cache = F.batch_norm_forward(x, np.ones(3), np.zeros(3), eps=1e-14)
    dx, _, _ = F.batch_norm_backward(rng.standard_normal(x.shape), cache)
    np.testing.assert_allclose(dx.sum(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose((dx * cache.x_hat).sum(axis=(0, 2)), 0.0, atol=1e-11)


def test_module_accumulates_parameter_gradients(rng):
    bn = BatchNorm1d(3)
    x = unstandardized(rng, (5, 3))
    dy = rng.standard_normal(x.shape)
    bn(x)
    bn.backward(dy)
    first = bn.weight.grad.copy()
    bn(x)
    bn.backward(dy)
    np.testing.assert_allclose(bn.weight.grad, 2 * first)
    bn.zero_grad()
    np.testing.assert_array_equal(bn.weight.grad, 0.0)


# -- statistics and modes -----------------------------------------------------------------------


def test_initial_state_matches_pytorch():
    bn = BatchNorm2d(4)
    np.testing.assert_array_equal(bn.weight.data, 1.0)
    np.testing.assert_array_equal(bn.bias.data, 0.0)
    np.testing.assert_array_equal(bn.running_mean, 0.0)
    np.testing.assert_array_equal(bn.running_var, 1.0)
    assert bn.num_batches_tracked == 0
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-5, 0.1, True, True)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]


def test_normalizes_with_biased_variance(rng):
    x = unstandardized(rng, (4, 2))
    out, cache = F.batch_norm_forward(x, eps=1e-5)
    np.testing.assert_allclose(cache.var, x.var(axis=0, ddof=0), rtol=1e-13)
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-12)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_running_statistics_by_hand(rng, momentum):
    bn = BatchNorm2d(3, momentum=momentum)
    mean, var = np.zeros(3), np.ones(3)
    for t in range(1, 5):
        x = unstandardized(rng, (4, 3, 2, 2))
        bn(x)
        m = 4 * 2 * 2
        factor = 1 / t if momentum is None else momentum
        mean = (1 - factor) * mean + factor * x.mean(axis=(0, 2, 3))
        var = (1 - factor) * var + factor * x.var(axis=(0, 2, 3)) * m / (m - 1)
        assert bn.num_batches_tracked == t
        np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var, var, rtol=1e-12)


def test_momentum_none_is_the_plain_average_of_the_batches(rng):
    """momentum=None: every batch so far weighs the same, and the start values not at all."""
    bn = BatchNorm1d(3, momentum=None)
    batches = [unstandardized(rng, (5, 3)) for _ in range(4)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(0) for x in batches], 0))
    np.testing.assert_allclose(bn.running_var, np.mean([x.var(0, ddof=1) for x in batches], 0))


def test_momentum_zero_keeps_the_running_statistics(rng):
    """momentum=0 (not None): training normalizes with the batch and never moves the running
    statistics; a `momentum or 1/t` slip would turn this into a cumulative average."""
    bn = BatchNorm2d(3, momentum=0.0)
    bn.running_mean[...] = [1.0, 2.0, 3.0]
    bn.running_var[...] = [4.0, 5.0, 6.0]
    x = unstandardized(rng, (4, 3, 2, 2))
    out = bn(x)
    bn(unstandardized(rng, (4, 3, 2, 2)))
    np.testing.assert_array_equal(bn.running_mean, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(bn.running_var, [4.0, 5.0, 6.0])
    assert bn.num_batches_tracked == 2
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)  # batch statistics


def test_update_running_stats_is_pure():
    running_mean, running_var = np.zeros(2), np.ones(2)
    new_mean, new_var, count = F.update_running_stats(
        running_mean, running_var, np.array([1.0, 2.0]), np.array([3.0, 4.0]), 5, 0.1, 7
    )
    np.testing.assert_array_equal(running_mean, 0.0)
    np.testing.assert_array_equal(running_var, 1.0)
    np.testing.assert_allclose(new_mean, [0.1, 0.2])
    np.testing.assert_allclose(new_var, [0.9 + 0.1 * 3 * 5 / 4, 0.9 + 0.1 * 4 * 5 / 4])
    assert count == 8


def test_eval_uses_running_statistics(rng):
    bn = BatchNorm1d(3)
    for _ in range(3):
        bn(unstandardized(rng, (8, 3)))
    bn.eval()
    x = unstandardized(rng, (1, 3))  # a batch of one is fine in eval mode
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    np.testing.assert_allclose(bn(x), expected, rtol=1e-12)
    tracked = bn.num_batches_tracked
    bn(x)
    assert bn.num_batches_tracked == tracked  # eval does not update


def test_eval_output_of_a_sample_does_not_depend_on_the_batch(rng):
    bn = BatchNorm1d(3)
    bn(unstandardized(rng, (8, 3)))
    bn.eval()
    x = unstandardized(rng, (5, 3))
    np.testing.assert_allclose(bn(x)[:1], bn(x[:1]), rtol=1e-14)


def test_without_running_stats_uses_batch_statistics_in_eval(rng):
    bn = BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and bn.running_var is None
    assert bn.num_batches_tracked is None
    x = unstandardized(rng, (6, 3))
    train_out = bn(x)
    np.testing.assert_allclose(bn.eval()(x), train_out)
    np.testing.assert_allclose(train_out.mean(axis=0), 0.0, atol=1e-12)


def test_float32_stays_float32(rng):
    x = unstandardized(rng, (8, 4, 3, 3)).astype(np.float32)
    bn = BatchNorm2d(4, dtype=np.float32)
    out = bn(x)
    dx = bn.backward(rng.standard_normal(x.shape).astype(np.float32))
    assert out.dtype == dx.dtype == bn.weight.grad.dtype == np.float32
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32


def test_forward_does_not_modify_its_input(rng):
    x = unstandardized(rng, (4, 3, 2))
    copy = x.copy()
    out, cache = F.batch_norm_forward(x, np.ones(3), np.zeros(3))
    F.batch_norm_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(x, copy)
    assert not np.shares_memory(out, cache.x_hat)


def test_cache_holds_named_fields(rng):
    _, cache = F.batch_norm_forward(unstandardized(rng, (4, 3, 2)), np.ones(3), np.zeros(3))
    assert cache._fields == ("x_hat", "inv_std", "gamma", "mean", "var")
    assert cache.x_hat.shape == (4, 3, 2)
    assert cache.inv_std.shape == cache.mean.shape == cache.var.shape == (3,)


# -- numerics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "offset", "shape", "rtol"),
    [
        (np.float64, 1e8, (1000, 3), 1e-9),
        (np.float64, 1e8, (16, 3, 8, 8), 1e-9),
        (np.float32, 1e4, (1000, 3), 1e-4),
        (np.float32, 1e4, (16, 3, 8, 8), 1e-4),
    ],
)
def test_variance_of_large_mean_plus_noise(rng, dtype, offset, shape, rtol):
    x = (offset + rng.standard_normal(shape)).astype(dtype)
    axes = channel_axes(x)
    x64 = x.astype(np.float64)
    # exact variance of the stored values: shift by a stored value first, then float64
    shifted = x64 - x64.reshape(-1)[0]
    true_var = shifted.var(axis=axes)
    _, cache = F.batch_norm_forward(x)
    np.testing.assert_allclose(cache.var, true_var, rtol=rtol)
    # the one-pass formula E[x²] − E[x]² cannot do this: the test would catch it
    one_pass = (x * x).mean(axis=axes) - x.mean(axis=axes) ** 2
    assert np.max(np.abs(one_pass - true_var) / true_var) > 100 * rtol


def test_normalized_float32_output_is_standardized(rng):
    x = (1e4 + rng.standard_normal((64, 3, 8, 8))).astype(np.float32)
    out, _ = F.batch_norm_forward(x)
    out64 = out.astype(np.float64)
    np.testing.assert_allclose(out64.mean(axis=(0, 2, 3)), 0.0, atol=2e-3)
    np.testing.assert_allclose(out64.var(axis=(0, 2, 3)), 1.0, atol=1e-3)


# -- folding ------------------------------------------------------------------------------------


def trained_bn(rng, num_features, make_input):
    bn = (BatchNorm1d if make_input().ndim == 2 else BatchNorm2d)(num_features)
    bn.weight.data[...] = rng.normal(1.0, 0.3, num_features)
    bn.bias.data[...] = rng.standard_normal(num_features)
    for _ in range(3):
        bn(make_input())
    return bn.eval()


@pytest.mark.parametrize("bias", [True, False])
def test_fold_into_linear(rng, bias):
    linear = Linear(5, 4, bias=bias, rng=rng)
    bn = trained_bn(rng, 4, lambda: linear(unstandardized(rng, (16, 5))))
    weight, folded_bias = F.fold_batch_norm(
        linear.weight.data,
        None if linear.bias is None else linear.bias.data,
        bn.running_mean,
        bn.running_var,
        bn.weight.data,
        bn.bias.data,
        bn.eps,
    )
    x = unstandardized(rng, (7, 5))
    np.testing.assert_allclose(x @ weight.T + folded_bias, bn(linear(x)), rtol=1e-12, atol=1e-12)


def test_fold_into_conv2d(rng):
    conv = Conv2d(3, 4, 3, stride=2, padding=1, rng=rng)
    bn = trained_bn(rng, 4, lambda: conv(unstandardized(rng, (4, 3, 6, 6))))
    weight, bias = F.fold_batch_norm(
        conv.weight.data,
        conv.bias.data,
        bn.running_mean,
        bn.running_var,
        bn.weight.data,
        bn.bias.data,
        bn.eps,
    )
    x = unstandardized(rng, (2, 3, 6, 6))
    folded, _ = F.conv2d_forward(x, weight, bias, stride=2, padding=1)
    np.testing.assert_allclose(folded, bn(conv(x)), rtol=1e-12, atol=1e-12)


def test_fold_accepts_lists_and_none_for_the_affine_parameters():
    """Plain lists are converted like arrays (not a raw TypeError), and gamma/beta None mean
    1 and 0 (affine=False): s = 1/sqrt(var + eps), W' = s W, b' = -s mean."""
    weight, bias = F.fold_batch_norm(
        [[1.0, 2.0], [3.0, 4.0]], None, [1.0, 2.0], [3.0, 0.0], None, None, eps=1.0
    )
    np.testing.assert_array_equal(weight, [[0.5, 1.0], [3.0, 4.0]])
    np.testing.assert_array_equal(bias, [-0.5, -2.0])


# -- synchronized batch norm ------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(1, 3, 2), (4, 4), (2, 1, 1, 5)])
def test_sync_batchnorm_equals_full_batch(rng, sizes):
    x = unstandardized(rng, (sum(sizes), 3, 2, 2))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    dy = rng.standard_normal(x.shape)
    shards = np.split(x, np.cumsum(sizes)[:-1])
    dy_shards = np.split(dy, np.cumsum(sizes)[:-1])

    outs, sync_cache = F.sync_batch_norm_forward(shards, gamma, beta)
    dxs, sync_dgamma, sync_dbeta = F.sync_batch_norm_backward(dy_shards, sync_cache)
    out, cache = F.batch_norm_forward(x, gamma, beta)
    dx, dgamma, dbeta = F.batch_norm_backward(dy, cache)

    np.testing.assert_allclose(np.concatenate(outs), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.concatenate(dxs), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sync_dgamma, dgamma, rtol=1e-12)
    np.testing.assert_allclose(sync_dbeta, dbeta, rtol=1e-12)
    np.testing.assert_allclose(sync_cache.var, cache.var, rtol=1e-13)
    assert sync_cache.count == x.shape[0] * 4


def test_sync_batchnorm_module_matches_batchnorm(rng):
    sync, full = SyncBatchNorm(3, momentum=0.3), BatchNorm2d(3, momentum=0.3)
    for _ in range(3):
        x = unstandardized(rng, (6, 3, 2, 2))
        dy = rng.standard_normal(x.shape)
        outs = sync([x[:2], x[2:]])
        dxs = sync.backward([dy[:2], dy[2:]])
        np.testing.assert_allclose(np.concatenate(outs), full(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.concatenate(dxs), full.backward(dy), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sync.running_mean, full.running_mean, rtol=1e-12)
    np.testing.assert_allclose(sync.running_var, full.running_var, rtol=1e-12)
    np.testing.assert_allclose(sync.weight.grad, full.weight.grad, rtol=1e-12)
    sync.eval()
    full.eval()
    x = unstandardized(rng, (3, 3, 2, 2))
    np.testing.assert_allclose(np.concatenate(sync([x[:1], x[1:]])), full(x), rtol=1e-12)
    dy = rng.standard_normal(x.shape)
    dxs = sync.backward([dy[:1], dy[1:]])
    np.testing.assert_allclose(np.concatenate(dxs), full.backward(dy), rtol=1e-12)


def split_rows(x, sizes):
    return np.split(x, np.cumsum(sizes)[:-1])


class ShardedBatchNorm(Module):
    """SyncBatchNorm seen from outside as one array in, one array out (for check_gradients)."""

    def __init__(self, sizes, num_features):
        self.sizes = sizes
        self.sync = SyncBatchNorm(num_features)

    def forward(self, x):
        return np.concatenate(self.sync(split_rows(x, self.sizes)))

    def backward(self, dy):
        return np.concatenate(self.sync.backward(split_rows(dy, self.sizes)))


def test_sync_batchnorm_gradients(rng):
    sizes = (1, 3, 2)

    def forward(x, gamma, beta):
        outs, cache = F.sync_batch_norm_forward(split_rows(x, sizes), gamma, beta)
        return np.concatenate(outs), cache

    def backward(dout, cache):
        dxs, dgamma, dbeta = F.sync_batch_norm_backward(split_rows(dout, sizes), cache)
        return np.concatenate(dxs), dgamma, dbeta

    inputs = {
        "x": unstandardized(rng, (6, 3, 2)),
        "gamma": 1 + rng.standard_normal(3),
        "beta": rng.standard_normal(3),
    }
    errors = check_function_gradients(forward, backward, inputs, rng)
    assert max(errors.values()) < TOL, errors

    module = ShardedBatchNorm(sizes, 3)
    module.sync.weight.data[...] = 1 + rng.standard_normal(3)
    errors = check_gradients(module, unstandardized(rng, (6, 3, 2)), rng)
    assert set(errors) == {"x", "sync.weight", "sync.bias"}
    assert max(errors.values()) < TOL, errors
