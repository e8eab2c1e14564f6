"""RNN gradients (sequel, chapter 6): they vanish or explode through time; LSTMs and clipping help.

Backpropagation through time multiplies the gradient dL/dh_t by the transposed recurrent
weight at every step back, ``dh_{t-1} = (dh_t * tanh'(a_t)) @ W_h^T``: after k steps, by
W_h^T k times (and by tanh' <= 1 each time). So its size goes as s^k for the size s of W_h
(its singular values): it vanishes for s < 1 and explodes for s > 1.

Part one is the book's experiment (``6.1.4``): the gradient ``dh = ones((2, 3))`` multiplied by
``Wh.T`` 20 times, tanh left out, its norm ``sqrt(sum(dh**2)) / N`` drawn per step, with the
book's ``Wh = randn(3, 3)`` (NumPy's legacy seed 3, as the book) which explodes, and the same
times 0.5, which vanishes. The book's rule of thumb is W_h's largest singular value (above 1,
gradients may explode; below 1 they vanish); the rate over many steps is its spectral radius,
the largest |eigenvalue| (0.5 Wh's largest singular value is 1.33, yet it vanishes).

Part two measures the same through the library's layers: dL/dh_t for L = sum(h_T) of an
`nn.RNNCell` (tanh, hidden 32) run over 50 steps of random input, with W_h a random
orthogonal matrix times 0.5, 1 and 2 (every singular value is the scale); and of an
`nn.LSTMCell`, whose memory cell's gradient goes back through time only multiplied
elementwise by the forget gate, ``dc_{t-1} = dc_t * f_t`` (no matrix product): it decays as
fast as the cell forgets, as 0.5^k at a forget-gate bias of 0 (sigmoid(0) = 0.5) and hardly at
all with a bias of 3 (f ~ 0.95, the cell remembers; training learns such gates). The
gradient at each h_t is read from a zero "probe" tensor added to it (dL/dprobe = dL/dh_t).

Part three is gradient clipping (``mb.optim.clip_grad_norm_``, the book's ``clip_grads``) on
exploding gradients: an `nn.RNN` (W_h orthogonal times 1.5) learns to output the sum of its
first 5 inputs after 30 steps, by SGD (lr 0.1). Unclipped, one huge gradient throws the
weights far away and the loss overflows; clipped to a norm of 1, it learns.

``quick`` runs part three for 60 iterations instead of 300.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.autograd.tensor import Tensor
from mitbadak.experiments._report import save_figure, subplots

# Part one: the book's ch06/rnn_gradient_graph.py setting.
BOOK_N, BOOK_H, BOOK_T, BOOK_SEED = 2, 3, 20, 3
BOOK_SCALES = {"explode": 1.0, "vanish": 0.5}
# Part two.
HIDDEN, STEPS, BATCH = 32, 50, 8
RNN_SCALES = (0.5, 1.0, 2.0)
FORGET_BIASES = (0.0, 3.0)
# Part three.
CLIP_SCALE, CLIP_T, CLIP_BATCH, CLIP_LR, MAX_NORM, REMEMBER = 1.5, 30, 32, 0.1, 1.0, 5
ITERATIONS, QUICK_ITERATIONS = 300, 60


def book_wh(scale: float) -> np.ndarray:
    """The book's ``np.random.seed(3); Wh = np.random.randn(H, H) * scale``."""
    return np.random.RandomState(BOOK_SEED).randn(BOOK_H, BOOK_H) * scale


def sizes(wh: np.ndarray) -> dict[str, float]:
    """How large Wh is: its largest singular value (the most one step can stretch a gradient;
    below 1, gradients must vanish) and its spectral radius (the largest |eigenvalue|: the
    rate of growth, or decay, over many steps)."""
    return {"largest_singular_value": float(np.linalg.svd(wh, compute_uv=False)[0]),
            "spectral_radius": float(np.abs(np.linalg.eigvals(wh)).max())}


def book_norms(scale: float) -> list[float]:
    """The book's loop: ``dh = dh @ Wh.T`` T times from ``dh = ones((N, H))``, recording
    ``sqrt(sum(dh**2)) / N`` after each step."""
    wh = book_wh(scale)
    dh = np.ones((BOOK_N, BOOK_H))
    norms = []
    for _ in range(BOOK_T):
        dh = dh @ wh.T
        norms.append(float(np.sqrt(np.sum(dh**2)) / BOOK_N))
    return norms


def orthogonal(size: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal matrix times ``scale``: all its singular values equal ``scale``."""
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    return (q * np.sign(np.diag(r)) * scale).astype(np.float32)


def _probe(like: Tensor) -> Tensor:
    return Tensor(np.zeros(like.shape, dtype=like.dtype), requires_grad=True)


def through_time(cell: nn.RNNCell | nn.LSTMCell, x: np.ndarray) -> dict[str, list[float]]:
    """Run ``cell`` (an RNNCell or LSTMCell) over x (N, T, D) from a zero state and
    backpropagate L = sum(h_T); the norms ``||dL/dh_t|| / N`` for t = 1..T (and, for an
    LSTM, ``||dL/dc_t|| / N`` for t = 1..T-1: the cell state handed to the next step; the
    last one is handed to none)."""
    n, steps, _ = x.shape
    h = c = Tensor(np.zeros((n, cell.hidden_size), dtype=x.dtype))
    h_probes, c_probes = [], []
    for t in range(steps):
        if isinstance(cell, nn.LSTMCell):
            h, c = cell(x[:, t], (h, c))
            if t < steps - 1:
                c_probes.append(_probe(c))
                c = c + c_probes[-1]
        else:
            h = cell(x[:, t], h)
        h_probes.append(_probe(h))
        h = h + h_probes[-1]
    h.sum().backward()

    def norms(probes: list[Tensor]) -> list[float]:
        return [float(np.linalg.norm(0.0 if p.grad is None else p.grad)) / n for p in probes]

    return {"h": norms(h_probes), **({"c": norms(c_probes)} if c_probes else {})}


def layer_gradients(seed: int) -> dict[str, Any]:
    """Part two: gradient norms through an RNNCell at each scale and an LSTMCell at each
    forget-gate bias, on the same random input."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, STEPS, HIDDEN)).astype(np.float32)
    runs: dict[str, Any] = {}
    for scale in RNN_SCALES:
        mb.manual_seed(seed)
        rnn_cell = nn.RNNCell(HIDDEN, HIDDEN)
        rnn_cell.weight_hh.data = orthogonal(HIDDEN, scale, rng)
        runs[f"RNN, W_h scale {scale:g}"] = {"kind": "rnn", "scale": scale,
                                             **through_time(rnn_cell, x)}
    for bias in FORGET_BIASES:
        mb.manual_seed(seed)
        lstm_cell = nn.LSTMCell(HIDDEN, HIDDEN)
        set_forget_bias(lstm_cell, bias)
        runs[f"LSTM, forget bias {bias:g}"] = {"kind": "lstm", "forget_bias": bias,
                                               **through_time(lstm_cell, x)}
    return {"hidden": HIDDEN, "steps": STEPS, "batch": BATCH, "loss": "sum(h_T)",
            "runs": runs}


def set_forget_bias(cell: nn.LSTMCell, bias: float) -> None:
    """Make the forget gate's bias ``bias`` (torch's gate order i, f, g, o: rows H..2H of
    ``bias_ih``; ``bias_hh``'s part set to 0)."""
    h = cell.hidden_size
    for b, value in ((cell.bias_ih, bias), (cell.bias_hh, 0.0)):
        if b is not None:
            b.data[h:2 * h] = value


def grad_norm(params: Sequence[Tensor]) -> float:
    """The global L2 norm of the gradients (what `clip_grad_norm_` measures)."""
    return math.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in params if p.grad is not None))


def train_sum(clip: bool, iterations: int, seed: int) -> dict[str, Any]:
    """Part three: an RNN learns y = x_1 + ... + x_5 from 30 steps of N(0, 1) input."""
    mb.manual_seed(seed)
    rng = np.random.default_rng(seed)
    rnn = nn.RNN(1, HIDDEN, batch_first=True)
    dict(rnn.named_parameters())["weight_hh_l0"].data = orthogonal(HIDDEN, CLIP_SCALE, rng)
    head = nn.Linear(HIDDEN, 1, init="lecun")
    params = [*rnn.parameters(), *head.parameters()]
    optimizer = optim.SGD(params, lr=CLIP_LR)
    losses, norms = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(iterations):
            x = rng.standard_normal((CLIP_BATCH, CLIP_T, 1)).astype(np.float32)
            y = x[:, :REMEMBER, 0].sum(axis=1, keepdims=True)
            out, _ = rnn(x)
            loss = F.mse_loss(head(out[:, -1]), y)
            optimizer.zero_grad()
            loss.backward()
            norms.append(optim.clip_grad_norm_(params, MAX_NORM) if clip else grad_norm(params))
            optimizer.step()
            losses.append(loss.item())
    finite = [v for v in losses if math.isfinite(v)]
    return {"clip": MAX_NORM if clip else None, "loss": losses, "grad_norm": norms,
            "diverged": len(finite) < len(losses),
            "final_loss": float(np.mean(losses[-20:])), "max_grad_norm": max(norms)}


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """The book's loop, the layers' gradients through time, and training with and without
    clipping."""
    book = {name: {"scale": scale, "norms": book_norms(scale), **sizes(book_wh(scale))}
            for name, scale in BOOK_SCALES.items()}
    iterations = QUICK_ITERATIONS if quick else ITERATIONS
    clipping = {"unclipped": train_sum(False, iterations, seed),
                "clipped": train_sum(True, iterations, seed)}
    return {"dataset": "random N(0, 1) sequences (no dataset)", "seed": seed,
            "book": {"N": BOOK_N, "H": BOOK_H, "T": BOOK_T, "seed": BOOK_SEED, "runs": book},
            "layers": layer_gradients(seed),
            "clipping": {"task": f"y = sum of the first {REMEMBER} of {CLIP_T} inputs",
                         "hidden": HIDDEN, "W_h scale": CLIP_SCALE, "optimizer": "SGD",
                         "lr": CLIP_LR, "batch": CLIP_BATCH, "iterations": iterations,
                         "runs": clipping}}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, (book_ax, layers_ax) = subplots(1, 2, figsize=(12, 4.5))
    for name, run_ in result["book"]["runs"].items():
        book_ax.plot(np.arange(1, len(run_["norms"]) + 1), run_["norms"], marker="o",
                     markersize=3, label=f"Wh = randn(3, 3) * {run_['scale']:g} ({name})")
    book_ax.set(yscale="log", xlabel="steps back in time", ylabel="||dh|| / N",
                title="The book's loop: dh = dh @ Wh.T (tanh left out)")
    layers = result["layers"]
    for name, run_ in layers["runs"].items():
        line, = layers_ax.plot(np.arange(1, len(run_["h"]) + 1), run_["h"],
                               label=f"{name}: dL/dh_t")
        if "c" in run_:
            layers_ax.plot(np.arange(1, len(run_["c"]) + 1), run_["c"], linestyle="--",
                           color=line.get_color(),
                           label=f"{name}: dL/dc_t")
    layers_ax.set(yscale="log", xlabel="time step t", ylabel="gradient norm / N",
                  title=f"nn.RNNCell and nn.LSTMCell, hidden {layers['hidden']}, "
                        f"L = sum(h_{layers['steps']})")
    for ax in (book_ax, layers_ax):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    paths = [save_figure(fig, out / "rnn-gradients.png")]

    clipping = result["clipping"]
    fig, (loss_ax, norm_ax) = subplots(1, 2, figsize=(12, 4.5))
    for name, run_ in clipping["runs"].items():
        label = name if run_["clip"] is None else f"{name} (max norm {run_['clip']:g})"
        loss = np.asarray(run_["loss"], dtype=float)
        loss_ax.plot(np.arange(1, len(loss) + 1), loss, label=label, linewidth=1)
        norm_ax.plot(np.arange(1, len(loss) + 1), np.asarray(run_["grad_norm"], dtype=float),
                     label=label, linewidth=1)
    loss_ax.set(yscale="log", xlabel="iteration", ylabel="MSE loss",
                title=f"nn.RNN (W_h scale {clipping['W_h scale']:g}), SGD lr "
                      f"{clipping['lr']:g}: {clipping['task']}")
    norm_ax.set(yscale="log", xlabel="iteration", ylabel="gradient norm before clipping",
                title="clip_grad_norm_")
    for ax in (loss_ax, norm_ax):
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    paths.append(save_figure(fig, out / "rnn-gradients-clipping.png"))
    return paths


def summary(result: dict[str, Any]) -> str:
    lines = ["The book's loop (dh @ Wh.T, 20 steps): ||dh|| / N after 1 and 20 steps"]
    for name, run_ in result["book"]["runs"].items():
        lines.append(f"  {name:<8} scale {run_['scale']:g}: {run_['norms'][0]:.3g} -> "
                     f"{run_['norms'][-1]:.3g} (largest singular value "
                     f"{run_['largest_singular_value']:.2f}, spectral radius "
                     f"{run_['spectral_radius']:.2f})")
    layers = result["layers"]
    lines.append(f"Through the layers, ||dL/dh_t|| / N at t = 1 and t = {layers['steps']}:")
    for name, run_ in layers["runs"].items():
        cell = (f"; dL/dc_t at t = 1 and {layers['steps'] - 1}: {run_['c'][0]:.3g}, "
                f"{run_['c'][-1]:.3g}" if "c" in run_ else "")
        lines.append(f"  {name:<24} {run_['h'][0]:.3g}, {run_['h'][-1]:.3g}{cell}")
    lines.append(f"Clipping ({result['clipping']['task']}): mean loss of the last 20 "
                 "iterations")
    for name, run_ in result["clipping"]["runs"].items():
        state = "diverged" if run_["diverged"] else f"{run_['final_loss']:.3f}"
        lines.append(f"  {name:<9} {state} (largest gradient norm {run_['max_grad_norm']:.3g})")
    return "\n".join(lines)
