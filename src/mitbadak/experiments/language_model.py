"""Language model (sequel, chapter 6): a 2-layer LSTM, dropout, tied weights, on Shakespeare.

The sequel's "better RNNLM" (``BetterRnnlm``): Embedding -> two LSTM layers with dropout
between them (and after the embedding, and before the output) -> an output layer that reuses
the embedding matrix (weight tying), trained by truncated BPTT: ``batch_size`` parallel
streams over the text, ``seq_len`` steps per batch, the LSTM state carried from batch to
batch and detached (`nn.LSTMLanguageModel`). Here it reads the characters of
tinyshakespeare (65 distinct ones), not the words of the Penn Treebank: the last 10% of the
text is the validation stream; Adam's learning rate follows a cosine from 0.002 down to 0 at
the last epoch. After each epoch the train and validation perplexity
(exp of the mean cross-entropy per character) are measured in eval mode; at the end, text is
sampled from softmax(logits / T) at a few temperatures T.

The book's better RNNLM reaches a test perplexity of about 75.8 on PTB, where each prediction
chooses among 10,000 words. A character model chooses among 65 characters: its perplexity
(about 4 to 6 per character) is not comparable with the book's per-word figure.

``quick`` trains a tiny model on the first 30,000 characters for 2 epochs (seconds), to show
the machinery; its text is not yet Shakespeare.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import nn, optim
from mitbadak.data import Vocabulary, load_text
from mitbadak.experiments._plots import plot_losses
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.training.language import language_model_data, perplexity
from mitbadak.training.trainer import Trainer

FULL: dict[str, Any] = {
    "characters": None, "hidden": 256, "layers": 2, "dropout": 0.2, "seq_len": 100,
    "batch_size": 32, "lr": 0.002, "max_norm": 1.0, "epochs": 3}
QUICK: dict[str, Any] = {
    "characters": 30_000, "hidden": 48, "layers": 2, "dropout": 0.1, "seq_len": 32,
    "batch_size": 16, "lr": 0.03, "max_norm": 1.0, "epochs": 2}
PROMPT = "ROMEO:"
TEMPERATURES = (0.5, 0.8, 1.0)
SAMPLE_LENGTH, QUICK_SAMPLE_LENGTH = 300, 80
BOOK = {"dataset": "PTB (words, vocabulary 10,000)", "test_perplexity": 75.76,
        "note": "per word; not comparable with a perplexity per character"}


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Train the model on tinyshakespeare; return its perplexities per epoch and samples."""
    setting = QUICK if quick else FULL
    text = load_text("tinyshakespeare")
    vocabulary = Vocabulary.from_text(text)  # all 65 characters, even for a prefix
    data = language_model_data(text[:setting["characters"]], setting["batch_size"],
                               setting["seq_len"], vocabulary)
    mb.manual_seed(seed)
    model = nn.LSTMLanguageModel(len(vocabulary), setting["hidden"], setting["hidden"],
                                 setting["layers"], setting["dropout"], tie_weights=True)
    optimizer = optim.Adam(optim.param_groups(model.parameters(), 0.0), lr=setting["lr"])
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, setting["epochs"])
    trainer = Trainer(model, optimizer, data.train, data.valid, scheduler=schedule, quiet=True,
                      train_eval_data=data.train_eval, metric="perplexity",
                      max_norm=setting["max_norm"])
    start = time.perf_counter()
    history = trainer.fit(setting["epochs"])
    seconds = time.perf_counter() - start
    length = QUICK_SAMPLE_LENGTH if quick else SAMPLE_LENGTH
    prompt = vocabulary.encode(PROMPT)
    samples = {}
    for temperature in TEMPERATURES:
        ids = model.generate(prompt, length, temperature, generator=np.random.default_rng(seed))
        samples[f"{temperature:g}"] = vocabulary.decode(ids)
    return {
        "dataset": "tinyshakespeare (characters)", "seed": seed, **setting,
        "vocabulary": len(vocabulary), "train_characters": len(data.train.xs) + 1,
        "valid_characters": sum(t.size for _, t in data.valid),
        "parameters": sum(p.data.size for p in model.parameters()),
        "epoch": history.epoch, "loss": history.loss,
        "train_perplexity": [perplexity(v) for v in history.train_loss],
        "valid_perplexity": [perplexity(v) for v in history.test_loss],
        "valid_loss": history.test_loss, "seconds": seconds,
        "prompt": PROMPT, "samples": samples, "book": BOOK,
    }


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, (loss_axes, ppl_axes) = subplots(1, 2, figsize=(11, 4))
    plot_losses(loss_axes, {"mini-batch loss": result["loss"]},
                "training loss (nats per character)")
    ppl_axes.plot(result["epoch"], result["train_perplexity"], marker="o", color="#1f5fa8",
                  label="train")
    ppl_axes.plot(result["epoch"], result["valid_perplexity"], marker="o", color="#d62728",
                  label="validation")
    ppl_axes.set(title="perplexity per character after each epoch", xlabel="epoch",
                 ylabel="perplexity", xticks=result["epoch"])
    ppl_axes.grid(alpha=0.3)
    ppl_axes.legend()
    fig.suptitle(f"LSTM language model {result['layers']}x{result['hidden']}, dropout "
                 f"{result['dropout']:g}, tied weights, on {result['dataset']}")
    return [save_figure(fig, out / "language-model.png")]


def summary(result: dict[str, Any]) -> str:
    best = min(result["valid_perplexity"])
    lines = [f"{result['layers']}-layer LSTM {result['hidden']} ({result['parameters']:,} "
             f"parameters) on {result['dataset']}, {len(result['epoch'])} epochs in "
             f"{result['seconds']:.0f} s",
             "  epoch  train ppl  validation ppl"]
    for epoch, train, valid in zip(result["epoch"], result["train_perplexity"],
                                   result["valid_perplexity"]):
        lines.append(f"  {epoch:>5}  {train:9.3f}  {valid:14.3f}")
    lines.append(f"  best validation perplexity {best:.3f} per character (the book's "
                 f"{result['book']['test_perplexity']} is per word on PTB: not comparable)")
    temperature = "0.8" if "0.8" in result["samples"] else next(iter(result["samples"]))
    lines.append(f"  sample at temperature {temperature}:")
    lines += ["    " + line for line in result["samples"][temperature].splitlines()[:8]]
    return "\n".join(lines)
