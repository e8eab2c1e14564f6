"""Convolution and pooling (the book's chapter 7) on NCHW arrays.

``conv2d`` is the book's Convolution layer: ``im2col`` turns the windows into columns and one
matrix product with the flattened filters does the rest. The pooling layers never build the
columns: for each of the KH*KW kernel offsets they take the strided view of the elements at
that offset of every window (``window_offsets``) and fold it into the running max or sum, so
no Python loop runs over samples or pixels and nothing of the window size is materialised.

Layouts follow PyTorch: x (N, C, H, W), weight (OC, C, KH, KW), bias (OC,); ``stride`` and
``padding`` are an int or an (h, w) pair; OH = (H + 2*PH - KH) // SH + 1, likewise OW.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import as_tensor, check_floating
from mitbadak.functional.im2col import (
    Pair,
    add_columns,
    columns,
    output_size,
    pad,
    pair,
    unpad,
    window_offsets,
)


class Convolution(Function):
    """The book's Convolution layer: Y = W_col @ col + b, with col = im2col(x)
    (N, C*KH*KW, OH*OW) and W_col = W as (OC, C*KH*KW).

    Backward, with g = gY as (N, OC, OH*OW):
    dW = sum over n of g[n] @ col[n]^T,   db = sum of g over N, OH, OW,
    dx = col2im(W_col^T @ g)  (each window's gradient added back where the window was).

    Two speed tricks, neither changing the formulas:

    * The samples go through in chunks of about ``CHUNK_BYTES`` of columns, so each chunk's
      columns are still in the cache for its matrix products; backward builds them again
      rather than keeping all of them (up to 45 MB for DeepConvNet's 16x28x28 layer).
    * With stride 1 each output row runs on across the padding columns (``out[1]`` = the
      padded width rather than OW): then the elements at one kernel offset of every window
      are one contiguous run of the padded input, and im2col copies ~4x faster (in cache).
      The extra columns (windows that wrap round the edge) are computed and dropped, their
      gradient 0; they cost 7-25% more GEMM columns, so this is done only where the columns
      outnumber the output rows (C*KH*KW > OC; one-channel first layers were 30% slower).
    """

    CHUNK_BYTES = 4 << 20  # 1-8 MB about equal; no chunks: DeepConvNet's step 25% slower

    def __init__(self, stride: Pair, padding: Pair) -> None:
        self.stride, self.padding = stride, padding

    def forward(self, x: np.ndarray, W: np.ndarray,  # noqa: N803
                b: np.ndarray | None = None) -> np.ndarray:
        n, _, h, w = x.shape
        oc, _, kh, kw = W.shape
        oh = output_size(h, kh, self.stride[0], self.padding[0])
        ow = output_size(w, kw, self.stride[1], self.padding[1])
        run_on = self.stride == (1, 1) and W[0].size > oc
        self.xp = pad(x, self.padding, spare_rows=int(run_on))
        self.W, self.x_shape = W, x.shape
        self.out = oh, self.xp.shape[3] if run_on else ow
        y = np.empty((n, oc, oh * self.out[1]), dtype=x.dtype)
        for part in self._chunks():
            np.matmul(W.reshape(oc, -1), self._columns(part), out=y[part])
        y = y.reshape(n, oc, *self.out)[..., :ow]
        # the valid columns copied out to a contiguous array, the bias added on the way
        return np.add(y, b[:, None, None]) if b is not None else np.ascontiguousarray(y)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray | None, ...]:
        W, need, xp, out = self.W, self.needs_input_grad, self.xp, self.out
        oc, _, kh, kw = W.shape
        n, _, h, w = self.x_shape
        g = gy
        if out[1] != gy.shape[3]:  # run-on rows: zero gradient for the wrapped windows
            g = np.zeros((n, oc, *out), dtype=gy.dtype)
            g[..., :gy.shape[3]] = gy
        g = g.reshape(n, oc, out[0] * out[1])  # not -1: n may be 0
        gW = np.zeros((oc, W[0].size), dtype=gy.dtype) if need[1] else None  # noqa: N806
        gxp = np.zeros_like(xp) if need[0] else None
        for part in self._chunks():
            if gW is not None:
                gW += np.matmul(g[part], self._columns(part).transpose(0, 2, 1)).sum(axis=0)
            if gxp is not None:
                add_columns(np.matmul(W.reshape(oc, -1).T, g[part]), gxp[part], (kh, kw),
                            self.stride, out)
        ph, pw = self.padding
        gx = gxp[:, :, ph:ph + h, pw:pw + w] if gxp is not None else None
        gW = gW.reshape(W.shape) if gW is not None else None  # noqa: N806
        if len(need) == 2:
            return gx, gW
        return gx, gW, gy.sum(axis=(0, 2, 3)) if need[2] else None

    def _chunks(self) -> list[slice]:
        """Slices of the batch whose columns take about ``CHUNK_BYTES`` each."""
        n, c = self.xp.shape[:2]
        per_sample = c * self.W[0, 0].size * self.out[0] * self.out[1] * self.xp.itemsize
        step = max(1, self.CHUNK_BYTES // per_sample)
        return [slice(start, start + step) for start in range(0, n, step)]

    def _columns(self, part: slice) -> np.ndarray:
        return columns(self.xp[part], self.W.shape[2:], self.stride, self.out)


class _Pooling(Function):
    """Shared by the pooling nodes: the window geometry and the gradient buffer."""

    x_shape: tuple[int, ...]  # the input's shape, set by the subclass's forward

    def __init__(self, kernel: Pair, stride: Pair, padding: Pair) -> None:
        self.kernel, self.stride, self.padding = kernel, stride, padding
        # Windows that do not overlap (stride >= kernel, the usual case) let backward write
        # each offset's gradient instead of adding it: each input element is in one window.
        self.disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]

    def _views(self, xp: np.ndarray) -> Iterator[np.ndarray]:
        """The per-kernel-offset views of a padded array of the input's shape."""
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        _, _, h, w = self.x_shape
        out = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
        return (view for _, _, view in window_offsets(xp, self.kernel, self.stride, out))

    def _input_grad(self, gy: np.ndarray, local: Iterable[Any]) -> np.ndarray:
        """The chain rule, one kernel offset at a time: the element at offset (i, j) of every
        window gets gy * dy/d(that element), ``local`` giving dy/d(element) per offset. They
        go into a zero buffer of the padded input's shape; the unpadded part is returned."""
        n, c, h, w = self.x_shape
        ph, pw = self.padding
        gxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gy.dtype)
        for view, derivative in zip(self._views(gxp), local):
            if self.disjoint:  # each input element is in one window: write (2x faster than +=)
                np.multiply(gy, derivative, out=view)
            else:
                view += gy * derivative
        return unpad(gxp, self.padding)


class MaxPooling(_Pooling):
    """The book's Pooling layer: y = the largest element of each window; dL/dx = gy at that
    element (the first one, in row-major window order, when several tie — as PyTorch), 0
    elsewhere.

    Forward keeps a running max over the kernel offsets and, for each output, the offset
    where it was found (``argmax``, one small integer per output; the book stores the same
    per window). So dy/dx at offset o of a window is (argmax == o): 1 or 0.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        views = self._views(pad(x, self.padding, lowest))
        y = next(views).copy()
        argmax = np.zeros(y.shape, dtype=np.min_scalar_type(self.kernel[0] * self.kernel[1]))
        for offset, view in enumerate(views, start=1):
            # Strictly greater, so the first max wins. Offsets only grow, so "argmax = offset
            # where greater" is a maximum: branch-free (a masked copy is ~50x slower).
            np.maximum(argmax, (view > y) * argmax.dtype.type(offset), out=argmax)
            np.maximum(y, view, out=y)
        self.argmax = argmax
        return y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        at_max = (self.argmax == offset for offset in range(self.kernel[0] * self.kernel[1]))
        return (self._input_grad(gy, at_max),)


class AvgPooling(_Pooling):
    """y = the mean of each window, padding zeros included (PyTorch's count_include_pad=True):
    y = (sum over the KH*KW offsets of the offset's view) / (KH*KW);
    dL/dx = gy / (KH*KW) for every element of the window."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        views = self._views(pad(x, self.padding))
        y = next(views).copy()
        for view in views:
            y += view
        y *= y.dtype.type(1.0 / (self.kernel[0] * self.kernel[1]))
        return y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        kk = self.kernel[0] * self.kernel[1]
        return (self._input_grad(gy, [gy.dtype.type(1.0 / kk)] * kk),)


# ----------------------------------------------------------------------------- functional API
def _check_windows(op: str, x: Tensor, kernel: Pair, padding: Pair) -> None:
    """The input is 4-D and every window fits in the padded input."""
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {x.shape}; a single "
                         "grey image (H, W) is x.reshape(1, 1, H, W)")
    padded = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(f"{op}: kernel {kernel} is larger than the padded input {padded} "
                         f"(input {x.shape}, padding {padding})")


def conv2d(x: Any, W: Tensor, b: Tensor | None = None, stride: int | Pair = 1,  # noqa: N803
           padding: int | Pair = 0) -> Tensor:
    """2-D convolution (cross-correlation, as in the book and PyTorch) of x (N, C, H, W) with
    filters W (OC, C, KH, KW) plus bias b (OC,): output (N, OC, OH, OW)."""
    x = as_tensor(x, W)
    check_floating("conv2d", x)
    check_floating("conv2d", W)
    if W.ndim != 4:
        raise ValueError(f"conv2d: expected weight of shape (OC, C, KH, KW), got {W.shape}")
    stride, padding = pair(stride, "stride", "conv2d", 1), pair(padding, "padding", "conv2d", 0)
    _check_windows("conv2d", x, (W.shape[2], W.shape[3]), padding)
    if x.shape[1] != W.shape[1]:
        raise ValueError(f"conv2d: input has {x.shape[1]} channels but weight expects "
                         f"{W.shape[1]}: x {x.shape}, W {W.shape}")
    if b is None:
        return Convolution.apply(x, W, stride=stride, padding=padding)
    if b.shape != (W.shape[0],):
        raise ValueError(f"conv2d: bias has shape {b.shape}, expected ({W.shape[0]},) for "
                         f"weight {W.shape}")
    return Convolution.apply(x, W, b, stride=stride, padding=padding)


def _pool(cls: type[_Pooling], op: str, x: Any, kernel_size: int | Pair,
          stride: int | Pair | None, padding: int | Pair) -> Tensor:
    x = as_tensor(x)
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    padding = pair(padding, "padding", op, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    _check_windows(op, x, kernel, padding)
    return cls.apply(x, kernel=kernel, stride=stride, padding=padding)


def max_pool2d(x: Any, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0) -> Tensor:
    """Max pooling of x (N, C, H, W) over KH x KW windows; padding counts as -inf.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch. (The
    book's ``Pooling`` layer defaulted to stride 1 until a 2020 fix, which silently gave
    overlapping windows and a 4x larger output for the usual 2x2 pooling.)
    """
    return _pool(MaxPooling, "max_pool2d", x, kernel_size, stride, padding)


def avg_pool2d(x: Any, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0) -> Tensor:
    """Average pooling of x (N, C, H, W); padding zeros count in the mean (PyTorch's default
    ``count_include_pad=True``); ``stride`` defaults to ``kernel_size``."""
    check_floating("avg_pool2d", as_tensor(x))
    return _pool(AvgPooling, "avg_pool2d", x, kernel_size, stride, padding)
