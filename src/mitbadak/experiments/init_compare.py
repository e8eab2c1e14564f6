"""Weight init (chapter 6): with weights of std 0.01 a deep net does not learn; He and Xavier do.

The book's ``weight_init_compare.py``: the MultiLayerNet 784-100-100-100-100-10 trained with
SGD (lr 0.01, batch 128, 2,000 iterations) from weights of std 0.01, Xavier and He. With std
0.01 the signal, and with it the gradient, shrinks by ~100x per layer (see
``init-histograms``), so the loss stays at ln 10 = 2.30, the loss of a uniform guess over 10
classes. The book's script uses ReLU for all three curves, so its advice "Xavier for sigmoid"
is never shown; here the same three inits are also trained with sigmoid units: at lr 0.01, as
the book, and at lr 1.0, because at lr 0.01 a sigmoid net this deep barely moves from the
chance loss in 2,000 iterations whatever its init (each sigmoid layer scales the gradient
flowing back by at most 1/4, so the early layers learn very slowly).

Every run starts from the same standard-normal draws (scaled by its init) and sees the same
batches, so the curves differ by init and activation alone. Xavier is Glorot's
sqrt(2 / (fan_in + fan_out)); the book's "Xavier" is sqrt(1 / fan_in), which is the same for
the 100x100 layers and differs by at most 1.4x for the first and last.

``quick`` trains 300 iterations.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import nn
from mitbadak.experiments._data import find_dataset
from mitbadak.experiments._plots import plot_losses
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.experiments._training import fit_lesson, make_optimizer

HIDDEN = [100] * 4
# (activation, SGD learning rate) of each panel; the book's is the first.
SETTINGS = (("relu", 0.01), ("sigmoid", 0.01), ("sigmoid", 1.0))
INITS: dict[str, str | float] = {"std 0.01": 0.01, "Xavier": "xavier", "He": "he"}
BATCH = 128
ITERATIONS = 2000
QUICK_ITERATIONS = 300
FINAL_WINDOW = 100  # the final loss is the mean over this many last iterations
CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over 10 classes
# The book's ReLU curves, unsmoothed batch loss at iteration 1900 (its 2022 notebook, MNIST).
BOOK_LOSS_1900 = {"std 0.01": 2.305, "Xavier": 0.377, "He": 0.286}


def run(quick: bool = False, dataset: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Train the network once per setting and init; return every loss curve."""
    found, (x, t) = find_dataset(dataset)
    iterations = QUICK_ITERATIONS if quick else ITERATIONS
    panels = []
    for activation, lr in SETTINGS:
        runs = {}
        for label, init in INITS.items():
            mb.manual_seed(seed)
            model = nn.MLP(x.shape[1], HIDDEN, 10, activation=activation, init=init)
            history = fit_lesson(model, make_optimizer("sgd", model, lr), (x, t), batch_size=BATCH,
                                 iterations=iterations, seed=seed)
            runs[label] = {"init": init, "loss": history.loss,
                           "final_loss": float(np.mean(history.loss[-FINAL_WINDOW:]))}
        panels.append({"activation": activation, "lr": lr, "runs": runs})
    return {"dataset": found, "seed": seed, "network": [x.shape[1], *HIDDEN, 10],
            "optimizer": "sgd", "batch": BATCH, "iterations": iterations,
            "final_window": FINAL_WINDOW, "chance_loss": CHANCE_LOSS, "panels": panels,
            "book_relu_loss_1900": BOOK_LOSS_1900}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, axes = subplots(1, len(result["panels"]), figsize=(15, 4.5), sharey=True)
    net = "-".join(map(str, result["network"]))
    for ax, panel in zip(axes, result["panels"]):
        plot_losses(ax, {label: run_["loss"] for label, run_ in panel["runs"].items()},
                    f"{panel['activation']} units, lr {panel['lr']:g}", ylim=(0, 2.5))
        ax.axhline(result["chance_loss"], color="gray", linestyle=":", linewidth=1)
        ax.text(0, result["chance_loss"], "ln 10 (chance)", va="bottom", color="gray")
    fig.suptitle(f"MLP {net} on {result['dataset']}: SGD, batch {result['batch']}")
    return [save_figure(fig, out / "init-compare.png")]


def summary(result: dict[str, Any]) -> str:
    lines = [f"MLP {'-'.join(map(str, result['network']))} on {result['dataset']}, SGD, "
             f"{result['iterations']} iterations: mean loss of the last "
             f"{result['final_window']} (chance: {result['chance_loss']:.3f})"]
    book = result["book_relu_loss_1900"]
    for panel in result["panels"]:
        is_books = (panel["activation"], panel["lr"]) == SETTINGS[0]
        cells = [f"{label} {run_['final_loss']:.3f}"
                 + (f" [book, MNIST: {book[label]:.3f}]" if is_books else "")
                 for label, run_ in panel["runs"].items()]
        lines.append(f"  {panel['activation']:<7} lr {panel['lr']:<4g} " + ", ".join(cells))
    return "\n".join(lines)
