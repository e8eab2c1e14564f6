"""The training step: forward, loss, ``zero_grad``, backward, step -- the book's four lines,
in the one place both the `Trainer` and every experiment call them from::

    for x, t in loader:
        loss, y = train_step(model, optimizer, x, t)  # the loss as a float, and the output

A NaN or infinite loss raises `TrainingDiverged` *before* the update, so the weights stay
those of the last good step (an update computed from a NaN would make every weight NaN).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mitbadak import functional as F
from mitbadak.autograd.tensor import Tensor
from mitbadak.nn import Module
from mitbadak.optim import Optimizer
from mitbadak.optim.clip import clip_grad_norm_

LossFunction = Callable[[Tensor, Any], Tensor]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite (``loss``: its value); the message says where and, from
    the `Trainer`, which checkpoint is good."""

    def __init__(self, message: str, loss: float = math.nan) -> None:
        super().__init__(message)
        self.loss = loss


def train_step(model: Module, optimizer: Optimizer, x: Any, t: Any,
               loss_fn: LossFunction = F.cross_entropy,
               max_norm: float | None = None) -> tuple[float, Tensor]:
    """One update of ``model`` from the batch ``(x, t)``; returns the batch's loss (the one the
    update was computed from) and the model's output ``y`` for it.

    ``loss = loss_fn(model(x), t)``, then ``optimizer.zero_grad(); loss.backward();
    optimizer.step()``: W <- W - lr * dL/dW for SGD, the optimizer's own rule otherwise.
    With ``max_norm``, the gradients are scaled down together to a global norm of at most
    ``max_norm`` before the step (`optim.clip_grad_norm_`; recurrent networks need it).
    """
    y = model(Tensor(x))                    # forward
    loss = loss_fn(y, t)                    # how wrong it is
    value = loss.item()
    if not math.isfinite(value):
        raise TrainingDiverged(f"the loss is {value}; the weights were not updated with it",
                               value)
    optimizer.zero_grad()                   # forget the last batch's gradients
    loss.backward()                         # dL/dW for every parameter W
    if max_norm is not None:
        clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()                        # update the weights
    return value, y
