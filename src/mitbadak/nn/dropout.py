"""`Dropout` (the book's chapter 6): randomly silence units while training, against overfitting."""

from __future__ import annotations

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.tensor import Tensor
from mitbadak.nn.module import Module


class Dropout(Module):
    """Zero each value with probability ``p`` in training mode; the identity in eval mode.

    Inverted dropout (as PyTorch): kept values are scaled by 1 / (1 - p) during training, so
    the expected output equals the input and inference needs no change. The book's Dropout
    does not scale while training and multiplies by (1 - p) at test time instead; both give
    the same expectations.

    The masks come from ``generator`` (an ``np.random.Generator``), or, when it is None, from
    ``mitbadak.autograd.random.default_generator()`` at each call, so ``mb.manual_seed`` makes runs
    reproducible.
    """

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p, self.generator = p, generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
