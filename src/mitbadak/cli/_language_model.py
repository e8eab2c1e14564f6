"""``mitbadak train --task language-model``: the settings, data and model of a language-model
run, for the one training command (`mitbadak.cli.train`), which runs, saves, resumes and
reports it as any other run.

The settings are the command's common ones (``model``, ``dataset``, ``optimizer``, ``lr``,
``schedule``, ``epochs``, ``batch_size``, ``seed``, ``weight_decay``) plus ``text`` (a UTF-8
file instead of a shipped corpus), ``seq_len`` (the truncated-BPTT length), ``hidden``,
``layers``, ``dropout`` and ``max_norm`` (gradient clipping); each model's defaults come from
its registry entry (`training.registry.Architecture.settings`). The checkpoints carry the
vocabulary (``meta["vocabulary"]``, `data.Vocabulary.to_dict`), so ``mitbadak sample`` can
turn ids back into text, and a resumed run encodes its text with the same ids.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mitbadak.cli import UsageError
from mitbadak.data import CORPORA
from mitbadak.training.registry import ARCHITECTURES, architecture

TASK = "language-model"
MODELS = {a.cli_name: a.name for a in ARCHITECTURES.values() if a.input == "tokens"}
COMMON = {"task": TASK, "model": "lstm", "dataset": "tinyshakespeare", "text": None,
          "weight_decay": 0.0, "schedule": "constant", "epochs": None, "seed": 0}
"""The settings every language model has, with their defaults (the model adds its own)."""
_SHARED = (*COMMON, "hidden", "dropout", "batch_size", "optimizer", "lr")  # classifiers' too
FLAGS = ("text", *dict.fromkeys(k for a in ARCHITECTURES.values() if a.input == "tokens"
                                for k in a.settings if k not in _SHARED))
"""The settings of language models only (``text``, ``seq_len``, ``layers``, ``max_norm``, and
any other a registered language model adds): a classifier's run refuses them, a resumed run
too (it keeps its own)."""
CLASSIFIER_FLAGS = ("activation", "init", "batchnorm", "data_dir")
"""The flags of classifiers only: a language model's run refuses them."""


def wanted(args: argparse.Namespace) -> bool:
    """Whether the command asks for a language model: ``--task language-model``, or, without
    ``--task``, a text corpus, ``--text`` or a language model's ``--model``. A mix of the two
    kinds is one clear error."""
    hints = [flag for flag, given in (
        (f"--dataset {args.dataset}", args.dataset in CORPORA),
        (f"--model {args.model}", args.model in MODELS),
        *((_flag(k), getattr(args, k) is not None) for k in FLAGS)) if given]
    if args.task == "classify" and hints:
        raise UsageError(f"{hints[0]}: for --task language-model, not classify")
    return args.task == TASK or (args.task is None and bool(hints))


def new_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of a new run: the flags given, else the model's defaults, else `COMMON`'s."""
    refused = [_flag(k) for k in CLASSIFIER_FLAGS if getattr(args, k) is not None]
    if refused:
        raise UsageError(f"{', '.join(refused)}: for image classifiers, not --task {TASK}")
    model = args.model or COMMON["model"]
    if model not in MODELS:
        raise UsageError(f"--model {model}: not a language model (choose one of "
                         f"{', '.join(MODELS)})")
    if args.dataset is not None and args.dataset not in CORPORA:
        raise UsageError(f"--dataset {args.dataset}: not a text corpus (choose one of "
                         f"{', '.join(CORPORA)}, or --text FILE)")
    if args.dataset is not None and args.text is not None:
        raise UsageError("--dataset and --text: give one (a shipped corpus, or your file)")
    if args.text is not None and not os.path.exists(args.text):
        raise UsageError(f"--text {args.text}: no such file")
    arch = architecture(model)
    settings = {**COMMON, **arch.settings, "model": model, "weight_decay_on": "weights"}
    foreign = [_flag(k) for k in FLAGS if k not in settings and getattr(args, k, None) is not None]
    if foreign:  # another language model's setting (--heads of a GPT for an LSTM)
        raise UsageError(f"{', '.join(foreign)}: not a setting of --model {model}")
    settings.update({k: v for k in settings if (v := getattr(args, k, None)) is not None})
    if isinstance(settings["hidden"], list):
        if len(settings["hidden"]) != 1:
            raise UsageError(f"--hidden {','.join(map(str, settings['hidden']))}: a language "
                             "model takes one size, such as --hidden 256")
        settings["hidden"] = settings["hidden"][0]
    if args.text is not None:
        settings["dataset"], settings["text"] = None, os.path.abspath(args.text)
    if settings["epochs"] is None:
        settings["epochs"] = arch.epochs["text" if args.text else settings["dataset"]]
    return settings


def name(settings: dict[str, Any]) -> str:
    """The data's name: the corpus, or the text file's stem."""
    return settings["dataset"] or Path(settings["text"]).stem


def load(settings: dict[str, Any], saved_vocabulary: dict[str, Any] | None = None) -> Any:
    """The run's `LanguageModelData`: its text, encoded with the saved vocabulary when
    resuming (which must be the text's own: the text may not have changed)."""
    from mitbadak.data import TextFileError, Vocabulary, load_text
    from mitbadak.training.language import language_model_data

    try:
        text = load_text(settings["text"] or settings["dataset"])
    except TextFileError as error:
        raise UsageError(f"--text {error}" if settings["text"] else str(error)) from None
    own = Vocabulary.from_text(text)
    if saved_vocabulary is not None:
        try:
            same = Vocabulary.from_dict(saved_vocabulary) == own
        except (TypeError, ValueError) as error:
            raise UsageError(f"the checkpoint's vocabulary is damaged: {error}") from None
        if not same:
            raise UsageError(f"{name(settings)}: the text has changed since the run was saved "
                             "(its characters are not the checkpoint's vocabulary)")
    try:
        return language_model_data(text, settings["batch_size"], settings["seq_len"], own)
    except ValueError as error:
        raise UsageError(f"{name(settings)}: {error}") from None


def build_model(settings: dict[str, Any], vocab_size: int) -> Any:
    """The model the settings describe (seeded by the caller), from its registry entry."""
    from mitbadak.training.registry import describe

    arch = architecture(settings["model"])
    assert arch.arguments is not None  # every "tokens" architecture has them
    arguments = arch.arguments(settings, vocab_size)
    try:
        return arch.cls(**arguments)
    except ValueError as error:
        raise UsageError(str(error)) from None
    except MemoryError:
        raise UsageError(f"a {describe({'type': arch.name, **arguments})} is too large for "
                         "this machine's memory: choose a smaller --hidden or --layers") from None


def title(settings: dict[str, Any]) -> str:
    """``tinyshakespeare: LSTMLanguageModel 2x256 dropout 0.2, adam lr 0.002``."""
    lr = f" lr {settings['lr']:g}" + (" cosine" if settings["schedule"] == "cosine" else "")
    decay = f" wd {settings['weight_decay']:g}" if settings["weight_decay"] else ""
    return (f"{name(settings)}: {MODELS[settings['model']]} {settings['layers']}x"
            f"{settings['hidden']} dropout {settings['dropout']:g}, seq {settings['seq_len']}"
            f"{decay}, {settings['optimizer']}{lr}")


def _flag(setting: str) -> str:
    return "--clip" if setting == "max_norm" else f"--{setting.replace('_', '-')}"
