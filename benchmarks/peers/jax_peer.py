"""JAX with ``jax.jit`` of the whole training step: forward, gradient (``jax.value_and_grad``)
and the optimizer update, written here in jax.numpy (JAX has no optimizers of its own; optax
would add a dependency for ten lines). The state (parameters, Adam moments, BatchNorm running
statistics, the dropout key) is donated to each call, so XLA can update it in place.
"""

from __future__ import annotations

from importlib.metadata import version as dist_version
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from peers.base import Layer, Runner, running_stats

LABEL = "JAX (jit)"
EPS = 1e-5  # BatchNorm's, as PyTorch and mitbadak


def version() -> str:
    return f"jax {jax.__version__}, jaxlib {dist_version('jaxlib')}"


def forward(layers: list[Layer], params: list[dict], stats: list[dict], x: Any, train: bool,
            key: Any) -> tuple[Any, list[dict]]:
    """Logits of the network, and the BatchNorm running statistics after this batch."""
    new_stats = []
    for layer, p, s in zip(layers, params, stats):
        if layer.kind == "linear":
            x = x @ p["W"] + p["b"]
        elif layer.kind == "conv":
            pad = [(layer.padding, layer.padding)] * 2
            x = jax.lax.conv_general_dilated(x, p["W"], (1, 1), pad,
                                             dimension_numbers=("NCHW", "OIHW", "NCHW"))
            x = x + p["b"][None, :, None, None]
        elif layer.kind == "batchnorm":
            if train:
                mean, var = x.mean(axis=0), x.var(axis=0)
                n = x.shape[0]
                s = {"mean": 0.9 * s["mean"] + 0.1 * mean,
                     "var": 0.9 * s["var"] + 0.1 * var * (n / (n - 1))}
            else:
                mean, var = s["mean"], s["var"]
            x = (x - mean) * jax.lax.rsqrt(var + EPS) * p["gamma"] + p["beta"]
        elif layer.kind == "relu":
            x = jax.nn.relu(x)
        elif layer.kind == "sigmoid":
            x = jax.nn.sigmoid(x)
        elif layer.kind == "maxpool":
            x = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                      "VALID")
        elif layer.kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif layer.kind == "dropout" and train:
            key, sub = jax.random.split(key)
            x = jnp.where(jax.random.bernoulli(sub, 1 - layer.p, x.shape), x / (1 - layer.p), 0)
        new_stats.append(s)
    return x, new_stats


def cross_entropy(logits: Any, t: Any) -> Any:
    log_p = jax.nn.log_softmax(logits)
    return -jnp.take_along_axis(log_p, t[:, None], axis=1).mean()


def build(layers: list[Layer], optimizer: str, lr: float, variant: str) -> Runner:
    params = [{k: jnp.asarray(v) for k, v in layer.params.items()} for layer in layers]
    stats = [{k: jnp.asarray(v) for k, v in running_stats(layer).items()} for layer in layers]
    def zeros() -> Any:  # two calls, two sets of buffers (each is donated on its own)
        return jax.tree_util.tree_map(jnp.zeros_like, params)
    state = {"params": params, "stats": stats, "m": zeros(), "v": zeros(),
             "t": jnp.zeros((), jnp.float32), "key": jax.random.PRNGKey(0)}

    def loss_fn(params: list[dict], stats: list[dict], x: Any, t: Any, key: Any) -> Any:
        logits, new_stats = forward(layers, params, stats, x, True, key)
        return cross_entropy(logits, t), new_stats

    def step(state: dict, x: Any, t: Any) -> tuple[dict, Any]:
        key, sub = jax.random.split(state["key"])
        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state["params"], state["stats"], x, t, sub)
        tt = state["t"] + 1
        if optimizer == "sgd":
            new = jax.tree_util.tree_map(lambda p, g: p - lr * g, state["params"], grads)
            m, v = state["m"], state["v"]
        else:  # Adam, PyTorch's form
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, state["m"], grads)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, state["v"], grads)
            step_size = lr / (1 - 0.9 ** tt)
            root_c2 = jnp.sqrt(1 - 0.999 ** tt)
            new = jax.tree_util.tree_map(
                lambda p, m, v: p - step_size * m / (jnp.sqrt(v) / root_c2 + 1e-8),
                state["params"], m, v)
        return {"params": new, "stats": stats, "m": m, "v": v, "t": tt, "key": key}, loss

    def infer(state: dict, x: Any) -> Any:
        return forward(layers, state["params"], state["stats"], x, False, None)[0]

    return JaxRunner(jax.jit(step, donate_argnums=0), jax.jit(infer), state)


class JaxRunner(Runner):
    def __init__(self, step: Any, infer: Any, state: dict) -> None:
        self.step, self._infer, self.state = step, infer, state

    def train(self, x: np.ndarray, t: np.ndarray) -> Any:
        self.state, loss = self.step(self.state, x, t)
        return loss

    def infer(self, x: np.ndarray) -> Any:
        return self._infer(self.state, x)

    def wait(self, out: Any) -> None:
        out.block_until_ready()
