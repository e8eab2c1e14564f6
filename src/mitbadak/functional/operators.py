"""Python's operators and the array methods of `Tensor`, each one of the ops of this package.

``a + b`` is ``F.add(a, b)``, ``a @ b`` is ``F.matmul(a, b)``, ``x[i]`` is ``F.getitem(x, i)``,
``x.sum(axis)`` is ``F.sum(x, axis)``, and so on. `install` puts them on `Tensor` when
`mitbadak.functional` is first imported (``import mitbadak`` does it), as the sequel's DeZero
does in ``setup_variable``: the core (`mitbadak.autograd`) then needs nothing from the ops
built on it, and the dependencies point one way. The signatures are listed in `Tensor` too.
"""

from __future__ import annotations

from typing import Any

from mitbadak.autograd.tensor import Tensor
from mitbadak.functional.arithmetic import add, div, matmul, mul, neg, pow, sub
from mitbadak.functional.elementwise import astype, clip, cos, exp, log, maximum, minimum, sin, sqrt
from mitbadak.functional.reduction import max, mean, min, sum
from mitbadak.functional.shape import broadcast_to, getitem, reshape, sum_to, transpose


def _swapped(op: Any) -> Any:
    """The reflected operator: ``2 - x`` calls ``x.__rsub__(2)``, which is ``sub(2, x)``."""
    def reflected(self: Tensor, other: Any) -> Tensor:
        return op(other, self)

    reflected.__name__ = f"r{op.__name__}"
    return reflected


def install() -> None:
    """Attach the operators and methods to `Tensor` (idempotent)."""
    for name, op in (("add", add), ("sub", sub), ("mul", mul), ("truediv", div),
                     ("pow", pow), ("matmul", matmul)):
        setattr(Tensor, f"__{name}__", op)
        setattr(Tensor, f"__r{name}__", _swapped(op))
    Tensor.__neg__ = neg  # type: ignore[method-assign]
    Tensor.__getitem__ = getitem  # type: ignore[method-assign]
    Tensor.T = property(transpose)  # type: ignore[method-assign,assignment]
    for method in (transpose, reshape, sum, mean, max, exp, log, sqrt, clip):
        setattr(Tensor, method.__name__, method)
    extra: tuple[tuple[str, Any], ...] = (
        ("min", min), ("sin", sin), ("cos", cos), ("minimum", minimum), ("maximum", maximum),
        ("broadcast_to", broadcast_to), ("astype", astype),
        ("sum_to_size", sum_to))  # PyTorch's names
    for name, method in extra:
        setattr(Tensor, name, method)
