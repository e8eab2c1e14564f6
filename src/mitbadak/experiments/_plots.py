"""Figure pieces the chapter-6 experiments share: smoothing a noisy loss curve and drawing a
panel of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

SMOOTHING_WINDOW = 11  # as the book's smooth_curve


def smooth(values: Sequence[float], window: int = SMOOTHING_WINDOW) -> np.ndarray:
    """A weighted moving average of ``values`` (Kaiser window, as the book's ``smooth_curve``),
    mirrored at both ends so the result has the same length and no edge effects.

    Each mini-batch gives a different loss, so the raw curve is noisy; the average shows the
    trend. Non-finite values (a diverged run) stay non-finite and are not drawn.
    """
    y = np.asarray(values, dtype=np.float64)
    if len(y) < window:
        return y
    half = window // 2
    padded = np.concatenate([y[half:0:-1], y, y[-2:-half - 2:-1]])
    weights = np.kaiser(window, 2)
    return np.convolve(padded, weights / weights.sum(), mode="valid")


def plot_losses(ax: Any, curves: Mapping[str, Sequence[float]], title: str,
                ylim: tuple[float, float] | None = None) -> None:
    """One smoothed training-loss curve per entry of ``curves`` (label -> loss per iteration)."""
    for label, loss in curves.items():
        ax.plot(np.arange(1, len(loss) + 1), smooth(loss), label=label, linewidth=1.2)
    ax.set(title=title, xlabel="iteration", ylabel="training loss (smoothed)", ylim=ylim)
    ax.grid(alpha=0.3)
    ax.legend()
