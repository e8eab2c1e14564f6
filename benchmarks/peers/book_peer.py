"""The book's own code: `common/layers.py` and `common/optimizer.py` of *Deep Learning from
Scratch* (oreilly-japan/deep-learning-from-scratch, MIT licence), imported from the checkout
that ``--book-dir DIR`` or ``MITBADAK_BOOK_DIR`` names; nothing of it is copied here.

The network is put together as the book's MultiLayerNet, SimpleConvNet and DeepConvNet do it:
a list of layer objects, forward through them, SoftmaxWithLoss last, backward in reverse with
``dout = layer.backward(dout)``, the gradients read from each layer's ``dW``/``db`` (and
``dgamma``/``dbeta``), then ``optimizer.update(params, grads)`` with the book's SGD or Adam on
the very arrays the layers hold. Where the book's code leaves float32 (im2col and Pooling's
backward allocate float64, so the ConvNets compute in float64; Adam's step size is a float64
scalar) we leave it so: that is the book as its readers run it.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from peers.base import Layer, PeerSetupError, Runner, Unavailable, running_stats

LABEL = "book's code"
ENV = "MITBADAK_BOOK_DIR"


def book_dir() -> Path:
    """The checkout named by ``MITBADAK_BOOK_DIR`` (bench_peers' ``--book-dir`` sets it)."""
    given = os.environ.get(ENV, "")
    if not given:
        raise Unavailable(f"no directory of the book's code given (--book-dir DIR or {ENV}, a "
                          "checkout of oreilly-japan/deep-learning-from-scratch)")
    directory = Path(given).expanduser().resolve()
    if not (directory / "common" / "layers.py").is_file():
        raise PeerSetupError(f"{given} has no common/layers.py (--book-dir DIR or {ENV}: a "
                             "checkout of oreilly-japan/deep-learning-from-scratch)")
    return directory


DIRECTORY = book_dir()
if str(DIRECTORY) not in sys.path:
    sys.path.append(str(DIRECTORY))  # the book's scripts do the same: sys.path.append(os.pardir)
L = importlib.import_module("common.layers")
optimizers = importlib.import_module("common.optimizer")
if not Path(L.__file__).resolve().is_relative_to(DIRECTORY):
    raise PeerSetupError(f"another 'common' package ({L.__file__}) shadows {DIRECTORY}/common")


def version() -> str:
    return f"the book's code from {DIRECTORY}"


class Net:
    """The book's layers for the `Layer` list, with ``params`` (W0, b0, gamma1, ...: the arrays
    the layers hold, float32 copies of mitbadak's initial weights) and ``grads()`` beside them."""

    def __init__(self, layers: list[Layer]) -> None:
        self.layers: list[tuple[Any, bool]] = []  # (the book's layer, forward takes train_flg)
        self.params: dict[str, np.ndarray] = {}
        self.slots: list[tuple[str, Any, str]] = []  # (params key, layer, gradient attribute)
        for i, spec in enumerate(layers):
            w = {name: np.array(v, np.float32, copy=True) for name, v in spec.params.items()}
            if spec.kind == "flatten":
                continue  # the book's Affine flattens its input itself (and unflattens dx)
            layer = self.layer(spec, w)
            self.layers.append((layer, spec.kind in ("batchnorm", "dropout")))
            for name in w:
                self.params[f"{name}{i}"] = getattr(layer, name)
                self.slots.append((f"{name}{i}", layer, "d" + name))
        self.last = L.SoftmaxWithLoss()

    @staticmethod
    def layer(spec: Layer, w: dict[str, np.ndarray]) -> Any:
        if spec.kind == "linear":
            return L.Affine(w["W"], w["b"])
        if spec.kind == "conv":
            return L.Convolution(w["W"], w["b"], stride=1, pad=spec.padding)
        if spec.kind == "batchnorm":  # running statistics start as mitbadak's (0 and 1)
            stats = running_stats(spec)
            return L.BatchNormalization(w["gamma"], w["beta"], momentum=0.9,
                                        running_mean=stats["mean"], running_var=stats["var"])
        if spec.kind == "relu":
            return L.Relu()
        if spec.kind == "sigmoid":
            return L.Sigmoid()
        if spec.kind == "maxpool":
            return L.Pooling(2, 2, stride=2)
        if spec.kind == "dropout":
            return L.Dropout(spec.p)
        raise NotImplementedError(f"the book has no layer for {spec.kind}")

    def predict(self, x: np.ndarray, train_flg: bool) -> np.ndarray:
        for layer, takes_flag in self.layers:
            x = layer.forward(x, train_flg) if takes_flag else layer.forward(x)
        return x

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        loss = self.last.forward(self.predict(x, True), t)
        dout = self.last.backward(1)
        for layer, _ in reversed(self.layers):
            dout = layer.backward(dout)
        return loss, {key: getattr(layer, attribute) for key, layer, attribute in self.slots}


def build(layers: list[Layer], optimizer: str, lr: float, variant: str) -> Runner:
    opt = optimizers.SGD(lr=lr) if optimizer == "sgd" else optimizers.Adam(lr=lr)
    return BookRunner(Net(layers), opt)


class BookRunner(Runner):
    def __init__(self, net: Net, opt: Any) -> None:
        self.net, self.opt = net, opt

    def train(self, x: np.ndarray, t: np.ndarray) -> float:
        loss, grads = self.net.gradient(x, t)
        self.opt.update(self.net.params, grads)
        return float(loss)

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self.net.predict(x, train_flg=False)
