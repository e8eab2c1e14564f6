"""Small helpers shared by the operations: turning operands into tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.tensor import Tensor


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; a number or array next to a floating tensor takes that tensor's dtype,
    so ``x32 * 2.0`` or ``x32 + float64_array`` stays float32 (no silent upcast)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and like.data.dtype.kind == "f":
        return Tensor._wrap(np.asarray(x, dtype=like.data.dtype))
    return Tensor(x)


def as_pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary operation as tensors (see ``as_tensor``)."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    b = as_tensor(b)
    return as_tensor(a, b), b


def normalize_axis(axis: Any) -> int | tuple[int, ...] | None:
    """Axes as NumPy wants them (lists become tuples)."""
    return tuple(axis) if isinstance(axis, list) else axis
