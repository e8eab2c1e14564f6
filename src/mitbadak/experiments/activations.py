"""Activations (chapter 3): step, sigmoid, tanh, ReLU and their slopes; a softmax that overflows.

The step function's slope is zero wherever it exists, so a gradient tells a step network
nothing; sigmoid and tanh have useful slopes near zero that fade for large |x| (saturation);
ReLU's slope is 1 for every positive input. The slopes here come from mitbadak's autograd
(``y.sum().backward()`` gives dy_i/dx_i in ``x.grad``, since y_i depends on x_i alone), not
from hand-written formulas. Softmax divides exponentials: exp(1010) overflows to inf and
inf / inf is nan, while subtracting the maximum first (as ``F.softmax`` does) gives the same
probabilities without overflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.experiments._report import save_figure, subplots

ACTIVATIONS = {"step": F.step, "sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu}
SOFTMAX_INPUT = [1010.0, 1000.0, 990.0]  # the book's example of an overflowing softmax
PROBE_POINTS = [-3.0, -1.0, 0.5, 3.0]  # where the summary reports values and slopes


def value_and_slope(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The activation ``name`` at every x, and its derivative there by backpropagation."""
    xt = mb.tensor(x, dtype=np.float64, requires_grad=True)
    y = ACTIVATIONS[name](xt)
    y.sum().backward()
    assert xt.grad is not None  # backward reached the leaf xt
    return y.data, xt.grad


def naive_softmax(a: np.ndarray) -> np.ndarray:
    """exp(a) / sum(exp(a)), as written on paper: overflows for large a (warnings silenced)."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(a)
        return e / e.sum()


def run(quick: bool = False) -> dict[str, Any]:
    """Curves of each activation and its slope on [-5, 5]; the two softmaxes side by side."""
    x = np.linspace(-5.0, 5.0, 101 if quick else 401)
    curves, probes = {}, {}
    for name in ACTIVATIONS:
        y, slope = value_and_slope(name, x)
        curves[name] = {"y": y.tolist(), "slope": slope.tolist()}
        y, slope = value_and_slope(name, np.array(PROBE_POINTS))
        probes[name] = {"y": y.tolist(), "slope": slope.tolist()}
    a = np.array(SOFTMAX_INPUT)
    stable = F.softmax(mb.tensor(a, dtype=np.float64)).data
    with np.errstate(over="ignore"):
        exp_a = np.exp(a)
    softmax = {
        "input": SOFTMAX_INPUT,
        "exp": exp_a.tolist(),
        "naive": naive_softmax(a).tolist(),
        "stable": stable.tolist(),
        "stable_sum": float(stable.sum()),
    }
    return {"x": x.tolist(), "curves": curves, "probe_points": PROBE_POINTS, "probes": probes,
            "softmax": softmax}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    return [_draw_curves(result, out / "activations.png"),
            _draw_softmax(result["softmax"], out / "activations-softmax.png")]


def _draw_curves(result: dict[str, Any], path: Path) -> Path:
    fig, axes = subplots(1, len(ACTIVATIONS), figsize=(13, 3.4), sharex=True)
    x = result["x"]
    for ax, (name, curve) in zip(axes, result["curves"].items()):
        ax.plot(x, curve["y"], label="h(x)", color="#1f5fa8")
        ax.plot(x, curve["slope"], label="dh/dx (autograd)", color="#d62728", linestyle="--")
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.axvline(0, color="gray", linewidth=0.5)
        ax.set(title=name, xlabel="x")
        if name in ("step", "sigmoid"):
            ax.set_ylim(-0.2, 1.6)
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle("Activation functions and their derivatives (computed by backpropagation)")
    return save_figure(fig, path)


def _draw_softmax(softmax: dict[str, Any], path: Path) -> Path:
    fig, axes = subplots(1, 2, figsize=(9, 3.4), sharey=True)
    labels = [f"{a:g}" for a in softmax["input"]]
    for ax, key, title in ((axes[0], "naive", "naive: exp(a) / sum(exp(a))"),
                           (axes[1], "stable", "stable: exp(a - max a) / sum(...)")):
        values = np.array(softmax[key], dtype=float)
        ax.bar(labels, np.nan_to_num(values, nan=0.0), color="#1f5fa8")
        for i, v in enumerate(values):
            ax.text(i, 0.5 if np.isnan(v) else v + 0.03, f"{v:.3g}", ha="center",
                    color="#d62728" if np.isnan(v) else "black")
        ax.set(title=title, xlabel="input a_i", ylim=(0, 1.15))
    axes[0].set_ylabel("softmax(a)_i")
    axes[0].text(1, 0.85, "exp(1010) = inf,  inf / inf = nan", ha="center", color="#d62728")
    fig.suptitle(f"Softmax of {softmax['input']}")
    return save_figure(fig, path)


def summary(result: dict[str, Any]) -> str:
    points = ", ".join(f"{p:g}" for p in result["probe_points"])
    lines = [f"slope dh/dx by autograd at x = {points}:"]
    for name, probe in result["probes"].items():
        lines.append(f"  {name:<8}" + "  ".join(f"{s:7.4f}" for s in probe["slope"]))
    s = result["softmax"]
    lines.append(f"softmax({s['input']}): naive {s['naive']}, stable "
                 f"[{', '.join(f'{v:.3g}' for v in s['stable'])}] (sum {s['stable_sum']:.6f})")
    return "\n".join(lines)
