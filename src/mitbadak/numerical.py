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
    check: str = "gradcheck"  # or "gradgradcheck"

    def __str__(self) -> str:
        rows = [f"  input {i}: max abs error {a:.3e}, max rel error {r:.3e}"
                for i, (a, r) in enumerate(zip(self.max_abs_error, self.max_rel_error))]
        return (f"{self.check} " + ("passed" if self.passed else "FAILED") + "\n"
                + "\n".join(rows))


class GradcheckError(AssertionError):
    """Backpropagation and numerical differentiation disagree."""


def _weighted_sum(f: Callable[..., Tensor], seed: int) -> Callable[..., Tensor]:
    """``f`` made scalar: f itself if it returns a scalar, else sum(f(...) * v) with a fixed
    random v (drawn on the first call), so that every output element is checked."""
    v: list[np.ndarray] = []

    def scalar(*inputs: Tensor) -> Tensor:
        y = f(*inputs)
        if y.ndim == 0:
            return y
        if not v:
            v.append(np.random.default_rng(seed).standard_normal(y.shape).astype(y.dtype))
        return (y * v[0]).sum()

    return scalar


def _compare(scalar: Callable[..., Tensor], inputs: list[Tensor], checked: list[Tensor],
             analytic: list[np.ndarray], h: float, atol: float, rtol: float, check: str,
             raise_exception: bool) -> GradcheckResult:
    """Compare each analytic gradient with the central differences of ``scalar``."""
    abs_errors, rel_errors, passed = [], [], True
    for x, grad in zip(checked, analytic):
        numeric = numerical_gradient(lambda _: scalar(*inputs).item(), x.data, h=h)
        diff = np.abs(grad - numeric)
        scale = max(float(np.abs(numeric).max(initial=0.0)),
                    float(np.abs(grad).max(initial=0.0)), 1e-12)
        abs_errors.append(float(diff.max(initial=0.0)))
        rel_errors.append(abs_errors[-1] / scale)
        passed &= bool(np.all(diff <= atol + rtol * np.abs(numeric)))
    result = GradcheckResult(abs_errors, rel_errors, passed, check)
    if not passed and raise_exception:
        raise GradcheckError(str(result))
    return result


def _checked(inputs: Sequence[Tensor], check: str) -> list[Tensor]:
    checked = [x for x in inputs if x.requires_grad]
    if not checked:
        raise ValueError(f"{check}: no input requires grad")
    return checked


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
    checked = _checked(inputs, "gradcheck")
    scalar = _weighted_sum(f, seed)
    for x in checked:
        x.grad = None
    scalar(*inputs).backward()
    analytic = [x.grad if x.grad is not None else np.zeros_like(x.data) for x in checked]
    return _compare(scalar, inputs, checked, analytic, h, atol, rtol, "gradcheck",
                    raise_exception)


def gradgradcheck(f: Callable[..., Tensor], inputs: Sequence[Tensor], h: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-4, seed: int = 0,
                  raise_exception: bool = True) -> GradcheckResult:
    """Check ``f``'s second derivatives: the gradient of its gradient, by double backprop,
    against numerical differentiation of the analytic (backprop) gradient.

    With L = sum(f(*inputs) * v) (v fixed and random, as in `gradcheck`) and g_i = dL/dx_i
    computed with ``create_graph=True``, the checked function is G = sum_i sum(g_i * u_i)
    (u_i fixed and random): its gradient dG/dx_j, by a second backward pass, is compared with
    central differences of G, input by input, reported as `gradcheck` reports.
    """
    from mitbadak.autograd.gradient import grad

    inputs = list(inputs)
    checked = _checked(inputs, "gradgradcheck")
    first = _weighted_sum(f, seed)
    rng = np.random.default_rng(seed + 1)
    u = [rng.standard_normal(x.shape).astype(x.dtype) for x in checked]

    def second(*xs: Tensor) -> Tensor:
        gs = grad(first(*xs), checked, create_graph=True, allow_unused=True)
        total = Tensor._wrap(np.zeros((), checked[0].dtype))
        for g, ui in zip(gs, u):
            if g is not None:
                total = total + (g * ui).sum()
        return total

    g2 = second(*inputs)
    found = (grad(g2, checked, allow_unused=True) if g2.requires_grad
             else (None,) * len(checked))  # no path back: the gradient is linear in x
    analytic = [np.zeros_like(x.data) if g is None else g.data for g, x in zip(found, checked)]
    return _compare(second, inputs, checked, analytic, h, atol, rtol, "gradgradcheck",
                    raise_exception)
