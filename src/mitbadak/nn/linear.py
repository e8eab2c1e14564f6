"""`Linear`: the book's Affine layer, y = x @ W + b, as a module with its own weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.tensor import Tensor
from mitbadak.nn.init import Initializer, get_initializer
from mitbadak.nn.module import Module, Parameter, check_sizes


class Linear(Module):
    """Fully connected layer: ``y = x @ W + b`` for input (..., in_features).

    The weight is stored as the book stores it: ``W`` of shape (in_features, out_features), so
    the forward pass is a plain ``x @ W``. PyTorch's ``nn.Linear`` stores ``weight`` transposed,
    (out_features, in_features), and computes ``x @ weight.T + bias``: to move weights between
    the two, transpose (``W = weight.T``).

    ``init`` is the book's ``weight_init_std``: a name understood by
    `mitbadak.nn.init.get_initializer` ("he", "xavier", "lecun", ...), a standard deviation, or an
    initialiser function. The default ``"auto"`` assumes a ReLU follows and uses He; `MLP`
    resolves ``"auto"`` against its own activation. The bias ``b`` starts at 0, as in the book.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str | float | Initializer = "auto",
                 generator: np.random.Generator | None = None) -> None:
        super().__init__()
        check_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        initializer = get_initializer(init)
        self.W = Parameter(initializer((in_features, out_features), dtype=np.float32,
                                       generator=generator))
        self.b = Parameter(np.zeros(out_features, dtype=np.float32)) if bias else None

    def forward(self, x: Any) -> Tensor:
        try:  # F.linear checks the shapes; the error is re-raised naming this layer
            return F.linear(x, self.W, self.b)
        except ValueError:
            raise ValueError(f"{self!r}: expected input (..., {self.in_features}), "
                             f"got {tuple(np.shape(x))}") from None

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.b is not None}")
