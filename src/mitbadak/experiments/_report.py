"""What every experiment shares: writing its numbers as JSON and its figures as PNG.

matplotlib is imported here, lazily, with the non-interactive Agg backend (no display needed),
so ``import mitbadak`` and the experiments' ``run`` functions never load it. Files are written
atomically: a half-written figure or result never replaces a good one.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from mitbadak import fileio
from mitbadak.viz.graph import render

DPI = 120


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the Agg backend, imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots`` with constrained layout (titles and labels never overlap)."""
    return pyplot().subplots(nrows, ncols, layout="constrained", **kwargs)


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then move it into place
    (`mitbadak.fileio.atomic_write`)."""
    return fileio.atomic_write(path, write)


def write_bytes(path: Path, data: bytes) -> Path:
    return fileio.atomic_write(path, data)


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
    return write_bytes(path, (to_json(data) + "\n").encode())


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` and close it (figures hold memory until closed)."""
    try:
        atomic_write(path, lambda file: fig.savefig(file, dpi=DPI, bbox_inches="tight",
                                                   format="png"))
    finally:
        pyplot().close(fig)
    return path


def write_dot(source: str, path: Path) -> list[Path]:
    """Write Graphviz DOT text to ``path`` (.dot) and, if the ``dot`` program is installed,
    render it next to it as .svg and .png. Without ``dot``, say how to render it later."""
    written = [write_bytes(path, source.encode())]
    if shutil.which("dot") is None:
        print(f"note: Graphviz's `dot` was not found; wrote {path} only. Render it with "
              f"`dot -Tpng {path} -o {path.with_suffix('.png')}` after installing Graphviz "
              "(e.g. apt-get install graphviz).", file=sys.stderr)
        return written
    for fmt, dpi in (("svg", None), ("png", DPI)):
        written.append(write_bytes(path.with_suffix(f".{fmt}"), render(source, fmt, dpi=dpi)))
    return written
