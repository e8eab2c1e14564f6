"""Convolution filters (chapter 7): random noise before training, edge and blob detectors after.

The book's ``visualize_filter.py`` (figure 7-24): the 30 first-layer filters (5x5) of its
SimpleConvNet, drawn before and after training. Before, they are random noise; after, most
have a structure -- a light and a dark region side by side, an edge detector, or a blob --
and the conv layer's outputs (``filters-activations.png``: one test image through the 30
filters and ReLU) show each filter picking out the edges of one orientation, or the area.

The structure is measured by the *neighbour correlation*: for each filter, the correlation
between the weights of horizontally and vertically adjacent pixels, averaged over the
filters. Independent random weights give about 0; a smooth filter (neighbours alike, as in
an edge or a blob) gives a value towards 1; a checkerboard would give -1.

As in the book, the weights start with std 0.01 (``init=0.01``), so what the trained filters
show was learned rather than left over from the random start (He's larger start, the
recipe's default, keeps more of its noise after a short training). Adam, lr 0.001, batch 100.

``quick`` trains 300 iterations; the full run 2 epochs of the default dataset (MNIST,
else Fashion-MNIST, else the 8x8 digits, whose 5x5 filters cover most of an image).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.autograd.grad_mode import no_grad
from mitbadak.data import CLASSES
from mitbadak.experiments._data import find_splits
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.experiments._training import fit_lesson
from mitbadak.training.evaluation import evaluate

INIT = 0.01  # the book's weight_init_std
LR = 1e-3
BATCH = 100
EPOCHS, QUICK_ITERATIONS = 2, 300
COLUMNS = 10  # filters per row in the figures


def neighbour_correlation(filters: np.ndarray) -> float:
    """Mean over filters (N, KH, KW) of the correlation between adjacent weights (the pairs
    of horizontal and of vertical neighbours together): ~0 for noise, towards 1 for smooth
    filters."""
    correlations = []
    for w in filters:
        a = np.concatenate([w[:, :-1].ravel(), w[:-1, :].ravel()])
        b = np.concatenate([w[:, 1:].ravel(), w[1:, :].ravel()])
        correlations.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(correlations))


def run(quick: bool = False, dataset: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Train SimpleConvNet; return its first-layer filters before and after, and the conv
    layer's activations for one test image."""
    found, (x, t), (x_test, t_test) = find_splits(dataset)
    side = math.isqrt(x.shape[1])
    x, x_test = x.reshape(-1, 1, side, side), x_test.reshape(-1, 1, side, side)
    mb.manual_seed(seed)
    model = nn.SimpleConvNet(input_dim=x.shape[1:], init=INIT)
    conv = model.layers[0]
    before = conv.W.data[:, 0].copy()
    _, accuracy_before = evaluate(model, x_test, t_test)  # eval mode, in batches
    epochs, iterations = (None, QUICK_ITERATIONS) if quick else (EPOCHS, None)
    history = fit_lesson(model, optim.Adam(model.parameters(), lr=LR), (x, t), batch_size=BATCH,
                         epochs=epochs, iterations=iterations, seed=seed)
    after = conv.W.data[:, 0].copy()
    with no_grad():
        activations = F.relu(conv(x_test[:1])).data[0]
    return {
        "dataset": found, "seed": seed, "init": INIT, "optimizer": "adam", "lr": LR,
        "batch": BATCH, "iterations": len(history.loss),
        "epochs": round(len(history.loss) * BATCH / len(x), 2),
        "test_accuracy": {"before": accuracy_before,
                          "after": evaluate(model, x_test, t_test)[1]},
        "neighbour_correlation": {"before": neighbour_correlation(before),
                                  "after": neighbour_correlation(after)},
        "filters": {"before": before.round(5), "after": after.round(5)},
        "image": {"pixels": x_test[0, 0].round(4), "label": int(t_test[0])},
        "activations": activations.round(4),
    }


def tile(images: np.ndarray, columns: int, normalize_each: bool) -> np.ndarray:
    """Images (N, H, W) in one (rows*(H+1)-1, columns*(W+1)-1) mosaic, 1-pixel gaps (NaN:
    drawn blank), each image scaled to [0, 1] by its own range or all by the common one."""
    n, h, w = images.shape
    low = images.min(axis=(1, 2), keepdims=True) if normalize_each else images.min()
    high = images.max(axis=(1, 2), keepdims=True) if normalize_each else images.max()
    scaled = (images - low) / np.maximum(high - low, 1e-12)
    rows = -(-n // columns)
    mosaic = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for i, image in enumerate(scaled):
        r, c = divmod(i, columns)
        mosaic[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = image
    return mosaic


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    correlation, accuracy = result["neighbour_correlation"], result["test_accuracy"]
    fig, axes = subplots(2, 1, figsize=(8, 5.5))
    for ax, when in zip(axes, ("before", "after")):
        filters = np.asarray(result["filters"][when])
        ax.imshow(tile(filters, COLUMNS, normalize_each=True), cmap="gray",
                  interpolation="nearest")
        ax.set_title(f"{when} training: neighbour correlation {correlation[when]:+.2f}, "
                     f"test accuracy {accuracy[when]:.3f}")
        ax.axis("off")
    fig.suptitle(f"SimpleConvNet's {len(filters)} first-layer filters on {result['dataset']} "
                 f"({result['iterations']} iterations, {result['epochs']:g} epochs)")
    paths = [save_figure(fig, out / "filters.png")]

    fig, (left, right) = subplots(1, 2, figsize=(11, 4), width_ratios=(1, 3))
    left.imshow(np.asarray(result["image"]["pixels"]), cmap="gray", interpolation="nearest")
    left.set_title(f"a test image: {CLASSES[result['dataset']][result['image']['label']]}")
    activations = np.asarray(result["activations"])
    right.imshow(tile(activations, COLUMNS, normalize_each=True), cmap="gray",
                 interpolation="nearest")
    right.set_title(f"its {len(activations)} activation maps after conv + ReLU "
                    "(each on its own scale)")
    for ax in (left, right):
        ax.axis("off")
    paths.append(save_figure(fig, out / "filters-activations.png"))
    return paths


def summary(result: dict[str, Any]) -> str:
    correlation, accuracy = result["neighbour_correlation"], result["test_accuracy"]
    return (f"SimpleConvNet on {result['dataset']}, init std {result['init']:g}, "
            f"{result['iterations']} iterations ({result['epochs']:g} epochs)\n"
            f"  test accuracy        {accuracy['before']:.3f} -> {accuracy['after']:.3f}\n"
            f"  neighbour correlation of the first-layer filters "
            f"{correlation['before']:+.3f} -> {correlation['after']:+.3f}")
