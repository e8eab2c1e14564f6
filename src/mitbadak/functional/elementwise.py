"""Elementwise functions: exp, log, sqrt, clip — each with its derivative.

exp, log and sqrt are defined on real numbers: integer input is refused (``check_floating``)
rather than silently computed in another dtype; clip keeps integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import check_floating


class Exp(Function):
    """y = e^x;  dy/dx = e^x = y."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.exp(x)
        return self.y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy * self.y,)


class Log(Function):
    """y = ln x;  dy/dx = 1 / x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.log(x)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy / self.x,)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.sqrt(x)
        return self.y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy / (2 * self.y),)


class Clip(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0 (as PyTorch)."""

    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo, self.hi = lo, hi

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = np.ones(x.shape, dtype=bool)
        if self.lo is not None:
            self.mask &= x >= self.lo
        if self.hi is not None:
            self.mask &= x <= self.hi
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy * self.mask,)


def exp(x: Any) -> Tensor:
    check_floating("exp", x)
    return Exp.apply(x)


def log(x: Any) -> Tensor:
    check_floating("log", x)
    return Log.apply(x)


def sqrt(x: Any) -> Tensor:
    check_floating("sqrt", x)
    return Sqrt.apply(x)


def clip(x: Any, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clamp values into [min, max] (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return Clip.apply(x, lo=min, hi=max)
