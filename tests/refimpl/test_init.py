r"""refimpl.nn.init: fans, gains, and the spread of large samples against theory.

A sample variance $s^2$ of $n$ draws has standard error $\sqrt{(\mu_4 - \sigma^4)/n}$; with
kurtosis $\mu_4/\sigma^4 = 3$ (normal) or $9/5$ (uniform), we accept
$|s^2/\sigma^2 - 1| < 6\sqrt{(\text{kurtosis} - 1)/n}$: six standard errors, so a correct
initializer fails with probability below $10^{-8}$ while a wrong gain (one that is 7% or more
off in variance, for the shapes below) is caught.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from refimpl.nn import init
from refimpl.nn.module import Module, Parameter

KURTOSIS = {"normal": 3.0, "uniform": 9.0 / 5.0}


def assert_variance(w: np.ndarray, expected_var: float, distribution: str) -> None:
    n = w.size
    tolerance = 6 * math.sqrt((KURTOSIS[distribution] - 1) / n)
    ratio = np.mean(w**2) / expected_var  # the mean is 0 by construction
    assert abs(ratio - 1) < tolerance, (ratio, tolerance)
    # and the mean is zero within six standard errors
    assert abs(w.mean()) < 6 * math.sqrt(expected_var / n)


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((10, 20), (20, 10)), ((8, 3, 5, 5), (75, 200)), ((4, 6, 3), (18, 12))],
)
def test_fans(shape, fans):
    assert init.fan_in_and_fan_out(shape) == fans


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.fan_in_and_fan_out((5,))


@pytest.mark.parametrize("shape", [(10, 20), (8, 3, 5, 5), (4, 6, 3), (1, 1)])
def test_fans_match_torch(torch, shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == expected


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
        ("conv2d", None),
    ],
)
def test_gain_matches_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15
    )


def test_unknown_gain():
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("gelu")


LINEAR = (256, 512)  # fan_in 512, fan_out 256
CONV = (64, 32, 3, 3)  # fan_in 288, fan_out 576


@pytest.mark.parametrize("shape", [LINEAR, CONV])
def test_spreads_match_theory(shape):
    rng = np.random.default_rng(0)
    fan_in, fan_out = init.fan_in_and_fan_out(shape)
    cases = [
        (init.normal(shape, 0.01, rng), 0.01**2, "normal"),
        (init.xavier_normal(shape, rng), 2 / (fan_in + fan_out), "normal"),
        (init.xavier_uniform(shape, rng), 2 / (fan_in + fan_out), "uniform"),
        (
            init.xavier_normal(shape, rng, gain=5 / 3),
            (5 / 3) ** 2 * 2 / (fan_in + fan_out),
            "normal",
        ),
        (init.kaiming_normal(shape, rng), 2 / fan_in, "normal"),
        (init.he_normal(shape, rng, mode="fan_out"), 2 / fan_out, "normal"),
        (init.kaiming_uniform(shape, rng), 2 / fan_in, "uniform"),
        (init.kaiming_uniform(shape, rng, a=math.sqrt(5)), 1 / (3 * fan_in), "uniform"),
        (init.kaiming_normal(shape, rng, nonlinearity="tanh"), (5 / 3) ** 2 / fan_in, "normal"),
        (init.lecun_normal(shape, rng), 1 / fan_in, "normal"),
    ]
    for w, expected_var, distribution in cases:
        assert w.shape == shape
        assert w.dtype == np.float64
        assert_variance(w, expected_var, distribution)


def test_uniform_bounds():
    rng = np.random.default_rng(1)
    w = init.xavier_uniform(LINEAR, rng)
    bound = math.sqrt(6 / (512 + 256))
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # and the whole interval is used
    w = init.kaiming_uniform(CONV, rng)
    assert np.abs(w).max() <= math.sqrt(6 / 288)


def test_seeded_and_dtype():
    a = init.kaiming_normal((5, 7), np.random.default_rng(3))
    b = init.kaiming_normal((5, 7), np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    c = init.kaiming_normal((5, 7), np.random.default_rng(3), dtype=np.float32)
    assert c.dtype == np.float32
    np.testing.assert_array_equal(c, a.astype(np.float32))


def test_bad_arguments():
    with pytest.raises(TypeError, match="Generator"):
        init.normal((3, 3), 0.01, rng=0)
    with pytest.raises(ValueError, match="std"):
        init.normal((3, 3), -1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal((3, 3), np.random.default_rng(0), mode="fan_avg")


# Stand-ins with the class names init_weights looks for, so this test needs only Module.
class Linear(Module):
    def __init__(self, n_in: int, n_out: int, bias: bool = True) -> None:
        self.weight = Parameter(np.ones((n_out, n_in)))
        self.bias = Parameter(np.ones(n_out)) if bias else None


class Conv2d(Module):
    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        self.weight = Parameter(np.ones((c_out, c_in, k, k), dtype=np.float32))
        self.bias = Parameter(np.ones(c_out, dtype=np.float32))


class Norm(Module):
    def __init__(self, n: int) -> None:
        self.weight = Parameter(np.ones(n))
        self.bias = Parameter(np.ones(n))


class Net(Module):
    def __init__(self) -> None:
        self.conv = Conv2d(3, 16, 3)
        self.norm = Norm(16)
        self.layers = [Linear(400, 300), Linear(300, 10, bias=False)]


def test_init_weights_normal():
    model = Net()
    weight = model.layers[0].weight.data
    assert init.init_weights(model, "normal", np.random.default_rng(0), std=0.01) is model
    assert model.layers[0].weight.data is weight  # overwritten in place
    assert_variance(model.layers[0].weight.data, 0.01**2, "normal")
    np.testing.assert_array_equal(model.layers[0].bias.data, 0.0)
    np.testing.assert_array_equal(model.conv.bias.data, 0.0)
    assert model.conv.weight.data.dtype == np.float32
    # normalization parameters are not touched
    np.testing.assert_array_equal(model.norm.weight.data, 1.0)
    np.testing.assert_array_equal(model.norm.bias.data, 1.0)


def test_init_weights_schemes_and_seed():
    model = init.init_weights(Net(), "he_normal", np.random.default_rng(0))
    assert_variance(model.layers[0].weight.data, 2 / 400, "normal")
    model = init.init_weights(Net(), "xavier_uniform", np.random.default_rng(0))
    assert_variance(model.layers[0].weight.data, 2 / 700, "uniform")
    a = init.init_weights(Net(), "kaiming_uniform", np.random.default_rng(5))
    b = init.init_weights(Net(), "kaiming_uniform", np.random.default_rng(5))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_init_weights_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="needs std"):
        init.init_weights(Net(), "normal", rng)
    with pytest.raises(ValueError, match="only used with"):
        init.init_weights(Net(), "xavier_normal", rng, std=0.1)
    with pytest.raises(ValueError, match="unknown scheme"):
        init.init_weights(Net(), "glorot", rng)


def test_init_weights_on_refimpl_layers():
    layers = pytest.importorskip("refimpl.nn.layers")
    from refimpl.nn.module import Sequential

    model = Sequential(layers.Linear(300, 200), layers.ReLU(), layers.Linear(200, 10))
    init.init_weights(model, "kaiming_normal", np.random.default_rng(0))
    assert model[0].weight.data.shape == (200, 300)  # (out, in), as in PyTorch
    assert_variance(model[0].weight.data, 2 / 300, "normal")
    np.testing.assert_array_equal(model[0].bias.data, 0.0)
