"""mitbadak (밑바닥, "from the very bottom"): deep learning from scratch on NumPy.

``import mitbadak as mb`` loads NumPy alone; figures and progress bars import matplotlib and
tqdm only when used.
"""

from mitbadak import (
    checkpoint,
    data,
    functional,
    init,
    nn,
    numerical,
    optim,
    perceptron,
    plot,
    train,
    viz,
)
from mitbadak.grad_mode import enable_grad, no_grad
from mitbadak.grad_mode import is_enabled as is_grad_enabled
from mitbadak.random import manual_seed
from mitbadak.tensor import Tensor, tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor", "checkpoint", "data", "enable_grad", "functional", "init", "is_grad_enabled",
    "manual_seed", "nn", "no_grad", "numerical", "optim", "perceptron", "plot", "tensor", "train",
    "viz",
]
