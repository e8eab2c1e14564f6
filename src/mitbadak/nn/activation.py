"""Activation functions as modules, so they can sit in a `Sequential` between layers.

Each is a thin wrapper around the function in `mitbadak.functional` (where the forward and
backward formulas live); `get_activation` builds one from the name used by `MLP` and the
command line.
"""

from __future__ import annotations

from mitbadak import functional as F
from mitbadak.autograd.tensor import Tensor
from mitbadak.nn.module import Module


class ReLU(Module):
    """max(0, x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class LeakyReLU(Module):
    """x for x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Identity(Module):
    """Returns its input unchanged (the book's ``identity_function``)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Softmax(Module):
    """Probabilities along ``axis``. For training, give logits to ``F.cross_entropy`` instead:
    it fuses softmax and the loss (the book's SoftmaxWithLoss)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU,
    "identity": Identity,
}
"""The activations `MLP` accepts by name (``-`` and ``_`` are interchangeable)."""


def get_activation(name: str) -> Module:
    """A new activation module from its name, e.g. ``get_activation("relu")``."""
    key = name.lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key]()


class GELU(Module):
    """x * Phi(x), Phi the standard normal's CDF; ``approximate="tanh"`` is GPT-2's form
    (see `mitbadak.functional.activation.GELUFunction`)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"
