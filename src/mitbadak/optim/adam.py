"""Adam and AdamW (the book's section 6.1.6): momentum and per-weight rates together.

At step t (counting from 1), with ``g`` the gradient::

    m <- beta1 * m + (1 - beta1) * g          (momentum: a moving average of gradients)
    v <- beta2 * v + (1 - beta2) * g * g      (RMSProp: a moving average of their squares)
    m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
    W <- W - lr * m_hat / (sqrt(v_hat) + eps)

m and v start at 0, so early on they are too small; dividing by (1 - beta**t), the bias
correction, undoes that. This is PyTorch's form. The book folds the corrections into
``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)`` and adds eps = 1e-7 to sqrt(v) rather than
to sqrt(v_hat): the same rule but for where eps sits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mitbadak.optim.adaptive import adaptive_step
from mitbadak.optim.optimizer import Optimizer, ParamsArg, check_hyperparameter, l2_gradient


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014), the formula in the module docstring.

    Both ideas at once: momentum's inertia and RMSProp's per-weight rates.
    ``weight_decay`` adds ``weight_decay * W`` to g before anything else (L2 regularisation),
    as ``torch.optim.Adam``; with adaptive rates this decays weights unevenly, which AdamW fixes.
    """

    buffer_names = ("exp_avg", "exp_avg_sq")
    decoupled_weight_decay = False  # True in `AdamW`

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(
            params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        )

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        group["betas"] = tuple(
            check_hyperparameter(f"betas[{i}]", beta, 0.0, 1.0) for i, beta in enumerate(betas)
        )

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not self.decoupled_weight_decay:  # Adam: L2, weight_decay * W added to g
            grad = l2_gradient(grad, param, group["weight_decay"])
        elif group["weight_decay"]:  # AdamW: shrink W itself, then step on the plain g
            param *= 1 - group["lr"] * group["weight_decay"]
        (beta1, beta2), t = group["betas"], state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        scratch = np.multiply(grad, 1 - beta1, out=np.empty_like(param))
        m *= beta1
        m += scratch
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - beta2
        v *= beta2
        v += scratch
        # lr * m_hat / (sqrt(v_hat) + eps) == (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
        adaptive_step(param, m, v, group["lr"] / (1 - beta1**t), group["eps"], scratch,
                      rms_divisor=math.sqrt(1 - beta2**t))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2017):
    ``W <- W * (1 - lr * weight_decay)``, then the Adam step on the plain gradient.

    Adam's L2 term passes through the per-weight rates, so weights with large gradients are
    barely decayed; shrinking W directly decays every weight at the same rate.
    As ``torch.optim.AdamW``, including its default weight_decay = 0.01.
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
