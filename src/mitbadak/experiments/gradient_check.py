"""Gradient check (chapters 4-5): backprop equals numerical differentiation, 1000s of times faster.

The book's TwoLayerNet (784 -> 50 sigmoid -> 10, weights N(0, 0.01^2)) in float64, on a batch
of 100 real images. Its gradient is computed twice: by backpropagation (one forward and one
backward pass) and numerically, by the central difference (L(w + h) - L(w - h)) / 2h with
h = 1e-4 for every single weight -- two forward passes per weight, ~80,000 for this network.
The two agree to ~1e-10 (the book reports 1e-10 to 1e-13), so backprop is right; the
numerical way is thousands of times slower, so nobody trains with it.

``quick`` checks a random subset of each parameter's entries and extrapolates the numerical
time per entry to the whole network (the summary says so). Without MNIST or Fashion-MNIST on
disk the embedded 8x8 ``digits`` set is used, and the network is 64 -> 50 -> 10.

It also shows why accuracy cannot be the loss: changing one weight by h almost never flips a
prediction, so the numerical gradient of the accuracy is zero in almost every entry (and a
meaningless spike of +-1/(N * 2h) in the rest), while the cross-entropy's is not.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn
from mitbadak.experiments._data import find_dataset
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.numerical import numerical_gradient

BATCH = 100
H = 1e-4  # the book's step for numerical differentiation
PARAM_NAMES = ("W1", "b1", "W2", "b2")  # the book's names, in the order of parameters()
QUICK_ENTRIES = 100  # entries per parameter checked in quick mode


def numerical_gradient_at(f: Callable[[], float], x: np.ndarray,
                          entries: np.ndarray | None) -> np.ndarray:
    """The numerical gradient of ``f()`` with respect to the given flat ``entries`` of ``x``
    (all of them when ``entries`` is None); ``f`` reads ``x``, which is restored afterwards."""
    if entries is None:
        return numerical_gradient(lambda _: f(), x, h=H).reshape(-1)
    flat = x.reshape(-1)
    original = flat[entries].copy()

    def f_of_entries(values: np.ndarray) -> float:
        flat[entries] = values
        return f()

    try:
        return numerical_gradient(f_of_entries, original.copy(), h=H)
    finally:
        flat[entries] = original


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(quick: bool = False, dataset: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Compare backprop and numerical gradients per parameter, time both, and compare the
    numerical gradients of the cross-entropy and of the accuracy with respect to W2."""
    name, (x_train, t_train) = find_dataset(dataset)
    x = x_train[:BATCH].astype(np.float64)
    t = t_train[:BATCH]
    mb.manual_seed(seed)
    model = nn.TwoLayerNet(input_size=x.shape[1], hidden_size=50, output_size=10).to(np.float64)
    params = dict(zip(PARAM_NAMES, model.parameters()))

    def loss() -> mb.Tensor:
        return F.cross_entropy(model(x), t)

    def backprop() -> None:
        model.zero_grad()
        loss().backward()

    backprop_seconds = min(_seconds(backprop) for _ in range(20))  # the least disturbed run
    rng = np.random.default_rng(seed)
    per_param, numerical_seconds, checked = {}, 0.0, 0
    with mb.no_grad():
        forward_seconds = min(_seconds(loss) for _ in range(20))
        for pname, p in params.items():
            entries = (np.sort(rng.choice(p.size, min(QUICK_ENTRIES, p.size), replace=False))
                       if quick else None)
            start = time.perf_counter()
            numeric = numerical_gradient_at(lambda: loss().item(), p.data, entries)
            numerical_seconds += time.perf_counter() - start
            assert p.grad is not None  # backprop() gave every parameter its gradient
            analytic = p.grad.reshape(-1) if entries is None else p.grad.reshape(-1)[entries]
            diff = np.abs(analytic - numeric)
            checked += numeric.size
            per_param[pname] = {"shape": list(p.shape), "checked": int(numeric.size),
                                "mean_abs_diff": float(diff.mean()),
                                "max_abs_diff": float(diff.max()),
                                "max_abs_grad": float(np.abs(analytic).max())}
        accuracy_as_loss = accuracy_versus_cross_entropy(model, params["W2"].data, x, t)
    total = sum(p.size for p in params.values())
    numerical_full = numerical_seconds / checked * total
    return {
        "dataset": name, "batch": BATCH, "h": H,
        "network": [x.shape[1], 50, 10], "parameters": total, "dtype": "float64",
        "per_param": per_param,
        "timing": {"backprop_seconds": backprop_seconds,
                   "forward_seconds": forward_seconds,
                   "numerical_seconds_measured": numerical_seconds,
                   "entries_checked": checked,
                   "numerical_seconds_full": numerical_full,
                   "extrapolated": checked < total,
                   "two_forwards_per_parameter_seconds": 2 * total * forward_seconds,
                   "speedup": numerical_full / backprop_seconds,
                   "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS",
                                                  os.environ.get("OMP_NUM_THREADS", "default")),
                   "cpu_count": os.cpu_count()},
        "accuracy_as_loss": accuracy_as_loss,
    }


def accuracy_versus_cross_entropy(model: nn.Module, W2: np.ndarray,  # noqa: N803
                                  x: np.ndarray, t: np.ndarray) -> dict[str, Any]:
    """The numerical gradients of the accuracy and of the cross-entropy with respect to W2."""
    accuracy_grad = numerical_gradient_at(lambda: F.accuracy(model(x), t), W2, None)
    cross_entropy_grad = numerical_gradient_at(
        lambda: F.cross_entropy(model(x), t).item(), W2, None)
    return {
        "parameter": "W2", "shape": list(W2.shape),
        "accuracy": F.accuracy(model(x), t),
        "accuracy_grad_nonzero": int(np.count_nonzero(accuracy_grad)),
        "cross_entropy_grad_nonzero": int(np.count_nonzero(cross_entropy_grad)),
        "accuracy_grad_values": sorted({float(v) for v in accuracy_grad}),
        "accuracy_grad": accuracy_grad.reshape(W2.shape).tolist(),
        "cross_entropy_grad": cross_entropy_grad.reshape(W2.shape).tolist(),
    }


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, (diff_ax, time_ax, ce_ax, acc_ax) = subplots(
        1, 4, figsize=(16, 3.9), gridspec_kw={"width_ratios": [1.2, 1.1, 1, 1]})
    names = list(result["per_param"])
    mean = [result["per_param"][n]["mean_abs_diff"] for n in names]
    worst = [result["per_param"][n]["max_abs_diff"] for n in names]
    positions = np.arange(len(names))
    diff_ax.bar(positions - 0.2, mean, width=0.4, label="mean", color="#1f5fa8")
    diff_ax.bar(positions + 0.2, worst, width=0.4, label="max", color="#d62728")
    diff_ax.set(yscale="log", xticks=positions, xticklabels=names, ylabel="|backprop - numerical|",
                title="Backprop vs numerical gradient")
    diff_ax.legend()

    timing = result["timing"]
    label = "numerical\n(extrapolated)" if timing["extrapolated"] else "numerical"
    seconds = [timing["backprop_seconds"], timing["numerical_seconds_full"],
               timing["two_forwards_per_parameter_seconds"]]
    time_ax.bar(["backprop", label, "2 forwards\nper parameter"], seconds,
                color=["#2ca02c", "#7f7f7f", "#bbbbbb"])
    time_ax.tick_params(axis="x", labelsize=8)
    for i, s in enumerate(seconds):
        time_ax.text(i, s, f"{s * 1e3:.2g} ms" if s < 1 else f"{s:.3g} s", ha="center",
                     va="bottom")
    time_ax.set(yscale="log", ylabel="seconds per gradient", ylim=(None, max(seconds) * 30),
                title=f"Backprop is {timing['speedup']:,.0f}x faster")

    acc = result["accuracy_as_loss"]
    for ax, key, title in ((ce_ax, "cross_entropy_grad", "cross-entropy"),
                           (acc_ax, "accuracy_grad", "accuracy")):
        grad = np.array(acc[key])
        limit = float(np.abs(grad).max()) or 1.0
        image = ax.imshow(grad.T, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        nonzero = acc[f"{key}_nonzero"]
        ax.set(title=f"numerical d {title} / d W2\n{nonzero} of {grad.size} entries nonzero",
               xlabel="hidden unit", ylabel="class")
        fig.colorbar(image, ax=ax)
        if nonzero == 0:
            ax.text(grad.shape[0] / 2, grad.shape[1] / 2, "all zero: moving one weight by h\n"
                    "changes no prediction", ha="center", va="center", fontsize=9)
    fig.suptitle(f"TwoLayerNet {'-'.join(map(str, result['network']))} on {result['dataset']}, "
                 f"batch {result['batch']}, float64")
    return [save_figure(fig, out / "gradient-check.png")]


def summary(result: dict[str, Any]) -> str:
    net = "-".join(map(str, result["network"]))
    lines = [f"TwoLayerNet {net} on {result['batch']} {result['dataset']} images, float64"]
    for pname, p in result["per_param"].items():
        lines.append(f"  {pname:<3} mean |diff| {p['mean_abs_diff']:.2e}  "
                     f"max {p['max_abs_diff']:.2e}  "
                     f"({p['checked']} of {int(np.prod(p['shape']))} entries)")
    timing = result["timing"]
    how = (f"extrapolated from {timing['entries_checked']} of {result['parameters']} entries"
           if timing["extrapolated"] else "measured")
    lines.append(f"  one gradient: backprop {timing['backprop_seconds'] * 1e3:.2f} ms, numerical "
                 f"{timing['numerical_seconds_full']:.3g} s ({how}), "
                 f"{timing['speedup']:,.0f}x slower")
    lines.append(f"  (numerical = 2 forward passes per parameter: 2 x {result['parameters']} x "
                 f"{timing['forward_seconds'] * 1e3:.2f} ms = "
                 f"{timing['two_forwards_per_parameter_seconds']:.3g} s)")
    acc = result["accuracy_as_loss"]
    size = int(np.prod(acc["shape"]))
    lines.append(f"  numerical d/dW2: accuracy {acc['accuracy_grad_nonzero']} of {size} entries "
                 f"nonzero, cross-entropy {acc['cross_entropy_grad_nonzero']} of {size}")
    return "\n".join(lines)
