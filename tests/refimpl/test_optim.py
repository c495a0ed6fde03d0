"""refimpl.optim against torch.optim: same start, same gradients, same trajectory (float64).

The `torch` fixture (tests/refimpl/conftest.py) skips without torch, except on CI.
"""

from __future__ import annotations

import numpy as np
import pytest

from refimpl.nn.module import Module, Parameter
from refimpl.optim import SGD, Adagrad, Adam, AdamW, RMSprop, split_decay_groups

OPTIMIZERS = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}
SHAPES = [(3, 4), (4,), (2, 3, 2, 2)]
STEPS = 6


def gradient(theta: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """A gradient that depends on the current parameters, so trajectories can diverge."""
    return 0.5 * theta - 0.3 * theta**3 + noise


def run_refimpl(name, groups_kwargs, kwargs, start, noises):
    params = [Parameter(x) for x in start]
    groups = [{"params": [params[i] for i in indices], **extra} for indices, extra in groups_kwargs]
    optimizer = OPTIMIZERS[name](groups, **kwargs)
    for noise in noises:
        optimizer.zero_grad()
        for p, e in zip(params, noise, strict=True):
            p.grad += gradient(p.data, e)
        optimizer.step()
    return [p.data for p in params]


def run_torch(torch, name, groups_kwargs, kwargs, start, noises):
    params = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    groups = [{"params": [params[i] for i in indices], **extra} for indices, extra in groups_kwargs]
    optimizer = getattr(torch.optim, name)(groups, **kwargs)
    for noise in noises:
        for p, e in zip(params, noise, strict=True):
            p.grad = torch.from_numpy(gradient(p.detach().numpy(), e))
        optimizer.step()
    return [p.detach().numpy() for p in params]


def make_problem(seed: int):
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(shape) for shape in SHAPES]
    noises = [[0.1 * rng.standard_normal(shape) for shape in SHAPES] for _ in range(STEPS)]
    return start, noises


ONE_GROUP = [((0, 1, 2), {})]
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-6}),
    ("RMSprop", {}),
    ("RMSprop", {"weight_decay": 0.05}),
    ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.05}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.0}),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=lambda c: str(c))
def test_matches_torch(torch, name, kwargs):
    start, noises = make_problem(0)
    ours = run_refimpl(name, ONE_GROUP, kwargs, start, noises)
    theirs = run_torch(torch, name, ONE_GROUP, kwargs, start, noises)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # the parameters really moved, so the comparison is not vacuous
    assert not np.allclose(ours[0], start[0])


GROUP_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.05}),
    ("RMSprop", {"momentum": 0.5, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
]


@pytest.mark.parametrize(("name", "kwargs"), GROUP_CASES, ids=lambda c: str(c))
def test_parameter_groups_match_torch(torch, name, kwargs):
    """Per-group lr and weight_decay override the defaults, as in PyTorch."""
    groups = [((0, 2), {}), ((1,), {"lr": 0.3 * kwargs.get("lr", 0.01), "weight_decay": 0.0})]
    start, noises = make_problem(1)
    ours = run_refimpl(name, groups, kwargs, start, noises)
    theirs = run_torch(torch, name, groups, kwargs, start, noises)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_groups_use_their_own_hyperparameters():
    """A group with lr = 0 does not move; the other does."""
    start, noises = make_problem(2)
    frozen, moving, _ = run_refimpl(
        "SGD", [((0,), {"lr": 0.0}), ((1, 2), {})], {"lr": 0.1}, start, noises
    )
    np.testing.assert_array_equal(frozen, start[0])
    assert not np.allclose(moving, start[1])


def test_adamw_differs_from_adam_with_l2():
    start, noises = make_problem(3)
    adam = run_refimpl("Adam", ONE_GROUP, {"lr": 0.01, "weight_decay": 0.1}, start, noises)
    adamw = run_refimpl("AdamW", ONE_GROUP, {"lr": 0.01, "weight_decay": 0.1}, start, noises)
    assert np.abs(adam[0] - adamw[0]).max() > 1e-4
    # without decay the two are the same algorithm
    adam = run_refimpl("Adam", ONE_GROUP, {"lr": 0.01}, start, noises)
    adamw = run_refimpl("AdamW", ONE_GROUP, {"lr": 0.01, "weight_decay": 0.0}, start, noises)
    np.testing.assert_array_equal(adam[0], adamw[0])


def test_sgd_first_step_by_hand():
    w = Parameter(np.array([1.0, -2.0]))
    optimizer = SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    w.grad[...] = [0.5, 0.5]
    optimizer.step()
    # g = 0.5 + 0.5 θ = [1.0, -0.5];  b = g;  θ − 0.1 b
    np.testing.assert_allclose(w.data, [0.9, -1.95], rtol=0, atol=1e-15)
    np.testing.assert_allclose(optimizer.state[w]["momentum_buffer"], [1.0, -0.5])


def test_adamw_two_steps_by_hand_with_a_nonzero_gradient():
    """Decoupled decay multiplies θ by (1 − lr λ) *before* the Adam step, every step; the
    gradient is not zero, so the Adam step moves θ too and the order of the two is visible."""
    lr, weight_decay, beta1, beta2, eps = 0.1, 0.5, 0.9, 0.999, 1e-8
    w = Parameter(np.array([1.0, -2.0]))
    optimizer = AdamW([w], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    grads = [np.array([0.5, -1.0]), np.array([-0.25, 2.0])]
    theta, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(grads, start=1):
        w.grad[...] = g
        optimizer.step()
        theta = theta * (1 - lr * weight_decay)  # decay first
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(w.data, theta, rtol=1e-14)
    # step 1 by hand: θ = (1 − 0.05) θ₀ − 0.1 sign(g₁)
    decay_after = (np.array([1.0, -2.0]) - lr * np.sign(grads[0])) * (1 - lr * weight_decay)
    assert np.abs(decay_after - np.array([0.85, -1.8])).max() > 1e-3  # the other order differs


def test_float32_parameters_stay_float32():
    for name in OPTIMIZERS:
        p = Parameter(np.ones((2, 2), dtype=np.float32))
        p.grad[...] = 0.5
        OPTIMIZERS[name]([p], weight_decay=0.01).step()
        assert p.data.dtype == np.float32, name


def test_step_updates_in_place_and_zero_grad_clears():
    p = Parameter(np.ones(3))
    data = p.data
    optimizer = Adam([p])
    p.grad[...] = 1.0
    optimizer.step()
    assert p.data is data
    optimizer.zero_grad()
    np.testing.assert_array_equal(p.grad, 0.0)


class Toy(Module):
    def __init__(self) -> None:
        self.weight = Parameter(np.ones((3, 4)), "weight")
        self.bias = Parameter(np.zeros(3), "bias")
        self.gamma = Parameter(np.ones(3), "gamma")
        self.kernel = Parameter(np.ones((2, 3, 3, 3)), "kernel")


def test_split_decay_groups():
    model = Toy()
    decay, no_decay = split_decay_groups(model, 0.05)
    assert [p.name for p in decay["params"]] == ["weight", "kernel"]
    assert [p.name for p in no_decay["params"]] == ["bias", "gamma"]
    assert decay["weight_decay"] == 0.05
    assert no_decay["weight_decay"] == 0.0
    optimizer = AdamW(split_decay_groups(model, 0.05), lr=0.1)
    assert [group["weight_decay"] for group in optimizer.param_groups] == [0.05, 0.0]
    optimizer.step()  # zero gradients: only decay moves the parameters
    np.testing.assert_allclose(model.weight.data, 1 - 0.1 * 0.05)
    np.testing.assert_array_equal(model.gamma.data, 1.0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: SGD(p, lr=-0.1), "lr"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), "momentum"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-1e-4), "weight_decay"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "Nesterov"),
        (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda p: AdamW(p, betas=(0.9,)), "two values"),
        (lambda p: Adam(p, eps=0.0), "eps"),
        (lambda p: AdamW(p, eps=-1e-8), "eps"),
        (lambda p: RMSprop(p, alpha=-0.1), "alpha"),
        (lambda p: RMSprop(p, eps=0.0), "eps"),
        (lambda p: Adagrad(p, lr_decay=-1.0), "lr_decay"),
        (lambda p: Adagrad(p, initial_accumulator_value=-1.0), "initial_accumulator_value"),
        (lambda p: SGD([{"params": p, "lr": -1.0}], lr=0.1), "lr"),
        (lambda p: SGD([{"params": p, "weight_dacay": 0.1}], lr=0.1), "unknown key"),
        (lambda p: SGD([{"lr": 0.1}], lr=0.1), "'params'"),
        (lambda p: SGD([], lr=0.1), "empty parameter list"),
        (lambda p: SGD([*p, p[0]], lr=0.1), "more than once"),
        (lambda p: SGD([{"params": p}, {"params": p[:1]}], lr=0.1), "more than once"),
    ],
)
def test_invalid_arguments_raise_value_error(make, message):
    params = [Parameter(np.zeros(2)), Parameter(np.zeros(3))]
    with pytest.raises(ValueError, match=message):
        make(params)


def test_non_parameters_raise_type_error():
    with pytest.raises(TypeError, match=r"model\.parameters\(\)"):
        SGD(Toy(), lr=0.1)
    with pytest.raises(TypeError, match="Parameters"):
        SGD([np.zeros(3)], lr=0.1)
