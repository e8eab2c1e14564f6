"""How the seq2seq lessons train and score, as the sequel's chapter 7 and 8 scripts do.

Training is the book's ``Trainer.fit`` for seq2seq: Adam (lr 0.001), the loss `Seq2seq.loss`
(teacher forcing, cross-entropy averaged over every answer character), gradients clipped to
a global norm of 5 (``max_grad``, `mitbadak.optim.clip_grad_norm_`), one shuffled pass over
the training set per epoch (the book draws a fresh permutation per epoch too).

Scoring is the book's ``eval_seq2seq``: greedy decoding of the whole answer (its length
known), and an answer counts only if every character is right (``"91  "`` for ``16+75``;
a single wrong digit or space is a miss). The test accuracy is measured after every epoch.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from mitbadak import optim
from mitbadak.data import DataLoader
from mitbadak.nn.seq2seq import Seq2seq, reverse_input

LR = 1e-3
MAX_GRAD = 5.0
EVAL_BATCH = 1000


def answer_accuracy(model: Seq2seq, x: np.ndarray, t: np.ndarray, start_id: int) -> float:
    """The share of questions ``x`` whose greedily decoded answer equals ``t[:, 1:]`` in
    every character (``t[:, 0]`` is the start symbol)."""
    guesses = decode(model, x, start_id, t.shape[1] - 1)
    return float(np.mean(np.all(guesses == t[:, 1:], axis=1)))


def decode(model: Seq2seq, x: np.ndarray, start_id: int, length: int) -> np.ndarray:
    """``model.generate`` over ``x`` in batches of `EVAL_BATCH`."""
    return np.concatenate([model.generate(x[i:i + EVAL_BATCH], start_id, length)
                           for i in range(0, len(x), EVAL_BATCH)])


def fit_seq2seq(model: Seq2seq, task: Any, *, epochs: int, batch_size: int, reverse: bool,
                seed: int = 0) -> dict[str, Any]:
    """Train ``model`` on ``task`` (an `mitbadak.data` toy task: ``x_train``, ``t_train``,
    ``x_test``, ``t_test``, ``vocab``), questions reversed if ``reverse``. Returns the loss
    of every batch, the test accuracy after every epoch and the seconds per epoch."""
    x_train, x_test = task.x_train, task.x_test
    if reverse:
        x_train, x_test = reverse_input(x_train), reverse_input(x_test)
    start_id = task.vocab["_"]
    optimizer = optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(x_train, task.t_train, batch_size=batch_size, shuffle=True, seed=seed)
    losses: list[float] = []
    accuracy, seconds = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        for x, t in loader:
            loss = model.loss(x, t)
            optimizer.zero_grad()
            loss.backward()
            optim.clip_grad_norm_(model.parameters(), MAX_GRAD)
            optimizer.step()
            losses.append(loss.item())
        seconds.append(time.perf_counter() - start)
        accuracy.append(answer_accuracy(model, x_test, task.t_test, start_id))
    return {"loss": losses, "test_accuracy": accuracy, "seconds_per_epoch": seconds,
            "final_test_accuracy": accuracy[-1]}


def examples(model: Seq2seq, task: Any, reverse: bool, count: int) -> list[dict[str, Any]]:
    """The first ``count`` test questions as text, with the right answer and the model's."""
    x, t = task.x_test[:count], task.t_test[:count]
    guesses = decode(model, reverse_input(x) if reverse else x, task.vocab["_"],
                     t.shape[1] - 1)
    return [{"question": task.vocab.decode(q).rstrip(), "answer": task.vocab.decode(a[1:]),
             "guess": task.vocab.decode(g), "right": bool(np.all(g == a[1:]))}
            for q, a, g in zip(x, t, guesses)]
