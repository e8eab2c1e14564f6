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

The lesson (``mitbadak experiment perceptron``) draws both: the regions and lines of the
hand-set gates, and the mistakes per epoch of the learning rule on each gate; its numbers say
the same in one more way: the best of ~70,000 lines on a grid of (w1, w2, b) gets all four XOR
rows right never (3 of 4 at best).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mitbadak.experiments._report import save_figure, subplots

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
    w = np.zeros(X.shape[1]) if rng is None else rng.normal(0.0, 0.01, size=(X.shape[1],))
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


#: A two-input gate: ``gate(x1, x2)`` gives 0 or 1 (an int array for array inputs).
Gate = Callable[[Any, Any], Any]

GATES: Mapping[str, Gate] = {"AND": AND, "NAND": NAND, "OR": OR, "XOR": XOR}


def best_line_accuracy(t: np.ndarray, steps: int = 41) -> float:
    """The highest share of truth-table rows that any line on a grid of (w1, w2, b) in [-1, 1]
    classifies correctly: 1.0 when a line separates the classes, below 1.0 when none does."""
    grid = np.linspace(-1.0, 1.0, steps)
    w1, w2, b = (a.reshape(-1) for a in np.meshgrid(grid, grid, grid))
    outputs = np.outer(TRUTH_TABLE_INPUTS[:, 0], w1) + np.outer(TRUTH_TABLE_INPUTS[:, 1], w2) + b
    correct = ((outputs > 0) == t[:, None]).mean(axis=0)
    return float(correct.max())


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Truth tables, the best single line per gate, and the learning rule on every gate."""
    X = TRUTH_TABLE_INPUTS  # noqa: N806
    epochs = 20 if quick else 50
    gates = {}
    for name, gate in GATES.items():
        t = gate(X[:, 0], X[:, 1])
        learned = train_perceptron(X, t, epochs=epochs, lr=0.1, seed=seed)
        gates[name] = {
            "truth_table": t.tolist(),
            "weights": list(gate.weights) if isinstance(gate, Perceptron) else None,
            "bias": gate.bias if isinstance(gate, Perceptron) else None,
            "best_line_accuracy": best_line_accuracy(t),
            "learned": {
                "weights": list(learned.weights), "bias": learned.bias,
                "converged": learned.converged, "errors_per_epoch": learned.errors_per_epoch,
                "misclassified": int((learned.perceptron(X) != t).sum()),
            },
        }
    return {"inputs": X.tolist(), "epochs": epochs, "lr": 0.1, "seed": seed, "gates": gates}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    return [_draw_regions(result, out / "perceptron.png"),
            _draw_learning(result, out / "perceptron-learning.png")]


def _draw_regions(result: dict[str, Any], path: Path) -> Path:
    """One panel per gate: where the perceptron outputs 1 (shaded), its line(s), the targets."""
    fig, axes = subplots(1, 4, figsize=(13, 3.6))
    grid = np.linspace(-0.5, 1.5, 301)
    x1, x2 = np.meshgrid(grid, grid)
    X = np.array(result["inputs"])  # noqa: N806
    for ax, (name, gate) in zip(axes, GATES.items()):
        ax.contourf(x1, x2, gate(x1, x2), levels=[-0.5, 0.5, 1.5], colors=["white", "#cfe3f7"])
        lines = [gate] if isinstance(gate, Perceptron) else [NAND, OR]
        for p in lines:  # w1 x1 + w2 x2 + b = 0, i.e. x2 = -(w1 x1 + b) / w2
            ax.plot(grid, -(p.weights[0] * grid + p.bias) / p.weights[1], color="#1f5fa8")
        t = np.array(result["gates"][name]["truth_table"])
        for target, marker, color in ((0, "o", "#d62728"), (1, "^", "#2ca02c")):
            rows = X[t == target]
            ax.scatter(rows[:, 0], rows[:, 1], marker=marker, s=90, color=color, zorder=3,
                       edgecolors="black", label=f"target {target}")
        ax.set_title(f"{name}: one line" if isinstance(gate, Perceptron) else "XOR = AND(NAND, OR)")
        ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="$x_1$", aspect="equal")
    axes[0].set_ylabel("$x_2$")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle("Perceptron decision regions (shaded: output 1). No single line separates XOR.")
    return save_figure(fig, path)


def _draw_learning(result: dict[str, Any], path: Path) -> Path:
    """Mistakes per epoch of Rosenblatt's rule on each gate."""
    fig, ax = subplots(figsize=(6.5, 3.8))
    for name, gate in result["gates"].items():
        errors = gate["learned"]["errors_per_epoch"]
        state = "converged" if gate["learned"]["converged"] else "not converged"
        ax.plot(range(1, len(errors) + 1), errors, marker="o", markersize=3,
                label=f"{name} ({state})")
    ax.set(xlabel="epoch", ylabel="misclassified samples in the epoch", ylim=(-0.2, 5.2),
           title=f"The perceptron learning rule (lr {result['lr']}, seed {result['seed']})")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper center", ncol=2, fontsize=8)
    return save_figure(fig, path)


def summary(result: dict[str, Any]) -> str:
    lines = ["gate  best line  learning rule"]
    for name, gate in result["gates"].items():
        learned = gate["learned"]
        epochs = len(learned["errors_per_epoch"])
        outcome = (f"converged after {epochs} epochs" if learned["converged"] else
                   f"not converged after {epochs} epochs, {learned['misclassified']} of 4 wrong")
        lines.append(f"{name:<5} {gate['best_line_accuracy']:>9.0%}  {outcome}")
    return "\n".join(lines)
