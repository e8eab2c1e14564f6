"""tinygrad with ``TinyJit`` around the training step (its documented way to train fast: the
first calls capture the kernels, later calls replay them). Its CPU backend compiles kernels
with clang, which must be installed (``apt-get install clang``).
"""

from __future__ import annotations

from importlib.metadata import version as dist_version
from typing import Any

import numpy as np
from tinygrad import Device, Tensor, TinyJit, nn
from tinygrad.helpers import Context

from peers.base import Layer, Runner

LABEL = "tinygrad"


def version() -> str:
    return f"tinygrad {dist_version('tinygrad')}, device {Device.DEFAULT}"


class Net:
    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers
        self.params: list[Tensor] = []
        self.buffers: list[Tensor] = []  # BatchNorm's statistics: the optimizer realizes them
        self.weights: list[dict[str, Tensor]] = []
        self.norms: dict[int, nn.BatchNorm] = {}  # by layer index
        for index, layer in enumerate(layers):
            w = {k: Tensor(v.copy()) for k, v in layer.params.items()}
            if layer.kind == "batchnorm":
                bn = self.norms[index] = nn.BatchNorm(len(layer.params["gamma"]))
                bn.weight, bn.bias = w["gamma"], w["beta"]
                self.buffers += [bn.running_mean, bn.running_var, bn.num_batches_tracked]
            self.params += w.values()
            self.weights.append(w)

    def __call__(self, x: Tensor) -> Tensor:
        for index, (layer, w) in enumerate(zip(self.layers, self.weights)):
            if layer.kind == "linear":
                x = x.linear(w["W"], w["b"])
            elif layer.kind == "conv":
                x = x.conv2d(w["W"], w["b"], padding=layer.padding)
            elif layer.kind == "batchnorm":
                x = self.norms[index](x)
            elif layer.kind == "relu":
                x = x.relu()
            elif layer.kind == "sigmoid":
                x = x.sigmoid()
            elif layer.kind == "maxpool":
                x = x.max_pool2d((2, 2))
            elif layer.kind == "flatten":
                x = x.flatten(1)
            elif layer.kind == "dropout":
                x = x.dropout(layer.p)
        return x


def build(layers: list[Layer], optimizer: str, lr: float, variant: str) -> Runner:
    net = Net(layers)
    state = net.params + net.buffers  # as nn.state.get_parameters(model) would list them
    opt = nn.optim.SGD(state, lr=lr) if optimizer == "sgd" else nn.optim.Adam(state, lr=lr)

    @TinyJit
    def step(x: Tensor, t: Tensor) -> Tensor:
        with Context(TRAINING=1):
            opt.zero_grad()
            loss = net(x).sparse_categorical_crossentropy(t)
            loss.backward()
            opt.step()
        return loss.realize()

    @TinyJit
    def infer(x: Tensor) -> Tensor:
        with Context(TRAINING=0):
            return net(x).realize()

    return TinygradRunner(step, infer)


def data(array: np.ndarray) -> Tensor:
    """An input: tinygrad 0.14 makes every Tensor a parameter (given a gradient) unless told."""
    return Tensor(array).is_param_(False)


class TinygradRunner(Runner):
    def __init__(self, step: Any, infer: Any) -> None:
        self.step, self._infer = step, infer

    def train(self, x: np.ndarray, t: np.ndarray) -> Tensor:
        return self.step(data(x), data(t))

    def infer(self, x: np.ndarray) -> Tensor:
        return self._infer(data(x))

    def scalar(self, loss: Tensor) -> float:
        return float(loss.item())

    def numpy(self, out: Tensor) -> np.ndarray:
        return out.numpy()
