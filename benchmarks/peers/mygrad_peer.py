"""MyGrad 2.5.0: NumPy arrays with autodiff (`mygrad.nnet` has the layers' ops but no
modules and no optimizers): the layers are written here with its ops, and the update is
`base.NumpyAdam` (or plain SGD) on the tensors' NumPy data. Memory guarding, which locks
arrays in the graph against in-place writes, is turned off: MyGrad's own speed switch.
BatchNorm has no running statistics in MyGrad; we keep them in NumPy beside it.
"""

from __future__ import annotations

from importlib.metadata import version as dist_version
from typing import Any

import mygrad as mg
import numpy as np
from mygrad.nnet.activations import relu, sigmoid
from mygrad.nnet.layers import batchnorm, conv_nd, max_pool
from mygrad.nnet.losses import softmax_crossentropy

from peers.base import Layer, NumpyAdam, Runner, running_stats

LABEL = "MyGrad"
EPS = 1e-5


def version() -> str:
    return f"mygrad {dist_version('mygrad')}"


class Net:
    def __init__(self, layers: list[Layer], seed: int = 0) -> None:
        self.layers = layers
        self.weights = [{k: mg.tensor(v.copy()) for k, v in layer.params.items()}
                        for layer in layers]
        self.stats = [running_stats(layer) for layer in layers]
        self.rng = np.random.default_rng(seed)

    def params(self) -> list[Any]:
        return [p for w in self.weights for p in w.values()]

    def __call__(self, x: Any, train: bool) -> Any:
        for layer, w, s in zip(self.layers, self.weights, self.stats):
            if layer.kind == "linear":
                x = mg.matmul(x, w["W"]) + w["b"]
            elif layer.kind == "conv":
                x = conv_nd(x, w["W"], stride=1, padding=layer.padding)
                x = x + w["b"].reshape(1, -1, 1, 1)
            elif layer.kind == "batchnorm" and train:
                data = x.data
                n = data.shape[0]
                s["mean"] = 0.9 * s["mean"] + 0.1 * data.mean(axis=0)
                s["var"] = 0.9 * s["var"] + 0.1 * data.var(axis=0) * (n / (n - 1))
                x = batchnorm(x, gamma=w["gamma"], beta=w["beta"], eps=EPS)
            elif layer.kind == "batchnorm":
                x = (x - s["mean"]) / np.sqrt(s["var"] + EPS) * w["gamma"] + w["beta"]
            elif layer.kind == "relu":
                x = relu(x)
            elif layer.kind == "sigmoid":
                x = sigmoid(x)
            elif layer.kind == "maxpool":
                x = max_pool(x, (2, 2), 2)
            elif layer.kind == "flatten":
                x = x.reshape(x.shape[0], -1)
            elif layer.kind == "dropout" and train:
                keep = (self.rng.random(x.shape, dtype=np.float32) >= layer.p)
                x = x * (keep / np.float32(1 - layer.p))
        return x


def build(layers: list[Layer], optimizer: str, lr: float, variant: str) -> Runner:
    mg.turn_memory_guarding_off()
    net = Net(layers)
    return MygradRunner(net, optimizer, lr)


class MygradRunner(Runner):
    def __init__(self, net: Net, optimizer: str, lr: float) -> None:
        self.net, self.lr = net, lr
        self.adam = NumpyAdam([p.data for p in net.params()], lr) if optimizer == "adam" else None

    def train(self, x: np.ndarray, t: np.ndarray) -> float:
        loss = softmax_crossentropy(self.net(x, train=True), t)
        loss.backward()
        params = self.net.params()
        grads = [p.grad for p in params]
        if self.adam is not None:
            self.adam.step(grads)
        else:
            for p, g in zip(params, grads):
                p.data -= self.lr * g
        return float(loss.item())

    def numpy(self, out: Any) -> np.ndarray:
        return out.data

    def infer(self, x: np.ndarray) -> Any:
        with mg.no_autodiff:
            return self.net(x, train=False)
