"""Perceptrons (chapter 2): a line separates AND, NAND and OR, no line separates XOR.

A single perceptron outputs 1 on one side of the line w . x + b = 0 and 0 on the other. The
book's hand-set AND, NAND and OR draw such a line; XOR needs two lines, which the two-layer
perceptron AND(NAND, OR) provides. The numbers say the same in two more ways: the best of
~70,000 lines on a grid of (w1, w2, b) gets all four XOR rows right never (3 of 4 at best), and
Rosenblatt's learning rule stops making mistakes on AND, NAND and OR within a few epochs but
keeps making them on XOR forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mitbadak.experiments._report import save_figure, subplots
from mitbadak.perceptron import AND, NAND, OR, TRUTH_TABLE_INPUTS, XOR, train_perceptron

GATES = {"AND": AND, "NAND": NAND, "OR": OR, "XOR": XOR}
SINGLE_LAYER = ("AND", "NAND", "OR")


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
            "weights": list(gate.weights) if name in SINGLE_LAYER else None,
            "bias": gate.bias if name in SINGLE_LAYER else None,
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
        lines = [gate] if name in SINGLE_LAYER else [NAND, OR]
        for p in lines:  # w1 x1 + w2 x2 + b = 0, i.e. x2 = -(w1 x1 + b) / w2
            ax.plot(grid, -(p.weights[0] * grid + p.bias) / p.weights[1], color="#1f5fa8")
        t = np.array(result["gates"][name]["truth_table"])
        for target, marker, color in ((0, "o", "#d62728"), (1, "^", "#2ca02c")):
            rows = X[t == target]
            ax.scatter(rows[:, 0], rows[:, 1], marker=marker, s=90, color=color, zorder=3,
                       edgecolors="black", label=f"target {target}")
        ax.set_title(f"{name}: one line" if name in SINGLE_LAYER else "XOR = AND(NAND, OR)")
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
