"""mitbadak (밑바닥, "from the very bottom"): deep learning from scratch on NumPy.

``import mitbadak as mb`` loads NumPy, the autograd core (`mitbadak.autograd`) and the ops on
it (`mitbadak.functional`) alone. Everything above them loads on first use (PEP 562):
``mb.nn``, ``mb.optim``, ``mb.data``, ``mb.training``, ``mb.viz``, ``mb.numerical``,
``mb.experiments``, ``mb.tune``; matplotlib and tqdm only when a figure or a progress bar is
made.

The layers, from the bottom up (each imports only those below it)::

    autograd     Tensor, Function, the backward walk, grad mode, RNG
    functional   differentiable ops, the book's layers as graph nodes
    nn           Module, Parameter, layers, init, models
    optim        optimizers, learning-rate schedules, clipping
    data         datasets, IDX files, the DataLoader
    training     the training step and loop, History, checkpoints, the architecture registry
    viz          figures and graph drawing
    tune         random hyper-parameter search on any executor (a process pool, Dask)
    experiments  the book's lessons;   cli   the `mitbadak` command
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from mitbadak import autograd, functional
from mitbadak.autograd.grad_mode import enable_grad, no_grad
from mitbadak.autograd.grad_mode import is_enabled as is_grad_enabled
from mitbadak.autograd.random import manual_seed
from mitbadak.autograd.tensor import Tensor, tensor

__version__ = "0.2.0"  # the one place it is written: pyproject.toml reads it from here

_SUBPACKAGES = ("nn", "optim", "data", "training", "viz", "numerical", "experiments", "cli",
               "export", "tune")

#: Names that moved in 0.2 (CHANGELOG.md): ``mb.train`` and friends still resolve as
#: attributes; ``import mitbadak.train`` says where the module went.
MOVED = {
    "train": "mitbadak.training",
    "checkpoint": "mitbadak.training.checkpoint",
    "models": "mitbadak.training.registry",
    "plot": "mitbadak.viz.figures",
    "init": "mitbadak.nn.init",
    "perceptron": "mitbadak.experiments.perceptron",
    "tensor": "mitbadak.autograd.tensor",
    "function": "mitbadak.autograd.function",
    "grad_mode": "mitbadak.autograd.grad_mode",
    "random": "mitbadak.autograd.random",
}


def __getattr__(name: str) -> ModuleType:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"mitbadak.{name}")
    if name in MOVED:
        return importlib.import_module(MOVED[name])
    raise AttributeError(f"module 'mitbadak' has no attribute {name!r}")


class _MovedModuleFinder:
    """Turns ``import mitbadak.train`` (a module that moved) into an error naming its new place.

    A meta-path finder (duck-typed: ``importlib.abc`` would import pathlib and urllib)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        old = fullname.removeprefix("mitbadak.")
        if fullname.startswith("mitbadak.") and old in MOVED:
            raise ModuleNotFoundError(
                f"{fullname} moved to {MOVED[old]} in mitbadak 0.2 (see CHANGELOG.md)",
                name=fullname)
        return None


sys.meta_path.append(_MovedModuleFinder())

__all__ = [
    "Tensor", "autograd", "enable_grad", "functional", "is_grad_enabled", "manual_seed",
    "no_grad", "tensor", *_SUBPACKAGES,
]
