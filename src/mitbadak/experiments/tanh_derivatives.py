"""The 1st to 6th derivatives of tanh, each by differentiating the previous one's graph.

``mb.autograd.grad(y, x, create_graph=True)`` returns dy/dx as a tensor with a graph of its
own: the backward pass recorded as operations. Differentiating that graph gives d²y/dx², and
so on (the sequel's step 35 draws the same curves). tanh' = 1 - tanh², and each derivative is a
polynomial in tanh of one degree more: tanh'' = -2 tanh (1 - tanh²), ... Nothing simplifies the
graphs, so each one holds the previous graph plus its backward: from tanh itself (1 operation)
to the 6th derivative they have 1, 4, 7, 19, 49, 127 and 337 operations, about 2.6 times more
per order. The graphs are written as Graphviz DOT files
(`mitbadak.viz.to_dot`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.experiments._report import save_figure, subplots, write_dot
from mitbadak.viz.graph import to_dot

ORDERS = 6
DRAWN = (1, 2)  # the derivatives whose graphs are written as DOT (the others are large)


def graph_size(y: mb.Tensor) -> int:
    """How many operations (Function nodes) the graph that made ``y`` has."""
    seen: set[int] = set()
    stack = [y.creator] if y.creator is not None else []
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.extend(x.creator for x in fn.inputs or () if x.creator is not None)
    return len(seen)


def run(quick: bool = False) -> dict[str, Any]:
    xs = np.linspace(-7, 7, 61 if quick else 401)
    x = mb.tensor(xs, dtype=np.float64, requires_grad=True)
    y = F.tanh(x)
    curves, sizes, dots = [y.data.tolist()], [graph_size(y)], {}
    for order in range(1, ORDERS + 1):
        (y,) = mb.autograd.grad(y.sum(), x, create_graph=True)
        curves.append(y.data.tolist())
        sizes.append(graph_size(y))
        if order in DRAWN:
            dots[order] = to_dot(y, names={"x": x}, title=f"the graph of tanh's derivative "
                                                          f"number {order}")
    t = np.tanh(xs)
    closed_form = {1: 1 - t**2, 2: -2 * t * (1 - t**2)}
    errors = {order: float(np.abs(np.array(curves[order]) - exact).max())
              for order, exact in closed_form.items()}
    return {"x": xs.tolist(), "derivatives": curves, "graph_sizes": sizes,
            "max_error_vs_closed_form": errors, "dot": dots}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, ax = subplots(figsize=(8, 4.8))
    x = np.array(result["x"])
    for order, curve in enumerate(result["derivatives"]):
        label = "tanh" if order == 0 else f"derivative {order}"
        ax.plot(x, curve, label=f"{label} ({result['graph_sizes'][order]} operations)")
    ax.set(xlabel="x", ylim=(-10, 10), title="tanh and its derivatives by repeated "
                                             "mb.autograd.grad(..., create_graph=True)")
    ax.legend(fontsize=8)
    files = [save_figure(fig, out / "tanh-derivatives.png")]
    for order, dot in result["dot"].items():
        files += write_dot(dot, out / f"tanh-derivatives-graph{order}.dot")
    return files


def summary(result: dict[str, Any]) -> str:
    sizes = ", ".join(f"{order}: {n}" for order, n in enumerate(result["graph_sizes"]))
    errors = ", ".join(f"{order}: {e:.1e}" for order, e in
                       result["max_error_vs_closed_form"].items())
    return (f"operations in the graph of each derivative (0 = tanh itself): {sizes}\n"
            f"largest difference from the closed forms: {errors}")
