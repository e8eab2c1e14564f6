"""Attention (sequel, chapter 8): dates to ISO with an attention seq2seq, and where it looks.

The task (``mb.data.dates``, our seeded draw of the book's ``date.txt`` format): read a date
written by a human in one of many ways (``"september 27, 1994"``, ``"2/10/93"``, ``"TUESDAY,
JANUARY 23, 2018"``) and write it as ``"1994-09-27"``; 45,000 questions train, 5,000 test.
The model is the book's `AttentionSeq2seq`: at every step the decoder scores all of the
encoder's hidden states against its own (a dot product), takes their softmax-weighted sum
(the context) and reads it beside its hidden state. The book's settings (``train.py`` of
chapter 8): questions reversed, embedding 16, hidden 256, batch 128, 10 epochs, Adam (lr
0.001), gradients clipped to norm 5.

The book's result (figure 8-26, approximately, read from the figure): the accuracy is near
1.0 from the second epoch on. The heat-maps (the book's figure 8-29) show the attention
weights of a few test questions: each row an output character, each column an input
character (in reading order, the reversal undone); the year's digits look at the year, the
month's at the month's name or number.

``quick`` trains hidden 32 for 2 epochs on 2,000 questions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak.data import dates
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.experiments._seq2seq import decode, examples, fit_seq2seq
from mitbadak.nn.seq2seq import AttentionSeq2seq, reverse_input
from mitbadak.viz.i18n import DATA

FULL = {"questions": 50000, "wordvec": 16, "hidden": 256, "batch": 128, "epochs": 10}
QUICK = {"questions": 2000, "wordvec": 16, "hidden": 32, "batch": 128, "epochs": 2}
#: The book's test accuracy (figure 8-26, approximately, read from the figure; its date.txt).
BOOK_ACCURACY = {"epoch 2 on": 1.0}
MAPS = 3  # heat-maps drawn
EXAMPLES = 8


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Train the attention seq2seq on dates; accuracy per epoch and a few attention maps."""
    settings = QUICK if quick else FULL
    task = dates(n=settings["questions"], seed=seed)
    mb.manual_seed(seed)
    model = AttentionSeq2seq(len(task.vocab), settings["wordvec"], settings["hidden"])
    history = fit_seq2seq(model, task, epochs=settings["epochs"],
                          batch_size=settings["batch"], reverse=True, seed=seed)
    return {"dataset": f"dates (mb.data.dates, seed {seed}: {len(task.x_train):,} train, "
                       f"{len(task.x_test):,} test questions)",
            "settings": settings, "reversed_input": True,
            "optimizer": "Adam, lr 0.001, gradients clipped to norm 5", **history,
            "examples": examples(model, task, True, EXAMPLES),
            "attention_maps": attention_maps(model, task, MAPS),
            "book_accuracy": BOOK_ACCURACY,
            "book_note": "the book's test accuracy on its date.txt, approximately, read from "
                         "its figure 8-26"}


def attention_maps(model: AttentionSeq2seq, task: Any, count: int) -> list[dict[str, Any]]:
    """For the first ``count`` test questions: the question's characters, the generated
    answer's, and the weights (answer length, question length) each answer character gave
    each question character (columns in reading order: the reversal undone)."""
    x = reverse_input(task.x_test[:count])
    start_id = task.vocab["_"]
    guesses = decode(model, x, start_id, task.t_test.shape[1] - 1)
    ys = np.concatenate([np.full((count, 1), start_id), guesses[:, :-1]], axis=1)
    weights = model.attention_weights(x, ys)[:, :, ::-1]  # undo the reversal
    return [{"question": list(task.vocab.decode(q)), "answer": list(task.vocab.decode(g)),
             "weights": w.round(4)} for q, g, w in zip(task.x_test[:count], guesses, weights)]


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    return [_draw_accuracy(result, out / "attention.png"),
            _draw_maps(result["attention_maps"], out / "attention-heatmaps.png")]


def _draw_accuracy(result: dict[str, Any], path: Path) -> Path:
    fig, ax = subplots(figsize=(7, 4.5))
    accuracy = result["test_accuracy"]
    ax.plot(np.arange(1, len(accuracy) + 1), accuracy, marker="o", label="AttentionSeq2seq")
    ax.axhline(result["book_accuracy"]["epoch 2 on"], color="gray", linestyle=":",
               label="the book's, from epoch 2 on (approx.)")
    settings = result["settings"]
    ax.set(title=f"Dates to ISO: test accuracy (hidden {settings['hidden']}, reversed input)",
           xlabel="epoch", ylabel="test accuracy (whole answer right)", ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return save_figure(fig, path)


def _draw_maps(maps: list[dict[str, Any]], path: Path) -> Path:
    fig, axes = subplots(len(maps), 1, figsize=(9, 3.2 * len(maps)), squeeze=False)
    for ax, item in zip(axes[:, 0], maps):
        weights = np.asarray(item["weights"])
        used = max(i for i, c in enumerate(item["question"]) if c != " ") + 1  # drop padding
        image = ax.imshow(weights[:, :used], cmap="gray", vmin=0, aspect="auto")
        ax.set_xticks(range(used), item["question"][:used])
        ax.set_yticks(range(len(item["answer"])), item["answer"])
        ax.xaxis.set_gid(DATA)  # characters of the question and answer: never translated
        ax.yaxis.set_gid(DATA)
        ax.set(xlabel="question (input)", ylabel="answer (output)")
        fig.colorbar(image, ax=ax, label="attention weight")
    fig.suptitle("Which question characters each answer character looked at")
    return save_figure(fig, path)


def summary(result: dict[str, Any]) -> str:
    curve = " ".join(f"{a:.3f}" for a in result["test_accuracy"])
    lines = [f"Attention seq2seq on {result['dataset']}:",
             f"  test accuracy per epoch: {curve}  [book: about 1.0 from epoch 2 on]"]
    for e in result["examples"][:4]:
        mark = "" if e["right"] else f"  (not {e['answer']})"
        lines.append(f"  {e['question']:<29} -> {e['guess']}{mark}")
    return "\n".join(lines)
