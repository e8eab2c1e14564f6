"""Reductions: sum, mean, max and min over axes.

The backward of a reduction spreads the upstream gradient back over the reduced axes:
every element of a sum gets gy, of a mean gy / n, and of a max only the maximal elements
(split equally between ties, as ``torch.amax``), of a min the minimal ones. Over an empty axis
a sum is 0 and a mean nan (0 / 0, as in PyTorch); a max or min has no value there and raises.
A mean of integers is refused. The backward formulas run on arrays or tensors (see `Function`),
so each reduction can be differentiated again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import as_tensor, check_floating, normalize_axis, on_either
from mitbadak.functional.shape import BroadcastTo

Axis = int | tuple[int, ...] | None


def _expand(gy: Any, shape: tuple[int, ...], axis: Axis, keepdims: bool) -> Any:
    """Give ``gy`` (an array or a tensor) back the reduced axes, as size 1, so that it
    broadcasts against the input."""
    if keepdims and axis is not None:
        return gy
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    reduced = {a % len(shape) for a in axes}
    return gy.reshape(tuple(1 if i in reduced else n for i, n in enumerate(shape)))


class Sum(Function):
    """y = sum of x over ``axis``;  dL/dx = gy copied to every summed element."""

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, axis: Axis, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return np.asarray(x.sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, gy: Any) -> tuple[Any]:
        g = _expand(gy, self.shape, self.axis, self.keepdims)
        return (on_either(BroadcastTo, g, shape=self.shape),)


class Mean(Sum):
    """y = mean of x over ``axis``;  dL/dx = gy / n for each of the n averaged elements."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = super().forward(x)
        self.n = x.size // y.size if y.size else 1  # elements averaged per output
        with np.errstate(invalid="ignore"):  # n = 0, an empty axis: 0 / 0 = nan
            return np.asarray(y / np.asarray(self.n, dtype=x.dtype))

    def backward(self, gy: Any) -> tuple[Any]:
        with np.errstate(divide="ignore", invalid="ignore"):  # n = 0: there is no element
            return super().backward(gy / np.asarray(self.n, dtype=np.asarray(gy).dtype))


class Max(Function):
    """y = max of x over ``axis``;  dL/dx = gy at the maximal elements (ties share it), else 0.

    The mask of the maximal elements is a constant, so the second derivative is zero (and
    the gradient flows to gy only)."""

    saved_tensors: dict[str, int | str] = {}
    reduce: Callable[..., np.ndarray] = staticmethod(np.max)

    def __init__(self, axis: Axis, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = self.reduce(x, axis=self.axis, keepdims=True)
        self.mask = x == y
        return y if self.keepdims else np.squeeze(y, axis=self.axis)

    def backward(self, gy: Any) -> tuple[Any]:
        g = _expand(gy, self.mask.shape, self.axis, self.keepdims)
        ties = self.mask.sum(axis=self.axis, keepdims=True)
        return (self.mask * (g / ties.astype(np.asarray(gy).dtype)),)


class Min(Max):
    """y = min of x over ``axis``;  dL/dx = gy at the minimal elements (ties share it), else 0."""

    reduce = staticmethod(np.min)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(x, axis=normalize_axis(axis), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    check_floating("mean", x)
    return Mean.apply(x, axis=normalize_axis(axis), keepdims=keepdims)


def _extremum(op: type[Max], name: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x, axis = as_tensor(x), normalize_axis(axis)
    if x.size == 0:
        empty = x.shape if axis is None else [x.shape[a] for a in np.atleast_1d(axis)]
        if 0 in empty:
            raise ValueError(f"{name}: the reduced axes of a tensor of shape {x.shape} are "
                             f"empty (axis={axis}), so there is no "
                             f"{'maximum' if name == 'max' else 'minimum'}")
    return op.apply(x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _extremum(Max, "max", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _extremum(Min, "min", x, axis, keepdims)
