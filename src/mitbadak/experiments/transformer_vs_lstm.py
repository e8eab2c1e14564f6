"""Transformer vs LSTM: validation loss against training time, GPT and LSTM of one size.

Two character-level language models of about the same number of parameters train on the
same tinyshakespeare text for the same wall-clock budget each, one after the other in one
process: the sequel's LSTM language model (`nn.LSTMLanguageModel`: 2 layers, tied weights,
truncated BPTT with the state carried, Adam) and a GPT (`nn.GPT`: 4 layers x 4 heads, tied
head, a 128-character causal context, AdamW with decay on matrices, warm-up then cosine).
Every ``eval_every`` seconds of training each is measured on the same held-out text (the
last 10%), in nats per character; the time spent measuring is not counted.

The comparison is one machine's, at one size and one budget: the LSTM reads a stream
and carries its state, so its context is unbounded but squeezed into one vector; the GPT
looks at the last 128 characters directly, and computes all positions of a window at once.
The GPT's cosine is planned over ``steps`` (an estimate of the steps the budget allows);
past them its lr stays at 0.

``quick`` trains two tiny models for a few seconds each, to show the machinery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.data import Vocabulary, load_text
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.training.evaluation import evaluate_batches, reset_state
from mitbadak.training.language import language_model_data
from mitbadak.training.step import train_step

FULL: dict[str, Any] = {
    "characters": None, "seconds": 300.0, "eval_every": 30.0, "valid_batches": 8,
    "batch_size": 32,
    "lstm": {"hidden": 224, "layers": 2, "dropout": 0.1, "seq_len": 100, "lr": 2e-3},
    "gpt": {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 128, "lr": 2e-3,
            "warmup": 100, "steps": 600}}  # the cosine's length: about 300 s of steps here
QUICK: dict[str, Any] = {
    "characters": 40_000, "seconds": 2.0, "eval_every": 0.5, "valid_batches": 2,
    "batch_size": 8,
    "lstm": {"hidden": 32, "layers": 2, "dropout": 0.0, "seq_len": 32, "lr": 1e-2},
    "gpt": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 32, "lr": 1e-2,
            "warmup": 5, "steps": 100}}


def race(model: nn.Module, optimizer: optim.Optimizer, step_schedule: Callable[[], None],
         data: Any, setting: dict[str, Any]) -> dict[str, list[float]]:
    """Train for ``setting["seconds"]`` of training time; measure the validation loss at the
    start and every ``eval_every`` seconds. Returns the times, losses and step counts."""
    valid = data.valid[:setting["valid_batches"]]
    curve: dict[str, list[float]] = {"seconds": [0.0], "valid_loss": [
        evaluate_batches(model, valid)[0]], "steps": [0]}
    trained, steps, next_eval = 0.0, 0, setting["eval_every"]
    reset_state(model)
    while trained < setting["seconds"]:
        for x, t in data.train:
            start = time.perf_counter()
            train_step(model, optimizer, x, t, F.cross_entropy, max_norm=1.0)
            step_schedule()
            trained += time.perf_counter() - start
            steps += 1
            if trained >= next_eval or trained >= setting["seconds"]:
                curve["seconds"].append(trained)
                curve["valid_loss"].append(evaluate_batches(model, valid)[0])
                curve["steps"].append(steps)
                next_eval += setting["eval_every"]
            if trained >= setting["seconds"]:
                break
        reset_state(model)  # a new pass over the text: a new stream
    return curve


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Race the LSTM and the GPT; return both validation curves and their sizes."""
    setting = QUICK if quick else FULL
    text = load_text("tinyshakespeare")
    vocabulary = Vocabulary.from_text(text)
    text = text[:setting["characters"]]
    v, result = len(vocabulary), {}
    lstm_s, gpt_s = setting["lstm"], setting["gpt"]

    mb.manual_seed(seed)
    lstm = nn.LSTMLanguageModel(v, lstm_s["hidden"], lstm_s["hidden"], lstm_s["layers"],
                                lstm_s["dropout"], tie_weights=True)
    adam = optim.Adam(optim.param_groups(lstm.parameters(), 0.0), lr=lstm_s["lr"])
    data = language_model_data(text, setting["batch_size"], lstm_s["seq_len"], vocabulary)
    result["lstm"] = {**race(lstm, adam, lambda: None, data, setting),
                      "parameters": sum(p.size for p in lstm.parameters())}

    mb.manual_seed(seed)
    gpt = nn.GPT(v, gpt_s["block_size"], gpt_s["n_layer"], gpt_s["n_head"], gpt_s["n_embd"])
    adamw = optim.AdamW(optim.param_groups(gpt.parameters(), 0.1), lr=gpt_s["lr"])
    schedule = optim.lr_scheduler.WarmupCosineLR(adamw, gpt_s["warmup"], gpt_s["steps"])
    data = language_model_data(text, setting["batch_size"], gpt_s["block_size"], vocabulary)
    result["gpt"] = {**race(gpt, adamw, schedule.step, data, setting),
                     "parameters": gpt.num_parameters()}
    return {"dataset": "tinyshakespeare (characters)", "seed": seed, **setting, **result}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, ax = subplots(figsize=(7, 4.5))
    for key, name, color in (("lstm", "LSTM", "#1f5fa8"), ("gpt", "GPT", "#d62728")):
        curve = result[key]
        ax.plot(curve["seconds"], curve["valid_loss"], marker="o", color=color,
                label=f"{name} ({curve['parameters']:,} parameters, {curve['steps'][-1]} steps)")
    ax.set(title=f"validation loss against training time on {result['dataset']}",
           xlabel="training time (s, this machine)", ylabel="validation loss (nats per char)")
    ax.grid(alpha=0.3)
    ax.legend()
    return [save_figure(fig, out / "transformer-vs-lstm.png")]


def summary(result: dict[str, Any]) -> str:
    lines = [f"{result['seconds']:g} s of training each on {result['dataset']}",
             "  model  parameters   steps  validation loss (start -> end, best)"]
    for key, name in (("lstm", "LSTM"), ("gpt", "GPT")):
        curve = result[key]
        lines.append(f"  {name:5} {curve['parameters']:11,} {curve['steps'][-1]:7}  "
                     f"{curve['valid_loss'][0]:.3f} -> {curve['valid_loss'][-1]:.3f}, "
                     f"best {min(curve['valid_loss']):.3f}")
    return "\n".join(lines)
