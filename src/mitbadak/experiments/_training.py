"""The training loop the chapter-6 experiments share, written out in full for the lesson.

Each iteration is the book's four steps: forward pass and loss, ``zero_grad``, ``backward``,
``step``. `train` records the loss of every iteration's batch (the one its update was computed
from) and, when given evaluation sets, their accuracy before training and after every epoch,
in eval mode (BatchNorm's running statistics, no dropout).

Two differences from the book's scripts, both deliberate: an epoch is one pass over the
shuffled training set (`DataLoader`), where the book draws every batch with replacement; and
weight decay is the optimizer's ``weight_decay`` on the weight matrices only (`make_optimizer`),
which gives the same gradient as the book's 0.5 * lambda * ||W||^2 added to the loss, but the
recorded loss leaves the penalty out.

A run that diverges (the loss overflows to inf or NaN, as the book's no-BatchNorm network does
at weight scale 1) is part of what some experiments show, so NumPy's overflow warnings are
silenced and the run is marked ``diverged`` instead; it keeps going, at chance accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.autograd.grad_mode import no_grad
from mitbadak.data import DataLoader

Split = tuple[np.ndarray, np.ndarray]


@dataclass
class History:
    """What one training run recorded."""

    loss: list[float] = field(default_factory=list)
    """The training loss of each iteration's batch."""
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    """Per evaluation set: the accuracy before training, then after each epoch."""
    diverged: bool = False
    """Whether the loss ever became inf or NaN."""


def make_optimizer(name: str, model: nn.Module, lr: float,
                   weight_decay: float = 0.0) -> optim.Optimizer:
    """Optimizer ``name`` (a key of ``optim.OPTIMIZERS``) over ``model``'s parameters.

    ``weight_decay`` applies to the weight matrices alone, as the book's L2 penalty sums
    ||W||^2 over the Affine weights but not the biases (nor BatchNorm's gamma and beta): two
    parameter groups, one with the decay and one without.
    """
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return optim.OPTIMIZERS[name]([g for g in groups if g["params"]], lr=lr)


def accuracy(model: nn.Module, x: np.ndarray, t: np.ndarray) -> float:
    """``model``'s accuracy on ``(x, t)`` in eval mode; the model is left in training mode."""
    model.eval()
    with no_grad():
        score = F.accuracy(model(x), t)
    model.train()
    return score


def train(model: nn.Module, optimizer: optim.Optimizer, data: Split, *, batch_size: int,
          epochs: int | None = None, iterations: int | None = None,
          evaluate: Mapping[str, Split] | None = None, seed: int = 0) -> History:
    """Train ``model`` on ``data`` for ``epochs`` passes or ``iterations`` batches (give one).

    Batches come from a `DataLoader` shuffled by ``seed``, so runs with the same seed see the
    same batches in the same order, whatever the model or optimizer. ``evaluate`` maps names
    (such as "train" and "test") to the sets whose accuracy is recorded at every epoch's end.
    """
    if (epochs is None) == (iterations is None):
        raise ValueError("train: give either epochs or iterations")
    evaluate = dict(evaluate or {})
    loader = DataLoader(*data, batch_size=batch_size, shuffle=True, seed=seed)
    total = iterations if iterations is not None else epochs * len(loader)
    history = History(accuracy={name: [] for name in evaluate})

    def record_accuracy() -> None:
        for name, (x, t) in evaluate.items():
            history.accuracy[name].append(accuracy(model, x, t))

    model.train()
    with np.errstate(over="ignore", invalid="ignore"):
        record_accuracy()
        while len(history.loss) < total:
            for x, t in loader:
                if len(history.loss) == total:
                    break  # an iteration count that ends mid-epoch
                loss = F.cross_entropy(model(x), t)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                history.loss.append(loss.item())
                history.diverged |= not math.isfinite(history.loss[-1])
            else:
                record_accuracy()
    return history
