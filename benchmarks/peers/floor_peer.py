"""The NumPy floor (`benchmarks/floor.py`, no autograd): MLPs only, so not the ConvNets."""

from __future__ import annotations

import numpy as np

from floor import FloorMLP
from peers.base import Layer, Runner

LABEL = "NumPy floor"


def version() -> str:
    return f"NumPy {np.__version__}"


def build(layers: list[Layer], optimizer: str, lr: float, variant: str) -> Runner:
    kinds = {layer.kind for layer in layers}
    if kinds - {"linear", "batchnorm", "relu", "sigmoid"}:
        raise NotImplementedError("the floor is written for MLPs only")
    linears = [layer for layer in layers if layer.kind == "linear"]
    sizes = [linears[0].params["W"].shape[0]] + [lin.params["W"].shape[1] for lin in linears]
    activation = "sigmoid" if "sigmoid" in kinds else "relu"
    net = FloorMLP(sizes, activation, "batchnorm" in kinds, "he", optimizer, lr)
    norms = iter(layer for layer in layers if layer.kind == "batchnorm")
    for own, lin in zip(net.layers, linears):  # the same initial weights, copied in place
        own["W"][...], own["b"][...] = lin.params["W"], lin.params["b"]
        if "gamma" in own:
            bn = next(norms)
            own["gamma"][...], own["beta"][...] = bn.params["gamma"], bn.params["beta"]
    return FloorRunner(net)


class FloorRunner(Runner):
    def __init__(self, net: FloorMLP) -> None:
        self.net = net

    def train(self, x: np.ndarray, t: np.ndarray) -> float:
        return self.net.train_step(x, t)

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self.net.predict(x)
