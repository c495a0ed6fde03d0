"""Stateful modules with PyTorch's names and semantics, on top of `refimpl.functional`.

``Module``, ``Parameter`` and ``Sequential`` are the base classes; every layer, normalization
and loss is importable from here. Weight initializers live in ``refimpl.nn.init``
(``from refimpl.nn import init``).
"""

from refimpl.nn.layers import (
    SELU,
    AlphaDropout,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    ReLU,
    Sigmoid,
    Tanh,
)
from refimpl.nn.loss import CrossEntropyLoss
from refimpl.nn.module import Module, Parameter, Sequential
from refimpl.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm,
    MeanOnlyBatchNorm,
    SyncBatchNorm,
    WeightNormLinear,
    is_batch_norm,
)

__all__ = [
    "SELU",
    "AlphaDropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GroupNorm",
    "InstanceNorm2d",
    "LayerNorm",
    "Linear",
    "MeanOnlyBatchNorm",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SyncBatchNorm",
    "Tanh",
    "WeightNormLinear",
    "is_batch_norm",
]
