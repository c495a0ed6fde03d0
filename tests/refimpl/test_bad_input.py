"""Bad input stops with a clear exception that names the problem; never a NaN or a broadcast."""

from __future__ import annotations

import numpy as np
import pytest

from refimpl import functional as F
from refimpl.nn import (
    SELU,
    AlphaDropout,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm,
    Linear,
    ReLU,
    Sigmoid,
    SyncBatchNorm,
    Tanh,
    WeightNormLinear,
)

ONE_VALUE = "Expected more than 1 value per channel when training"

# (module factory, a valid float64 input)
MODULES = {
    "Linear": (lambda: Linear(3, 2), (4, 3)),
    "Conv2d": (lambda: Conv2d(2, 3, 2), (2, 2, 4, 4)),
    "BatchNorm1d": (lambda: BatchNorm1d(3), (4, 3)),
    "BatchNorm2d": (lambda: BatchNorm2d(2), (2, 2, 3, 3)),
    "BatchNorm2d-eval": (lambda: BatchNorm2d(2).eval(), (2, 2, 3, 3)),
    "LayerNorm": (lambda: LayerNorm(3), (4, 3)),
    "GroupNorm": (lambda: GroupNorm(2, 4), (2, 4, 3)),
    "InstanceNorm2d": (lambda: InstanceNorm2d(2), (2, 2, 3, 3)),
    "WeightNormLinear": (lambda: WeightNormLinear(3, 2), (4, 3)),
    "ReLU": (ReLU, (2, 3)),
    "Sigmoid": (Sigmoid, (2, 3)),
    "Tanh": (Tanh, (2, 3)),
    "SELU": (SELU, (2, 3)),
    "Dropout": (lambda: Dropout(0.5), (2, 3)),
    "AlphaDropout": (lambda: AlphaDropout(0.5), (2, 3)),
}


def valid_input(shape):
    return np.random.default_rng(0).standard_normal(shape)


# -- dtypes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODULES)
def test_integer_input_is_a_type_error(name):
    make, shape = MODULES[name]
    x = np.arange(np.prod(shape)).reshape(shape)
    with pytest.raises(TypeError, match=r"floating-point.*got dtype int64"):
        make()(x)


@pytest.mark.parametrize(
    ("forward", "args"),
    [
        (F.batch_norm_forward, ()),
        (F.layer_norm_forward, (3,)),
        (F.group_norm_forward, (1,)),
        (F.linear_forward, (np.ones((2, 3)),)),
        (F.relu_forward, ()),
        (F.selu_forward, ()),
        (F.dropout_forward, (0.5, np.random.default_rng(0))),
    ],
)
def test_functional_layers_refuse_integers_too(forward, args):
    with pytest.raises(TypeError, match="got dtype int64"):
        forward(np.ones((2, 3), dtype=np.int64), *args)
    with pytest.raises(TypeError, match="got dtype bool"):
        forward(np.ones((2, 3), dtype=bool), *args)


def test_integer_upstream_gradient_is_a_type_error():
    bn = BatchNorm1d(2)
    bn(valid_input((3, 2)))
    with pytest.raises(TypeError, match=r"dout.*got dtype int64"):
        bn.backward(np.ones((3, 2), dtype=np.int64))


def test_mixed_precision_is_a_type_error():
    with pytest.raises(TypeError, match="weight has dtype float64 but the input has dtype float32"):
        BatchNorm1d(3)(valid_input((4, 3)).astype(np.float32))
    with pytest.raises(TypeError, match="float64 but the input has dtype float32"):
        Linear(3, 2)(valid_input((4, 3)).astype(np.float32))
    with pytest.raises(TypeError, match="running_mean has dtype float64"):
        BatchNorm1d(3, affine=False)(valid_input((4, 3)).astype(np.float32))


# -- shapes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "shape", "message"),
    [
        (BatchNorm1d(3), (2, 3, 4, 4), r"expected 2D or 3D input \(got 4D input"),
        (BatchNorm1d(3), (3,), r"expected 2D or 3D input \(got 1D input"),
        (BatchNorm2d(3), (4, 3), r"expected 4D input \(got 2D input"),
        (InstanceNorm2d(3), (3, 4, 4), r"expected 4D input \(got 3D input"),
        (Linear(3, 2), (2, 1, 3), r"expected 2D input \(got 3D input"),
        (Conv2d(3, 2, 1), (3, 4, 4), r"expected 4D input \(got 3D input"),
        (GroupNorm(1, 3), (3,), r"at least 2 dimensions \(got 1D input"),
    ],
)
def test_wrong_number_of_dimensions(module, shape, message):
    with pytest.raises(ValueError, match=message):
        module(valid_input(shape))


def test_functional_batchnorm_needs_a_channel_axis():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm_forward(valid_input(5))


@pytest.mark.parametrize(
    ("module", "shape", "message"),
    [
        (BatchNorm1d(3), (4, 5), r"expected input with 3 channels.*got 5 channels"),
        (BatchNorm2d(3), (2, 4, 2, 2), r"expected input with 3 channels.*got 4 channels"),
        (GroupNorm(2, 4), (2, 6, 3), r"num_channels=4.*got 6 channels"),
        (Linear(3, 2), (4, 5), r"5 features but weight \(2, 3\) expects in_features=3"),
        (Conv2d(3, 2, 1), (1, 2, 4, 4), r"2 channels but weight .* expects 3"),
        (LayerNorm(3), (4, 5), r"normalized_shape=\[3\], expected input with shape \[\*, 3\]"),
    ],
)
def test_wrong_channel_or_feature_count(module, shape, message):
    with pytest.raises(ValueError, match=message):
        module(valid_input(shape))


def test_parameters_of_the_wrong_shape_do_not_broadcast():
    x = valid_input((4, 3))
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got \(1,\)"):
        F.batch_norm_forward(x, np.ones(1), np.zeros(3))
    with pytest.raises(ValueError, match=r"beta must have shape \(3,\), got \(\)"):
        F.batch_norm_forward(x, np.ones(3), np.float64(0.0))


def test_upstream_gradient_of_the_wrong_shape():
    bn = BatchNorm2d(2)
    bn(valid_input((2, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward output"):
        bn.backward(np.ones((2, 2, 3, 1)))
    layer = Linear(3, 2)
    layer(valid_input((4, 3)))
    with pytest.raises(ValueError, match=r"shape of the forward output \(4, 2\), got \(4, 1\)"):
        layer.backward(np.ones((4, 1)))


# -- a batch with one value per channel -------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "shape"),
    [(BatchNorm1d(3), (1, 3)), (BatchNorm1d(3), (1, 3, 1)), (BatchNorm2d(2), (1, 2, 1, 1))],
)
def test_one_value_per_channel_in_training(module, shape):
    with pytest.raises(ValueError, match=ONE_VALUE):
        module.train()(valid_input(shape))
    module.eval()(valid_input(shape))  # fine with running statistics


def test_one_value_per_channel_functional_and_sync():
    with pytest.raises(ValueError, match=ONE_VALUE):
        F.batch_norm_forward(valid_input((1, 4)))
    with pytest.raises(ValueError, match=ONE_VALUE):
        SyncBatchNorm(4)([valid_input((1, 4))])
    SyncBatchNorm(4)([valid_input((1, 4)), valid_input((1, 4))])  # two devices: 2 values


def test_batch_of_one_is_fine_when_spatial_positions_give_more_values():
    BatchNorm2d(2)(valid_input((1, 2, 2, 1)))


def test_instance_norm_needs_more_than_one_position():
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        InstanceNorm2d(2)(valid_input((3, 2, 1, 1)))


# -- hyperparameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, -1e-5, float("nan")])
def test_eps_must_be_positive(eps):
    for make in (
        lambda: BatchNorm1d(3, eps=eps),
        lambda: LayerNorm(3, eps=eps),
        lambda: GroupNorm(1, 3, eps=eps),
        lambda: InstanceNorm2d(3, eps=eps),
    ):
        with pytest.raises(ValueError, match="eps must be a positive number"):
            make()
    with pytest.raises(ValueError, match="eps must be a positive number"):
        F.batch_norm_forward(valid_input((4, 3)), eps=eps)
    with pytest.raises(ValueError, match="eps must be a positive number"):
        F.layer_norm_forward(valid_input((4, 3)), 3, eps=eps)


@pytest.mark.parametrize("momentum", [-0.1, 1.5, float("nan")])
def test_momentum_must_be_in_unit_interval(momentum):
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        BatchNorm2d(3, momentum=momentum)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        F.update_running_stats(np.zeros(1), np.ones(1), np.zeros(1), np.ones(1), 4, momentum)


def test_momentum_edges_and_none_are_allowed():
    for momentum in (0.0, 1.0, None):
        BatchNorm1d(3, momentum=momentum)


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, float("nan")])
def test_drop_probability_must_be_in_zero_one(p):
    match = r"dropout probability p must be in \[0, 1\)"
    for make in (lambda: Dropout(p), lambda: AlphaDropout(p)):
        with pytest.raises(ValueError, match=match):
            make()
    for forward in (F.dropout_forward, F.classic_dropout_forward, F.alpha_dropout_forward):
        with pytest.raises(ValueError, match=match):
            forward(valid_input((2, 2)), p, np.random.default_rng(0))


def test_dropout_needs_a_generator_in_training():
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        F.dropout_forward(valid_input((2, 2)), 0.5, 42)
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        Dropout(0.5, rng=np.random.RandomState(0))


def test_group_count_must_divide_channels():
    with pytest.raises(ValueError, match="num_channels=6 must be divisible by num_groups=4"):
        GroupNorm(4, 6)
    with pytest.raises(ValueError, match="num_channels=6 must be divisible by num_groups=4"):
        F.group_norm_forward(valid_input((2, 6)), 4)


@pytest.mark.parametrize("value", [0, -3, 2.5, True])
def test_sizes_must_be_positive_integers(value):
    with pytest.raises(ValueError, match="num_features must be a positive integer"):
        BatchNorm1d(value)
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        Linear(value, 2)


def test_conv_stride_and_padding():
    with pytest.raises(ValueError, match="need stride >= 1 and padding >= 0"):
        F.conv2d_forward(valid_input((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), stride=0)
    with pytest.raises(ValueError, match=r"kernel size .* is larger than the padded input"):
        F.conv2d_forward(valid_input((1, 1, 2, 2)), np.ones((1, 1, 3, 3)))


# -- order of calls -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*MODULES, "SyncBatchNorm", "Flatten", "CrossEntropyLoss"])
def test_backward_before_forward(name):
    extra = {
        "SyncBatchNorm": (lambda: SyncBatchNorm(2), [np.ones((2, 2))]),
        "Flatten": (Flatten, np.ones((2, 2))),
        "CrossEntropyLoss": (CrossEntropyLoss, None),
    }
    if name in extra:
        make, dy = extra[name]
    else:
        make, shape = MODULES[name]
        dy = np.ones(shape)
    module = make()
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        module.backward() if dy is None else module.backward(dy)


# -- non-finite values --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", MODULES)
def test_non_finite_input(name, bad):
    make, shape = MODULES[name]
    x = valid_input(shape)
    x.flat[-1] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        make()(x)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_upstream_gradient(bad):
    for module, shape in [(BatchNorm2d(2), (2, 2, 2, 2)), (Linear(3, 2), (4, 3))]:
        out = module(valid_input(shape))
        dy = np.ones_like(out)
        dy.flat[0] = bad
        with pytest.raises(ValueError, match="dout contains NaN or infinite"):
            module.backward(dy)


def test_float32_overflow_is_reported_not_returned_as_nan():
    x = np.full((4, 2), 1e30, dtype=np.float32)
    x[0] = -1e30
    with pytest.raises(ValueError, match="too large for float32"):
        F.batch_norm_forward(x)


def test_non_finite_functional_input_and_sync_shards():
    x = valid_input((4, 3))
    x[1, 2] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        F.batch_norm_forward(x)
    with pytest.raises(ValueError, match="contains NaN"):
        F.sync_batch_norm_forward([valid_input((2, 3)), x])
    with pytest.raises(ValueError, match="logits contains NaN"):
        CrossEntropyLoss()(x, np.zeros(4, dtype=int))


def test_weight_norm_of_a_zero_row():
    v = np.ones((2, 3))
    v[1] = 0.0
    with pytest.raises(ValueError, match="every row of v to be nonzero"):
        F.weight_norm_forward(v, np.ones(2))


# -- class labels -----------------------------------------------------------------------------


def test_class_labels_must_be_integers_in_range():
    logits = valid_input((3, 4))
    loss = CrossEntropyLoss()
    with pytest.raises(TypeError, match="class labels must be an integer array, got dtype float64"):
        loss(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(
        ValueError, match=r"class labels must be in \[0, 4\), got values from 0 to 4"
    ):
        loss(logits, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"must be in \[0, 4\), got values from -1"):
        loss(logits, np.array([-1, 1, 2]))
    with pytest.raises(ValueError, match=r"one class label per sample, shape \(3,\), got \(3, 1\)"):
        loss(logits, np.array([[0], [1], [2]]))
    with pytest.raises(ValueError, match=r"expected 2D logits \(got 1D"):
        loss(logits[0], np.array([0]))
