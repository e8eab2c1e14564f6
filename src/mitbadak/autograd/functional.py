"""Jacobians, Hessians and Hessian-vector products of small functions (PyTorch's
``torch.autograd.functional``), by repeated `mitbadak.autograd.grad`.

``f`` takes a tensor (or a tuple of tensors) and returns one tensor. The inputs are used
detached, as fresh leaves that require grad, so the caller's tensors and their ``.grad`` are
never touched; the results are plain tensors (no graph). The Jacobian of an output of shape
O with respect to an input of shape I has shape O + I, as in PyTorch; it costs one backward
pass per output element, so these are for small inputs (tests, lessons, Newton's method).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mitbadak.autograd.gradient import grad
from mitbadak.autograd.tensor import Tensor, as_tensor


def _leaves(inputs: Any) -> tuple[tuple[Tensor, ...], bool]:
    """The inputs as fresh leaves that require grad, and whether they came as a tuple."""
    is_tuple = isinstance(inputs, (tuple, list))
    items = tuple(inputs) if is_tuple else (inputs,)
    leaves = []
    for x in items:
        x = as_tensor(x)
        if x.dtype.kind != "f":
            raise TypeError(f"the inputs must be floating-point tensors, got dtype {x.dtype}")
        leaves.append(Tensor(x.data.copy(), dtype=x.dtype, requires_grad=True))
    return tuple(leaves), is_tuple


def _zeros_if_none(g: Tensor | None, like: Tensor) -> np.ndarray:
    return np.zeros(like.shape, like.dtype) if g is None else g.data


def jacobian(func: Callable[..., Tensor], inputs: Any) -> Any:
    """dy/dx of ``y = func(*inputs)``: a Tensor of shape y.shape + x.shape, or a tuple of them
    (one per input) when ``inputs`` is a tuple."""
    xs, is_tuple = _leaves(inputs)
    y = func(*xs)
    rows: list[list[np.ndarray]] = [[] for _ in xs]
    for k in range(y.size):
        pick = np.zeros(y.size, y.dtype)
        pick[k] = 1
        gs = grad(y, xs, grad_outputs=pick.reshape(y.shape), retain_graph=True,
                  allow_unused=True) if y.requires_grad else (None,) * len(xs)
        for row, g, x in zip(rows, gs, xs):
            row.append(_zeros_if_none(g, x))
    jac = tuple(Tensor._wrap(np.stack(row).reshape(y.shape + x.shape) if row
                             else np.zeros(y.shape + x.shape, x.dtype))
                for row, x in zip(rows, xs))
    return jac if is_tuple else jac[0]


def hessian(func: Callable[..., Tensor], inputs: Any) -> Any:
    """d²y/dx² of a scalar ``y = func(*inputs)``: shape x.shape + x.shape for one input; for a
    tuple of inputs, a tuple of tuples, ``H[i][j]`` = d²y / dx_i dx_j (PyTorch's layout)."""
    xs, is_tuple = _leaves(inputs)
    y = func(*xs)
    if y.size != 1:
        raise ValueError(f"hessian: func must return a single number, got shape {y.shape}")
    gs = grad(y, xs, create_graph=True, allow_unused=True)
    blocks: list[list[np.ndarray]] = [[] for _ in xs]
    for i, (g, xi) in enumerate(zip(gs, xs)):
        for k in range(xi.size):
            pick = np.zeros(xi.size, xi.dtype)
            pick[k] = 1
            second = (grad(g, xs, grad_outputs=pick.reshape(xi.shape), retain_graph=True,
                           allow_unused=True)
                      if g is not None and g.requires_grad else (None,) * len(xs))
            blocks[i].append(np.concatenate([_zeros_if_none(s, x).ravel()
                                             for s, x in zip(second, xs)]))
    result = []
    for i, xi in enumerate(xs):
        rows = np.stack(blocks[i]) if blocks[i] else np.zeros((0, sum(x.size for x in xs)))
        splits = np.cumsum([x.size for x in xs])[:-1]
        result.append(tuple(Tensor._wrap(part.reshape(xi.shape + xj.shape).astype(xi.dtype))
                            for part, xj in zip(np.split(rows, splits, axis=1), xs)))
    return tuple(result) if is_tuple else result[0][0]


def hvp(func: Callable[..., Tensor], inputs: Any, v: Any) -> tuple[Tensor, Any]:
    """The Hessian of a scalar ``func`` at ``inputs`` times the vector ``v`` (of the inputs'
    shapes), without forming the Hessian: d/dx (dy/dx · v), one double backward pass.
    Returns ``(func(*inputs), H v)`` as ``torch.autograd.functional.hvp`` does."""
    xs, is_tuple = _leaves(inputs)
    vs = tuple(v) if is_tuple else (v,)
    if len(vs) != len(xs):
        raise ValueError(f"hvp: {len(vs)} vectors for {len(xs)} inputs")
    vs = tuple(np.asarray(vi.data if isinstance(vi, Tensor) else vi, dtype=x.dtype)
               for vi, x in zip(vs, xs))
    for vi, x in zip(vs, xs):
        if vi.shape != x.shape:
            raise ValueError(f"hvp: v has shape {vi.shape} but the input has shape {x.shape}")
    y = func(*xs)
    if y.size != 1:
        raise ValueError(f"hvp: func must return a single number, got shape {y.shape}")
    gs = grad(y, xs, create_graph=True, allow_unused=True)
    used = [(g, vi) for g, vi in zip(gs, vs) if g is not None and g.requires_grad]
    if used:
        dot = used[0][0] * used[0][1]
        total = dot.sum()
        for g, vi in used[1:]:
            total = total + (g * vi).sum()
        hv = grad(total, xs, allow_unused=True)
    else:
        hv = (None,) * len(xs)
    out = tuple(Tensor._wrap(_zeros_if_none(h, x)) for h, x in zip(hv, xs))
    return Tensor._wrap(y.data), (out if is_tuple else out[0])
