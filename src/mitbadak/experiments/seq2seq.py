"""Seq2seq (sequel, chapter 7): addition learned from text, plain, reversed and peeky+reversed.

The task (``mb.data.addition``, our seeded draw of the book's ``addition.txt`` format): read
``"16+75  "`` character by character and write ``"91  "``; 45,000 questions train, 5,000
test. Three models from the same start, as the book's ``train_seq2seq.py``: the plain
`Seq2seq`; the same with every question reversed (``"  57+61"``, `reverse_input`); and the
`PeekySeq2seq` (the encoder's summary h fed to every decoder step) on reversed questions.
The book's settings: embedding (wordvec) 16, hidden 128, batch 128, 25 epochs, Adam (lr
0.001), gradients clipped to norm 5. An answer counts only if all of its characters are right.

The book's result (figures 7-23, 7-25 and 7-28; the accuracies are approximate, read from the
figures): the plain model creeps up to about 10% after 25 epochs, reversing the input lifts
it to about 50%, and peeky + reversed passes 90% within about 10 epochs and ends near 99%.

``quick`` trains a smaller model (hidden 32) for 2 epochs on 2,000 questions: it shows the
three curves, not the book's accuracies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak.data import addition
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.experiments._seq2seq import examples, fit_seq2seq
from mitbadak.nn.seq2seq import PeekySeq2seq, Seq2seq

FULL = {"questions": 50000, "wordvec": 16, "hidden": 128, "batch": 128, "epochs": 25}
QUICK = {"questions": 2000, "wordvec": 16, "hidden": 32, "batch": 128, "epochs": 2}
#: name -> (model class, reversed input)
VARIANTS: dict[str, tuple[type[Seq2seq], bool]] = {
    "plain": (Seq2seq, False),
    "reversed": (Seq2seq, True),
    "peeky+reversed": (PeekySeq2seq, True),
}
#: The book's test accuracy after 25 epochs, approximately, read from its figures 7-23,
#: 7-25 and 7-28 (on its own addition.txt).
BOOK_ACCURACY = {"plain": 0.10, "reversed": 0.50, "peeky+reversed": 0.99}
EXAMPLES = 8


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Train the three variants on the addition task; their test accuracy per epoch."""
    settings = QUICK if quick else FULL
    task = addition(n=settings["questions"], seed=seed)
    runs = {}
    for name, (model_type, reverse) in VARIANTS.items():
        mb.manual_seed(seed)  # the same initial weights for the plain and reversed models
        model = model_type(len(task.vocab), settings["wordvec"], settings["hidden"])
        history = fit_seq2seq(model, task, epochs=settings["epochs"],
                              batch_size=settings["batch"], reverse=reverse, seed=seed)
        runs[name] = {"model": model_type.__name__, "reversed_input": reverse, **history,
                      "examples": examples(model, task, reverse, EXAMPLES)}
    return {"dataset": f"addition (mb.data.addition, seed {seed}: {len(task.x_train):,} "
                       f"train, {len(task.x_test):,} test questions)",
            "settings": settings, "optimizer": "Adam, lr 0.001, gradients clipped to norm 5",
            "runs": runs, "book_accuracy": BOOK_ACCURACY,
            "book_note": "the book's accuracies after 25 epochs on its addition.txt, "
                         "approximately, read from its figures 7-23, 7-25 and 7-28"}


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, ax = subplots(figsize=(8, 5))
    for name, run_ in result["runs"].items():
        accuracy = run_["test_accuracy"]
        line, = ax.plot(np.arange(1, len(accuracy) + 1), accuracy, marker="o", markersize=3,
                        label=f"{name} ({run_['model']})")
        book = result["book_accuracy"][name]
        ax.axhline(book, color=line.get_color(), linestyle=":", linewidth=1)
    ax.plot([], [], color="gray", linestyle=":", label="the book's, after 25 epochs (approx.)")
    settings = result["settings"]
    ax.set(title=f"Addition: test accuracy (hidden {settings['hidden']}, wordvec "
                 f"{settings['wordvec']}, batch {settings['batch']})",
           xlabel="epoch", ylabel="test accuracy (whole answer right)", ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return [save_figure(fig, out / "seq2seq.png")]


def summary(result: dict[str, Any]) -> str:
    lines = [f"Seq2seq on {result['dataset']}: test accuracy after each epoch "
             "(the book's final, approximately, in brackets):"]
    for name, run_ in result["runs"].items():
        curve = " ".join(f"{a:.3f}" for a in run_["test_accuracy"])
        lines.append(f"  {name:<15} {curve}  [{result['book_accuracy'][name]:.2f}]")
    best = max(result["runs"].values(), key=lambda r: r["final_test_accuracy"])
    lines.append("  e.g. " + ", ".join(f"{e['question']} = {e['guess'].strip()}"
                                       + ("" if e["right"] else f" (not {e['answer'].strip()})")
                                       for e in best["examples"][:4]))
    return "\n".join(lines)
