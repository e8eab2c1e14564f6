"""Architectures by name: a model's JSON config and back, so a checkpoint can rebuild its model.

A model that can be rebuilt keeps its constructor's arguments in ``model.config`` (`nn.MLP`
does). ``model_config(model)`` adds the registered class name,
``{"type": "MLP", "input_size": 64, ...}``, and ``build_model(config)`` calls the registered
class with the rest. Only classes in `MODELS` can be built: a config is data read from a
file, never code to import.
"""

from __future__ import annotations

from typing import Any

from mitbadak import nn

MODELS: dict[str, type[nn.Module]] = {
    "MLP": nn.MLP, "SimpleConvNet": nn.SimpleConvNet, "DeepConvNet": nn.DeepConvNet}
"""The architectures `build_model` knows, by class name."""


def model_config(model: nn.Module) -> dict[str, Any] | None:
    """``{"type": <registered name>, **model.config}``, or None for a model that cannot be
    rebuilt (no ``config``, or not an instance of a class in `MODELS`). A subclass counts as
    its registered base: `nn.TwoLayerNet` keeps an `nn.MLP` config, so it rebuilds as an MLP."""
    config = getattr(model, "config", None)
    name = next((name for name, cls in MODELS.items() if isinstance(model, cls)), None)
    if name is None or not isinstance(config, dict):
        return None
    return {"type": name, **config}


def build_model(config: dict[str, Any]) -> nn.Module:
    """A new model (freshly initialised) of the architecture that ``config`` describes."""
    kind = config.get("type")
    if kind not in MODELS:
        raise ValueError(f"unknown model type {kind!r}; known: {', '.join(MODELS)}")
    arguments = {k: v for k, v in config.items() if k != "type"}
    try:
        return MODELS[kind](**arguments)
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot build a {kind} from {arguments}: {error}") from None


def same_architecture(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two configs describe the same network. ``init`` is left out: it only chose the
    starting weights, which a checkpoint's weights replace."""
    def without_init(config: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in config.items() if k != "init"}

    return without_init(a) == without_init(b)


def describe(config: dict[str, Any]) -> str:
    """``MLP(input_size=64, hidden_sizes=[100, 100], ...)``: a config as a constructor call."""
    arguments = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "type")
    return f"{config.get('type')}({arguments})"
