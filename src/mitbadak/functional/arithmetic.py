"""Arithmetic on tensors: + - * / ** @ and the fused affine layer ``linear``.

Each backward is the local derivative times the upstream gradient ``gy`` (the book's
chapter 5: an add node passes the gradient through unchanged, a multiply node swaps its
inputs). Broadcasting needs no code here: the graph walk sums each gradient back to its
input's shape. Every backward is written with operators that work on arrays and on tensors
(see `Function`, "Higher-order gradients"), so each op can be differentiated again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import DEFAULT_DTYPE, Tensor
from mitbadak.functional._util import as_pair, as_tensor, on_either, sum_rows
from mitbadak.functional.elementwise import Log, Where


class Add(Function):
    """y = a + b;  dL/da = gy,  dL/db = gy."""

    saved_tensors: dict[str, int | str] = {}

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return gy, gy


class Sub(Function):
    """y = a - b;  dL/da = gy,  dL/db = -gy."""

    saved_tensors: dict[str, int | str] = {}

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return gy, (-gy if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dL/da = gy * b,  dL/db = gy * a  (the book's MulLayer swaps its inputs)."""

    saved_tensors = {"a": 0, "b": 1}

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return a * b

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        need_a, need_b = self.needs_input_grad
        return (gy * self.b if need_a else None), (gy * self.a if need_b else None)


class Div(Function):
    """y = a / b;  dL/da = gy / b,  dL/db = -gy * a / b^2 = -gy * y / b."""

    saved_tensors = {"b": 1, "y": "output"}

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.b = b
        self.y = a / b
        return self.y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        need_a, need_b = self.needs_input_grad
        ga = gy / self.b if need_a else None
        gb = -gy * self.y / self.b if need_b else None
        return ga, gb


class Neg(Function):
    """y = -x;  dL/dx = -gy."""

    saved_tensors: dict[str, int | str] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (-gy,)


class Pow(Function):
    """y = a ** b;  dL/da = gy * b * a^(b-1),  dL/db = gy * y * ln(a).

    Where b = 0, y = 1 whatever a is, so dL/da = 0 (also at a = 0, where the formula gives
    0 * 0^-1 = nan); where a = 0 and b > 0, y = 0 whatever b is, so dL/db = 0 (the formula
    gives 0 * ln 0 = nan). These are PyTorch's conventions.
    """

    saved_tensors = {"a": 0, "b": 1, "y": "output"}

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.a, self.b  # arrays, or tensors under create_graph
        a_values, b_values = np.asarray(a), np.asarray(b)  # for the masks, constants
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):  # inf/nan only where masked
            if need_a:
                ga = gy * on_either(Where, 0, b * a ** (b - 1), cond=b_values == 0)
            if need_b:
                gb = gy * on_either(Where, 0, self.y * on_either(Log, a),
                                    cond=(a_values == 0) & (b_values >= 0))
        return ga, gb


def _check_matmul_shapes(op: str, a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{op}: operands must have at least one dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} are not aligned: the last axis of the first "
            f"({a.shape[-1]}) must equal the {'first' if b.ndim == 1 else 'second-to-last'} "
            f"axis of the second ({inner_b})"
        )


class MatMul(Function):
    """Y = A @ B;  dL/dA = gY @ B^T,  dL/dB = A^T @ gY  (shapes: (N,K)@(K,M) -> (N,M)).

    Vectors and stacks of matrices follow ``np.matmul``; batch axes that were broadcast are
    summed back by the graph walk.
    """

    saved_tensors = {"a": 0, "b": 1}

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return np.matmul(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.a, self.b
        need_a, need_b = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (gy @ b.T if need_a else None), (a.T @ gy if need_b else None)
        if a.ndim == 1 and b.ndim == 1:  # dot product: gy is a scalar
            return (gy * b if need_a else None), (gy * a if need_b else None)
        if a.ndim == 1:  # (K) @ (..., K, M) -> (..., M): treat a as a row (1, K)
            ga = (gy[..., None, :] @ _swap_last(b))[..., 0, :] if need_a else None
            gb = a[:, None] * gy[..., None, :] if need_b else None
            return ga, gb
        if b.ndim == 1:  # (..., N, K) @ (K) -> (..., N): treat b as a column (K, 1)
            ga = gy[..., :, None] * b if need_a else None
            gb = (_swap_last(a) @ gy[..., :, None])[..., 0] if need_b else None
            return ga, gb
        ga = gy @ _swap_last(b) if need_a else None
        gb = _swap_last(a) @ gy if need_b else None
        return ga, gb


def _swap_last(x: Any) -> Any:
    """x with its last two axes swapped (``np.swapaxes(x, -1, -2)``, for arrays and tensors)."""
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return x.transpose(tuple(axes))


class Affine(Function):
    """The book's Affine layer, fused: Y = X @ W + b.

    dL/dX = gY @ W^T,  dL/dW = X^T @ gY,  dL/db = sum of gY over the batch.
    X may have extra leading axes (..., in); they are flattened for the weight gradient.
    """

    saved_tensors = {"x": 0, "W": 1}

    def forward(self, x: np.ndarray, W: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:  # noqa: N803
        self.x, self.W = x, W
        y = x @ W
        if b is not None:
            y += b
        return y

    def backward(self, gy: Any) -> tuple[Any, ...]:
        x, W = self.x, self.W
        need_x, need_W = self.needs_input_grad[:2]
        gx = gy @ W.T if need_x else None
        if x.ndim != 2:  # (..., in) -> (rows, in); not -1, which fails for 0 rows or features
            rows = math.prod(x.shape[:-1])
            x, gy = x.reshape(rows, x.shape[-1]), gy.reshape(rows, gy.shape[-1])
        gW = x.T @ gy if need_W else None  # noqa: N806
        if len(self.needs_input_grad) == 2:
            return gx, gW
        gb = sum_rows(gy) if self.needs_input_grad[2] else None
        return gx, gW, gb


# ----------------------------------------------------------------------------- functional API
def add(a: Any, b: Any) -> Tensor:
    return Add.apply(*as_pair(a, b))


def sub(a: Any, b: Any) -> Tensor:
    return Sub.apply(*as_pair(a, b))


def mul(a: Any, b: Any) -> Tensor:
    return Mul.apply(*as_pair(a, b))


def div(a: Any, b: Any) -> Tensor:
    """True division ``a / b``; of two integer tensors in the default dtype (float32)."""
    a, b = as_pair(a, b)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        a = Tensor._wrap(a.data.astype(DEFAULT_DTYPE))
        b = Tensor._wrap(b.data.astype(DEFAULT_DTYPE))
    return Div.apply(a, b)


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001  (the operator's name)
    return Pow.apply(*as_pair(a, b))


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b``; mismatched shapes raise a ValueError naming both."""
    a, b = as_pair(a, b)
    _check_matmul_shapes("matmul", a.data, b.data)
    return MatMul.apply(a, b)


def linear(x: Any, W: Any, b: Any = None) -> Tensor:  # noqa: N803
    """Affine transform ``x @ W + b`` with W of shape (in, out), as in the book.

    (PyTorch's ``F.linear`` stores W as (out, in) and computes ``x @ W.T + b``.)
    """
    if not isinstance(W, Tensor):
        W = as_tensor(W)  # noqa: N806
    x = as_tensor(x, W)
    if x._data.dtype is not W._data.dtype:  # rare: promote as for x @ W
        x, W = as_pair(x, W)  # noqa: N806
    if b is not None and not isinstance(b, Tensor):
        b = as_tensor(b, W)
    x_shape, w_shape = x._data.shape, W._data.shape
    if (len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[0]
            or (b is not None and b._data.shape != w_shape[1:])):
        raise ValueError(
            f"linear: input {x_shape}, weight {w_shape} and bias "
            f"{None if b is None else b.shape} do not fit: expected input (..., in), "
            "weight (in, out) and bias (out,)"
        )
    return Affine.apply(x, W) if b is None else Affine.apply(x, W, b)
