"""Reductions: sum, mean and max over axes.

The backward of a reduction spreads the upstream gradient back over the reduced axes:
every element of a sum gets gy, of a mean gy / n, and of a max only the maximal elements
(split equally between ties, as ``torch.amax``). Over an empty axis a sum is 0 and a mean nan
(0 / 0, as in PyTorch); a max has no value there and raises. A mean of integers is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import as_tensor, check_floating, normalize_axis

Axis = int | tuple[int, ...] | None


def _expand(gy: np.ndarray, shape: tuple[int, ...], axis: Axis, keepdims: bool) -> np.ndarray:
    """Give ``gy`` back the reduced axes (as size 1) so that it broadcasts against the input."""
    if keepdims or axis is None:
        return gy.reshape([1] * len(shape)) if axis is None else gy
    axes = (axis,) if isinstance(axis, int) else axis
    return np.expand_dims(gy, tuple(a % len(shape) for a in axes))


class Sum(Function):
    """y = sum of x over ``axis``;  dL/dx = gy copied to every summed element."""

    def __init__(self, axis: Axis, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return np.asarray(x.sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        g = _expand(gy, self.shape, self.axis, self.keepdims)
        return (np.broadcast_to(g, self.shape),)


class Mean(Sum):
    """y = mean of x over ``axis``;  dL/dx = gy / n for each of the n averaged elements."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = super().forward(x)
        self.n = x.size // y.size if y.size else 1  # elements averaged per output
        with np.errstate(invalid="ignore"):  # n = 0, an empty axis: 0 / 0 = nan
            return np.asarray(y / np.asarray(self.n, dtype=x.dtype))

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore"):  # n = 0: there is no element
            return super().backward(gy / np.asarray(self.n, dtype=gy.dtype))


class Max(Function):
    """y = max of x over ``axis``;  dL/dx = gy at the maximal elements (ties share it), else 0."""

    def __init__(self, axis: Axis, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = x.max(axis=self.axis, keepdims=True)
        self.mask = x == y
        return y if self.keepdims else np.squeeze(y, axis=self.axis)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        g = _expand(gy, self.mask.shape, self.axis, self.keepdims)
        ties = self.mask.sum(axis=self.axis, keepdims=True)
        return (self.mask * (g / ties.astype(gy.dtype)),)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(x, axis=normalize_axis(axis), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    check_floating("mean", x)
    return Mean.apply(x, axis=normalize_axis(axis), keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    x, axis = as_tensor(x), normalize_axis(axis)
    if x.size == 0:
        empty = x.shape if axis is None else [x.shape[a] for a in np.atleast_1d(axis)]
        if 0 in empty:
            raise ValueError(f"max: the reduced axes of a tensor of shape {x.shape} are empty "
                             f"(axis={axis}), so there is no maximum")
    return Max.apply(x, axis=axis, keepdims=keepdims)
