"""Gradient clipping by global norm, as ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from mitbadak.autograd.tensor import Tensor
from mitbadak.optim.optimizer import check_hyperparameter


def clip_grad_norm_(params: Iterable[Tensor] | Tensor, max_norm: float) -> float:
    """Scale all gradients down together so that their global L2 norm is at most ``max_norm``.

    ``total = sqrt(sum of g**2 over every gradient)``; if ``total > max_norm`` each gradient
    becomes ``g * max_norm / (total + 1e-6)`` (PyTorch's formula). One batch with an exploding
    gradient then moves the weights no further than a normal one, yet the direction is kept.
    Gradients are replaced by new arrays, never changed in place (they may be shared);
    parameters without a gradient are skipped. Returns ``total``, the norm before clipping
    (a float; inf or nan tells that some gradient is not finite).
    """
    max_norm = check_hyperparameter("max_norm", max_norm, 0.0, low_open=True)
    params = [params] if isinstance(params, Tensor) else list(params)
    with_grad = [(p, p.grad) for p in params if p.grad is not None]
    total = math.sqrt(sum(float(np.vdot(g, g)) for _, g in with_grad))
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for p, g in with_grad:
            p.grad = g * scale
    return total
