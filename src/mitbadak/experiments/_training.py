"""How the chapter-6 experiments train: `train_step` (the library's one training step) over a
shuffled `DataLoader`, for a number of epochs or of iterations, into a `History`.

`fit_lesson` records the loss of every iteration's batch (the one its update was computed from)
and, with ``evaluate=True``, the loss and accuracy on the training set (and on ``test``, if
given) before training (epoch 0) and after every epoch, from `evaluate` (eval mode: BatchNorm's
running statistics, no dropout).

Two differences from the book's scripts, both deliberate: an epoch is one pass over the
shuffled training set, where the book draws every batch with replacement; and weight decay is
the optimizer's ``weight_decay`` on the weight matrices only (`optim.param_groups`), which
gives the same gradient as the book's 0.5 * lambda * ||W||^2 added to the loss, but the
recorded loss leaves the penalty out.

A run that diverges (the loss overflows to inf or NaN, as the book's no-BatchNorm network does
at weight scale 1) is part of what some experiments show, so where the `Trainer` stops, a run
here goes on: `train_step` refuses to update from a non-finite loss, the loss is recorded as
it is (`diverged` tells), and the next batch is tried. NumPy's overflow warnings are silenced.
"""

from __future__ import annotations

import math
import time

import numpy as np

from mitbadak import nn, optim
from mitbadak.data import DataLoader
from mitbadak.training.evaluation import evaluate as evaluate_model
from mitbadak.training.history import History
from mitbadak.training.step import TrainingDiverged, train_step

Split = tuple[np.ndarray, np.ndarray]


def make_optimizer(name: str, model: nn.Module, lr: float,
                   weight_decay: float = 0.0) -> optim.Optimizer:
    """Optimizer ``name`` (a key of ``optim.OPTIMIZERS``) over ``model``'s parameters, with
    ``weight_decay`` on the weight matrices alone (`optim.param_groups`), as the book's L2
    penalty sums ||W||^2 over the Affine weights but not the biases (nor BatchNorm's gamma and
    beta)."""
    return optim.OPTIMIZERS[name](optim.param_groups(model.parameters(), weight_decay), lr=lr)


def diverged(history: History) -> bool:
    """Whether the loss ever became inf or NaN."""
    return not all(math.isfinite(value) for value in history.loss)


def fit_lesson(model: nn.Module, optimizer: optim.Optimizer, data: Split, *, batch_size: int,
               epochs: int | None = None, iterations: int | None = None, evaluate: bool = False,
               test: Split | None = None, seed: int = 0) -> History:
    """Train ``model`` on ``data`` for ``epochs`` passes or ``iterations`` batches (give one).

    Batches come from a `DataLoader` shuffled by ``seed``, so runs with the same seed see the
    same batches in the same order, whatever the model or optimizer. ``evaluate``: record the
    loss and accuracy on ``data`` (``train_*``) and ``test`` (``test_*``) at epoch 0 and at
    every epoch's end.
    """
    loader = DataLoader(*data, batch_size=batch_size, shuffle=True, seed=seed)
    if epochs is not None and iterations is None:
        total = epochs * len(loader)
    elif iterations is not None and epochs is None:
        total = iterations
    else:
        raise ValueError("fit_lesson: give either epochs or iterations")
    history = History()
    start = time.perf_counter()

    def record() -> None:
        nonlocal start
        if not evaluate:
            return
        history.record(len(history.epoch), evaluate_model(model, *data),
                       None if test is None else evaluate_model(model, *test),
                       time.perf_counter() - start)
        start = time.perf_counter()

    model.train()
    with np.errstate(over="ignore", invalid="ignore"):
        record()
        while len(history.loss) < total:
            for x, t in loader:
                if len(history.loss) == total:
                    break  # an iteration count that ends mid-epoch
                try:
                    loss, _ = train_step(model, optimizer, x, t)
                except TrainingDiverged as error:  # no update; the run goes on
                    loss = error.loss
                history.loss.append(loss)
            else:
                record()
    return history
