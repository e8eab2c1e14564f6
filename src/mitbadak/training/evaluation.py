"""Evaluation: a model's outputs, loss and accuracy on a data set, in eval mode, without a graph.

`evaluate` is the one evaluation the `Trainer` (after each epoch), the experiments and the
command line use; `predict` is its first half (the outputs alone, for a confusion matrix or
class probabilities).

Both run the model in eval mode (BatchNorm's running statistics, no dropout) under
``no_grad``, ``batch_size`` samples at a time. The default of 100 suits every model: a CNN's
feature maps for 1,000 images outgrow the CPU caches (SimpleConvNet evaluates ~100 us per
image at 100 a time, ~185 at 1,000; DeepConvNet ~460 against ~650-1,000), while an MLP only
pays the per-batch overhead (~2.2 against ~1.2 us per 784-pixel image).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.grad_mode import no_grad
from mitbadak.autograd.tensor import Tensor
from mitbadak.nn import Module

EVAL_BATCH_SIZE = 100


def predict(model: Module, x: np.ndarray, batch_size: int = EVAL_BATCH_SIZE) -> np.ndarray:
    """The model's outputs (logits) for ``x``, computed in eval mode, in batches, without a
    graph. The model's mode is restored afterwards. (An empty ``x`` still makes one, empty,
    batch, so the result has the model's output width.)"""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = [model(Tensor(x[i:i + batch_size])).data
                       for i in range(0, max(len(x), 1), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(outputs)


def evaluate(model: Module, x: np.ndarray, t: np.ndarray,
             loss_fn: Callable[[Tensor, Any], Tensor] = F.cross_entropy,
             batch_size: int = EVAL_BATCH_SIZE) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on ``(x, t)``, from `predict`'s outputs."""
    logits = predict(model, x, batch_size)
    with no_grad():
        loss = loss_fn(Tensor(logits), t).item()
    return loss, F.accuracy(logits, t)


def evaluate_batches(model: Module, batches: Iterable[tuple[np.ndarray, np.ndarray]],
                     loss_fn: Callable[[Tensor, Any], Tensor] = F.cross_entropy
                     ) -> tuple[float, float]:
    """(mean loss per label, accuracy) of ``model`` over ``batches`` of (x, t), taken in
    order, in eval mode without a graph: a language model's held-out stream, whose batches
    continue one another. A stateful model (``reset_state()``) is reset before the first batch
    and after the last, so its state runs through the stream as in training and the training
    state is not disturbed. The perplexity is exp of the loss."""
    was_training, total, correct, labels = model.training, 0.0, 0.0, 0
    model.eval()
    reset_state(model)
    try:
        with no_grad():
            for x, t in batches:
                y = model(Tensor(x))
                n = int(np.size(t))
                total += loss_fn(y, t).item() * n
                correct += F.accuracy(y, t) * n
                labels += n
    finally:
        reset_state(model)
        model.train(was_training)
    if labels == 0:
        return math.nan, 0.0
    return total / labels, correct / labels


def reset_state(model: Module) -> None:
    """Forget the state a stateful model carries between batches (``model.reset_state()``,
    for truncated BPTT); nothing for the others."""
    reset = getattr(model, "reset_state", None)
    if callable(reset):
        reset()


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """``m[i, j]`` = how many samples of class i were predicted as class j."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix
