"""Figure pieces the chapter-6 experiments share: a panel of smoothed loss curves (smoothed
as `mitbadak train`'s curves are, by the book's `smooth_curve`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mitbadak.viz.figures import smooth_curve


def plot_losses(ax: Any, curves: Mapping[str, Sequence[float]], title: str,
                ylim: tuple[float, float] | None = None) -> None:
    """One smoothed training-loss curve per entry of ``curves`` (label -> loss per iteration)."""
    for label, loss in curves.items():
        ax.plot(np.arange(1, len(loss) + 1), smooth_curve(loss), label=label, linewidth=1.2)
    ax.set(title=title, xlabel="iteration", ylabel="training loss (smoothed)", ylim=ylim)
    ax.grid(alpha=0.3)
    ax.legend()
