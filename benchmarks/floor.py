"""The floor: MLP training written by hand in NumPy, float32, no autograd.

Each layer's forward and backward are spelled out (the book's chapter-5 style) and fused where
a careful person would fuse them, with in-place optimizer updates. Whatever mitbadak's graph
machinery costs shows up as the distance to this loop.
"""

from __future__ import annotations

import numpy as np

TINY = np.finfo(np.float32).tiny


class FloorMLP:
    """784-...-10 MLP: Linear -> [BatchNorm] -> activation per hidden layer, softmax-CE loss."""

    def __init__(self, sizes: list[int], activation: str, batchnorm: bool, init: str,
                 optimizer: str, lr: float, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.activation, self.batchnorm = activation, batchnorm
        self.params: list[np.ndarray] = []
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            std = 0.01 if init == "std" else np.sqrt(2.0 / n_in)
            W = (rng.standard_normal((n_in, n_out)) * std).astype(np.float32)  # noqa: N806
            b = np.zeros(n_out, np.float32)
            layer = {"W": W, "b": b}
            self.params += [W, b]
            if batchnorm and i < len(sizes) - 2:
                layer["gamma"] = np.ones(n_out, np.float32)
                layer["beta"] = np.zeros(n_out, np.float32)
                layer["mean"] = np.zeros(n_out, np.float32)
                layer["var"] = np.ones(n_out, np.float32)
                self.params += [layer["gamma"], layer["beta"]]
            self.layers.append(layer)
        self.optimizer, self.lr, self.t = optimizer, lr, 0
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params] if optimizer == "adam" else None

    # -------------------------------------------------------------------------------- forward
    def _act(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.activation == "relu":
            mask = h > 0
            return np.maximum(h, 0, out=h), mask
        y = 0.5 * (1.0 + np.tanh(0.5 * h))  # sigmoid without overflow
        return y, y

    def forward(self, x: np.ndarray, train: bool) -> tuple[np.ndarray, list]:
        caches = []
        h = x
        for layer in self.layers[:-1]:
            a = h @ layer["W"]
            a += layer["b"]
            bn = None
            if self.batchnorm:
                if train:
                    mu = a.mean(axis=0)
                    a -= mu
                    var = np.mean(a * a, axis=0)
                    n = a.shape[0]
                    layer["mean"] *= 0.9
                    layer["mean"] += 0.1 * mu
                    layer["var"] *= 0.9
                    layer["var"] += (0.1 * n / (n - 1)) * var
                else:
                    a -= layer["mean"]
                    var = layer["var"]
                inv_std = 1.0 / np.sqrt(var + 1e-5)
                a *= inv_std
                bn = (a.copy() if train else None, inv_std)
                a *= layer["gamma"]
                a += layer["beta"]
            out, act_cache = self._act(a)
            caches.append((h, bn, act_cache))
            h = out
        logits = h @ self.layers[-1]["W"]
        logits += self.layers[-1]["b"]
        caches.append((h, None, None))
        return logits, caches

    # ------------------------------------------------------------------------------- training
    def train_step(self, x: np.ndarray, t: np.ndarray) -> float:
        logits, caches = self.forward(x, train=True)
        n = x.shape[0]
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.log(s[:, 0]).sum() - z[np.arange(n), t].sum()) / n
        g = e
        g /= s
        g[np.arange(n), t] -= 1
        g *= 1.0 / n
        grads: list[np.ndarray] = []
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            h, bn, act_cache = caches[i]
            layer_grads = [h.T @ g, g.sum(axis=0)]
            if i > 0:
                g = g @ layer["W"].T
                prev_bn, prev_act = caches[i - 1][1], caches[i - 1][2]
                if self.activation == "relu":
                    g *= prev_act
                else:
                    g *= prev_act * (1 - prev_act)
                if prev_bn is not None:
                    x_hat, inv_std = prev_bn
                    prev = self.layers[i - 1]
                    dbeta = g.sum(axis=0)
                    dgamma = (g * x_hat).sum(axis=0)
                    g -= dbeta / n
                    g -= x_hat * (dgamma / n)
                    g *= prev["gamma"] * inv_std
                    layer_grads_bn = [dgamma, dbeta]
                else:
                    layer_grads_bn = []
            else:
                layer_grads_bn = []
            grads = layer_grads + grads
            if layer_grads_bn:
                grads = layer_grads_bn + grads
        # grads is ordered like self.params: W, b, [gamma, beta] per layer
        self._update(grads)
        return loss

    def _update(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        lr = self.lr
        if self.optimizer == "sgd":
            for p, g in zip(self.params, grads):
                g *= lr
                p -= g
        elif self.optimizer == "momentum":
            for p, g, m in zip(self.params, grads, self.m):
                m *= 0.9
                m += g
                p -= lr * m
        else:  # Adam, as torch.optim.Adam
            b1, b2, t = 0.9, 0.999, self.t
            step = lr / (1 - b1**t)
            root_c2 = np.sqrt(1 - b2**t)
            for p, g, m, v in zip(self.params, grads, self.m, self.v):
                m *= b1
                m += (1 - b1) * g
                v *= b2
                g *= g
                g *= 1 - b2
                v += g
                denom = np.sqrt(v)
                denom /= root_c2
                denom += 1e-8
                np.divide(m, denom, out=denom)
                denom *= step
                p -= denom
                if t % 100 == 0:  # flush subnormals (see docs/benchmarks.md)
                    m[np.abs(m) < TINY] = 0
                    v[v < TINY] = 0

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, train=False)[0]
