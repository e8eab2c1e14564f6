"""Shape operations: reshape, transpose, flatten and indexing.

They move numbers around without changing them, so their backward moves the gradient back:
reshape it, transpose it with the inverse permutation, or scatter it into the indexed places
(adding where an index repeats, since that element was used more than once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import as_tensor


class Reshape(Function):
    """y = x viewed with another shape;  dL/dx = gy reshaped to x's shape."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy.reshape(self.x_shape),)


class Transpose(Function):
    """y = x with its axes permuted;  dL/dx = gy permuted back (the inverse permutation)."""

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.transpose(x, self.axes)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        if self.axes is None:
            return (np.transpose(gy),)
        return (np.transpose(gy, np.argsort(self.axes)),)  # axes in 0..n-1 (see transpose)


def _is_advanced(key: Any) -> bool:
    """True when the index uses integer arrays or lists (which may repeat an element)."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (list, np.ndarray)) and np.asarray(k).dtype != bool for k in parts)


class GetItem(Function):
    """y = x[key];  dL/dx = zeros with gy scattered into the selected places (added up where
    an integer index selects the same element twice)."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return x[self.key]

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        gx = np.zeros(self.x_shape, dtype=gy.dtype)
        if _is_advanced(self.key):
            np.add.at(gx, self.key, gy)
        else:
            gx[self.key] = gy
        return (gx,)


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x: Any, *shape: int | Sequence[int]) -> Tensor:
    """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``; one axis may be -1."""
    x = as_tensor(x)
    new_shape = _shape_arg(shape)
    known = int(np.prod([n for n in new_shape if n != -1]))
    if new_shape.count(-1) == 0:
        fits = known == x.size
    else:
        fits = new_shape.count(-1) == 1 and known > 0 and x.size % known == 0
    if not fits:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} "
                         f"elements) into {new_shape}")
    return Reshape.apply(x, shape=new_shape)


def transpose(x: Any, *axes: int | Sequence[int]) -> Tensor:
    """Reverse the axes (no arguments) or permute them: ``x.transpose(0, 2, 1)``; negative
    axes count from the end, as in NumPy (they are made non-negative here, so that the
    backward's inverse permutation, ``argsort``, is right)."""
    x = as_tensor(x)
    if not axes:
        return Transpose.apply(x, axes=None)
    perm = _shape_arg(axes)
    n = x.ndim
    if sorted(a % n if -n <= a < n else a for a in perm) != list(range(n)):
        raise ValueError(f"transpose: axes {perm} are not a permutation of the {n} axes of a "
                         f"tensor of shape {x.shape}")
    return Transpose.apply(x, axes=tuple(a % n for a in perm))


def flatten(x: Tensor, start_dim: int = 1) -> Tensor:
    """Keep the first ``start_dim`` axes and flatten the rest: (N, C, H, W) -> (N, C*H*W)."""
    x = as_tensor(x)
    return reshape(x, *x.shape[:start_dim], int(np.prod(x.shape[start_dim:])))  # -1: not if N = 0


def getitem(x: Any, key: Any) -> Tensor:
    """Indexing and slicing as in NumPy, with a gradient."""
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, tuple):
        key = tuple(k.data if isinstance(k, Tensor) else k for k in key)
    return GetItem.apply(x, key=key)


class Concatenate(Function):
    """y = the inputs joined along ``axis`` (NumPy's concatenate, PyTorch's cat);
    dL/dx_k = the slice of gy that x_k filled."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        self.ends = np.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.split(gy, self.ends, axis=self.axis))


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of equal shape but along ``axis`` (``torch.cat``, ``np.concatenate``)."""
    tensors = [as_tensor(x) for x in xs]
    if not tensors:
        raise ValueError("concatenate: expected at least one tensor")
    shapes = [x.shape for x in tensors]
    ndim = len(shapes[0])
    if not -ndim <= axis < ndim:
        raise ValueError(f"concatenate: axis {axis} is out of range for tensors of {ndim} axes")
    axis %= ndim
    if any(len(s) != ndim or s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]
           for s in shapes):
        raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return Concatenate.apply(*tensors, axis=axis)
