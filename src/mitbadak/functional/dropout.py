"""Dropout (Srivastava et al. 2014): during training, zero each value with probability p.

Inverted dropout, as PyTorch: the kept values are scaled by 1 / (1 - p) during training, so
the expected output equals the input and evaluation is the identity. (The book's Dropout
keeps training outputs unscaled and multiplies by (1 - p) at test time instead; the two give
the same expectations, but ours leaves inference untouched.)
"""

from __future__ import annotations

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.random import default_generator
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional._util import check_floating


class DropoutFunction(Function):
    """y = x * mask / (1 - p), mask ~ Bernoulli(1 - p);  dL/dx = gy * mask / (1 - p)."""

    saved_tensors: dict[str, int | str] = {}  # the mask is a constant

    def __init__(self, p: float, generator: np.random.Generator) -> None:
        self.p, self.generator = p, generator

    def forward(self, x: np.ndarray) -> np.ndarray:
        keep = self.generator.random(x.shape, dtype=np.float32) >= self.p
        self.scaled_mask = keep * np.asarray(1.0 / (1.0 - self.p), dtype=x.dtype)
        return x * self.scaled_mask

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy * self.scaled_mask,)


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            generator: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout; the identity when not ``training`` or when p = 0."""
    check_floating("dropout", x)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return as_tensor(x)
    return DropoutFunction.apply(x, p=p, generator=generator or default_generator())
