"""The architectures mitbadak can build by name: for the command line (``--model``) and for
checkpoints (a model's JSON config and back).

Each `Architecture` says what it is once: its class name (the ``"type"`` a checkpoint's
config carries), the class, what input it takes (``"flat"``: a vector of pixels, shape
(N, D); ``"image"``: (N, C, H, W); ``"tokens"``: token ids (N, T), a language model), its
``--model`` name, and the epochs after which its test accuracy (a language model: its
validation perplexity) about levels off, by dataset (the command line's default).

A language model also says how ``mitbadak train --task language-model`` builds and trains
it: ``settings``, its defaults of the command's settings (``hidden``, ``layers``,
``dropout``, ``seq_len``, ``batch_size``, ``optimizer``, ``lr``, ``max_norm``, ...; a flag
the user gives wins), and ``arguments(settings, vocab_size)``, its constructor's arguments
from them; its ``epochs`` have an entry ``"text"`` for ``--text`` files. A setting no flag
sets keeps the entry's value (a flag named after it, ``--heads`` for ``heads``, is all it
takes to expose it). A second language model is one more entry (see `ARCHITECTURES`). It
must take ids (N, T) to logits (N, T, V), keep its arguments in ``model.config``, and have
``generate(ids, length, temperature, top_k)`` (``mitbadak sample``; ids of shape (1, T),
drawn from mitbadak's default generator as `nn.sampling.sample_next` does); a
``reset_state()``, if it carries a state across batches, is called at each epoch's start.

A model that can be rebuilt keeps its constructor's arguments in ``model.config`` (`nn.MLP`
does). ``model_config(model)`` adds the registered class name,
``{"type": "MLP", "input_size": 64, ...}``, and ``build_model(config)`` calls the registered
class with the rest. Only registered classes can be built: a config is data read from a
file, never code to import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mitbadak import nn


@dataclass(frozen=True)
class Architecture:
    """One buildable network: see the module docstring."""

    name: str
    cls: type[nn.Module]
    input: Literal["flat", "image", "tokens"]
    cli_name: str
    epochs: Mapping[str, int]
    settings: Mapping[str, Any] = field(default_factory=dict)
    arguments: Callable[[Mapping[str, Any], int], dict[str, Any]] | None = None

    def input_shape(self, config: Mapping[str, Any]) -> tuple[int, ...]:
        """The shape of one input of the model ``config`` describes: (pixels,) for a flat
        input (its ``input_size``), (C, H, W) for an image (its ``input_dim``)."""
        if self.input == "tokens":
            raise ValueError(f"a {self.name} takes token ids of any length, not a fixed shape")
        key = "input_size" if self.input == "flat" else "input_dim"
        if key not in config:
            raise ValueError(f"the {self.name} config does not say its {key}")
        value = config[key]
        return (value,) if self.input == "flat" else tuple(value)


ARCHITECTURES: dict[str, Architecture] = {arch.name: arch for arch in (
    Architecture("MLP", nn.MLP, "flat", "mlp",
                 {"digits": 40, "mnist": 10, "fashion-mnist": 20}),
    Architecture("SimpleConvNet", nn.SimpleConvNet, "image", "simple-cnn",
                 {"digits": 30, "mnist": 10, "fashion-mnist": 10}),
    Architecture("DeepConvNet", nn.DeepConvNet, "image", "deep-cnn",
                 {"digits": 30, "mnist": 10, "fashion-mnist": 15}),
    # The sequel's better RNNLM, on characters: tied weights need embed_dim == hidden_size.
    Architecture("LSTMLanguageModel", nn.LSTMLanguageModel, "tokens", "lstm",
                 {"tinyshakespeare": 8, "names": 10, "text": 10},
                 settings={"hidden": 256, "layers": 2, "dropout": 0.2, "seq_len": 100,
                           "batch_size": 32, "optimizer": "adam", "lr": 0.002, "max_norm": 1.0,
                           "schedule": "cosine"},
                 arguments=lambda s, vocab_size: {
                     "vocab_size": vocab_size, "embed_dim": s["hidden"],
                     "hidden_size": s["hidden"], "num_layers": s["layers"],
                     "dropout": s["dropout"], "tie_weights": True}),
    # A small GPT on characters (issue 17): --hidden is n_embd, --layers n_layer, --seq-len
    # block_size; AdamW with decay on matrices, warm-up then cosine over the steps, clipping.
    Architecture("GPT", nn.GPT, "tokens", "gpt",
                 {"tinyshakespeare": 9, "names": 10, "text": 10},
                 settings={"hidden": 128, "layers": 4, "heads": 4, "dropout": 0.0,
                           "seq_len": 128, "batch_size": 32, "optimizer": "adamw", "lr": 2e-3,
                           "max_norm": 1.0, "weight_decay": 0.1, "schedule": "cosine",
                           "warmup": 100},
                 arguments=lambda s, vocab_size: {
                     "vocab_size": vocab_size, "block_size": s["seq_len"],
                     "n_layer": s["layers"], "n_head": s["heads"], "n_embd": s["hidden"],
                     "dropout": s["dropout"]}),
)}
"""The architectures, by class name (a checkpoint's ``"type"``)."""


def architecture(name: str) -> Architecture:
    """The architecture of class name ``name`` ("MLP") or ``--model`` name ("mlp")."""
    for arch in ARCHITECTURES.values():
        if name in (arch.name, arch.cli_name):
            return arch
    raise _unknown(name)


def _unknown(name: object) -> ValueError:
    known = ", ".join(f"{a.name} ({a.cli_name})" for a in ARCHITECTURES.values())
    return ValueError(f"unknown model type {name!r}; known: {known}")


def model_config(model: nn.Module) -> dict[str, Any] | None:
    """``{"type": <registered name>, **model.config}``, or None for a model that cannot be
    rebuilt (no ``config``, or not an instance of a registered class). A subclass counts as
    its registered base: `nn.TwoLayerNet` keeps an `nn.MLP` config, so it rebuilds as an MLP."""
    config = getattr(model, "config", None)
    name = next((a.name for a in ARCHITECTURES.values() if isinstance(model, a.cls)), None)
    if name is None or not isinstance(config, dict):
        return None
    return {"type": name, **config}


def build_model(config: dict[str, Any]) -> nn.Module:
    """A new model (freshly initialised) of the architecture that ``config`` describes; a
    ValueError for a config that describes none, or a network too large for this machine."""
    kind = config.get("type")
    if kind not in ARCHITECTURES:
        raise _unknown(kind)
    arguments = {k: v for k, v in config.items() if k != "type"}
    try:
        return ARCHITECTURES[kind].cls(**arguments)
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot build a {kind} from {arguments}: {error}") from None
    except MemoryError:
        raise ValueError(f"holds a {describe(config)}, too large to build in this machine's "
                         "memory") from None


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
