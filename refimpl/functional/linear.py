r"""Affine layers as pure functions: fully connected (``linear``) and 2-D convolution.

The convolution is written as a matrix product through *im2col*: every receptive field of the
padded input becomes one row of a matrix, so that convolving is one ``cols @ W.T``. Its backward
pass is the same product transposed, and *col2im* adds each row's gradient back to the pixels
it came from. Weights have PyTorch's layout: ``(out, in)`` and ``(out, in, kh, kw)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from refimpl import checks

__all__ = [
    "Conv2dCache",
    "LinearCache",
    "col2im",
    "conv2d_backward",
    "conv2d_forward",
    "conv_output_size",
    "im2col",
    "linear_backward",
    "linear_forward",
]


class LinearCache(NamedTuple):
    """What `linear_backward` needs: the input and the weight.

    Attributes
    ----------
    x : ndarray, shape (N, in_features)
    weight : ndarray, shape (out_features, in_features)
    has_bias : bool

    Examples
    --------
    >>> _, cache = linear_forward(np.ones((4, 3)), np.ones((2, 3)))
    >>> cache.x.shape, cache.weight.shape, cache.has_bias
    ((4, 3), (2, 3), False)
    """

    x: np.ndarray
    weight: np.ndarray
    has_bias: bool


class Conv2dCache(NamedTuple):
    """What `conv2d_backward` needs.

    Attributes
    ----------
    cols : ndarray, shape (N * H_out * W_out, C_in * kh * kw)
        The im2col matrix of the padded input.
    weight : ndarray, shape (C_out, C_in, kh, kw)
    input_shape : tuple of int
        ``(N, C_in, H, W)``, to rebuild the input gradient.
    stride, padding : tuple of int
        ``(sh, sw)`` and ``(ph, pw)``.
    has_bias : bool

    Examples
    --------
    >>> _, cache = conv2d_forward(np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3)), padding=1)
    >>> cache.cols.shape, cache.input_shape, cache.stride, cache.padding
    ((50, 27), (2, 3, 5, 5), (1, 1), (1, 1))
    """

    cols: np.ndarray
    weight: np.ndarray
    input_shape: tuple[int, int, int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    has_bias: bool


def _check_bias(bias, out_features: int, x: np.ndarray) -> np.ndarray | None:
    bias = checks.optional_float_array(bias, "bias")
    checks.check_shape(bias, (out_features,), "bias")
    checks.check_same_dtype(x, bias=bias)
    return bias


# -- linear ----------------------------------------------------------------------------------


def linear_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None
) -> tuple[np.ndarray, LinearCache]:
    r"""Fully connected layer $y = x W^\top + b$.

    Parameters
    ----------
    x : ndarray, shape (N, in_features)
    weight : ndarray, shape (out_features, in_features)
    bias : ndarray of shape (out_features,), optional

    Returns
    -------
    out : ndarray, shape (N, out_features)
    cache : LinearCache

    Raises
    ------
    TypeError
        If an array is not floating point or the dtypes differ.
    ValueError
        If ``x`` or ``weight`` is not 2-D, the feature counts disagree, or ``x`` holds NaN or
        inf.

    Equations
    ---------
    $$ y_{nj} = \sum_i x_{ni} W_{ji} + b_j $$

    Examples
    --------
    >>> out, _ = linear_forward(np.array([[1.0, 2.0]]), np.array([[1.0, 1.0]]), np.array([0.5]))
    >>> out
    array([[3.5]])
    """
    x = checks.float_array(x, "x")
    weight = checks.float_array(weight, "weight")
    checks.check_ndim(x, (2,), "input")
    checks.check_ndim(weight, (2,), "weight")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"input has {x.shape[1]} features but weight {weight.shape} expects "
            f"in_features={weight.shape[1]}"
        )
    checks.check_same_dtype(x, weight=weight)
    bias = _check_bias(bias, weight.shape[0], x)
    checks.check_finite(x, "x")

    # y = x Wᵀ + b
    out = x @ weight.T
    if bias is not None:
        out += bias
    return out, LinearCache(x, weight, bias is not None)


def linear_backward(
    dout: np.ndarray, cache: LinearCache, input_grad: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    r"""Gradients of `linear_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, out_features)
    cache : LinearCache
    input_grad : bool, default True
        False skips $dx$ (returned as None): the first layer of a network, whose input is
        data, needs only $dW$ and $db$. The product $dy\,W$ is the largest one there.

    Returns
    -------
    dx : ndarray of shape (N, in_features), or None if ``input_grad`` is False
    dweight : ndarray, shape (out_features, in_features)
    dbias : ndarray of shape (out_features,), or None without bias

    Raises
    ------
    TypeError, ValueError
        If ``dout`` is not floating point, has another dtype or shape than the output, or holds
        NaN or inf.

    Equations
    ---------
    $$ dx = dy \, W, \qquad dW = dy^\top x, \qquad db = \sum_n dy_n $$

    Examples
    --------
    >>> _, cache = linear_forward(np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]]))
    >>> linear_backward(np.array([[1.0]]), cache)
    (array([[3., 4.]]), array([[1., 2.]]), None)
    """
    x, weight, has_bias = cache
    dout = checks.float_array(dout, "dout")
    expected = (x.shape[0], weight.shape[0])
    if dout.shape != expected:
        raise ValueError(
            f"dout must have the shape of the forward output {expected}, got {dout.shape}"
        )
    checks.check_same_dtype(x, dout=dout)
    checks.check_finite(dout, "dout")
    # dx = dy W
    dx = dout @ weight if input_grad else None
    # dW = dyᵀ x
    dweight = dout.T @ x
    # db = Σ_n dy_n
    dbias = dout.sum(axis=0) if has_bias else None
    return dx, dweight, dbias


# -- convolution --------------------------------------------------------------------------------


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int | np.integer) for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    r"""Output length of a convolution along one axis: $\lfloor (n + 2p - k) / s \rfloor + 1$.

    Examples
    --------
    >>> conv_output_size(32, kernel=3, stride=2, padding=1)
    16
    """
    return (size + 2 * padding - kernel) // stride + 1


def im2col(x_padded: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    r"""Gather every receptive field of a padded input into one row.

    Parameters
    ----------
    x_padded : ndarray, shape (N, C, H_p, W_p)
        Input, already zero-padded.
    kernel : (kh, kw)
    stride : (sh, sw)

    Returns
    -------
    cols : ndarray, shape (N * H_out * W_out, C * kh * kw)
        Row $(n, h, w)$ holds the window whose top-left corner is at $(h s_h, w s_w)$, ordered
        like a flattened ``(C, kh, kw)`` filter.

    Examples
    --------
    >>> im2col(np.arange(9.0).reshape(1, 1, 3, 3), kernel=(2, 2), stride=(1, 1))[0]
    array([0., 1., 3., 4.])
    """
    n, c, height, width = x_padded.shape
    (kh, kw), (sh, sw) = kernel, stride
    h_out = (height - kh) // sh + 1
    w_out = (width - kw) // sw + 1
    cols = np.empty((n, h_out, w_out, c, kh, kw), dtype=x_padded.dtype)
    # one kernel offset (i, j) at a time: the pixels it sees in every window
    for i in range(kh):
        for j in range(kw):
            window = x_padded[:, :, i : i + sh * h_out : sh, j : j + sw * w_out : sw]
            cols[:, :, :, :, i, j] = window.transpose(0, 2, 3, 1)
    return cols.reshape(n * h_out * w_out, c * kh * kw)


def col2im(
    dcols: np.ndarray,
    padded_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
) -> np.ndarray:
    r"""Adjoint of `im2col`: add each row's values back to the pixels they came from.

    Parameters
    ----------
    dcols : ndarray, shape (N * H_out * W_out, C * kh * kw)
    padded_shape : (N, C, H_p, W_p)
    kernel, stride : (int, int)

    Returns
    -------
    dx_padded : ndarray, shape padded_shape
        A pixel inside several windows receives the sum of their gradients.

    Examples
    --------
    >>> cols = np.ones((4, 4))  # the four 2x2 windows of a 3x3 image
    >>> col2im(cols, (1, 1, 3, 3), kernel=(2, 2), stride=(1, 1))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    n, c, height, width = padded_shape
    (kh, kw), (sh, sw) = kernel, stride
    h_out = (height - kh) // sh + 1
    w_out = (width - kw) // sw + 1
    dcols = dcols.reshape(n, h_out, w_out, c, kh, kw)
    dx_padded = np.zeros(padded_shape, dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            window = dx_padded[:, :, i : i + sh * h_out : sh, j : j + sw * w_out : sw]
            window += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx_padded


def conv2d_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> tuple[np.ndarray, Conv2dCache]:
    r"""2-D convolution (cross-correlation, as in PyTorch) with stride and zero padding.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_out, C_in, kh, kw)
    bias : ndarray of shape (C_out,), optional
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        Zeros added on both sides of each spatial axis.

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out)
        $H_{out} = \lfloor (H + 2p_h - k_h) / s_h \rfloor + 1$, likewise $W_{out}$.
    cache : Conv2dCache

    Raises
    ------
    TypeError
        If an array is not floating point or the dtypes differ.
    ValueError
        If ``x`` or ``weight`` is not 4-D, the channel counts disagree, stride < 1, padding < 0,
        the kernel is larger than the padded input, or ``x`` holds NaN or inf.

    Equations
    ---------
    $$ y_{n,o,h,w} = b_o + \sum_{c, i, j} W_{o,c,i,j} \,
       x^{\text{pad}}_{n,\,c,\,h s_h + i,\,w s_w + j} $$

    computed as one matrix product $Y = \text{im2col}(x) \, W^\top_{\text{flat}} + b$.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, _ = conv2d_forward(x, np.ones((1, 1, 2, 2)), stride=2)
    >>> out[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    x = checks.float_array(x, "x")
    weight = checks.float_array(weight, "weight")
    checks.check_ndim(x, (4,), "input")
    checks.check_ndim(weight, (4,), "weight")
    c_out, c_in, kh, kw = weight.shape
    if x.shape[1] != c_in:
        raise ValueError(
            f"input has {x.shape[1]} channels but weight {weight.shape} expects {c_in} "
            "(in_channels)"
        )
    checks.check_same_dtype(x, weight=weight)
    bias = _check_bias(bias, c_out, x)
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    if min(stride) < 1 or min(padding) < 0:
        raise ValueError(
            f"need stride >= 1 and padding >= 0, got stride={stride}, padding={padding}"
        )
    n, _, height, width = x.shape
    if height + 2 * padding[0] < kh or width + 2 * padding[1] < kw:
        raise ValueError(
            f"kernel size ({kh}, {kw}) is larger than the padded input "
            f"({height + 2 * padding[0]}, {width + 2 * padding[1]})"
        )
    checks.check_finite(x, "x")
    h_out = conv_output_size(height, kh, stride[0], padding[0])
    w_out = conv_output_size(width, kw, stride[1], padding[1])

    (ph, pw) = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = im2col(x_padded, (kh, kw), stride)
    # Y = im2col(x) Wᵀ + b    (one row per output pixel, one column per output channel)
    out = cols @ weight.reshape(c_out, -1).T
    if bias is not None:
        out += bias
    out = out.reshape(n, h_out, w_out, c_out).transpose(0, 3, 1, 2)
    cache = Conv2dCache(cols, weight, x.shape, stride, padding, bias is not None)
    return np.ascontiguousarray(out), cache


def conv2d_backward(
    dout: np.ndarray, cache: Conv2dCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Gradients of `conv2d_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H_out, W_out)
    cache : Conv2dCache

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dweight : ndarray, shape (C_out, C_in, kh, kw)
    dbias : ndarray of shape (C_out,), or None without bias

    Raises
    ------
    TypeError, ValueError
        If ``dout`` is not floating point, has another dtype or shape than the output, or holds
        NaN or inf.

    Equations
    ---------
    With $D$ = ``dout`` as a matrix (one row per output pixel):

    $$ dW_{\text{flat}} = D^\top \, \text{im2col}(x), \qquad db_o = \sum_{n,h,w} dy_{n,o,h,w},
       \qquad dx = \text{col2im}(D \, W_{\text{flat}}) $$

    Examples
    --------
    >>> out, cache = conv2d_forward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))
    >>> dx, dweight, dbias = conv2d_backward(np.ones_like(out), cache)
    >>> dx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    cols, weight, input_shape, stride, padding, has_bias = cache
    n, c_in, height, width = input_shape
    c_out, _, kh, kw = weight.shape
    h_out = conv_output_size(height, kh, stride[0], padding[0])
    w_out = conv_output_size(width, kw, stride[1], padding[1])
    dout = checks.float_array(dout, "dout")
    if dout.shape != (n, c_out, h_out, w_out):
        raise ValueError(
            f"dout must have the shape of the forward output {(n, c_out, h_out, w_out)}, "
            f"got {dout.shape}"
        )
    checks.check_same_dtype(cols, dout=dout)
    checks.check_finite(dout, "dout")

    # D: one row per output pixel (n, h, w), one column per output channel
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, c_out)
    # dW = Dᵀ im2col(x)
    dweight = (dout_rows.T @ cols).reshape(weight.shape)
    # db = Σ over samples and positions
    dbias = dout.sum(axis=(0, 2, 3)) if has_bias else None
    # dx = col2im(D W), then drop the padding
    (ph, pw) = padding
    padded_shape = (n, c_in, height + 2 * ph, width + 2 * pw)
    dx_padded = col2im(dout_rows @ weight.reshape(c_out, -1), padded_shape, (kh, kw), stride)
    dx = dx_padded[:, :, ph : ph + height, pw : pw + width]
    return np.ascontiguousarray(dx), dweight, dbias
