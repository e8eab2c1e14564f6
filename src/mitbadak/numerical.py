"""Numerical differentiation (the book's chapter 4) and the gradient check (chapter 5).

The derivative is the limit of (f(x + h) - f(x)) / h. A computer cannot take the limit, and a
tiny h drowns in rounding error, so the book uses the *central* difference with h = 1e-4:

    f'(x) ~ (f(x + h) - f(x - h)) / (2h),   error O(h^2) instead of O(h).

It needs two evaluations of f per input element — far too slow to train with (tens of
seconds per step for the book's 784-50-10 network) — but it is simple enough to trust, so it
is the reference that backpropagation is checked against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mitbadak.autograd.tensor import Tensor


def numerical_diff(f: Callable[[float], float], x: float, h: float = 1e-4) -> float:
    """Central difference (f(x + h) - f(x - h)) / 2h of a function of one number."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       h: float = 1e-4) -> np.ndarray:
    """Gradient of scalar ``f`` at the array ``x``, one central difference per element.

    ``x`` is changed in place, one element at a time, and restored, so ``f`` may read it
    through a closure (as the book's networks read their weights) instead of its argument.
    Use float64: in float32 the difference of two nearby losses is mostly rounding.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient: x must be a floating ndarray, got "
                        f"{type(x).__name__} {getattr(x, 'dtype', '')}")
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient: x must be contiguous (it is changed in place)")
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        f_plus = float(f(x))
        flat_x[i] = original - h
        f_minus = float(f(x))
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


@dataclass
class GradcheckResult:
    """Per input: the largest absolute difference between the backprop and the numerical
    gradient, and that difference relative to the largest gradient magnitude."""

    max_abs_error: list[float]
    max_rel_error: list[float]
    passed: bool

    def __str__(self) -> str:
        rows = [f"  input {i}: max abs error {a:.3e}, max rel error {r:.3e}"
                for i, (a, r) in enumerate(zip(self.max_abs_error, self.max_rel_error))]
        return ("gradcheck " + ("passed" if self.passed else "FAILED") + "\n" + "\n".join(rows))


class GradcheckError(AssertionError):
    """Backpropagation and numerical differentiation disagree."""


def gradcheck(f: Callable[..., Tensor], inputs: Sequence[Tensor], h: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-4, seed: int = 0,
              raise_exception: bool = True) -> GradcheckResult:
    """Compare ``f``'s backprop gradients with numerical ones for every input that requires grad.

    ``f(*inputs)`` returns a tensor; a non-scalar output y is reduced to sum(y * v) with a fixed
    random v, so every output element is checked. An input passes when
    |backprop - numerical| <= atol + rtol * |numerical| elementwise. Inputs should be float64.
    Raises ``GradcheckError`` with the per-input report on a mismatch (unless
    ``raise_exception=False``).
    """
    inputs = list(inputs)
    checked = [x for x in inputs if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    probe = f(*inputs)
    v = np.random.default_rng(seed).standard_normal(probe.shape).astype(probe.dtype)

    def scalar_output() -> Tensor:
        y = f(*inputs)
        return y if y.ndim == 0 else (y * v).sum()

    for x in checked:
        x.grad = None
    scalar_output().backward()
    abs_errors, rel_errors, passed = [], [], True
    for x in checked:
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        numeric = numerical_gradient(lambda _: scalar_output().item(), x.data, h=h)
        diff = np.abs(analytic - numeric)
        scale = max(float(np.abs(numeric).max(initial=0.0)),
                    float(np.abs(analytic).max(initial=0.0)), 1e-12)
        abs_errors.append(float(diff.max(initial=0.0)))
        rel_errors.append(abs_errors[-1] / scale)
        passed &= bool(np.all(diff <= atol + rtol * np.abs(numeric)))
    result = GradcheckResult(abs_errors, rel_errors, passed)
    if not passed and raise_exception:
        raise GradcheckError(str(result))
    return result
