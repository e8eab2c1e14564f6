"""Optimizers: rules that turn gradients into weight updates (the book's chapter 6).

``from mitbadak import optim``; the API is PyTorch's::

    opt = optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()

* ``optimizer``     the `Optimizer` base: param groups, state, state_dict, subnormal flush;
                    `param_groups`, the weight-decay policy (weights decayed, biases and
                    BatchNorm's gamma/beta not)
* ``sgd``           SGD, Momentum, Nesterov
* ``adaptive``      AdaGrad, RMSProp (per-weight learning rates)
* ``adam``          Adam, AdamW
* ``clip``          clip_grad_norm_
* ``lr_scheduler``  StepLR, CosineAnnealingLR

``Adagrad`` and ``RMSprop`` are PyTorch's (and, for RMSprop, the book's) spellings.
``OPTIMIZERS`` maps lower-case names (as on the command line) to the classes.
"""

from collections.abc import Callable

from mitbadak.optim import lr_scheduler
from mitbadak.optim.adam import Adam, AdamW
from mitbadak.optim.adaptive import AdaGrad, RMSProp
from mitbadak.optim.clip import clip_grad_norm_
from mitbadak.optim.optimizer import Optimizer, param_groups
from mitbadak.optim.sgd import SGD, Momentum, Nesterov

Adagrad = AdaGrad
RMSprop = RMSProp

# Each class is called as cls(params, lr=..., other hyperparameters), not as the base
# Optimizer(params, defaults): hence Callable[..., Optimizer] rather than type[Optimizer].
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW)
}

__all__ = [
    "OPTIMIZERS", "SGD", "AdaGrad", "Adagrad", "Adam", "AdamW", "Momentum", "Nesterov",
    "Optimizer", "RMSProp", "RMSprop", "clip_grad_norm_", "lr_scheduler", "param_groups",
]
