"""Gradients (chapter 4): the field of f(x0, x1) = x0^2 + x1^2 and gradient descent on it.

The gradient (df/dx0, df/dx1) = (2 x0, 2 x1), computed here numerically with the central
difference as the book does, points uphill; its negative points to the minimum at (0, 0) and is
longer the steeper the slope. Gradient descent follows it, x <- x - lr * grad f(x). The learning
rate decides everything. From (-3, 4), in the book's 100 steps:

* lr 0.1 reaches (-6.1e-10, 8.1e-10), the book's numbers to all printed digits;
* lr 10 overshoots: every step multiplies x by 1 - 2 * 10 = -19, until at |x| ~ 1e13 the nudge
  h = 1e-4 vanishes in rounding (x + h == x), the numerical gradient becomes 0 and the path
  freezes at (-2.59e13, -1.30e12) -- again exactly what the book prints;
* lr 1e-4 barely moves (f from 25 to 24).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mitbadak.experiments._report import save_figure, subplots
from mitbadak.numerical import numerical_gradient

START = (-3.0, 4.0)
STEPS = 100
LEARNING_RATES = {"good": 0.1, "too large": 10.0, "too small": 1e-4}
BOOK_FINAL = {"good": [-6.11110793e-10, 8.14814391e-10],
              "too large": [-2.58983747e13, -1.29524862e12]}  # printed in chapter 4


def f(x: np.ndarray) -> float:
    """The bowl f(x0, x1) = x0^2 + x1^2, minimum 0 at the origin."""
    return float(np.sum(x**2))


def gradient_descent(fn: Callable[[np.ndarray], float], start: np.ndarray, lr: float,
                     steps: int) -> np.ndarray:
    """The book's ``gradient_descent``, returning the whole path: (steps + 1, D) points."""
    x = np.array(start, dtype=np.float64)
    path = [x.copy()]
    for _ in range(steps):
        x -= lr * numerical_gradient(fn, x)
        path.append(x.copy())
    return np.array(path)


def run(quick: bool = False) -> dict[str, Any]:
    """The gradient at every point of a grid, and one descent path per learning rate."""
    axis = np.arange(-2.0, 2.5, 0.5 if quick else 0.25)
    points = np.array([(x0, x1) for x1 in axis for x0 in axis])
    gradients = np.array([numerical_gradient(f, p.copy()) for p in points])
    descents = {}
    for name, lr in LEARNING_RATES.items():
        path = gradient_descent(f, np.array(START), lr, STEPS)
        descents[name] = {"lr": lr, "path": path.tolist(), "final": path[-1].tolist(),
                          "f": [f(p) for p in path], "final_f": f(path[-1]),
                          "book_final": BOOK_FINAL.get(name)}
    return {"field": {"points": points.tolist(), "gradients": gradients.tolist()},
            "start": list(START), "steps": STEPS, "descents": descents}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, (field_ax, path_ax, f_ax) = subplots(1, 3, figsize=(14, 4.4))
    points, grads = np.array(result["field"]["points"]), np.array(result["field"]["gradients"])
    field_ax.quiver(points[:, 0], points[:, 1], -grads[:, 0], -grads[:, 1], angles="xy",
                    color="#444444")
    field_ax.set(title="$-\\nabla f$: downhill, longer where steeper", xlabel="$x_0$",
                 ylabel="$x_1$", aspect="equal")

    grid = np.linspace(-4.5, 4.5, 200)
    x0, x1 = np.meshgrid(grid, grid)
    path_ax.contour(x0, x1, x0**2 + x1**2, levels=[1, 4, 9, 16, 25], colors="#bbbbbb")
    styles = {"good": ("#2ca02c", "-", 3), "too large": ("#d62728", "--", 1),
              "too small": ("#1f5fa8", "-", 2)}  # colour, line style, drawing order
    for name, d in result["descents"].items():
        color, style, order = styles[name]
        path = np.array(d["path"])
        label = f"lr {d['lr']:g} ({name}): f = {d['final_f']:.3g}"
        if name == "too large":  # the later steps leave the window; draw the first one only
            path = path[:2]
            label += f"\n  first step lands at ({path[1, 0]:g}, {path[1, 1]:g})"
        path_ax.plot(path[:, 0], path[:, 1], marker="o", linestyle=style, markersize=3,
                     color=color, zorder=order, label=label)
        f_ax.semilogy(d["f"], marker="o", linestyle=style, markersize=3, color=color,
                      label=f"lr {d['lr']:g}")
    f_ax.annotate("x + h == x in float64:\nnumerical gradient 0, path frozen",
                  xy=(result["steps"] * 0.55, result["descents"]["too large"]["final_f"]),
                  xytext=(result["steps"] * 0.3, 1e10), fontsize=8,
                  arrowprops={"arrowstyle": "->"})
    path_ax.set(xlim=(-4.5, 4.5), ylim=(-4.5, 4.5), aspect="equal", xlabel="$x_0$",
                title=f"{result['steps']} steps of gradient descent from {tuple(result['start'])}")
    path_ax.legend(loc="lower left", fontsize=8)
    f_ax.set(xlabel="step", ylabel="f(x) (log scale)", title="f along the path")
    f_ax.legend()
    return [save_figure(fig, out / "gradient.png")]


def summary(result: dict[str, Any]) -> str:
    lines = [f"gradient descent on x0^2 + x1^2 from {tuple(result['start'])}, "
             f"{result['steps']} steps:"]
    for name, d in result["descents"].items():
        x0, x1 = d["final"]
        book = "" if d["book_final"] is None else " (book: ({:.4g}, {:.4g}))".format(
            *d["book_final"])
        lines.append(f"  lr {d['lr']:<7g} ({name:<9}) ends at ({x0:.4g}, {x1:.4g}), "
                     f"f = {d['final_f']:.4g}{book}")
    return "\n".join(lines)
