"""Gradient penalty (WGAN-GP): a critic kept 1-Lipschitz by penalising (||dD/dx|| - 1)^2.

A Wasserstein critic D scores samples so that the mean score of the "real" distribution
minus that of the "fake" one estimates their Wasserstein-1 distance. That holds only for a
1-Lipschitz D (gradient norm at most 1 everywhere); otherwise the critic can raise the gap
without bound by scaling itself up. Gulrajani et al. (2017, "Improved Training of Wasserstein
GANs") enforce it softly: at random points x^ between a real and a fake sample,

    L = mean D(fake) - mean D(real) + lambda * mean (||dD/dx (x^)|| - 1)^2,   lambda = 10.

The penalty contains a gradient, so minimising L by gradient descent needs the derivative of a
derivative: dD/dx is computed with ``mb.autograd.grad(..., create_graph=True)``, which records
that backward pass as a graph, and ``L.backward()`` then differentiates through it into the
weights (double backprop).

Here two critics, the same MLP 2-64-64-1 (tanh) from the same initial weights, learn to
separate two 2-D Gaussians (real around (1, 0), fake around (-1, 0), std 0.3) with Adam:
one with lambda = 10, one with lambda = 0. With the penalty, the mean gradient norm at the
interpolates settles near 1 and the critic's gap settles near the true distance (2, the
distance between the means, for two Gaussians of equal spread); without it, the norm and the
gap keep growing. After 1,500 steps (seed 0): norm 1.10 and gap 2.21 with the penalty, norm
107 and gap 200 without.

``quick`` trains 150 steps instead of 1,500.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.experiments._report import save_figure, subplots

LAMBDA = 10.0
STEPS, QUICK_STEPS = 1500, 150
BATCH = 128
LR = 1e-3
HIDDEN = 64
REAL_MEAN, FAKE_MEAN, STD = (1.0, 0.0), (-1.0, 0.0), 0.3
TRUE_DISTANCE = 2.0  # W1 between two Gaussians of equal covariance: the distance of the means


def critic(seed: int) -> nn.Module:
    """The MLP 2-64-64-1 with tanh (a smooth critic: its gradient in x is smooth too)."""
    mb.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
                         nn.Linear(HIDDEN, 1))


def sample(rng: np.random.Generator, mean: tuple[float, float], n: int) -> np.ndarray:
    return (rng.normal(size=(n, 2)) * STD + np.array(mean)).astype(np.float32)


def gradient_norms(model: nn.Module, x: mb.Tensor, create_graph: bool) -> mb.Tensor:
    """||dD/dx|| at each row of x: (N,). With ``create_graph`` the norms can be
    differentiated again (into the weights)."""
    x = x if x.requires_grad else mb.tensor(x.data, dtype=x.dtype, requires_grad=True)
    (g,) = mb.autograd.grad(model(x).sum(), x, create_graph=create_graph)
    assert g is not None  # D depends on x
    return F.sqrt((g * g).sum(axis=1) + 1e-12)  # + 1e-12: no 1/0 in the backward at g = 0


def train(penalty: float, steps: int, seed: int) -> dict[str, list[float]]:
    """Train one critic; per step its loss, the penalty term, the gap mean D(real) -
    mean D(fake) and the mean gradient norm at the interpolates."""
    model = critic(seed)
    opt = optim.Adam(model.parameters(), lr=LR, betas=(0.5, 0.9))  # the paper's betas
    rng = np.random.default_rng(seed)
    curves: dict[str, list[float]] = {"loss": [], "penalty": [], "gap": [], "grad_norm": []}
    for _ in range(steps):
        real, fake = sample(rng, REAL_MEAN, BATCH), sample(rng, FAKE_MEAN, BATCH)
        eps = rng.uniform(size=(BATCH, 1)).astype(np.float32)
        between = mb.tensor(eps * real + (1 - eps) * fake, requires_grad=True)
        gap = model(real).mean() - model(fake).mean()
        norms = gradient_norms(model, between, create_graph=penalty > 0)
        term = ((norms - 1) ** 2).mean()
        loss = -gap + penalty * term if penalty > 0 else -gap
        opt.zero_grad()
        loss.backward()
        opt.step()
        for key, value in (("loss", loss), ("penalty", term), ("gap", gap),
                           ("grad_norm", norms.mean())):
            curves[key].append(float(value.item()))
    return curves


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Train the critic with and without the penalty; return the curves and final numbers."""
    steps = QUICK_STEPS if quick else STEPS
    runs = {}
    for name, penalty in (("penalty", LAMBDA), ("none", 0.0)):
        curves = train(penalty, steps, seed)
        last = max(1, steps // 10)  # the final numbers: means over the last 10% of steps
        runs[name] = {"lambda": penalty, "curves": curves,
                      "final_grad_norm": float(np.mean(curves["grad_norm"][-last:])),
                      "initial_grad_norm": curves["grad_norm"][0],
                      "final_gap": float(np.mean(curves["gap"][-last:]))}
    return {"steps": steps, "batch": BATCH, "lr": LR, "true_distance": TRUE_DISTANCE,
            "runs": runs}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, (loss_ax, norm_ax, gap_ax) = subplots(1, 3, figsize=(14, 4.2))
    colors = {"penalty": "#1f5fa8", "none": "#d62728"}
    for name, r in result["runs"].items():
        c, label = r["curves"], f"$\\lambda$ = {r['lambda']:g}"
        steps = np.arange(1, len(c["loss"]) + 1)
        loss_ax.plot(steps, c["loss"], color=colors[name], linewidth=1, label=label)
        norm_ax.plot(steps, c["grad_norm"], color=colors[name], linewidth=1, label=label)
        gap_ax.plot(steps, c["gap"], color=colors[name], linewidth=1, label=label)
    loss_ax.set(title="critic loss  $-$gap + $\\lambda$ (||$\\nabla_x D$|| $-$ 1)$^2$",
                xlabel="step", ylabel="loss", yscale="symlog")
    norm_ax.axhline(1.0, color="#888888", linestyle="--", linewidth=1)
    norm_ax.set(title="mean ||$\\nabla_x D$|| at the interpolates", xlabel="step",
                ylabel="gradient norm", yscale="log")
    gap_ax.axhline(result["true_distance"], color="#888888", linestyle="--", linewidth=1,
                   label=f"true $W_1$ = {result['true_distance']:g}")
    gap_ax.set(title="gap: mean D(real) $-$ mean D(fake)", xlabel="step", ylabel="gap",
               yscale="symlog")
    for ax in (loss_ax, norm_ax, gap_ax):
        ax.grid(alpha=0.3)
        ax.legend()
    return [save_figure(fig, out / "gradient-penalty.png")]


def summary(result: dict[str, Any]) -> str:
    lines = [f"WGAN critic on two 2-D Gaussians, {result['steps']} Adam steps "
             f"(true W1 = {result['true_distance']:g}):"]
    for r in result["runs"].values():
        lines.append(f"  lambda {r['lambda']:<4g} mean ||dD/dx|| {r['initial_grad_norm']:.3f} "
                     f"-> {r['final_grad_norm']:.3f}, gap {r['final_gap']:.3f}")
    return "\n".join(lines)
