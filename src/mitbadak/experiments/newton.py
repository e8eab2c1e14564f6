"""Newton's method with f'' by double backprop, against gradient descent, on x^4 - 2x^2.

f(x) = x^4 - 2x^2 has its minima at x = ±1 (f' = 4x^3 - 4x = 0, f'' = 12x^2 - 4 > 0 there).
Gradient descent, x <- x - lr f'(x), knows only the slope; Newton's method,
x <- x - f'(x) / f''(x), also uses the curvature: it jumps to the minimum of the parabola that
touches f at x. Both derivatives come from the graph: f' = ``mb.autograd.grad(y, x,
create_graph=True)`` is itself a tensor with a graph, so f'' is its gradient (the sequel's
step 33). From x = 2, Newton reaches |x - 1| < 1e-6 in 6 steps (each one roughly doubles
the number of correct digits: quadratic convergence); gradient descent with lr 0.01 needs 153
(near 1 each step shrinks the error by |1 - lr f''(1)| = 0.92 only: linear convergence).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak.experiments._report import save_figure, subplots

START = 2.0
TOLERANCE = 1e-6
LR = 0.01
MAX_STEPS = 10_000


def f(x: mb.Tensor) -> mb.Tensor:
    """f(x) = x^4 - 2x^2."""
    return x**4 - 2 * x**2


def derivatives(x: float) -> tuple[float, float]:
    """f'(x) and f''(x), by backprop and by backprop through the backprop."""
    t = mb.tensor(x, dtype=np.float64, requires_grad=True)
    (g,) = mb.autograd.grad(f(t), t, create_graph=True)
    (h,) = mb.autograd.grad(g, t)
    return g.item(), h.item()


def minimise(method: str, start: float = START) -> list[float]:
    """The path of x from ``start`` until |x - 1| < TOLERANCE (at most MAX_STEPS steps)."""
    path = [start]
    while abs(path[-1] - 1) >= TOLERANCE and len(path) <= MAX_STEPS:
        slope, curvature = derivatives(path[-1])
        step = slope / curvature if method == "newton" else LR * slope
        path.append(path[-1] - step)
    return path


def run(quick: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"start": START, "tolerance": TOLERANCE, "lr": LR}
    for method in ("newton", "gradient descent"):
        path = minimise(method)
        result[method] = {"steps": len(path) - 1, "path": path, "final": path[-1],
                          "errors": [abs(x - 1) for x in path]}
    result["check"] = dict(zip(("f'(2)", "f''(2)"), derivatives(2.0)))  # 24 and 44
    return result


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, (curve_ax, error_ax) = subplots(1, 2, figsize=(11, 4.2))
    grid = np.linspace(-1.6, 2.15, 300)
    curve_ax.plot(grid, grid**4 - 2 * grid**2, color="#888888", label="$f(x) = x^4 - 2x^2$")
    styles = {"newton": ("#d62728", "o", 6), "gradient descent": ("#1f5fa8", ".", 3)}
    for method, (color, marker, size) in styles.items():
        path = np.array(result[method]["path"])
        label = f"{method}: {result[method]['steps']} steps"
        curve_ax.plot(path, path**4 - 2 * path**2, marker=marker, markersize=size,
                      linestyle="-" if method == "newton" else "none", color=color, label=label)
        errors = np.maximum(np.array(result[method]["errors"]), 1e-17)
        error_ax.semilogy(errors, marker=marker, markersize=size, color=color, label=label)
    error_ax.axhline(result["tolerance"], color="#888888", linestyle=":", label="tolerance")
    curve_ax.set(xlabel="x", ylabel="f(x)", title=f"From x = {result['start']:g} to the "
                 "minimum at x = 1")
    error_ax.set(xlabel="step", ylabel="|x - 1| (log scale)",
                 title=f"Newton (f'' by double backprop) vs gradient descent (lr {result['lr']})")
    curve_ax.legend()
    error_ax.legend()
    return [save_figure(fig, out / "newton.png")]


def summary(result: dict[str, Any]) -> str:
    n, gd = result["newton"], result["gradient descent"]
    return (f"minimising x^4 - 2x^2 from x = {result['start']:g} to |x - 1| < "
            f"{result['tolerance']:g}:\n"
            f"  Newton's method (f'' by double backprop): {n['steps']} steps, x = "
            f"{n['final']:.10f}\n"
            f"  gradient descent (lr {result['lr']}): {gd['steps']} steps, x = "
            f"{gd['final']:.10f}")
