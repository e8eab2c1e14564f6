"""Gradient descent, with and without momentum (the book's section 6.1): SGD, Momentum, Nesterov.

Below, ``g`` is the gradient (plus ``weight_decay * W`` when weight_decay > 0, as in PyTorch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.optim.optimizer import Optimizer, ParamsArg, check_hyperparameter, l2_gradient


class SGD(Optimizer):
    """Stochastic gradient descent: ``W <- W - lr * g``.

    Step straight downhill. Simple, but on a long narrow valley such as the book's
    f(x, y) = x**2/20 + y**2 it zig-zags, because the gradient does not point at the minimum.

    As ``torch.optim.SGD(params, lr, weight_decay=...)``; PyTorch's ``momentum`` and
    ``nesterov`` options are the classes `Momentum` and `Nesterov` here. Default lr as in
    PyTorch (the book's is 0.01).
    """

    def __init__(self, params: ParamsArg, lr: float = 1e-3, weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        param -= group["lr"] * l2_gradient(grad, param, group["weight_decay"])


class Momentum(Optimizer):
    """SGD with momentum: ``buf <- momentum * buf + g;  W <- W - lr * buf`` (buf starts at 0).

    Inertia: the step is a running sum of past gradients, so it builds up speed along a
    consistent direction and the zig-zag across a valley cancels out.

    The book writes ``v <- momentum * v - lr * g;  W <- W + v``. That is the same rule with
    ``v = -lr * buf`` as long as lr is constant (the first step is ``-lr * g`` in both). When lr
    changes, the book's v keeps the old lr in its past steps, while here the new lr scales
    the whole step at once. We use the latter form because it is PyTorch's:
    ``torch.optim.SGD(params, lr, momentum=...)`` follows the same trajectory.
    """

    buffer_names = ("momentum_buffer",)
    nesterov = False  # `Nesterov` steps with g + momentum * buf instead of buf

    def __init__(
        self, params: ParamsArg, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        group["momentum"] = check_hyperparameter("momentum", group["momentum"], 0.0, 1.0)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        grad = l2_gradient(grad, param, group["weight_decay"])
        buf = state["momentum_buffer"]
        buf *= group["momentum"]
        buf += grad
        if not self.nesterov:
            param -= group["lr"] * buf
            return
        step = np.multiply(buf, group["momentum"], out=np.empty_like(buf))  # Nesterov's look-ahead
        step += grad
        step *= group["lr"]
        param -= step


class Nesterov(Momentum):
    """Nesterov's accelerated gradient: ``buf`` as in `Momentum`, then
    ``W <- W - lr * (g + momentum * buf)``.

    Momentum overshoots because it steps with the velocity it had; Nesterov's step also looks
    at where that velocity is about to carry the weights, which damps the overshoot.

    As ``torch.optim.SGD(params, lr, momentum=..., nesterov=True)``. The book's Nesterov (the
    reformulation of Bengio et al., 2012: ``W += momentum**2 * v - (1 + momentum) * lr * g``,
    then v updated as in Momentum) is the same rule while lr is constant.
    """

    nesterov = True
