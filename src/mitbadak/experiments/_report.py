"""What every experiment shares: writing its numbers as JSON and its figures as PNG.

Figures are drawn with matplotlib's object-oriented API (`mitbadak.viz.figures.new_figure`:
a Figure on its own Agg canvas), never ``pyplot``: no display is needed, no global backend is
changed (a notebook keeps its own), and ``import mitbadak`` and the experiments' ``run``
functions never load matplotlib. Files are written atomically: a half-written figure or
result never replaces a good one.

Inside ``with figure_language("ko"):`` every figure saved is translated first (`_ko.KO`,
through `mitbadak.viz.i18n.localize`) and drawn in a Korean font; the lessons draw in English
and never know.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from mitbadak import fileio
from mitbadak.fileio import to_json
from mitbadak.viz.figures import new_figure
from mitbadak.viz.graph import render
from mitbadak.viz.i18n import korean_font, localize

DPI = 120
LANGUAGES = ("en", "ko")  # the figures' languages; English is how the lessons draw
_language: ContextVar[str] = ContextVar("figure_language", default="en")


@contextmanager
def figure_language(language: str) -> Iterator[None]:
    """Save the figures of this block in ``language`` (one of `LANGUAGES`). For Korean, a
    Korean font must be installed: `mitbadak.viz.i18n.FontNotFoundError` otherwise, raised
    here, before any figure is drawn."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown figure language {language!r}; choose one of "
                         + ", ".join(LANGUAGES))
    if language == "ko":
        korean_font()
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             **kwargs: Any) -> tuple[Any, Any]:
    """(figure, axes) as ``plt.subplots`` gives them, with constrained layout, but from
    `new_figure` (no pyplot). ``kwargs`` go to ``Figure.subplots`` (sharex, width_ratios...)."""
    figure = new_figure(figsize=figsize)
    return figure, figure.subplots(nrows, ncols, **kwargs)


def write_json(data: Any, path: Path) -> Path:
    return fileio.atomic_write(path, (to_json(data) + "\n").encode())


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` (a figure not made by pyplot needs no closing), in
    the language of the enclosing `figure_language` block."""
    if _language.get() == "ko":
        from mitbadak.experiments._ko import KO

        localize(fig, KO.for_figure(Path(path).stem), korean_font())
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
