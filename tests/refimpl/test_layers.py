"""Linear, Conv2d, activations, Flatten, the cross-entropy loss and how modules compose."""

from __future__ import annotations

import numpy as np
import pytest

from refimpl import functional as F
from refimpl.gradcheck import check_function_gradients, check_gradients
from refimpl.nn import (
    SELU,
    BatchNorm1d,
    Conv2d,
    CrossEntropyLoss,
    Flatten,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

TOL = 1e-7


def unstandardized(rng, shape):
    return 3.0 + 5.0 * rng.standard_normal(shape)


def conv2d_by_loops(x, weight, bias, stride, padding):
    """Direct definition of a convolution, one output pixel at a time."""
    n, _, height, width = x.shape
    c_out, _, kh, kw = weight.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    h_out = (height + 2 * padding[0] - kh) // stride[0] + 1
    w_out = (width + 2 * padding[1] - kw) // stride[1] + 1
    out = np.zeros((n, c_out, h_out, w_out))
    for h in range(h_out):
        for w in range(w_out):
            top, left = h * stride[0], w * stride[1]
            window = x_pad[:, :, top : top + kh, left : left + kw]
            out[:, :, h, w] = np.einsum("ncij,ocij->no", window, weight) + bias
    return out


# -- Linear and Conv2d ------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(rng, bias):
    layer = Linear(4, 3, bias=bias, rng=rng)
    errors = check_gradients(layer, unstandardized(rng, (5, 4)), rng)
    assert set(errors) == {"x", "weight"} | ({"bias"} if bias else set())
    assert max(errors.values()) < TOL, errors


def test_linear_functional_gradients(rng):
    inputs = {
        "x": unstandardized(rng, (5, 4)),
        "weight": rng.standard_normal((3, 4)),
        "bias": rng.standard_normal(3),
    }
    errors = check_function_gradients(F.linear_forward, F.linear_backward, inputs, rng)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize(
    ("stride", "padding", "kernel"),
    [(1, 0, 3), (2, 1, 3), ((2, 1), (0, 2), (2, 3)), (3, 2, 2)],
)
def test_conv2d_gradients(rng, stride, padding, kernel):
    layer = Conv2d(2, 3, kernel, stride=stride, padding=padding, rng=rng)
    errors = check_gradients(layer, unstandardized(rng, (2, 2, 5, 6)), rng)
    assert set(errors) == {"x", "weight", "bias"}
    assert max(errors.values()) < TOL, errors


def test_conv2d_functional_gradients(rng):
    inputs = {
        "x": unstandardized(rng, (2, 3, 5, 4)),
        "weight": rng.standard_normal((2, 3, 3, 2)),
        "bias": None,
    }
    constants = {"stride": (2, 1), "padding": (1, 2)}
    errors = check_function_gradients(F.conv2d_forward, F.conv2d_backward, inputs, rng, constants)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize(("stride", "padding"), [((1, 1), (0, 0)), ((2, 3), (1, 2))])
def test_conv2d_matches_definition(rng, stride, padding):
    x = rng.standard_normal((2, 3, 7, 8))
    weight, bias = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out, _ = F.conv2d_forward(x, weight, bias, stride, padding)
    np.testing.assert_allclose(out, conv2d_by_loops(x, weight, bias, stride, padding), rtol=1e-12)


def test_col2im_is_the_adjoint_of_im2col(rng):
    # <im2col(x), c> = <x, col2im(c)> for all x, c: the backward pass of a gather is a scatter
    x = rng.standard_normal((2, 3, 6, 5))
    cols = F.im2col(x, (3, 2), (2, 1))
    c = rng.standard_normal(cols.shape)
    back = F.col2im(c, x.shape, (3, 2), (2, 1))
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)


@pytest.mark.parametrize(
    ("make_layer", "fan_in"),
    [
        (lambda rng: Linear(50, 400, rng=rng), 50),
        (lambda rng: Conv2d(8, 50, 3, rng=rng), 72),
    ],
)
def test_default_init_is_pytorchs_uniform(make_layer, fan_in):
    layer = make_layer(np.random.default_rng(3))
    bound = 1 / np.sqrt(fan_in)
    for parameter in (layer.weight, layer.bias):
        values = parameter.data
        assert np.all(np.abs(values) <= bound)
    # U(−b, b) has variance b²/3
    np.testing.assert_allclose(layer.weight.data.var(), bound**2 / 3, rtol=0.1)
    assert np.abs(layer.weight.data).max() > 0.95 * bound


def test_default_rng_is_deterministic_and_dtype_is_honoured():
    a, b = Linear(3, 2), Linear(3, 2)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.data.dtype == np.float64
    c = Linear(3, 2, rng=np.random.default_rng(1), dtype=np.float32)
    assert c.weight.data.dtype == c.bias.data.dtype == np.float32
    assert not np.array_equal(c.weight.data, a.weight.data.astype(np.float32))


def test_parameters_are_named_like_pytorch():
    assert [n for n, _ in Linear(2, 3).named_parameters()] == ["weight", "bias"]
    assert Linear(2, 3).weight.shape == (3, 2)
    assert Conv2d(2, 3, (3, 1)).weight.shape == (3, 2, 3, 1)
    assert Linear(2, 3, bias=False).bias is None


# -- activations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "scale"), [(ReLU(), 5.0), (Sigmoid(), 2.0), (Tanh(), 1.0), (SELU(), 3.0)]
)
def test_activation_gradients(rng, module, scale):
    x = scale * rng.standard_normal((4, 6))
    errors = check_gradients(module, x, rng)
    assert errors["x"] < TOL, errors


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "selu"])
def test_activation_functional_gradients(rng, name):
    forward, backward = getattr(F, f"{name}_forward"), getattr(F, f"{name}_backward")
    errors = check_function_gradients(
        forward, backward, {"x": 3 * rng.standard_normal((4, 6))}, rng
    )
    assert errors["x"] < TOL, errors


def test_activation_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(ReLU()(x), [0.0, 0.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(Sigmoid()(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(Tanh()(x), np.tanh(x))
    selu = np.where(x > 0, F.SELU_SCALE * x, F.SELU_SCALE * F.SELU_ALPHA * (np.exp(x) - 1))
    np.testing.assert_allclose(SELU()(x), selu, rtol=1e-15)


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise"):
        out = Sigmoid()(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_relu_gradient_at_zero_is_zero():
    relu = ReLU()
    relu(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(relu.backward(np.array([3.0, 3.0])), [0.0, 3.0])


# -- cross-entropy ------------------------------------------------------------------------------


def test_cross_entropy_gradients(rng):
    logits = unstandardized(rng, (5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    errors = check_function_gradients(
        F.softmax_cross_entropy_forward,
        F.softmax_cross_entropy_backward,
        {"logits": logits},
        rng,
        {"labels": labels},
    )
    assert errors["logits"] < TOL, errors


def test_cross_entropy_values(rng):
    logits = unstandardized(rng, (3, 4))
    labels = np.array([2, 0, 3])
    loss_fn = CrossEntropyLoss()
    loss = loss_fn(logits, labels)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, -log_probs[np.arange(3), labels].mean(), rtol=1e-13)
    dlogits = loss_fn.backward()
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-15)
    assert dlogits.shape == logits.shape


def test_cross_entropy_is_stable_for_huge_logits():
    loss_fn = CrossEntropyLoss()
    loss = loss_fn(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([1, 1]))
    np.testing.assert_allclose(loss, 500.0)
    assert np.isfinite(loss_fn.backward()).all()


# -- composition --------------------------------------------------------------------------------


def test_flatten_round_trip(rng):
    flatten = Flatten()
    x = rng.standard_normal((2, 3, 4, 5))
    assert flatten(x).shape == (2, 60)
    assert flatten.backward(np.ones((2, 60))).shape == x.shape
    assert Flatten(start_dim=2)(x).shape == (2, 3, 20)


def test_sequential_network_gradients(rng):
    model = Sequential(
        Conv2d(2, 3, 3, padding=1, bias=False, rng=rng),
        Flatten(),
        BatchNorm1d(3 * 4 * 4),
        Tanh(),
        Linear(48, 3, rng=rng),
    )
    errors = check_gradients(model, unstandardized(rng, (3, 2, 4, 4)), rng)
    assert len(errors) == 1 + 5  # x, conv weight, bn weight and bias, linear weight and bias
    assert max(errors.values()) < TOL, errors


def test_backward_adds_to_existing_gradients(rng):
    layer = Linear(3, 2, rng=rng)
    x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer(x)
    layer.backward(dy)
    layer.backward(dy)
    np.testing.assert_allclose(layer.weight.grad, 2 * dy.T @ x, rtol=1e-14)
    np.testing.assert_allclose(layer.bias.grad, 2 * dy.sum(axis=0), rtol=1e-14)


@pytest.mark.parametrize("first", ["linear", "relu"])
def test_backward_without_input_gradient_gives_the_same_parameter_gradients(rng, first):
    """``input_grad=False`` (the input is data) returns None and changes no parameter gradient."""

    def network():
        layers = [Linear(5, 4, rng=np.random.default_rng(1)), BatchNorm1d(4), ReLU()]
        layers += [Linear(4, 3, rng=np.random.default_rng(2))]
        return Sequential(ReLU(), *layers) if first == "relu" else Sequential(*layers)

    x, dy = unstandardized(rng, (6, 5)), rng.standard_normal((6, 3))
    with_dx, without_dx = network(), network()
    with_dx(x)
    without_dx(x)
    dx = with_dx.backward(dy)
    assert dx.shape == x.shape
    assert without_dx.backward(dy, input_grad=False) is None
    for a, b in zip(with_dx.parameters(), without_dx.parameters(), strict=True):
        np.testing.assert_array_equal(a.grad, b.grad)


def test_linear_backward_can_skip_the_input_gradient(rng):
    x, weight, dy = (
        rng.standard_normal((4, 3)),
        rng.standard_normal((2, 3)),
        rng.normal(size=(4, 2)),
    )
    _, cache = F.linear_forward(x, weight, np.zeros(2))
    dx, dweight, dbias = F.linear_backward(dy, cache)
    skipped, dweight_2, dbias_2 = F.linear_backward(dy, cache, input_grad=False)
    assert skipped is None
    np.testing.assert_array_equal(dweight, dweight_2)
    np.testing.assert_array_equal(dbias, dbias_2)
    np.testing.assert_allclose(dx, dy @ weight, rtol=1e-14)


def test_relu_backward_is_the_masked_upstream_gradient(rng):
    x, dy = rng.standard_normal((50, 7)), rng.standard_normal((50, 7))
    _, cache = F.relu_forward(x)
    dx = F.relu_backward(dy, cache)
    np.testing.assert_array_equal(dx, np.where(x > 0, dy, 0.0))
    assert dx.dtype == dy.dtype
