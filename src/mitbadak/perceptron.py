"""The perceptron (the book's chapter 2): logic gates, XOR, and Rosenblatt's learning rule.

A perceptron weighs its inputs, adds a bias and fires when the sum is positive:

    y = 1  if  w . x + b > 0,  else 0.

The boundary w . x + b = 0 is a straight line (for two inputs), so one perceptron can only
separate classes that a line separates. AND, NAND and OR are such classes, with the book's
hand-set weights below; XOR is not, but stacking perceptrons -- XOR = AND(NAND, OR) -- can.

`train_perceptron` finds the weights by itself with Rosenblatt's rule: after each wrongly
classified sample x with target t and output y, move the weights towards the answer,

    w += lr * (t - y) * x,   b += lr * (t - y).

When a line separating the classes exists the rule finds one after finitely many mistakes
(the perceptron convergence theorem); on XOR it never stops making them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "AND", "NAND", "OR", "XOR", "Perceptron", "PerceptronTrainingResult", "TRUTH_TABLE_INPUTS",
    "train_perceptron",
]

#: The four input pairs of a two-input truth table, one row each.
TRUTH_TABLE_INPUTS = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])


@dataclass(frozen=True)
class Perceptron:
    """A single step perceptron: ``y = 1 if weights . x + bias > 0 else 0``.

    Call it with one number per input, ``p(x1, x2) -> int``, or with an array whose last axis
    holds the inputs, ``p(rows) -> int array`` (the numbers may also be arrays that broadcast).
    """

    weights: tuple[float, ...]
    bias: float

    def __call__(self, *inputs: Any) -> Any:
        x = np.asarray(inputs[0]) if len(inputs) == 1 else np.stack(
            np.broadcast_arrays(*inputs), axis=-1)
        if x.shape[-1:] != (len(self.weights),):
            raise ValueError(f"a perceptron with {len(self.weights)} weights needs inputs whose "
                             f"last axis has {len(self.weights)} values, got shape {x.shape}")
        y = (x @ np.asarray(self.weights) + self.bias > 0).astype(np.int64)
        return int(y) if y.ndim == 0 else y


AND = Perceptron(weights=(0.5, 0.5), bias=-0.7)
NAND = Perceptron(weights=(-0.5, -0.5), bias=0.7)
OR = Perceptron(weights=(0.5, 0.5), bias=-0.2)


def XOR(x1: Any, x2: Any) -> Any:  # noqa: N802  (the gate's name)
    """Exclusive or, a two-layer perceptron: NAND and OR in the first layer, AND on top."""
    return AND(NAND(x1, x2), OR(x1, x2))


@dataclass
class PerceptronTrainingResult:
    """What `train_perceptron` learned and how it got there.

    ``errors_per_epoch[k]`` counts the samples misclassified (and so corrected) during epoch k;
    ``converged`` is True when an epoch made no mistake, i.e. the learned line separates the
    training set.
    """

    weights: tuple[float, ...]
    bias: float
    converged: bool
    errors_per_epoch: list[int]

    @property
    def perceptron(self) -> Perceptron:
        return Perceptron(self.weights, self.bias)


def train_perceptron(X: Sequence[Sequence[float]] | np.ndarray,  # noqa: N803
                     t: Sequence[int] | np.ndarray, epochs: int = 100, lr: float = 0.1,
                     seed: int | None = None) -> PerceptronTrainingResult:
    """Learn a perceptron for inputs ``X`` (N, D) and targets ``t`` (N,) in {0, 1}.

    Rosenblatt's rule, one sample at a time (see the module docstring), stopping after the first
    epoch without a mistake. With ``seed=None`` it starts from zero weights and visits the
    samples in order, so the run is deterministic; with a seed it starts from small random
    weights and shuffles the samples every epoch.
    """
    X = np.asarray(X, dtype=np.float64)  # noqa: N806
    t = np.asarray(t)
    if X.ndim != 2 or t.shape != X.shape[:1]:
        raise ValueError(f"train_perceptron: X must be (N, D) and t (N,), got {X.shape} and "
                         f"{t.shape}")
    if not np.isin(t, (0, 1)).all():
        raise ValueError("train_perceptron: targets must be 0 or 1")
    rng = None if seed is None else np.random.default_rng(seed)
    w = np.zeros(X.shape[1]) if rng is None else rng.normal(0.0, 0.01, X.shape[1])
    b = 0.0
    errors_per_epoch: list[int] = []
    for _ in range(epochs):
        order = range(len(X)) if rng is None else rng.permutation(len(X))
        errors = 0
        for i in order:
            y = int(X[i] @ w + b > 0)
            if y != t[i]:
                w += lr * (t[i] - y) * X[i]
                b += lr * (t[i] - y)
                errors += 1
        errors_per_epoch.append(errors)
        if errors == 0:
            break
    return PerceptronTrainingResult(
        weights=tuple(float(v) for v in w), bias=float(b),
        converged=bool(errors_per_epoch) and errors_per_epoch[-1] == 0,
        errors_per_epoch=errors_per_epoch)
