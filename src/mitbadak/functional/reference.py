"""The book's kernels as written in the book: slow, literal, easy to check by eye.

The fast kernels (``im2col.py``, ``conv.py``, ``loss.py``) reorder the book's arithmetic for
speed: columns kept per sample, run-on rows, chunked batches, pooling without columns, a
fused log-sum-exp. This module keeps the chapter-by-chapter forms beside them, as plain
functions on NumPy arrays (no Tensor, no graph), each backward written out by hand. The tests
(``tests/test_reference_kernels.py``) use them as oracles: the fast versions must give the
same values and gradients to float64 round-off.

Layouts are the book's: ``im2col`` gives one window per *row*, (N*OH*OW, C*KH*KW), and the
convolution multiplies it by the filters as columns, (C*KH*KW, OC). Stride and padding are
an int or an (h, w) pair; OH = (H + 2*PH - KH) // SH + 1, likewise OW (``conv_output_size``).

The book's numerical gradient, the other reference, is ``mitbadak.numerical``.
"""

from __future__ import annotations

import numpy as np

from mitbadak.functional.im2col import Pair, output_size, pair


def _geometry(x_shape: tuple[int, ...], kh: int, kw: int, stride: int | Pair,
              padding: int | Pair) -> tuple[Pair, Pair, Pair]:
    """(stride, padding, (OH, OW)) for KH x KW windows over an input of ``x_shape``."""
    (sh, sw), (ph, pw) = pair(stride, "stride", "im2col", 1), pair(padding, "padding", "im2col", 0)
    _, _, h, w = x_shape
    return (sh, sw), (ph, pw), (output_size(h, kh, sh, ph), output_size(w, kw, sw, pw))


# ------------------------------------------------------------------------- im2col / col2im
def im2col(x: np.ndarray, kh: int, kw: int, stride: int | Pair = 1, padding: int | Pair = 0,
           fill: float = 0.0) -> np.ndarray:
    """The book's im2col: every KH x KW window of x (N, C, H, W) as one row of a matrix.

        col[(n, y, x), (c, i, j)] = x_padded[n, c, SH*y + i, SW*x + j],   shape (N*OH*OW, C*KH*KW)

    The loop runs over the KH*KW offsets (i, j) within a window, never over samples or pixels:
    the elements at offset (i, j) of all windows form one strided slice of the padded input.
    ``fill`` is the padding value (the book pads with 0; max pooling pads with -inf).
    """
    n, c = x.shape[:2]
    (sh, sw), (ph, pw), (oh, ow) = _geometry(x.shape, kh, kw, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    col = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            col[:, :, i, j, :, :] = xp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


def col2im(col: np.ndarray, x_shape: tuple[int, ...], kh: int, kw: int,
           stride: int | Pair = 1, padding: int | Pair = 0) -> np.ndarray:
    """The book's col2im, the adjoint of ``im2col``: add each row of col (N*OH*OW, C*KH*KW)
    back onto the window it came from, so an element in several windows gets their sum:

        x_padded[n, c, SH*y + i, SW*x + j] += col[(n, y, x), (c, i, j)],   then unpad.

    Same loop over the kernel offsets; ``+=`` because windows overlap when stride < kernel.
    """
    n, c, h, w = x_shape
    (sh, sw), (ph, pw), (oh, ow) = _geometry(x_shape, kh, kw, stride, padding)
    col = col.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += col[:, :, i, j, :, :]
    return xp[:, :, ph:ph + h, pw:pw + w]


# ------------------------------------------------------------------------------ convolution
def conv2d_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray,  # noqa: N803
                   stride: int | Pair = 1, padding: int | Pair = 0) -> np.ndarray:
    """The book's Convolution.forward: y = im2col(x) @ W_col + b, W_col = W as (C*KH*KW, OC),

    reshaped from (N*OH*OW, OC) to (N, OC, OH, OW). x (N, C, H, W), W (OC, C, KH, KW), b (OC,).
    """
    oc, _, kh, kw = W.shape
    _, _, (oh, ow) = _geometry(x.shape, kh, kw, stride, padding)
    y = im2col(x, kh, kw, stride, padding) @ W.reshape(oc, -1).T + b
    return y.reshape(x.shape[0], oh, ow, oc).transpose(0, 3, 1, 2)


def conv2d_backward(gy: np.ndarray, x: np.ndarray, W: np.ndarray,  # noqa: N803
                    stride: int | Pair = 1,
                    padding: int | Pair = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The book's Convolution.backward: with g = gy as (N*OH*OW, OC) and col = im2col(x),

        db = sum of g over its rows,   dW_col = col^T @ g,   dx = col2im(g @ W_col^T).

    Returns (dx, dW, db) in the shapes of x, W and b.
    """
    oc, _, kh, kw = W.shape
    g = gy.transpose(0, 2, 3, 1).reshape(-1, oc)
    col, W_col = im2col(x, kh, kw, stride, padding), W.reshape(oc, -1).T  # noqa: N806
    dW = (col.T @ g).T.reshape(W.shape)  # noqa: N806
    dx = col2im(g @ W_col.T, x.shape, kh, kw, stride, padding)
    return dx, dW, g.sum(axis=0)


# ---------------------------------------------------------------------------------- pooling
def _pool_columns(x: np.ndarray, kernel: Pair, stride: int | Pair, padding: int | Pair,
                  fill: float) -> np.ndarray:
    """The windows as rows of KH*KW values, one row per (n, y, x, c) (the book's Pooling)."""
    return im2col(x, *kernel, stride, padding, fill).reshape(-1, kernel[0] * kernel[1])


def _unpool(dcol: np.ndarray, x_shape: tuple[int, ...], kernel: Pair, stride: int | Pair,
            padding: int | Pair) -> np.ndarray:
    """col2im of per-window gradients (N*OH*OW*C, KH*KW), back onto x's shape."""
    return col2im(dcol.reshape(-1, x_shape[1] * dcol.shape[1]), x_shape, *kernel, stride,
                  padding)


def _windows_last(gy: np.ndarray) -> np.ndarray:
    """gy (N, C, OH, OW) as one value per window in the rows' order (n, y, x, c)."""
    return gy.transpose(0, 2, 3, 1).reshape(-1)


def _image(y: np.ndarray, x_shape: tuple[int, ...], kernel: Pair, stride: int | Pair,
           padding: int | Pair) -> np.ndarray:
    """One value per window, in the rows' order (n, y, x, c), as (N, C, OH, OW)."""
    _, _, (oh, ow) = _geometry(x_shape, *kernel, stride, padding)
    return y.reshape(x_shape[0], oh, ow, x_shape[1]).transpose(0, 3, 1, 2)


def max_pool2d_forward(x: np.ndarray, kernel: Pair, stride: int | Pair,
                       padding: int | Pair = 0) -> tuple[np.ndarray, np.ndarray]:
    """The book's Pooling.forward: y = the max of each row of im2col(x), one row per window
    and channel. Returns y (N, C, OH, OW) and the argmax of each row, which backward needs.
    Padding counts as -inf (as PyTorch); ties go to the first element (``np.argmax``)."""
    col = _pool_columns(x, kernel, stride, padding, -np.inf)
    argmax = col.argmax(axis=1)
    return _image(col.max(axis=1), x.shape, kernel, stride, padding), argmax


def max_pool2d_backward(gy: np.ndarray, argmax: np.ndarray, x_shape: tuple[int, ...],
                        kernel: Pair, stride: int | Pair,
                        padding: int | Pair = 0) -> np.ndarray:
    """The book's Pooling.backward: each window's gradient goes to the element that was its
    max, 0 to the others (dmax[row, argmax[row]] = gy), then col2im adds them back."""
    dmax = np.zeros((argmax.size, kernel[0] * kernel[1]), dtype=gy.dtype)
    dmax[np.arange(argmax.size), argmax] = _windows_last(gy)
    return _unpool(dmax, x_shape, kernel, stride, padding)


def avg_pool2d_forward(x: np.ndarray, kernel: Pair, stride: int | Pair,
                       padding: int | Pair = 0) -> np.ndarray:
    """Average pooling by im2col: y = the mean of each row, padding zeros included."""
    col = _pool_columns(x, kernel, stride, padding, 0.0)
    return _image(col.mean(axis=1), x.shape, kernel, stride, padding)


def avg_pool2d_backward(gy: np.ndarray, x_shape: tuple[int, ...], kernel: Pair,
                        stride: int | Pair, padding: int | Pair = 0) -> np.ndarray:
    """dL/dx: every element of a window gets gy / (KH*KW), added back by col2im."""
    kk = kernel[0] * kernel[1]
    dcol = np.repeat(_windows_last(gy)[:, None] / kk, kk, axis=1)
    return _unpool(dcol, x_shape, kernel, stride, padding)


# ------------------------------------------------------------------- softmax, cross-entropy
def softmax(x: np.ndarray) -> np.ndarray:
    """The book's softmax with the overflow trick, over the last axis:

        y_k = exp(a_k - C) / sum_i exp(a_i - C),   C = max_i a_i

    Subtracting C changes nothing mathematically (it cancels) but keeps every exponent <= 0,
    so exp(1010) cannot overflow to inf and give nan.
    """
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy_error(y: np.ndarray, t: np.ndarray, eps: float = 1e-7) -> float:
    """The book's cross-entropy of probabilities y (N, C) against t, averaged over the batch:

        E = -(1/N) sum_n sum_k t_nk log(y_nk + eps)

    t is class indices (N,) (then only the true class's term is left) or one-hot or
    probability rows (N, C). ``eps`` is the book's guard against log(0) = -inf; 0 gives the
    exact value, which the fused kernel computes without a guard (by log-sum-exp).
    """
    n = y.shape[0]
    if t.ndim == 1:
        return float(-np.log(y[np.arange(n), t] + eps).sum() / n)
    return float(-(t * np.log(y + eps)).sum() / n)


def softmax_with_loss_forward(x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """The book's SoftmaxWithLoss.forward: L = cross_entropy_error(softmax(x), t), exact
    (eps = 0). Returns L and y = softmax(x), which backward needs."""
    y = softmax(x)
    return cross_entropy_error(y, t, eps=0.0), y


def softmax_with_loss_backward(y: np.ndarray, t: np.ndarray, gy: float = 1.0) -> np.ndarray:
    """The book's SoftmaxWithLoss.backward: dL/dx = gy * (y - t) / N, t one-hot (rows of t
    summing to 1). With class indices, y - t is y with 1 taken off each true class."""
    n = y.shape[0]
    dx = y.copy()
    if t.ndim == 1:
        dx[np.arange(n), t] -= 1
    else:
        dx -= t
    return dx * (gy / n)
