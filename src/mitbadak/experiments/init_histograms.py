"""Weight init (chapter 6): activations saturate, collapse or keep their spread, by initial scale.

The book's ``weight_init_activation_histogram.py``: 1,000 random inputs (standard normal, 100
features) pass through 5 layers of 100 units (weights only, no bias, no training), and each
layer's activations are counted in a histogram.

* sigmoid, std 1: the pre-activations are large, so the outputs pile up near 0 and 1, where
  sigmoid is flat: the gradients vanish (saturation).
* sigmoid, std 0.01: the outputs all sit near 0.5; every unit computes nearly the same thing,
  so 100 units are worth one (lost expressiveness).
* sigmoid, Xavier: std sqrt(2 / (fan_in + fan_out)) (= sqrt(1/100) here, the book's "Xavier",
  since the layers are square) keeps the outputs spread over (0, 1) in every layer.
* ReLU: std 0.01 shrinks the signal towards 0 layer after layer; Xavier shrinks it more slowly;
  He (std sqrt(2 / fan_in), twice Xavier's variance because ReLU zeroes half its inputs) keeps
  the spread the same in every layer.
* tanh, Xavier: spread, and centred on 0.

Numbers per layer: the mean and standard deviation (the spread) of the activations and their
*saturated* share: the share where the activation's slope, which scales every gradient that
flows back through it, is below a tenth of its largest value. For sigmoid (slope y(1 - y),
at most 1/4) that is an output below 0.026 or above 0.974; for tanh (slope 1 - y^2) |y| > 0.949;
for ReLU an output of exactly 0 (slope 0: no gradient passes back through that unit for that
input, whatever the weights' scale).

``quick`` changes nothing: the whole experiment is five small matrix products per setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.nn.init import get_initializer

SAMPLES = 1000
UNITS = 100
LAYERS = 5
# (activation, init) pairs in the figure's order; a number is a standard deviation.
SETTINGS = (("sigmoid", 1.0), ("sigmoid", 0.01), ("sigmoid", "xavier"),
            ("relu", 0.01), ("relu", "xavier"), ("relu", "he"), ("tanh", "xavier"))
ACTIVATIONS = {"sigmoid": F.sigmoid, "relu": F.relu, "tanh": F.tanh}
# Each activation's slope, as a function of its output y, relative to its largest slope.
RELATIVE_SLOPE = {"sigmoid": lambda y: 4 * y * (1 - y), "tanh": lambda y: 1 - y * y,
                  "relu": lambda y: (y > 0).astype(y.dtype)}
SATURATED_BELOW = 0.1  # saturated: a relative slope under this
HISTOGRAM_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 2.0)}


def saturated_share(activation: str, y: np.ndarray) -> float:
    """The share of outputs ``y`` where ``activation``'s slope is under a tenth of its largest."""
    return float(np.mean(RELATIVE_SLOPE[activation](y) < SATURATED_BELOW))


def setting_name(activation: str, init: str | float) -> str:
    return f"{activation}, {'std ' + format(init, 'g') if isinstance(init, float) else init}"


def forward(activation: str, init: str | float, seed: int) -> list[np.ndarray]:
    """The activations of each of the `LAYERS` layers for one setting. Every setting draws the
    same inputs and the same standard-normal weights (scaled by its init), so they differ in
    scale alone."""
    rng = np.random.default_rng(seed)
    h = mb.tensor(rng.standard_normal((SAMPLES, UNITS)))
    initializer = get_initializer(init, activation)
    layers = []
    for _ in range(LAYERS):
        w = mb.tensor(initializer((UNITS, UNITS), generator=rng))
        h = ACTIVATIONS[activation](h @ w)
        layers.append(h.numpy())
    return layers


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Activations, histograms and per-layer numbers of every setting in `SETTINGS`."""
    settings = []
    for activation, init in SETTINGS:
        low, high = HISTOGRAM_RANGE[activation]
        layers = []
        for y in forward(activation, init, seed):
            drawn = y[y != 0] if activation == "relu" else y  # ReLU's zeros are counted apart
            counts, edges = np.histogram(drawn, bins=30, range=(low, high))
            layers.append({"mean": float(y.mean()), "std": float(y.std()),
                           "saturated": saturated_share(activation, y),
                           "histogram": {"counts": counts.tolist(), "edges": edges.tolist()}})
        settings.append({"name": setting_name(activation, init), "activation": activation,
                         "init": init, "layers": layers})
    return {"samples": SAMPLES, "units": UNITS, "layers": LAYERS, "seed": seed,
            "saturated_below": SATURATED_BELOW, "settings": settings}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    settings = result["settings"]
    fig, axes = subplots(len(settings), result["layers"], figsize=(13, 2 * len(settings)),
                         sharey="row")
    for row, setting in zip(axes, settings):
        saturated = "zero" if setting["activation"] == "relu" else "saturated"
        for i, (ax, layer) in enumerate(zip(row, setting["layers"])):
            edges = np.array(layer["histogram"]["edges"])
            share = np.array(layer["histogram"]["counts"]) / result["samples"] / result["units"]
            ax.bar(edges[:-1], share, width=np.diff(edges), align="edge", color="#1f5fa8")
            ax.set_xlim(edges[0], edges[-1])
            numbers = f"std {layer['std']:.3g}, {saturated} {layer['saturated']:.0%}"
            header = f"layer {i + 1}\n" if setting is settings[0] else ""
            ax.set_title(header + numbers, fontsize=9)
        row[0].set_ylabel(setting["name"] + ("\n(non-zero values)"
                                             if setting["activation"] == "relu" else ""))
    fig.suptitle(f"Activations of {result['layers']} layers of {result['units']} units on "
                 f"{result['samples']} random inputs (share of all activations per bin)")
    return [save_figure(fig, out / "init-histograms.png")]


def summary(result: dict[str, Any]) -> str:
    lines = [f"Activations of {result['layers']} layers x {result['units']} units, "
             f"{result['samples']} N(0, 1) inputs: per layer, the std and the saturated share "
             f"(slope < {result['saturated_below']:g} x its largest; ReLU: zero)"]
    for setting in result["settings"]:
        stds = "".join(f"{layer['std']:<9.3g}" for layer in setting["layers"])
        shares = " ".join(f"{layer['saturated']:.0%}" for layer in setting["layers"])
        lines.append(f"  {setting['name']:<17} std {stds} saturated {shares}")
    return "\n".join(lines)
