"""Parity with PyTorch in float64: same outputs, gradients and running statistics to 1e-10.

torch is only the oracle here; refimpl never imports it. The `torch` fixture (conftest.py)
skips these tests on a machine without torch, and fails them in CI.
"""

from __future__ import annotations

import numpy as np
import pytest

from refimpl import functional as F
from refimpl import nn

RTOL, ATOL = 1e-10, 1e-10


def close(ours, theirs):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def unstandardized(rng, shape):
    return 3.0 + 5.0 * rng.standard_normal(shape)


def tensor(torch, array, grad=False):
    return torch.tensor(array, dtype=torch.float64, requires_grad=grad)


def copy_parameters(torch, ours, theirs):
    """Copy our parameters into a torch module, by name."""
    with torch.no_grad():
        for name, parameter in ours.named_parameters():
            getattr(theirs, name).copy_(torch.from_numpy(parameter.data))


def forward_backward(torch, ours, theirs, x, dy):
    """Run both modules on the same input and upstream gradient; compare out, dx and grads."""
    ours.zero_grad()
    theirs.zero_grad()
    out = ours(x)
    dx = ours.backward(dy)
    x_t = tensor(torch, x, grad=True)
    out_t = theirs(x_t)
    out_t.backward(tensor(torch, dy))
    close(out, out_t)
    close(dx, x_t.grad)
    for name, parameter in ours.named_parameters():
        close(parameter.grad, getattr(theirs, name).grad)


# -- batch norm -------------------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.1, 0.35, None])
@pytest.mark.parametrize(
    ("dims", "shape"), [(1, (8, 3)), (1, (4, 3, 5)), (2, (4, 3, 3, 2))], ids=["1d", "1d-L", "2d"]
)
def test_batchnorm_training_running_stats_and_eval(torch, rng, momentum, dims, shape):
    ours = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(3, momentum=momentum)
    theirs = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(
        3, momentum=momentum, dtype=torch.float64
    )
    ours.weight.data[...] = rng.normal(1.0, 0.5, 3)
    ours.bias.data[...] = rng.standard_normal(3)
    copy_parameters(torch, ours, theirs)
    for _ in range(4):
        forward_backward(
            torch, ours, theirs, unstandardized(rng, shape), rng.standard_normal(shape)
        )
        close(ours.running_mean, theirs.running_mean)
        close(ours.running_var, theirs.running_var)
        assert ours.num_batches_tracked == theirs.num_batches_tracked.item()
    ours.eval()
    theirs.eval()
    forward_backward(torch, ours, theirs, unstandardized(rng, shape), rng.standard_normal(shape))


@pytest.mark.parametrize(
    "options",
    [{"affine": False}, {"track_running_stats": False}, {"eps": 1e-3, "momentum": 1.0}],
    ids=lambda options: ",".join(f"{k}={v}" for k, v in options.items()),
)
def test_batchnorm_options(torch, rng, options):
    ours = nn.BatchNorm2d(2, **options)
    theirs = torch.nn.BatchNorm2d(2, dtype=torch.float64, **options)
    shape = (3, 2, 2, 2)
    for mode in ("train", "train", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        forward_backward(
            torch, ours, theirs, unstandardized(rng, shape), rng.standard_normal(shape)
        )
    if ours.track_running_stats:
        close(ours.running_var, theirs.running_var)
    else:
        assert ours.running_mean is None and theirs.running_mean is None


def test_functional_batchnorm_matches_torch_functional(torch, rng):
    x = unstandardized(rng, (5, 4, 3))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    dy = rng.standard_normal(x.shape)
    out, cache = F.batch_norm_forward(x, gamma, beta)
    dx, dgamma, dbeta = F.batch_norm_backward(dy, cache)
    x_t, g_t, b_t = tensor(torch, x, True), tensor(torch, gamma, True), tensor(torch, beta, True)
    out_t = torch.nn.functional.batch_norm(x_t, None, None, g_t, b_t, training=True, eps=1e-5)
    out_t.backward(tensor(torch, dy))
    close(out, out_t)
    close(dx, x_t.grad)
    close(dgamma, g_t.grad)
    close(dbeta, b_t.grad)


def test_folded_batchnorm_matches_torch_conv_then_bn(torch, rng):
    conv_t = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=torch.float64)
    bn_t = torch.nn.BatchNorm2d(4, dtype=torch.float64)
    with torch.no_grad():
        bn_t.weight.copy_(torch.from_numpy(rng.normal(1.0, 0.5, 4)))
        bn_t.bias.copy_(torch.from_numpy(rng.standard_normal(4)))
        for _ in range(3):
            bn_t(conv_t(tensor(torch, unstandardized(rng, (4, 3, 6, 6)))))
    bn_t.eval()
    weight, bias = F.fold_batch_norm(
        conv_t.weight.detach().numpy(),
        conv_t.bias.detach().numpy(),
        bn_t.running_mean.numpy(),
        bn_t.running_var.numpy(),
        bn_t.weight.detach().numpy(),
        bn_t.bias.detach().numpy(),
        bn_t.eps,
    )
    x = unstandardized(rng, (2, 3, 6, 6))
    folded, _ = F.conv2d_forward(x, weight, bias, stride=2, padding=1)
    with torch.no_grad():
        close(folded, bn_t(conv_t(tensor(torch, x))))


# -- other normalizations -----------------------------------------------------------------------


@pytest.mark.parametrize(("normalized_shape", "shape"), [(5, (4, 5)), ((3, 2), (2, 4, 3, 2))])
def test_layer_norm(torch, rng, normalized_shape, shape):
    ours = nn.LayerNorm(normalized_shape)
    theirs = torch.nn.LayerNorm(normalized_shape, dtype=torch.float64)
    for parameter in ours.parameters():
        parameter.data[...] = rng.normal(1.0, 0.5, parameter.shape)
    copy_parameters(torch, ours, theirs)
    forward_backward(torch, ours, theirs, unstandardized(rng, shape), rng.standard_normal(shape))


@pytest.mark.parametrize(("groups", "shape"), [(2, (3, 4, 5)), (3, (2, 6, 2, 3)), (1, (2, 4))])
def test_group_norm(torch, rng, groups, shape):
    ours = nn.GroupNorm(groups, shape[1])
    theirs = torch.nn.GroupNorm(groups, shape[1], dtype=torch.float64)
    for parameter in ours.parameters():
        parameter.data[...] = rng.normal(1.0, 0.5, parameter.shape)
    copy_parameters(torch, ours, theirs)
    forward_backward(torch, ours, theirs, unstandardized(rng, shape), rng.standard_normal(shape))


@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm(torch, rng, affine):
    ours = nn.InstanceNorm2d(3, affine=affine)
    theirs = torch.nn.InstanceNorm2d(3, affine=affine, dtype=torch.float64)
    for parameter in ours.parameters():
        parameter.data[...] = rng.normal(1.0, 0.5, parameter.shape)
    copy_parameters(torch, ours, theirs)
    shape = (2, 3, 4, 3)
    forward_backward(torch, ours, theirs, unstandardized(rng, shape), rng.standard_normal(shape))


def test_weight_norm(torch, rng):
    v, g = rng.standard_normal((3, 4)), rng.uniform(0.5, 2, 3)
    dw = rng.standard_normal(v.shape)
    w, cache = F.weight_norm_forward(v, g)
    dv, dg = F.weight_norm_backward(dw, cache)
    v_t, g_t = tensor(torch, v, True), tensor(torch, g[:, None], True)
    w_t = torch._weight_norm(v_t, g_t, 0)
    w_t.backward(tensor(torch, dw))
    close(w, w_t)
    close(dv, v_t.grad)
    close(dg, g_t.grad[:, 0])


# -- layers -------------------------------------------------------------------------------------


def test_linear(torch, rng):
    ours = nn.Linear(4, 3, rng=rng)
    theirs = torch.nn.Linear(4, 3, dtype=torch.float64)
    copy_parameters(torch, ours, theirs)
    forward_backward(torch, ours, theirs, unstandardized(rng, (5, 4)), rng.standard_normal((5, 3)))


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "bias"),
    [(3, 1, 0, True), (3, 2, 1, True), ((2, 3), (2, 1), (1, 2), False), (1, 1, 0, True)],
)
def test_conv2d(torch, rng, kernel, stride, padding, bias):
    ours = nn.Conv2d(3, 4, kernel, stride=stride, padding=padding, bias=bias, rng=rng)
    theirs = torch.nn.Conv2d(
        3, 4, kernel, stride=stride, padding=padding, bias=bias, dtype=torch.float64
    )
    copy_parameters(torch, ours, theirs)
    x = unstandardized(rng, (2, 3, 7, 6))
    with torch.no_grad():
        out_shape = theirs(tensor(torch, x)).shape
    forward_backward(torch, ours, theirs, x, rng.standard_normal(tuple(out_shape)))


@pytest.mark.parametrize("name", ["SELU", "ReLU", "Sigmoid", "Tanh"])
def test_activations(torch, rng, name):
    x = 3 * rng.standard_normal((4, 5))
    forward_backward(
        torch, getattr(nn, name)(), getattr(torch.nn, name)(), x, rng.standard_normal(x.shape)
    )


def test_alpha_dropout_matches_torch(torch):
    # a unit is either kept, a·x + b, or dropped, a·α' + b: the same two values in both
    p = 0.3
    x = np.tile(np.linspace(-2, 2, 9), (500, 1))
    ours, _ = F.alpha_dropout_forward(x, p, np.random.default_rng(0))
    torch.manual_seed(0)
    theirs = torch.nn.functional.alpha_dropout(tensor(torch, x), p, training=True).numpy()
    for column in range(x.shape[1]):
        assert set(np.round(ours[:, column], 10)) == set(np.round(theirs[:, column], 10))
        assert len(set(np.round(ours[:, column], 10))) == 2


def test_cross_entropy(torch, rng):
    logits = unstandardized(rng, (6, 4))
    labels = np.array([0, 3, 2, 2, 1, 0])
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(logits, labels)
    dlogits = loss_fn.backward()
    logits_t = tensor(torch, logits, True)
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.from_numpy(labels))
    loss_t.backward()
    np.testing.assert_allclose(loss, loss_t.item(), rtol=RTOL)
    close(dlogits, logits_t.grad)


def test_mlp_with_batchnorm_end_to_end(torch, rng):
    ours = nn.Sequential(
        nn.Linear(5, 8, bias=False, rng=rng), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3, rng=rng)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 8, bias=False),
        torch.nn.BatchNorm1d(8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    ).double()
    with torch.no_grad():
        for (_, ours_param), theirs_param in zip(
            ours.named_parameters(), theirs.parameters(), strict=True
        ):
            theirs_param.copy_(torch.from_numpy(ours_param.data))
    x = unstandardized(rng, (10, 5))
    labels = rng.integers(0, 3, 10)
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(ours(x), labels)
    ours.backward(loss_fn.backward())
    x_t = tensor(torch, x, True)
    loss_t = torch.nn.functional.cross_entropy(theirs(x_t), torch.from_numpy(labels))
    loss_t.backward()
    np.testing.assert_allclose(loss, loss_t.item(), rtol=RTOL)
    for (_, ours_param), theirs_param in zip(
        ours.named_parameters(), theirs.parameters(), strict=True
    ):
        close(ours_param.grad, theirs_param.grad)
