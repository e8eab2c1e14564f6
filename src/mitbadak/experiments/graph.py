"""Computational graphs (chapter 5): the book's shopping example and one MLP training step.

Buying 2 apples at 100 and 3 oranges at 150 with 10% tax is a graph of three multiplications
and one addition: price = (100 * 2 + 150 * 3) * 1.1 = 715. Backpropagation sends d price /
d price = 1 back through it: a multiplication node passes the upstream gradient times the
*other* input, an addition node passes it unchanged. So d price / d apple = 1.1 * 2 = 2.2,
d price / d (apple count) = 1.1 * 100 = 110, orange 3.3, orange count 165, tax 650.

The gradients are computed twice: node by node by hand, calling each node's ``backward`` in
reverse order exactly as the book's ``buy_apple_orange.py`` does with its layers (this also
gives the gradients on the inner edges), and by ``price.backward()``, which does the same walk
automatically. The second graph is one training step of a small MLP: forward, backward (the
parameters' gradient norms in red), and a plain gradient-descent update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.experiments._report import write_dot
from mitbadak.viz.graph import to_dot

# d price / d input, as printed in the book (buy_apple_orange.py).
BOOK_GRADIENTS = {"apple": 2.2, "apple_num": 110.0, "orange": 3.3, "orange_num": 165.0,
                  "tax": 650.0}


def _grad(x: mb.Tensor) -> np.ndarray:
    """The gradient that a backward walk (automatic or by hand) has put in ``x.grad``."""
    assert x.grad is not None, "the backward walk gave this tensor no gradient"
    return x.grad


def shopping() -> dict[str, Any]:
    """The apple-and-orange graph: forward, both backward walks, and its DOT text."""
    inputs = {"apple": 100.0, "apple_num": 2.0, "orange": 150.0, "orange_num": 3.0, "tax": 1.1}
    t = {name: mb.tensor(v, dtype=np.float64, requires_grad=True) for name, v in inputs.items()}
    t["apple_price"] = t["apple"] * t["apple_num"]
    t["orange_price"] = t["orange"] * t["orange_num"]
    t["all_price"] = t["apple_price"] + t["orange_price"]
    t["price"] = t["all_price"] * t["tax"]

    # By hand, in reverse order, as the book calls its layers' backward methods.
    t["price"].grad = np.array(1.0)
    for name, (left, right) in (("price", ("all_price", "tax")),
                                ("all_price", ("apple_price", "orange_price")),
                                ("orange_price", ("orange", "orange_num")),
                                ("apple_price", ("apple", "apple_num"))):
        node = t[name].creator
        assert node is not None  # every name walked here is the result of an operation
        t[left].grad, t[right].grad = node.backward(_grad(t[name]))
    by_hand = {name: float(_grad(t[name])) for name in inputs}

    # Automatically: clear the leaves' gradients and let the graph walk redo it.
    for name in inputs:
        t[name].grad = None
    t["price"].backward(retain_graph=True)  # keep the graph to draw it
    autograd = {name: float(_grad(t[name])) for name in inputs}
    dot = to_dot(t["price"], names=t, values=True, grads=True,
                 title="price = (apple * apple_num + orange * orange_num) * tax "
                       "(forward values; gradients d price / d edge in red)")
    return {"inputs": inputs, "price": float(t["price"].data), "by_hand": by_hand,
            "autograd": autograd, "book": BOOK_GRADIENTS, "dot": dot}


def mlp_step(seed: int) -> dict[str, Any]:
    """One gradient-descent step of a 3-5-2 ReLU network on a batch of 4, and its graph."""
    rng = np.random.default_rng(seed)
    x = mb.tensor(rng.standard_normal((4, 3)))
    labels = np.array([0, 1, 1, 0])
    params = {"W1": rng.standard_normal((3, 5)) * 0.5, "b1": np.zeros(5),
              "W2": rng.standard_normal((5, 2)) * 0.5, "b2": np.zeros(2)}
    p = {name: mb.tensor(v, requires_grad=True) for name, v in params.items()}

    def forward() -> dict[str, mb.Tensor]:
        h = F.relu(F.linear(x, p["W1"], p["b1"]))
        logits = F.linear(h, p["W2"], p["b2"])
        return {"x": x, **p, "h": h, "logits": logits, "loss": F.cross_entropy(logits, labels)}

    named = forward()
    named["loss"].backward(retain_graph=True)
    dot = to_dot(named["loss"], names=named, values=True, grads=True,
                 title="One training step of a 3-5-2 MLP (shapes forward; gradient norms in red)")
    lr = 0.5
    with mb.no_grad():
        for param in p.values():
            param.data -= lr * _grad(param)
        loss_after = float(forward()["loss"].data)
    return {"lr": lr, "loss_before": float(named["loss"].data), "loss_after": loss_after,
            "grad_norms": {name: float(np.linalg.norm(_grad(v))) for name, v in p.items()},
            "dot": dot}


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    return {"shopping": shopping(), "mlp_step": mlp_step(seed)}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    return (write_dot(result["shopping"]["dot"], out / "graph.dot")
            + write_dot(result["mlp_step"]["dot"], out / "graph-mlp.dot"))


def summary(result: dict[str, Any]) -> str:
    s, m = result["shopping"], result["mlp_step"]
    grads = ", ".join(f"{name} {g:.6g}" for name, g in s["autograd"].items())
    return (f"shopping: price {s['price']:.6g}; d price / d {grads} (book: "
            + ", ".join(f"{g:g}" for g in s["book"].values()) + ")\n"
            f"MLP step: loss {m['loss_before']:.4f} -> {m['loss_after']:.4f} (lr {m['lr']})")
