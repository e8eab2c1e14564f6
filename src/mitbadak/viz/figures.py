"""Figures of a training run, saved as PNG: learning curves and a confusion matrix.

matplotlib is imported only when a figure is drawn, and only its object-oriented API is used
(`new_figure`: a `Figure` on its own Agg canvas, never ``pyplot``): drawing here opens no
window, leaves the backend of a notebook or GUI session alone, and keeps no global list of
figures to close. The experiments draw their figures the same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mitbadak.training.history import History


SMOOTHING_WINDOW = 11  # the book's


def smooth_curve(values: Sequence[float], window: int = SMOOTHING_WINDOW) -> np.ndarray:
    """The book's ``smooth_curve`` (``common/util.py``): a weighted moving average of
    ``values`` with a Kaiser window (beta 2) of ``window`` points, of the same length.

    Mini-batch losses jump from batch to batch; averaging each point with its neighbours
    shows the trend. With ``w = kaiser(window, 2) / sum(kaiser(window, 2))`` and ``h`` =
    ``window // 2``, point i becomes ``sum_k w[k] * s[i + h + k]`` where ``s`` is the series
    mirrored at both ends as the book does it, ``x[window-1], ..., x[1], x, x[-1], ...,
    x[-window+1]`` (the first point is not repeated, the last one is), so the curve keeps its
    length without edge effects. A series shorter than the window is returned as it is.
    Non-finite values (a diverged run) stay non-finite and are not drawn.
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) < window:
        return x.copy()
    mirrored = np.concatenate([x[window - 1:0:-1], x, x[-1:-window:-1]])
    weights = np.kaiser(window, 2)
    half = window // 2
    return np.convolve(weights / weights.sum(), mirrored, mode="valid")[half:half + len(x)]


def learning_curves(history: History, path: str | os.PathLike, title: str = "",
                    metric: str = "accuracy") -> Path:
    """Two panels: the loss of every iteration (faint) with its smoothed curve, and the train
    and test accuracy after each epoch (``metric="perplexity"``: the train and validation
    perplexity, exp of the loss, of a language model). Returns the path of the PNG."""
    from matplotlib.ticker import MaxNLocator

    figure = new_figure(figsize=(11, 4.2))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    iterations = np.arange(1, len(history.loss) + 1)
    loss_axes.plot(iterations, history.loss, color="tab:blue", alpha=0.25, linewidth=0.8,
                   label="mini-batch loss")
    loss_axes.plot(iterations, smooth_curve(history.loss), color="tab:blue", label="smoothed")
    loss_axes.set(xlabel="iteration", ylabel="loss", yscale="log", title="training loss")
    loss_axes.legend()
    perplexity = metric == "perplexity"
    for name, color in (("train", "tab:blue"), ("test", "tab:orange")):
        values = np.asarray(getattr(history, f"{name}_{'loss' if perplexity else 'accuracy'}"))
        accuracy_axes.plot(history.epoch, np.exp(values) if perplexity else values, marker="o",
                           markersize=3, color=color,
                           label="validation" if perplexity and name == "test" else name)
    accuracy_axes.set(xlabel="epoch", ylabel=metric, title=f"{metric} after each epoch")
    accuracy_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    accuracy_axes.grid(alpha=0.3)
    accuracy_axes.legend(loc="upper right" if perplexity else "lower right")
    return _save(figure, path, title)


def confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: str | os.PathLike,
                     title: str = "") -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted class), each cell
    showing its count and shaded by its share of the row. Returns the path of the PNG."""
    matrix = np.asarray(matrix)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure = new_figure(figsize=(7.5, 6.5))
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


def new_figure(**options: Any) -> Any:
    """A `matplotlib.figure.Figure` with constrained layout (titles and labels never overlap),
    drawn by its own Agg canvas (``FigureCanvasAgg``): no pyplot, no global backend change.
    ``options`` are Figure's (``figsize``, ...)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported here: `import
    from matplotlib.figure import Figure  # mitbadak` needs no matplotlib

    figure = Figure(layout="constrained", **options)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: str | os.PathLike, title: str) -> Path:
    if title:
        figure.suptitle(title)
    path = Path(path)
    figure.savefig(path, dpi=110)
    return path
