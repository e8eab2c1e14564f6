"""What every experiment shares: writing its numbers as JSON and its figures as PNG.

Figures are drawn with matplotlib's object-oriented API (`mitbadak.viz.figures.new_figure`:
a Figure on its own Agg canvas), never ``pyplot``: no display is needed, no global backend is
changed (a notebook keeps its own), and ``import mitbadak`` and the experiments' ``run``
functions never load matplotlib. Files are written atomically: a half-written figure or
result never replaces a good one.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from mitbadak import fileio
from mitbadak.viz.figures import new_figure
from mitbadak.viz.graph import render

DPI = 120


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             **kwargs: Any) -> tuple[Any, Any]:
    """(figure, axes) as ``plt.subplots`` gives them, with constrained layout, but from
    `new_figure` (no pyplot). ``kwargs`` go to ``Figure.subplots`` (sharex, width_ratios...)."""
    figure = new_figure(figsize=figsize)
    return figure, figure.subplots(nrows, ncols, **kwargs)


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays turned into Python numbers and lists, and
    non-finite floats into the strings "nan", "inf", "-inf" (strict JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def to_json(value: Any, indent: str = "") -> str:
    """JSON text with one key per line, but each list of numbers or strings on a single line,
    so a curve of 400 points takes one line instead of 400."""
    value = jsonable(value)
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, allow_nan=False)


def write_json(data: Any, path: Path) -> Path:
    return fileio.atomic_write(path, (to_json(data) + "\n").encode())


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` (a figure not made by pyplot needs no closing)."""
    return fileio.atomic_write(path, lambda file: fig.savefig(file, dpi=DPI, bbox_inches="tight",
                                                            format="png"))


def write_dot(source: str, path: Path) -> list[Path]:
    """Write Graphviz DOT text to ``path`` (.dot) and, if the ``dot`` program is installed,
    render it next to it as .svg and .png. Without ``dot``, say how to render it later."""
    written = [fileio.atomic_write(path, source.encode())]
    if shutil.which("dot") is None:
        print(f"note: Graphviz's `dot` was not found; wrote {path} only. Render it with "
              f"`dot -Tpng {path} -o {path.with_suffix('.png')}` after installing Graphviz "
              "(e.g. apt-get install graphviz).", file=sys.stderr)
        return written
    for fmt, dpi in (("svg", None), ("png", DPI)):
        rendered = render(source, fmt, dpi=dpi)
        written.append(fileio.atomic_write(path.with_suffix(f".{fmt}"), rendered))
    return written
