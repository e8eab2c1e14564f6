"""Optimizers (chapter 6): SGD zig-zags down a narrow valley; momentum and adaptive rates don't.

Part one is the book's toy problem: minimise f(x, y) = x^2/20 + y^2 from (-7, 2) in 30 steps.
The valley is 20 times steeper across (y) than along (x), so the gradient points mostly across
it: SGD (lr 0.95) bounces from wall to wall; Momentum (lr 0.1) builds up speed along x but
overshoots; Nesterov (lr 0.1, Momentum's, so the look-ahead is the only difference) overshoots
less; AdaGrad (lr 1.5) and RMSProp (lr 0.1, our choice) scale each coordinate by its own
gradient history, so the steep y settles at once; Adam (lr 0.3) rolls like a ball in a bowl.
The book's learning rates are its own; each is tuned to draw a clear path, not to be fair.

Part two trains the book's MultiLayerNet: 784-100-100-100-100-10 (4 hidden layers of 100 ReLU
units, He init, as ``optimizer_compare_mnist.py``), batch 128, 2,000 iterations, from the same
initial weights and on the same batches, at the book's default learning rates (SGD,
Momentum, Nesterov and AdaGrad 0.01; Adam 0.001) and RMSProp at 0.001, our choice: at the
book's default of 0.01 its loss spikes again and again (it divides by a short average of
squared gradients, which is small wherever they have been small for a while). The book's
result: SGD is clearly the slowest; the others learn much faster.

``quick`` trains 300 iterations. The parameters are mitbadak tensors and the updates are
``mitbadak.optim``'s, as in any training run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import nn
from mitbadak.experiments._data import find_dataset
from mitbadak.experiments._plots import plot_losses
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.experiments._training import fit_lesson, make_optimizer
from mitbadak.optim import OPTIMIZERS

NAMES = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
         "rmsprop": "RMSProp", "adam": "Adam"}

# Part one: f(x, y) = x^2/20 + y^2.
CURVATURE = np.array([1 / 20, 1.0])  # f = sum(CURVATURE * p^2)
START = (-7.0, 2.0)
STEPS = 30
PATH_LR = {"sgd": 0.95, "momentum": 0.1, "nesterov": 0.1, "adagrad": 1.5, "rmsprop": 0.1,
           "adam": 0.3}
# The book's final points (x, y, f) after 30 steps, measured by running its script.
BOOK_PATH_END = {"sgd": (-0.35, 0.085, 0.0133), "momentum": (0.90, 0.088, 0.0479),
                 "adagrad": (-0.12, 0.0, 0.00072), "adam": (0.14, 0.32, 0.102)}

# Part two: the book's optimizer_compare_mnist.py.
HIDDEN = [100] * 4
BATCH = 128
ITERATIONS = 2000
QUICK_ITERATIONS = 300
TRAIN_LR = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.001,
            "adam": 0.001}
# The book's unsmoothed batch losses at iterations 100 and 1900 (its 2022 notebook run, MNIST).
BOOK_LOSS = {"100": {"sgd": 1.48, "momentum": 0.42, "adagrad": 0.19, "adam": 0.34},
             "1900": {"sgd": 0.150, "momentum": 0.050, "adagrad": 0.016, "adam": 0.032}}
FINAL_WINDOW = 100  # the final loss is the mean over this many last iterations


def f(p: np.ndarray) -> np.ndarray:
    """The valley f(x, y) = x^2/20 + y^2, for points along the last axis."""
    return (CURVATURE * np.asarray(p) ** 2).sum(axis=-1)


def descend(name: str, lr: float, steps: int = STEPS) -> np.ndarray:
    """The ``steps + 1`` points optimizer ``name`` visits on f from `START`."""
    p = mb.tensor(START, dtype=np.float64, requires_grad=True)
    optimizer = OPTIMIZERS[name]([p], lr=lr)
    curvature = mb.tensor(CURVATURE, dtype=np.float64)
    points = [p.data.copy()]
    for _ in range(steps):
        loss = (curvature * p * p).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        points.append(p.data.copy())
    return np.array(points)


def run(quick: bool = False, dataset: str | None = None, seed: int = 0) -> dict[str, Any]:
    """The six paths on f, then the six training-loss curves on ``dataset``."""
    paths = {}
    for name, lr in PATH_LR.items():
        points = descend(name, lr)
        paths[name] = {"lr": lr, "points": points.tolist(), "final": points[-1].tolist(),
                       "final_f": float(f(points[-1]))}

    found, (x, t) = find_dataset(dataset)
    iterations = QUICK_ITERATIONS if quick else ITERATIONS
    training = {}
    for name, lr in TRAIN_LR.items():
        mb.manual_seed(seed)  # the same initial weights for every optimizer
        model = nn.MLP(x.shape[1], HIDDEN, 10, activation="relu", init="he")
        history = fit_lesson(model, make_optimizer(name, model, lr), (x, t), batch_size=BATCH,
                             iterations=iterations, seed=seed)
        training[name] = {"lr": lr, "loss": history.loss,
                          "final_loss": float(np.mean(history.loss[-FINAL_WINDOW:]))}
    return {"dataset": found, "seed": seed,
            "paths": {"start": list(START), "steps": STEPS, "runs": paths,
                      "book_final": BOOK_PATH_END},
            "training": {"network": [x.shape[1], *HIDDEN, 10], "activation": "relu",
                         "init": "he", "batch": BATCH, "iterations": iterations,
                         "final_window": FINAL_WINDOW, "runs": training, "book_loss": BOOK_LOSS}}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    return [_draw_paths(result["paths"], out / "optimizers-paths.png"),
            _draw_training(result, out / "optimizers-loss.png")]


def _draw_paths(paths: dict[str, Any], path: Path) -> Path:
    fig, axes = subplots(2, 3, figsize=(13, 6.5), sharex=True, sharey=True)
    grid = np.stack(np.meshgrid(np.linspace(-10, 10, 201), np.linspace(-5, 5, 101)), axis=-1)
    for ax, (name, run_) in zip(axes.flat, paths["runs"].items()):
        ax.contour(grid[..., 0], grid[..., 1], f(grid), levels=np.geomspace(0.05, 30, 12),
                   colors="#bbbbbb", linewidths=0.8)
        points = np.array(run_["points"])
        ax.plot(points[:, 0], points[:, 1], "o-", color="#d62728", markersize=3, linewidth=1)
        ax.plot(0, 0, "+", color="black", markersize=10)
        ax.set(title=f"{NAMES[name]} (lr {run_['lr']:g}): f = {run_['final_f']:.2g}",
               xlim=(-10, 10), ylim=(-5, 5), xticks=range(-10, 11, 5))
    for ax in axes[-1]:
        ax.set_xlabel("x")
    for ax in axes[:, 0]:
        ax.set_ylabel("y")
    fig.suptitle(f"{paths['steps']} steps on f(x, y) = x²/20 + y² from "
                 f"({paths['start'][0]:g}, {paths['start'][1]:g})")
    return save_figure(fig, path)


def _draw_training(result: dict[str, Any], path: Path) -> Path:
    training = result["training"]
    fig, ax = subplots(figsize=(8, 5))
    curves = {f"{NAMES[name]} (lr {run_['lr']:g})": run_["loss"]
              for name, run_ in training["runs"].items()}
    net = "-".join(map(str, training["network"]))
    plot_losses(ax, curves, f"MLP {net} (ReLU, He) on {result['dataset']}, "
                            f"batch {training['batch']}", ylim=(0, 1.5))
    return save_figure(fig, path)


def summary(result: dict[str, Any]) -> str:
    lines = ["Paths on f(x, y) = x^2/20 + y^2 after 30 steps from (-7, 2) (book's in brackets):"]
    for name, run_ in result["paths"]["runs"].items():
        x, y = run_["final"]
        book = result["paths"]["book_final"].get(name)
        ref = f"  [({book[0]:.2f}, {book[1]:.3f}) f {book[2]:.3g}]" if book else ""
        lines.append(f"  {NAMES[name]:<9} lr {run_['lr']:<5g} ends at ({x:6.2f}, {y:6.3f}) "
                     f"f = {run_['final_f']:.3g}{ref}")
    training = result["training"]
    lines.append(f"Training {'-'.join(map(str, training['network']))} on {result['dataset']}, "
                 f"{training['iterations']} iterations: mean loss of the last "
                 f"{training['final_window']}")
    book = training["book_loss"]["1900"]
    for name, run_ in sorted(training["runs"].items(), key=lambda kv: kv[1]["final_loss"]):
        ref = f"  [book, MNIST, it 1900: {book[name]:.3f}]" if name in book else ""
        lines.append(f"  {NAMES[name]:<9} lr {run_['lr']:<6g} {run_['final_loss']:.3f}{ref}")
    return "\n".join(lines)
