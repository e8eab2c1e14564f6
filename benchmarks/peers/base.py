"""What every peer shares: the framework-neutral layer list and the runner interface.

`layers_of(model)` reads a mitbadak model (MLP, SimpleConvNet, DeepConvNet) into a list of
`Layer` records holding NumPy copies of its weights; each peer rebuilds the network from that
list, so every framework starts from the very same float32 weights. Weights keep mitbadak's
(and the book's) layouts: Linear W is (in, out), Conv2d W is (out, in, kh, kw).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mitbadak import nn


@dataclass
class Layer:
    kind: str  # linear | conv | batchnorm | relu | sigmoid | maxpool | flatten | dropout
    params: dict[str, np.ndarray] = field(default_factory=dict)  # W, b | gamma, beta
    padding: int = 0  # conv
    p: float = 0.0  # dropout probability


KINDS = {nn.Linear: "linear", nn.Conv2d: "conv", nn.BatchNorm1d: "batchnorm", nn.ReLU: "relu",
         nn.Sigmoid: "sigmoid", nn.MaxPool2d: "maxpool", nn.Flatten: "flatten",
         nn.Dropout: "dropout"}


def layers_of(model: nn.Module) -> list[Layer]:
    """The layers of ``model.layers`` (a Sequential) as `Layer` records with copied weights."""
    out = []
    for module in model.layers:
        kind = KINDS[type(module)]
        layer = Layer(kind, {name: np.array(p.data, np.float32, copy=True)
                             for name, p in module.named_parameters()})
        if kind == "conv":
            layer.padding = module.padding[0]
            assert module.stride == (1, 1) and module.kernel_size[0] == module.kernel_size[1]
        elif kind == "maxpool":
            assert module.kernel_size == (2, 2) and module.stride == (2, 2)
        elif kind == "dropout":
            layer.p = module.p
        out.append(layer)
    return out


def running_stats(layer: Layer) -> dict[str, np.ndarray]:
    """A BatchNorm layer's running mean and variance as mitbadak starts them (0 and 1, float32);
    {} for any other layer."""
    if layer.kind != "batchnorm":
        return {}
    n = len(layer.params["gamma"])
    return {"mean": np.zeros(n, np.float32), "var": np.ones(n, np.float32)}


class Unavailable(ImportError):
    """A peer that is not pip-installed says itself what it lacks (the book's code: a folder)."""


class PeerSetupError(ValueError):
    """A peer pointed at something unusable (a folder without the book's code): bench_peers
    stops with this one line and exit status 2."""


class Runner:
    """One framework's network, optimizer and compiled functions for one workload.

    ``train(x, t)`` runs one training step and returns the loss in the framework's own type
    (not yet waited for: JAX and tinygrad may still be computing it); ``scalar(loss)`` waits and
    gives a float. ``infer(x)`` runs the network in eval mode without gradients and
    ``wait(out)`` blocks until its output exists, ``numpy(out)`` converts it. Both take NumPy
    arrays. ``train_mode()`` undoes the eval mode an ``infer`` call set, once, before training.
    """

    def train_mode(self) -> None:
        """Frameworks whose eval mode is a context or an argument have nothing to undo."""

    def train(self, x: np.ndarray, t: np.ndarray) -> Any:
        raise NotImplementedError

    def infer(self, x: np.ndarray) -> Any:
        raise NotImplementedError

    def scalar(self, loss: Any) -> float:
        return float(loss)

    def wait(self, out: Any) -> None:
        """Eager frameworks have finished when the call returns."""

    def numpy(self, out: Any) -> np.ndarray:
        return np.asarray(out)


class NumpyAdam:
    """Adam (Kingma & Ba; PyTorch's form) on NumPy arrays, in place, for peers without optimizers:
    m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""

    def __init__(self, params: list[np.ndarray], lr: float, b1: float = 0.9, b2: float = 0.999,
                 eps: float = 1e-8) -> None:
        self.params, self.lr, self.b1, self.b2, self.eps, self.t = params, lr, b1, b2, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        b1, b2 = self.b1, self.b2
        step_size = self.lr / (1 - b1 ** self.t)
        root_c2 = np.sqrt(1 - b2 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= root_c2
            denom += self.eps
            p -= step_size * (m / denom)
