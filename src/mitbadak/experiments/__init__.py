"""The book's experiments, each one lesson that computes its numbers and draws its figures.

``mitbadak experiment NAME [--quick] [--out DIR]`` runs one; ``mitbadak experiment --list``
lists them; ``python -m mitbadak.experiments.gallery`` regenerates all figures in docs/figures.

Adding an experiment takes one module and one line in `EXPERIMENTS`. The module defines

* its docstring, whose first line is the summary that ``--list`` shows;
* ``run(quick: bool = False, ...) -> dict``: computes the lesson and returns its numbers as a
  JSON-friendly dict (numbers, strings, lists, dicts; NumPy values are converted on writing).
  ``quick=True`` must finish in seconds (the tests call it). Further keyword options, such as
  ``dataset`` or ``seed``, are part of the signature: the runner passes an option only to an
  experiment whose ``run`` names it and refuses it otherwise;
* ``draw(result: dict, out: Path) -> list[Path]``: writes its figures from the result alone
  (PNG through `_report.save_figure`, named ``<name>.png`` or ``<name>-<part>.png``);
* ``summary(result: dict) -> str``: a few lines of text for the terminal.

The runner writes ``<out>/<name>.json`` holding the result and how it was made.
"""

from __future__ import annotations

import importlib
import inspect
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mitbadak.experiments._report import figure_language, write_json

#: Experiment name -> module that implements it (see the module docstring).
EXPERIMENTS: dict[str, str] = {
    "perceptron": "mitbadak.experiments.perceptron",
    "activations": "mitbadak.experiments.activations",
    "gradient": "mitbadak.experiments.gradient",
    "gradient-check": "mitbadak.experiments.gradient_check",
    "graph": "mitbadak.experiments.graph",
    "optimizers": "mitbadak.experiments.optimizers",
    "init-histograms": "mitbadak.experiments.init_histograms",
    "init-compare": "mitbadak.experiments.init_compare",
    "batchnorm": "mitbadak.experiments.batchnorm",
    "overfitting": "mitbadak.experiments.overfitting",
    "hyperparams": "mitbadak.experiments.hyperparams",
    "filters": "mitbadak.experiments.filters",
    "language-model": "mitbadak.experiments.language_model",
    "word2vec": "mitbadak.experiments.word2vec",
    "rnn-gradients": "mitbadak.experiments.rnn_gradients",
    "seq2seq": "mitbadak.experiments.seq2seq",
    "attention": "mitbadak.experiments.attention",
    "attention-maps": "mitbadak.experiments.attention_maps",
    "transformer-vs-lstm": "mitbadak.experiments.transformer_vs_lstm",
    "newton": "mitbadak.experiments.newton",
    "tanh-derivatives": "mitbadak.experiments.tanh_derivatives",
    "gradient-penalty": "mitbadak.experiments.gradient_penalty",
}


class ExperimentError(ValueError):
    """An unknown experiment, or an option the experiment does not take."""


@dataclass
class ExperimentReport:
    """One finished run: its numbers, the files it wrote and its text summary."""

    name: str
    result: dict[str, Any]
    files: list[Path]
    summary: str
    seconds: float


def load(name: str) -> ModuleType:
    """The module implementing experiment ``name``."""
    if name not in EXPERIMENTS:
        raise ExperimentError(f"unknown experiment {name!r}; choose one of "
                              f"{', '.join(EXPERIMENTS)} (or --list)")
    return importlib.import_module(EXPERIMENTS[name])


def describe(name: str) -> str:
    """The one-line summary of experiment ``name`` (its module docstring's first line)."""
    return (load(name).__doc__ or "").strip().splitlines()[0]


def compute(name: str, quick: bool = False, **options: Any) -> dict[str, Any]:
    """Run experiment ``name`` and return its numbers, writing nothing."""
    run = load(name).run
    accepted = inspect.signature(run).parameters
    refused = [option for option in options if option not in accepted]
    if refused:
        raise ExperimentError(f"experiment {name!r} takes no option "
                              + ", ".join(f"--{o.replace('_', '-')}" for o in refused))
    return run(quick=quick, **options)


def run_experiment(name: str, out: str | Path, quick: bool = False, lang: str = "en",
                   **options: Any) -> ExperimentReport:
    """Run experiment ``name``; write ``<out>/<name>.json`` and its figures into ``out``,
    with their text in ``lang`` ("en" or "ko": see `_report.figure_language`).

    ``options`` (e.g. ``dataset="digits"``) go to the experiment's ``run``; leave an option out
    to get the experiment's default.
    """
    module = load(name)
    out = Path(out)
    with figure_language(lang):  # a missing Korean font is said now, not after the run
        start = time.perf_counter()
        result = compute(name, quick=quick, **options)
        seconds = time.perf_counter() - start
        record = {"experiment": name, "quick": quick, "options": options,
                  "seconds": round(seconds, 3), "result": result}
        files = [write_json(record, out / f"{name}.json")] + module.draw(result, out)
    return ExperimentReport(name, result, files, module.summary(result), seconds)
