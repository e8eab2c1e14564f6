"""PyTorch (CPU), in two settings.

``default``: torch.nn layers and torch.optim as a tutorial writes them (for-each-parameter
optimizer, NCHW, ``no_grad`` for inference). ``best``: the fastest documented settings that
keep eager mode: ``fused=True`` optimizers (one kernel over all parameters), channels_last
memory format for the ConvNets, ``inference_mode`` instead of ``no_grad``. ``compile``: the
best settings and ``torch.compile(model)`` (inductor; its first call compiles).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from peers.base import Layer, Runner

LABEL = "PyTorch"


def version() -> str:
    return f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def module_of(layers: list[Layer]) -> torch.nn.Sequential:
    """torch.nn layers with the given weights (Linear W transposed to torch's (out, in))."""
    modules: list[torch.nn.Module] = []
    for layer in layers:
        p = {k: torch.from_numpy(v.copy()) for k, v in layer.params.items()}
        if layer.kind == "linear":
            m: torch.nn.Module = torch.nn.Linear(*layer.params["W"].shape)
            m.weight.data, m.bias.data = p["W"].T.contiguous(), p["b"]
        elif layer.kind == "conv":
            out_c, in_c, k, _ = layer.params["W"].shape
            m = torch.nn.Conv2d(in_c, out_c, k, padding=layer.padding)
            m.weight.data, m.bias.data = p["W"], p["b"]
        elif layer.kind == "batchnorm":
            m = torch.nn.BatchNorm1d(len(p["gamma"]))
            m.weight.data, m.bias.data = p["gamma"], p["beta"]
        elif layer.kind == "maxpool":
            m = torch.nn.MaxPool2d(2)
        elif layer.kind == "dropout":
            m = torch.nn.Dropout(layer.p)
        else:
            m = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid,
                 "flatten": torch.nn.Flatten}[layer.kind]()
        modules.append(m)
    return torch.nn.Sequential(*modules)


def build(layers: list[Layer], optimizer: str, lr: float, variant: str) -> Runner:
    best = variant in ("torch-best", "torch-compile")
    model = module_of(layers)
    image = any(layer.kind == "conv" for layer in layers)
    layout = torch.channels_last if best and image else torch.contiguous_format
    model = model.to(memory_format=layout)
    extra = {"fused": True} if best else {}
    opt = (torch.optim.SGD(model.parameters(), lr=lr, **extra) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr, **extra))
    no_grad = torch.inference_mode if best else torch.no_grad
    forward = torch.compile(model) if variant == "torch-compile" else model
    return TorchRunner(model, forward, opt, layout, no_grad)


class TorchRunner(Runner):
    def __init__(self, model: torch.nn.Module, forward: Any, opt: torch.optim.Optimizer,
                 layout: Any, no_grad: Any) -> None:
        self.model, self.forward, self.opt = model, forward, opt
        self.layout, self.no_grad = layout, no_grad
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def _input(self, x: np.ndarray) -> torch.Tensor:
        xt = torch.from_numpy(x)
        return xt.contiguous(memory_format=self.layout) if xt.dim() == 4 else xt

    def train_mode(self) -> None:
        self.model.train()

    def numpy(self, out: torch.Tensor) -> np.ndarray:
        return out.detach().numpy()

    def train(self, x: np.ndarray, t: np.ndarray) -> torch.Tensor:
        loss = self.loss_fn(self.forward(self._input(x)), torch.from_numpy(t))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.detach()

    def infer(self, x: np.ndarray) -> torch.Tensor:
        self.model.eval()
        with self.no_grad():
            return self.forward(self._input(x))
