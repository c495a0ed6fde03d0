"""Layer, group, instance and weight norm: gradients and what each one normalizes over."""

from __future__ import annotations

import numpy as np
import pytest

from refimpl import functional as F
from refimpl.gradcheck import check_function_gradients, check_gradients
from refimpl.nn import GroupNorm, InstanceNorm2d, LayerNorm, Linear, WeightNormLinear

TOL = 1e-7


def unstandardized(rng, shape):
    return 3.0 + 5.0 * rng.standard_normal(shape)


def randomize_parameters(module, rng):
    for parameter in module.parameters():
        parameter.data[...] = rng.normal(1.0, 0.5, parameter.shape)
    return module


# -- gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "normalized_shape"), [((4, 5), 5), ((3, 2, 4), (4,)), ((3, 2, 3, 2), (3, 2))]
)
def test_layer_norm_functional_gradients(rng, shape, normalized_shape):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    inputs = {
        "x": unstandardized(rng, shape),
        "gamma": rng.normal(1.0, 0.5, ns),
        "beta": rng.standard_normal(ns),
    }
    errors = check_function_gradients(
        F.layer_norm_forward,
        F.layer_norm_backward,
        inputs,
        rng,
        {"normalized_shape": normalized_shape},
    )
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize(("shape", "groups"), [((3, 4, 5), 2), ((2, 6, 2, 3), 3), ((2, 4), 1)])
def test_group_norm_functional_gradients(rng, shape, groups):
    c = shape[1]
    inputs = {
        "x": unstandardized(rng, shape),
        "gamma": rng.normal(1.0, 0.5, c),
        "beta": rng.standard_normal(c),
    }
    errors = check_function_gradients(
        F.group_norm_forward, F.group_norm_backward, inputs, rng, {"num_groups": groups}
    )
    assert max(errors.values()) < TOL, errors


def test_instance_norm_functional_gradients(rng):
    inputs = {
        "x": unstandardized(rng, (2, 3, 3, 2)),
        "gamma": rng.normal(1.0, 0.5, 3),
        "beta": rng.standard_normal(3),
    }
    errors = check_function_gradients(
        F.instance_norm_forward, F.instance_norm_backward, inputs, rng
    )
    assert max(errors.values()) < TOL, errors


def test_weight_norm_functional_gradients(rng):
    for shape in [(3, 4), (2, 3, 2, 2)]:
        inputs = {"v": unstandardized(rng, shape), "g": unstandardized(rng, shape[0])}
        errors = check_function_gradients(
            F.weight_norm_forward, F.weight_norm_backward, inputs, rng
        )
        assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize(
    ("make_module", "shape"),
    [
        (lambda: LayerNorm(5), (4, 5)),
        (lambda: LayerNorm((2, 3)), (3, 4, 2, 3)),
        (lambda: LayerNorm(4, elementwise_affine=False), (3, 4)),
        (lambda: LayerNorm(4, bias=False), (3, 4)),
        (lambda: GroupNorm(2, 4), (3, 4, 2, 2)),
        (lambda: GroupNorm(3, 3, affine=False), (2, 3, 4)),
        (lambda: InstanceNorm2d(3), (2, 3, 2, 3)),
        (lambda: InstanceNorm2d(3, affine=True), (2, 3, 2, 3)),
        (lambda: WeightNormLinear(4, 3, rng=np.random.default_rng(1)), (5, 4)),
        (lambda: WeightNormLinear(4, 3, bias=False, rng=np.random.default_rng(1)), (5, 4)),
    ],
)
def test_module_gradients(rng, make_module, shape):
    module = randomize_parameters(make_module(), rng)
    errors = check_gradients(module, unstandardized(rng, shape), rng)
    expected = {"x"} | {name for name, _ in module.named_parameters()}
    assert set(errors) == expected
    assert max(errors.values()) < TOL, errors


# -- what is normalized -------------------------------------------------------------------------


def test_layer_norm_normalizes_each_sample(rng):
    x = unstandardized(rng, (4, 3, 5))
    out = LayerNorm((3, 5))(x)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(1, 2)), 1.0, rtol=1e-5)
    # a sample's output does not depend on the others: same in a batch of one
    np.testing.assert_allclose(LayerNorm((3, 5))(x[1:2]), out[1:2], rtol=1e-14)


def test_layer_norm_affine_is_elementwise(rng):
    ln = LayerNorm(3)
    ln.weight.data[...] = [1.0, 2.0, 3.0]
    ln.bias.data[...] = [0.0, 1.0, 0.0]
    x = unstandardized(rng, (2, 3))
    x_hat = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x), x_hat * [1.0, 2.0, 3.0] + [0.0, 1.0, 0.0], rtol=1e-12)


def test_group_norm_normalizes_each_group(rng):
    x = unstandardized(rng, (3, 6, 4))
    out = GroupNorm(3, 6)(x)
    grouped = out.reshape(3, 3, 8)
    np.testing.assert_allclose(grouped.mean(axis=2), 0.0, atol=1e-12)
    np.testing.assert_allclose(grouped.var(axis=2), 1.0, rtol=1e-5)


def test_instance_norm_is_group_norm_with_one_group_per_channel(rng):
    x = unstandardized(rng, (2, 3, 4, 4))
    instance = InstanceNorm2d(3)
    group = GroupNorm(3, 3, affine=False)
    np.testing.assert_allclose(instance(x), group(x), rtol=1e-14)
    np.testing.assert_allclose(instance(x).mean(axis=(2, 3)), 0.0, atol=1e-12)
    assert instance.weight is None and list(instance.parameters()) == []
    dy = rng.standard_normal(x.shape)
    np.testing.assert_allclose(instance.backward(dy), group.backward(dy), rtol=1e-14)


def test_group_norm_with_one_group_equals_layer_norm_without_affine(rng):
    x = unstandardized(rng, (3, 4, 2, 2))
    gn = GroupNorm(1, 4, affine=False)
    ln = LayerNorm((4, 2, 2), elementwise_affine=False)
    np.testing.assert_allclose(gn(x), ln(x), rtol=1e-13)


def test_norms_behave_the_same_in_train_and_eval(rng):
    x = unstandardized(rng, (2, 4, 3, 3))
    for module in [LayerNorm((4, 3, 3)), GroupNorm(2, 4), InstanceNorm2d(4)]:
        np.testing.assert_array_equal(module.train()(x), module.eval()(x))


# -- weight norm --------------------------------------------------------------------------------


def test_weight_norm_separates_length_and_direction(rng):
    v = unstandardized(rng, (3, 5))
    g = np.array([0.5, 2.0, 3.0])
    w, cache = F.weight_norm_forward(v, g)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), np.abs(g), rtol=1e-14)
    np.testing.assert_allclose(w / np.linalg.norm(w, axis=1, keepdims=True), cache.direction)
    # the gradient of v is orthogonal to v: it turns the direction, not the length
    dv, _ = F.weight_norm_backward(rng.standard_normal(v.shape), cache)
    np.testing.assert_allclose((dv * v).sum(axis=1), 0.0, atol=1e-12)


def test_weight_norm_linear_starts_as_linear():
    layer = WeightNormLinear(4, 3, rng=np.random.default_rng(5))
    plain = Linear(4, 3, rng=np.random.default_rng(5))
    np.testing.assert_allclose(layer.weight, plain.weight.data, rtol=1e-14)
    np.testing.assert_allclose(layer.weight_g.data, np.linalg.norm(plain.weight.data, axis=1))
    x = np.random.default_rng(0).standard_normal((2, 4))
    np.testing.assert_allclose(layer(x), plain(x), rtol=1e-14)
    assert [n for n, _ in layer.named_parameters()] == ["weight_g", "weight_v", "bias"]


def test_float32_in_float32_out(rng):
    x = unstandardized(rng, (2, 4, 3)).astype(np.float32)
    for module in [LayerNorm(3, dtype=np.float32), GroupNorm(2, 4, dtype=np.float32)]:
        out = module(x)
        dx = module.backward(np.ones_like(out))
        assert out.dtype == dx.dtype == module.weight.grad.dtype == np.float32
