"""Per-weight learning rates (the book's section 6.1.5): AdaGrad and RMSProp.

Both divide each weight's step by the root of a running sum of its squared gradients, so
weights with large or frequent gradients take smaller steps. Below, ``g`` is the gradient
(plus ``weight_decay * W`` when weight_decay > 0, as in PyTorch). The book's versions add
eps = 1e-7 to the root; PyTorch's defaults, which we follow, are 1e-10 and 1e-8.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.optim.optimizer import Optimizer, ParamsArg, check_hyperparameter, l2_gradient


class AdaGrad(Optimizer):
    """``h <- h + g * g;  W <- W - lr * g / (sqrt(h) + eps)`` (h starts at 0).

    Per-weight rates that decay: a weight that has moved a lot slows down. But h only grows,
    so in a long run every step shrinks towards zero and learning stops (RMSProp's fix).

    As ``torch.optim.Adagrad(params, lr, eps=..., weight_decay=...)`` with its other options
    (lr_decay, initial_accumulator_value) at 0.
    """

    buffer_names = ("sum",)

    def __init__(
        self, params: ParamsArg, lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, {"lr": lr, "eps": eps, "weight_decay": weight_decay})

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        grad = l2_gradient(grad, param, group["weight_decay"])
        scratch = np.multiply(grad, grad, out=np.empty_like(param))
        state["sum"] += scratch
        adaptive_step(param, grad, state["sum"], group["lr"], group["eps"], scratch)


class RMSProp(Optimizer):
    """``h <- alpha * h + (1 - alpha) * g * g;  W <- W - lr * g / (sqrt(h) + eps)``.

    AdaGrad with an exponential moving average instead of a sum, so old gradients are
    forgotten and the per-weight rates do not die out.

    As ``torch.optim.RMSprop(params, lr, alpha, eps, weight_decay=...)`` (without its momentum
    and centered options). The book calls alpha ``decay_rate`` and uses eps = 1e-7.
    """

    buffer_names = ("square_avg",)

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(
            params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay}
        )

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        group["alpha"] = check_hyperparameter("alpha", group["alpha"], 0.0, 1.0)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        grad = l2_gradient(grad, param, group["weight_decay"])
        alpha, square_avg = group["alpha"], state["square_avg"]
        scratch = np.multiply(grad, grad, out=np.empty_like(param))
        scratch *= 1 - alpha
        square_avg *= alpha
        square_avg += scratch
        adaptive_step(param, grad, square_avg, group["lr"], group["eps"], scratch)


def adaptive_step(
    param: np.ndarray,
    direction: np.ndarray,
    square_avg: np.ndarray,
    lr: float,
    eps: float,
    scratch: np.ndarray,
    rms_divisor: float = 1.0,
) -> None:
    """``param -= lr * direction / (sqrt(square_avg) / rms_divisor + eps)``, in place.

    ``scratch`` (an array shaped like ``param``) is overwritten; no other memory is allocated.
    """
    denominator = np.sqrt(square_avg, out=scratch)
    if rms_divisor != 1.0:
        denominator /= rms_divisor
    denominator += eps
    step = np.divide(direction, denominator, out=scratch)
    step *= lr
    param -= step
