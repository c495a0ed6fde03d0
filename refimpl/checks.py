"""Input validation shared by every package of refimpl (functional, nn, train).

Each helper raises an exception whose message names the argument, what was expected and what
was given, in the style of PyTorch's errors. Bad input should stop at the door with a sentence a
reader understands, never flow on into a silent NaN or an accidental broadcast.

A NaN or an infinity raises `NonFiniteError`, a ``ValueError``: a caller that wants to tell a run
whose numbers blew up from any other bad input (a wrong shape, a wrong dtype) catches only it, as
`refimpl.train` does to report a diverged run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def float_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as an ndarray, raising TypeError unless its dtype is floating point.

    Integer and boolean arrays are refused rather than converted: a layer that silently turns
    ``np.arange(6)`` into floats hides a bug in the caller (labels passed where features belong).
    """
    array = np.asarray(x)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"{name} must be a floating-point array (float32 or float64), got dtype {array.dtype}"
        )
    return array


def optional_float_array(x, name: str) -> np.ndarray | None:
    """`float_array` that lets ``None`` through (an absent weight or bias)."""
    return None if x is None else float_array(x, name)


class NonFiniteError(ValueError):
    """An array that must be finite holds a NaN or an infinity."""


def check_finite(x: np.ndarray, name: str = "x") -> None:
    """Raise `NonFiniteError` (a ValueError) if ``x`` holds a NaN or an infinity."""
    if not np.isfinite(x).all():
        raise NonFiniteError(f"{name} contains NaN or infinite values")


def check_ndim(x: np.ndarray, ndims: Sequence[int], name: str = "input") -> None:
    """Raise ValueError unless ``x.ndim`` is one of ``ndims`` (message as in PyTorch)."""
    if x.ndim not in ndims:
        expected = " or ".join(f"{n}D" for n in ndims)
        raise ValueError(f"expected {expected} {name} (got {x.ndim}D {name} of shape {x.shape})")


def check_min_ndim(x: np.ndarray, min_ndim: int, name: str = "input") -> None:
    """Raise ValueError if ``x`` has fewer than ``min_ndim`` dimensions."""
    if x.ndim < min_ndim:
        raise ValueError(
            f"expected {name} with at least {min_ndim} dimensions "
            f"(got {x.ndim}D {name} of shape {x.shape})"
        )


def check_shape(array: np.ndarray | None, shape: tuple[int, ...], name: str) -> None:
    """Raise ValueError unless ``array`` (if given) has exactly ``shape``."""
    if array is not None and array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {array.shape}")


def check_same_dtype(x: np.ndarray, **others: np.ndarray | None) -> None:
    """Raise TypeError if an array in ``others`` has a different dtype than ``x``.

    Mixing float32 data with float64 parameters would silently compute in float64 and return
    float64; PyTorch refuses the mix, and so do we.
    """
    for name, array in others.items():
        if array is not None and array.dtype != x.dtype:
            raise TypeError(
                f"{name} has dtype {array.dtype} but the input has dtype {x.dtype}; "
                f"convert one of them (e.g. with .astype(np.{x.dtype}))"
            )


def check_channels(x: np.ndarray, num_channels: int, what: str = "num_features") -> None:
    """Raise ValueError unless axis 1 of ``x`` has ``num_channels`` entries."""
    if x.shape[1] != num_channels:
        raise ValueError(
            f"expected input with {num_channels} channels ({what}={num_channels}) on axis 1, "
            f"got {x.shape[1]} channels in input of shape {x.shape}"
        )


def check_eps(eps: float) -> None:
    """Raise ValueError unless ``eps`` is a finite number > 0."""
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps}")


def check_momentum(momentum: float | None) -> None:
    """Raise ValueError unless ``momentum`` is None or a number in [0, 1]."""
    if momentum is not None and not 0.0 <= momentum <= 1.0:
        raise ValueError(
            f"momentum must be in [0, 1] (or None for a cumulative average), got {momentum}"
        )


def check_drop_probability(p: float) -> None:
    """Raise ValueError unless the drop probability ``p`` is in [0, 1)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1), got {p}")


def check_positive_int(value: int, name: str) -> None:
    """Raise ValueError unless ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_rng(rng) -> None:
    """Raise TypeError unless ``rng`` is a ``numpy.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )


def check_upstream(dout, expected: np.ndarray, name: str = "dout") -> np.ndarray:
    """Check an upstream gradient against the forward output it belongs to.

    Returns ``dout`` as an array after checking its dtype (floating, same as ``expected``) and
    its shape (exactly that of ``expected``: no broadcasting).
    """
    dout = float_array(dout, name)
    if dout.shape != expected.shape:
        raise ValueError(
            f"{name} must have the shape of the forward output {expected.shape}, got {dout.shape}"
        )
    if dout.dtype != expected.dtype:
        raise TypeError(
            f"{name} has dtype {dout.dtype} but the forward pass ran in {expected.dtype}"
        )
    return dout


def class_labels(labels, num_samples: int, num_classes: int) -> np.ndarray:
    """Return ``labels`` as an integer array after checking shape, dtype and range.

    Raises
    ------
    TypeError
        If ``labels`` is not an integer array (float class labels are refused, not rounded).
    ValueError
        If it is not 1-D of length ``num_samples`` or a label is outside ``[0, num_classes)``.
    """
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"class labels must be an integer array, got dtype {labels.dtype}")
    if labels.shape != (num_samples,):
        raise ValueError(
            f"expected one class label per sample, shape ({num_samples},), got {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"class labels must be in [0, {num_classes}), "
            f"got values from {labels.min()} to {labels.max()}"
        )
    return labels
