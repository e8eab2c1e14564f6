"""Figures of a training run, saved as PNG: learning curves and a confusion matrix.

matplotlib is imported only when a figure is drawn, and only its object-oriented API is used
(a `Figure` rendered by the Agg backend, never ``pyplot``): drawing here opens no window and
leaves the backend of a notebook or GUI session alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mitbadak.training.trainer import History


def smooth_curve(values: Sequence[float], window: int | None = None) -> np.ndarray:
    """A centred moving average of ``values``, of the same length.

    Mini-batch losses jump from batch to batch; averaging each point with its neighbours
    shows the trend (the book's ``smooth_curve`` convolves with an 11-point Kaiser window for
    the same purpose). Near the ends the window shrinks to the points that exist, so the curve
    starts and ends on the data. ``window`` defaults to 1/50 of the length (at least 1).
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    half = (window if window is not None else max(1, n // 50)) // 2
    sums = np.concatenate([[0.0], np.cumsum(v)])
    positions = np.arange(n)
    low, high = np.maximum(positions - half, 0), np.minimum(positions + half + 1, n)
    return (sums[high] - sums[low]) / (high - low)


def learning_curves(history: History, path: str | os.PathLike, title: str = "") -> Path:
    """Two panels: the loss of every iteration (faint) with its smoothed curve, and the train
    and test accuracy after each epoch. Returns the path of the PNG."""
    from matplotlib.ticker import MaxNLocator

    figure = _figure(figsize=(11, 4.2))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    iterations = np.arange(1, len(history.loss) + 1)
    loss_axes.plot(iterations, history.loss, color="tab:blue", alpha=0.25, linewidth=0.8,
                   label="mini-batch loss")
    loss_axes.plot(iterations, smooth_curve(history.loss), color="tab:blue", label="smoothed")
    loss_axes.set(xlabel="iteration", ylabel="loss", yscale="log", title="training loss")
    loss_axes.legend()
    for name, color in (("train", "tab:blue"), ("test", "tab:orange")):
        accuracy_axes.plot(history.epoch, getattr(history, f"{name}_accuracy"), marker="o",
                           markersize=3, color=color, label=name)
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title="accuracy after each epoch")
    accuracy_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    accuracy_axes.grid(alpha=0.3)
    accuracy_axes.legend(loc="lower right")
    return _save(figure, path, title)


def confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: str | os.PathLike,
                     title: str = "") -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted class), each cell
    showing its count and shaded by its share of the row. Returns the path of the PNG."""
    matrix = np.asarray(matrix)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure = _figure(figsize=(7.5, 6.5))
    axes = figure.subplots()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, ax=axes, label="share of the true class")
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, class_names)
    axes.set(xlabel="predicted class", ylabel="true class")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            axes.text(j, i, str(count), ha="center", va="center", fontsize=8,
                      color="white" if shares[i, j] > 0.5 else "black")
    return _save(figure, path, title)


def _figure(**options: Any) -> Any:
    from matplotlib.figure import Figure  # imported here: `import mitbadak` needs no matplotlib

    return Figure(layout="constrained", **options)


def _save(figure: Any, path: str | os.PathLike, title: str) -> Path:
    if title:
        figure.suptitle(title)
    path = Path(path)
    figure.savefig(path, dpi=110)
    return path
