"""Elementwise functions: exp, log, sqrt, sin, cos, clip, minimum, maximum, where and the
dtype cast astype — each with its derivative.

exp, log, sqrt, sin and cos are defined on real numbers: integer input is refused
(``check_floating``) rather than silently computed in another dtype; clip keeps integers.
Every backward here runs on arrays or on tensors (see `Function`), so each function can be
differentiated any number of times: d/dx sin = cos, d/dx cos = -sin, and so on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import as_pair, check_floating, on_either


class Exp(Function):
    """y = e^x;  dy/dx = e^x = y."""

    saved_tensors = {"y": "output"}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.exp(x)
        return self.y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy * self.y,)


class Log(Function):
    """y = ln x;  dy/dx = 1 / x."""

    saved_tensors = {"x": 0}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.log(x)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy / self.x,)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)."""

    saved_tensors = {"y": "output"}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.sqrt(x)
        return self.y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy / (2 * self.y),)


class Clip(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0 (as PyTorch)."""

    saved_tensors: dict[str, int | str] = {}  # the mask is a constant

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


class Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    saved_tensors = {"x": 0}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.sin(x)

    def backward(self, gy: Any) -> tuple[Any]:
        return (gy * on_either(Cos, self.x),)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    saved_tensors = {"x": 0}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.cos(x)

    def backward(self, gy: Any) -> tuple[Any]:
        return (-(gy * on_either(Sin, self.x)),)


class Maximum(Function):
    """y = max(a, b) elementwise;  dy/da = 1 where a > b, dy/db = 1 where b > a, and each
    gets 1/2 where they tie (PyTorch's convention for ``torch.maximum``)."""

    saved_tensors: dict[str, int | str] = {}  # the shares are constants

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.share_a = self._wins(a, b) + 0.5 * (a == b)  # 1, 1/2 or 0: a's share of gy
        return np.maximum(a, b)

    @staticmethod
    def _wins(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a > b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        share_a = self.share_a.astype(np.asarray(gy).dtype)
        return gy * share_a, gy * (1 - share_a)


class Minimum(Maximum):
    """y = min(a, b) elementwise;  dy/da = 1 where a < b, ties shared as for `Maximum`."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        super().forward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def _wins(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a < b


class Where(Function):
    """y = a where ``cond``, else b;  dL/da = gy where cond (else 0), dL/db = gy elsewhere."""

    saved_tensors: dict[str, int | str] = {}  # the condition is a constant

    def __init__(self, cond: np.ndarray) -> None:
        self.cond = cond

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(self.cond, a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        need_a, need_b = self.needs_input_grad
        return (gy * self.cond if need_a else None), (gy * ~self.cond if need_b else None)


class Cast(Function):
    """y = x converted to ``dtype``;  dL/dx = gy (which the graph walk casts back to x's
    dtype)."""

    saved_tensors: dict[str, int | str] = {}

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.astype(self.dtype)

    def backward(self, gy: Any) -> tuple[Any]:
        return (gy,)


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


def sin(x: Any) -> Tensor:
    check_floating("sin", x)
    return Sin.apply(x)


def cos(x: Any) -> Tensor:
    check_floating("cos", x)
    return Cos.apply(x)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of two tensors (broadcast), as ``torch.maximum``."""
    return Maximum.apply(*as_pair(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum of two tensors (broadcast), as ``torch.minimum``."""
    return Minimum.apply(*as_pair(a, b))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (broadcast), as ``torch.where``; the condition
    takes no gradient."""
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    return Where.apply(*as_pair(a, b), cond=cond)


def astype(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype`` (NumPy's ``astype``), with a gradient for floating dtypes."""
    return Cast.apply(x, dtype=np.dtype(dtype))
