"""Shape operations: reshape, transpose, flatten, indexing, broadcast_to and sum_to.

They move numbers around without changing them, so their backward moves the gradient back:
reshape it, transpose it with the inverse permutation, or scatter it into the indexed places
(adding where an index repeats, since that element was used more than once). broadcast_to
and sum_to (the sequel's DeZero has both) are each other's backward. Every backward runs on
arrays or tensors (see `Function`), so these can be differentiated any number of times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mitbadak.autograd import backward as _walk
from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import as_tensor, on_either


class Reshape(Function):
    """y = x viewed with another shape;  dL/dx = gy reshaped to x's shape."""

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy: Any) -> tuple[Any]:
        return (gy.reshape(self.x_shape),)


class Transpose(Function):
    """y = x with its axes permuted;  dL/dx = gy permuted back (the inverse permutation)."""

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.transpose(x, self.axes)

    def backward(self, gy: Any) -> tuple[Any]:
        if self.axes is None:
            return (gy.transpose(),)
        return (gy.transpose(tuple(np.argsort(self.axes).tolist())),)  # axes in 0..n-1


def _is_advanced(key: Any) -> bool:
    """True when the index uses integer arrays or lists (which may repeat an element)."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (list, np.ndarray)) and np.asarray(k).dtype != bool for k in parts)


class GetItem(Function):
    """y = x[key];  dL/dx = zeros with gy scattered into the selected places (`Scatter`)."""

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, key: Any) -> None:
        self.key = key

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return x[self.key]

    def backward(self, gy: Any) -> tuple[Any]:
        return (on_either(Scatter, gy, key=self.key, shape=self.x_shape),)


class Scatter(Function):
    """GetItem's backward as an op: y = zeros of ``shape`` with x put at ``[key]`` (added up
    where an integer index selects the same element twice);  dL/dx = gy[key]."""

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, key: Any, shape: tuple[int, ...]) -> None:
        self.key, self.shape = key, shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = np.zeros(self.shape, dtype=x.dtype)
        if _is_advanced(self.key):
            np.add.at(y, self.key, x)
        else:
            y[self.key] = x
        return y

    def backward(self, gy: Any) -> tuple[Any]:
        return (gy[self.key],)


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (NumPy's rules);  dL/dx = gy summed back to x's shape."""

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return np.broadcast_to(x, self.shape)

    def backward(self, gy: Any) -> tuple[Any]:
        return (on_either(SumTo, gy, shape=self.x_shape),)


class SumTo(Function):
    """y = x summed to ``shape``, over the axes that broadcasting would add or stretch (the
    graph walk's `mitbadak.autograd.backward.sum_to`);  dL/dx = gy broadcast back to x's shape."""

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return np.asarray(_walk.sum_to(x, self.shape))

    def backward(self, gy: Any) -> tuple[Any]:
        return (on_either(BroadcastTo, gy, shape=self.x_shape),)


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

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        self.sizes = [x.shape[self.axis] for x in xs]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        # slices of gy: views of an array, GetItem nodes of a tensor (under create_graph)
        lead = (slice(None),) * self.axis
        starts = np.cumsum([0, *self.sizes])
        return tuple(gy[lead + (slice(int(a), int(b)),)] for a, b in zip(starts, starts[1:]))


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
def broadcast_to(x: Any, *shape: int | Sequence[int]) -> Tensor:
    """``x`` repeated along new or size-1 axes to ``shape`` (NumPy's and PyTorch's
    ``broadcast_to``); the gradient is summed back (`sum_to`)."""
    x = as_tensor(x)
    target = _shape_arg(shape)
    try:
        np.broadcast_shapes(x.shape, target)
        fits = len(target) >= x.ndim and np.broadcast_shapes(x.shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast to "
                         f"{target}")
    return BroadcastTo.apply(x, shape=target)


def sum_to(x: Any, *shape: int | Sequence[int]) -> Tensor:
    """Sum ``x`` down to ``shape``, the shape it was broadcast from (DeZero's ``sum_to``,
    PyTorch's ``Tensor.sum_to_size``); the gradient is broadcast back (`broadcast_to`)."""
    x = as_tensor(x)
    target = _shape_arg(shape)
    try:
        fits = len(target) <= x.ndim and np.broadcast_shapes(x.shape, target) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"sum_to: a tensor of shape {x.shape} cannot be summed to {target} "
                         f"({target} does not broadcast to {x.shape})")
    return SumTo.apply(x, shape=target)
