"""DeZero 0.0.13, the framework of the book's sequel (volume 3), as a user of it writes a
network: `dezero.functions` on `dezero.Parameter`s, `dezero.optimizers`.

DeZero 0.0.13 still names ``np.int``, which NumPy 2 removed; we restore the alias in OUR
process before importing it (``np.int = int``) and never touch its files. Its softmax
cross-entropy backward subtracts an integer one-hot matrix, so with int64 labels (NumPy's
default) its gradients are float64 from the loss down: that is DeZero as a user meets it.
"""

from __future__ import annotations

from importlib.metadata import version as dist_version
from typing import Any

import numpy as np

if not hasattr(np, "int"):
    np.int = int  # type: ignore[attr-defined]
import dezero  # noqa: E402
import dezero.functions as F  # noqa: E402, N812
from dezero import optimizers  # noqa: E402

from peers.base import Layer, Runner, running_stats  # noqa: E402

LABEL = "DeZero"


def version() -> str:
    return f"dezero {dist_version('dezero')}"


class Net:
    """The parameters (``params()`` is what a DeZero optimizer's ``setup`` needs) and forward."""

    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers
        self.weights = [{k: dezero.Parameter(v.copy()) for k, v in layer.params.items()}
                        for layer in layers]
        self.stats = [running_stats(layer) for layer in layers]

    def params(self) -> list[Any]:
        return [p for w in self.weights for p in w.values()]

    def __call__(self, x: Any) -> Any:
        for layer, w, s in zip(self.layers, self.weights, self.stats):
            if layer.kind == "linear":
                x = F.linear(x, w["W"], w["b"])
            elif layer.kind == "conv":
                x = F.conv2d(x, w["W"], w["b"], stride=1, pad=layer.padding)
            elif layer.kind == "batchnorm":
                x = F.batch_nrom(x, w["gamma"], w["beta"], s["mean"], s["var"], decay=0.9,
                                 eps=1e-5)
            elif layer.kind == "relu":
                x = F.relu(x)
            elif layer.kind == "sigmoid":
                x = F.sigmoid(x)
            elif layer.kind == "maxpool":
                x = F.pooling(x, 2, 2)
            elif layer.kind == "flatten":
                x = F.reshape(x, (x.shape[0], -1))
            elif layer.kind == "dropout":
                x = F.dropout(x, layer.p)
        return x


def build(layers: list[Layer], optimizer: str, lr: float, variant: str) -> Runner:
    net = Net(layers)
    opt = optimizers.SGD(lr) if optimizer == "sgd" else optimizers.Adam(alpha=lr)
    return DezeroRunner(net, opt.setup(net))


class DezeroRunner(Runner):
    def __init__(self, net: Net, opt: Any) -> None:
        self.net, self.opt = net, opt

    def train(self, x: np.ndarray, t: np.ndarray) -> float:
        loss = F.softmax_cross_entropy(self.net(x), t)
        for p in self.net.params():
            p.cleargrad()
        loss.backward()
        self.opt.update()
        return float(loss.data)

    def numpy(self, out: Any) -> np.ndarray:
        return out.data

    def infer(self, x: np.ndarray) -> Any:
        with dezero.test_mode(), dezero.no_grad():
            return self.net(x)
