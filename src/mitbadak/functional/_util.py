"""Small helpers shared by the operations: turning operands into tensors, and fast sums."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor, as_tensor


def as_pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary operation as tensors of a common dtype, by the promotion
    rules of `mitbadak.autograd.tensor`'s docstring: a non-tensor takes the tensor's dtype
    (``as_tensor``), an integer tensor next to a floating one takes the floating dtype, float32
    and float64 stay apart (NumPy then computes in float64)."""
    if isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            b = as_tensor(b, a)
    else:
        if not isinstance(b, Tensor):
            b = as_tensor(b)
        a = as_tensor(a, b)
    da, db = a._data.dtype, b._data.dtype
    if da is not db and (da.kind == "f") != (db.kind == "f"):  # integer or bool with floating
        if da.kind == "f":
            b = Tensor._wrap(b._data.astype(da))
        else:
            a = Tensor._wrap(a._data.astype(db))
    return a, b


def on_either(fn: type[Function], *xs: Any, **params: Any) -> Any:
    """``fn`` on arrays or on tensors, for backward formulas that must run on both (see
    `Function`, "Higher-order gradients"): recorded in the graph (``fn.apply``) when one of
    ``xs`` is a Tensor, else ``fn``'s forward on the arrays, as NumPy would compute it."""
    for x in xs:
        if isinstance(x, Tensor):
            return fn.apply(*xs, **params)
    return fn(**params).forward(*xs)


def normalize_axis(axis: Any) -> int | tuple[int, ...] | None:
    """Axes as NumPy wants them (lists become tuples)."""
    return tuple(axis) if isinstance(axis, list) else axis


def check_floating(op: str, x: Any) -> None:
    """Refuse an integer (or bool) input to an op whose result is fractional (a mean, an exp,
    a normalisation): computed in the input's dtype it would be truncated silently, and
    PyTorch refuses most of these too. ``x`` may be anything `as_tensor` takes; its dtype is
    the one it will have as a tensor (so ``[1.0, 2.0]`` and ``3`` pass, ``[1, 2]`` does not)."""
    dtype = x.dtype if isinstance(x, (Tensor, np.ndarray)) else as_tensor(x).dtype
    if dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {dtype}; "
                        "convert it first, e.g. with .astype(np.float32)")


# ------------------------------------------------------------------------------- fast sums
# The sums of a training step run over short axes of small matrices: a bias gradient sums a
# (batch, features) gradient over the batch, softmax sums each row of (batch, classes). NumPy
# reduces such axes 2-3x slower than BLAS multiplies the matrix by a vector of ones (on a
# (100, 10) or (128, 100) array, ~2 us against ~0.8 us), so these two helpers do that, as
# Caffe computes its bias gradients. Both work for any float dtype; the result has a's dtype.


@lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False  # shared between calls
    return ones


def sum_rows(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=0)`` of a 2-D array (e.g. a bias gradient over the batch), as ones @ a."""
    return _ones(a.shape[0], a.dtype) @ a


def sum_columns(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of a 2-D array (e.g. each row of softmax), as a @ ones."""
    return a @ _ones(a.shape[1], a.dtype)


# ------------------------------------------------------------------------ cache-sized pieces
# A formula of several elementwise steps (GELU, layer norm) makes one pass over memory per
# NumPy call: on a (4096, 512) float32 activation each pass streams 8 MB through the caches.
# Run piece by piece instead, every step after the first finds its operands in the core's L2
# cache (GELU's forward and backward: about twice as fast), for a few Python calls per piece.
CHUNK = 1 << 16  # elements per piece (256 KiB of float32: a few such arrays fit in L2)


def pieces(n: int, size: int = CHUNK) -> list[slice]:
    """slice(0, size), slice(size, 2 * size), ...: range(n) in pieces of ``size``."""
    return [slice(a, a + size) for a in range(0, n, max(size, 1))]
