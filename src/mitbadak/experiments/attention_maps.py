"""Attention maps: what each head of a small trained GPT looks at, over a line of Shakespeare.

A small `nn.GPT` (2 layers x 4 heads, 64 wide, block 64) learns tinyshakespeare's characters
for a few hundred AdamW steps (warm-up then cosine). Then one line is fed through it and every
head's weights softmax(q k^T / sqrt(d) + causal mask) are drawn: row i is the distribution
over the characters 0..i that position i reads from (nothing to the right: the causal mask).

What to look for: heads that put their weight on the previous character or two (local
"n-gram" heads), heads that spread it over the line (the word and the line so far), and in
layer 2, heads whose pattern depends on the characters (spaces, capitals, the colon after a
name). The summary gives each head's mean look-back distance sum_j P_ij (i - j), and the
share of its weight on the character just before.

``quick`` trains a tiny model (1 layer, 2 heads, 40 steps on 20,000 characters) in seconds:
its maps show the machinery, not yet the patterns.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.data import Vocabulary, load_text
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.training.language import language_model_data
from mitbadak.training.step import train_step
from mitbadak.viz.i18n import DATA

FULL: dict[str, Any] = {"characters": None, "n_layer": 2, "n_head": 4, "n_embd": 64,
                        "block_size": 64, "batch_size": 32, "steps": 600, "warmup": 50,
                        "lr": 3e-3}
QUICK: dict[str, Any] = {"characters": 20_000, "n_layer": 1, "n_head": 2, "n_embd": 16,
                         "block_size": 32, "batch_size": 8, "steps": 40, "warmup": 5,
                         "lr": 1e-2}
LINE = "ROMEO:\nBut, soft! what light through yonder window breaks?"


def train_gpt(text: str, vocabulary: Vocabulary, setting: dict[str, Any],
              seed: int) -> tuple[nn.GPT, list[float], float]:
    """A GPT trained for ``setting["steps"]`` steps on ``text``: (model, losses, seconds)."""
    data = language_model_data(text, setting["batch_size"], setting["block_size"], vocabulary)
    mb.manual_seed(seed)
    model = nn.GPT(len(vocabulary), setting["block_size"], setting["n_layer"],
                   setting["n_head"], setting["n_embd"])
    opt = optim.AdamW(optim.param_groups(model.parameters(), 0.1), lr=setting["lr"])
    schedule = optim.lr_scheduler.WarmupCosineLR(opt, setting["warmup"], setting["steps"])
    losses: list[float] = []
    start = time.perf_counter()
    while len(losses) < setting["steps"]:
        for x, t in data.train:
            loss, _ = train_step(model, opt, x, t, F.cross_entropy, max_norm=1.0)
            schedule.step()
            losses.append(loss)
            if len(losses) == setting["steps"]:
                break
    return model, losses, time.perf_counter() - start


def head_statistics(maps: np.ndarray) -> list[list[dict[str, float]]]:
    """Per layer and head: the mean look-back distance sum_j P_ij (i - j) over the positions
    i >= 1, and the mean weight on j = i - 1."""
    t = maps.shape[-1]
    distance = np.arange(t)[:, None] - np.arange(t)[None, :]
    back = (maps * distance).sum(-1)[..., 1:].mean(-1)          # (layers, heads)
    previous = np.diagonal(maps, offset=-1, axis1=-2, axis2=-1).mean(-1)
    return [[{"look_back": float(back[layer, head]), "previous": float(previous[layer, head])}
             for head in range(maps.shape[1])] for layer in range(maps.shape[0])]


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Train the small GPT, then return its attention maps over `LINE` and their statistics."""
    setting = QUICK if quick else FULL
    text = load_text("tinyshakespeare")
    vocabulary = Vocabulary.from_text(text)
    model, losses, seconds = train_gpt(text[:setting["characters"]], vocabulary, setting, seed)
    line = LINE[:setting["block_size"]]
    maps = model.attention_weights(vocabulary.encode(line)[None, :])[:, 0]  # (L, H, T, T)
    return {"dataset": "tinyshakespeare (characters)", "seed": seed, **setting,
            "parameters": model.num_parameters(), "loss": losses, "seconds": seconds,
            "line": line, "maps": maps, "heads": head_statistics(maps)}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    maps = np.asarray(result["maps"], dtype=float)
    layers, heads, t, _ = maps.shape
    labels = [{"\n": "⏎", " ": "␣"}.get(c, c) for c in result["line"]]
    fig, axes = subplots(layers, heads, figsize=(3.2 * heads, 3.3 * layers), squeeze=False)
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer][head]
            ax.imshow(maps[layer, head], cmap="viridis", vmin=0.0, vmax=1.0)
            stats = result["heads"][layer][head]
            ax.set_title(f"layer {layer + 1} head {head + 1}: back "
                         f"{stats['look_back']:.1f}, prev {stats['previous']:.2f}", fontsize=8)
            step = max(1, t // 32)
            ax.set_xticks(range(0, t, step), labels[::step], fontsize=5)
            ax.set_yticks(range(0, t, step), labels[::step], fontsize=5)
            ax.xaxis.set_gid(DATA)  # characters of the line: never translated
            ax.yaxis.set_gid(DATA)
            ax.set_xlabel("key (looked at)", fontsize=7)
            ax.set_ylabel("query (looking)", fontsize=7)
    fig.suptitle(f"attention of a {layers}-layer, {heads}-head GPT ({result['parameters']:,} "
                 f"parameters, {len(result['loss'])} steps) on {result['dataset']}")
    return [save_figure(fig, out / "attention-maps.png")]


def summary(result: dict[str, Any]) -> str:
    lines = [f"GPT {result['n_layer']}x{result['n_head']} heads x {result['n_embd']} "
             f"({result['parameters']:,} parameters), {len(result['loss'])} steps in "
             f"{result['seconds']:.0f} s, last training loss {result['loss'][-1]:.3f} nats/char",
             f"  line: {result['line']!r}",
             "  layer head  mean look-back  weight on the previous char"]
    for layer, heads in enumerate(result["heads"], 1):
        for head, stats in enumerate(heads, 1):
            lines.append(f"  {layer:>5} {head:>4}  {stats['look_back']:14.2f}  "
                         f"{stats['previous']:27.2f}")
    return "\n".join(lines)
