"""Word vectors (the sequel's chapters 2-4): counted (PPMI + SVD) and learnt (CBOW), on Shakespeare.

The corpus is the shipped ``tinyshakespeare``, split into lower-cased words with punctuation
dropped (203,863 words); the `VOCAB` most frequent words keep their own id and the rest
become ``<unk>``, as the Penn Treebank does for its 10,000.

* **Count-based** (chapter 2): the co-occurrence matrix within `COUNT_WINDOW` words, PPMI, and
  a truncated SVD to `DIM` dimensions (`mitbadak.nn.word_vectors`).
* **CBOW with negative sampling** (chapter 4): the book's settings (hidden size 100, window 5,
  batch 100, 5 negatives drawn from count^0.75, Adam at lr 0.001), `EPOCHS` epochs over
  shuffled (contexts, target) pairs, each step ``mb.training.train_step``.

Both give, for each of `QUERIES`, its five nearest words by cosine similarity, and a 2-D
picture of the `PROJECTED` most common words: their unit vectors, centred, projected on the
two leading singular directions (an SVD, as the book's chapter 2 draws its toy corpus).

The book reports its neighbours for PTB (e.g. "you" -> "we", "i", ...), a corpus mitbadak
does not ship and cannot download; no PTB number is put beside ours, since Shakespeare's
vocabulary and word counts are another corpus entirely (the JSON says so under ``"book"``).

The full run took about 7 minutes on this project's 2-core machine while shared (count-based
46 s, CBOW 383 s for 5 epochs, loss 2.75 -> 2.25, still falling). ``quick`` uses the first
30,000 words, a vocabulary of 1,000, 30 dimensions and one epoch (seconds).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import nn
from mitbadak.data import DataLoader, Vocabulary, load_text, words
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.nn.word2vec import create_contexts_target
from mitbadak.nn.word_vectors import count_based_vectors, most_similar
from mitbadak.training import train_step
from mitbadak.viz.i18n import DATA

DATASET = "tinyshakespeare (words, lower-cased, punctuation dropped)"
BOOK = ("The book's word2vec numbers are for the Penn Treebank (929k words, vocabulary "
        "10,000), which is not shipped here and cannot be downloaded; these are for "
        "tinyshakespeare, so no book number stands beside them.")
UNK = "<unk>"
QUERIES = ("you", "king", "love", "good", "death", "father")
VOCAB, QUICK_VOCAB = 5000, 1000
QUICK_WORDS = 30_000
COUNT_WINDOW = 2
DIM, QUICK_DIM = 100, 30
WINDOW, BATCH, SAMPLE_SIZE, LR = 5, 100, 5, 1e-3  # the book's train.py for CBOW
EPOCHS, QUICK_EPOCHS = 5, 1
PROJECTED, QUICK_PROJECTED = 60, 30
LOSS_EVERY = 100  # iterations per point of the loss curve


def corpus(quick: bool) -> tuple[np.ndarray, Vocabulary, int]:
    """Word ids, the vocabulary (``<unk>`` first, then the kept words sorted), and the
    number of distinct words before the cut."""
    tokens = [w for w in words(load_text("tinyshakespeare")) if w[0].isalnum()]
    if quick:
        tokens = tokens[:QUICK_WORDS]
    counts = Counter(tokens)
    kept = {w for w, _ in counts.most_common((QUICK_VOCAB if quick else VOCAB) - 1)}
    vocab = Vocabulary([UNK, *sorted(kept)], level="word", specials=[UNK])
    return vocab.encode([w if w in kept else UNK for w in tokens]), vocab, len(counts)


def neighbours(vocab: Vocabulary, vectors: np.ndarray) -> dict[str, list[list[Any]]]:
    return {q: [[w, round(s, 4)] for w, s in most_similar(q, vocab, vectors, top=5)]
            for q in QUERIES if q in vocab}


def projection(ids: np.ndarray, vectors: np.ndarray) -> list[list[float]]:
    """2-D coordinates of the words ``ids``: centred unit vectors on their two leading
    singular directions."""
    unit = vectors[ids] / (np.linalg.norm(vectors[ids], axis=1, keepdims=True) + 1e-8)
    unit = unit - unit.mean(axis=0)
    U, s, _ = np.linalg.svd(unit.astype(np.float64), full_matrices=False)
    return (U[:, :2] * s[:2]).round(4).tolist()


def train_cbow(ids: np.ndarray, vocab_size: int, dim: int, epochs: int,
               seed: int) -> tuple[nn.CBOW, list[float], list[float]]:
    """CBOW trained on ``ids``; its mean loss per epoch and per `LOSS_EVERY` iterations."""
    contexts, target = create_contexts_target(ids, WINDOW)
    model = nn.CBOW(vocab_size, dim, ids, sample_size=SAMPLE_SIZE, seed=seed)
    optimizer = mb.optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(contexts, target, BATCH, drop_last=True, seed=seed)
    per_epoch, curve, window = [], [], []
    for _ in range(epochs):
        losses = [train_step(model, optimizer, x, t, model.loss)[0] for x, t in loader]
        per_epoch.append(float(np.mean(losses)))
        for loss in losses:
            window.append(loss)
            if len(window) == LOSS_EVERY:
                curve.append(float(np.mean(window)))
                window = []
    return model, per_epoch, curve


def run(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Count-based and CBOW vectors of the corpus, their neighbours and projections."""
    ids, vocab, distinct = corpus(quick)
    dim = QUICK_DIM if quick else DIM
    frequent = np.argsort(-np.bincount(ids, minlength=len(vocab)), kind="stable")
    shown = [int(i) for i in frequent if i != vocab[UNK]][:QUICK_PROJECTED if quick
                                                             else PROJECTED]
    start = time.perf_counter()
    counted = count_based_vectors(ids, len(vocab), COUNT_WINDOW, dim, seed=seed)
    count_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model, per_epoch, curve = train_cbow(ids, len(vocab), dim,
                                         QUICK_EPOCHS if quick else EPOCHS, seed)
    cbow_seconds = time.perf_counter() - start
    return {
        "dataset": DATASET, "book": BOOK, "seed": seed,
        "words": len(ids), "distinct_words": distinct, "vocab_size": len(vocab),
        "unk_share": round(float(np.mean(ids == vocab[UNK])), 4),
        "projected_words": [vocab.id_to_token[i] for i in shown],
        "count_based": {"window": COUNT_WINDOW, "dim": dim,
                        "seconds": round(count_seconds, 2),
                        "neighbours": neighbours(vocab, counted),
                        "projection": projection(np.array(shown), counted)},
        "cbow": {"window": WINDOW, "hidden": dim, "batch": BATCH, "negatives": SAMPLE_SIZE,
                 "lr": LR, "epochs": len(per_epoch), "seconds": round(cbow_seconds, 2),
                 "loss_per_epoch": per_epoch, "loss_every": LOSS_EVERY, "loss_curve": curve,
                 "neighbours": neighbours(vocab, model.word_vecs),
                 "projection": projection(np.array(shown), model.word_vecs)},
    }


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    fig, axes = subplots(1, 2, figsize=(14, 6.5))
    for ax, key, title in ((axes[0], "count_based", "count-based (PPMI + SVD)"),
                           (axes[1], "cbow", "CBOW with negative sampling")):
        xy = np.array(result[key]["projection"])
        ax.scatter(xy[:, 0], xy[:, 1], s=8, color="#1f5fa8")
        for word, (x, y) in zip(result["projected_words"], xy):
            ax.annotate(word, (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points",
                        gid=DATA)  # a word of the corpus: the same in every language
        ax.set_title(f"{title}: the {len(xy)} most common words")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"Word vectors of {result['dataset']}, {result['words']:,} words, "
                 f"vocabulary {result['vocab_size']:,}: 2-D projection (SVD)")
    loss_fig, ax = subplots(figsize=(7, 4))
    cbow = result["cbow"]
    curve = cbow["loss_curve"]
    ax.plot(np.arange(1, len(curve) + 1) * cbow["loss_every"], curve, color="#1f5fa8")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"loss (mean of {cbow['loss_every']} batches)")
    ax.set_title(f"CBOW, negative sampling ({cbow['negatives']} negatives), "
                 f"batch {cbow['batch']}, window {cbow['window']}")
    return [save_figure(fig, out / "word2vec.png"),
            save_figure(loss_fig, out / "word2vec-loss.png")]


def summary(result: dict[str, Any]) -> str:
    lines = [f"{result['dataset']}: {result['words']:,} words, vocabulary "
             f"{result['vocab_size']:,} of {result['distinct_words']:,} "
             f"({result['unk_share']:.1%} <unk>)", f"note: {result['book']}",
             "CBOW loss per epoch: "
             + " ".join(f"{v:.3f}" for v in result["cbow"]["loss_per_epoch"]),
             "nearest words (cosine): count-based | CBOW"]
    for query, counted in result["count_based"]["neighbours"].items():
        learnt = result["cbow"]["neighbours"][query]
        lines.append(f"  {query:<7} {', '.join(w for w, _ in counted):<40} | "
                     + ", ".join(w for w, _ in learnt))
    return "\n".join(lines)
