"""Batches for language modelling: `LanguageModelLoader`, the sequel's truncated-BPTT streams,
and `RandomWindows`, nanoGPT's random blocks.

`LanguageModelLoader` (the book's ``RnnlmTrainer.get_batch``): the corpus ``c`` of ``N`` ids
gives inputs ``xs = c[:-1]`` and targets ``ts = c[1:]`` (the next id), ``L = N - 1`` pairs.
``batch_size`` B parallel streams start at evenly spaced offsets ``b * (L // B)``; batch ``k``
holds, for every stream, the next ``seq_len`` T positions::

    x[b, j] = xs[(b * (L // B) + time_idx + j) % L]        t[b, j] = ts[...the same...]

with ``time_idx = k * T``. Row ``b`` of one batch continues row ``b`` of the one before, so an
RNN carries its hidden state from batch to batch (``h = h.detach()`` cuts the graph there:
truncated backpropagation through time). An epoch is ``L // (B * T)`` batches, and, as in the
book, ``time_idx`` runs on across epochs (wrapping around the corpus) instead of restarting.

`state_dict()` is three ints (``time_idx``, ``epoch``, ``batch``); `load_state_dict` on a loader
over the same corpus continues with exactly the batch the saved one would have given next.

`RandomWindows` (nanoGPT's ``get_batch``): each batch is ``batch_size`` windows of
``block_size`` ids at random starts ``i`` drawn from its own seeded generator, ``x = c[i:i+T]``,
``t = c[i+1:i+T+1]``; a Transformer sees no state across batches, so any window will do. Its
state is the generator's (JSON-friendly ints).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np

from mitbadak.autograd.random import default_generator


def _corpus(corpus: np.ndarray, least: int, what: str) -> np.ndarray:
    corpus = np.asarray(corpus)
    if corpus.ndim != 1 or corpus.dtype.kind not in "iu":
        raise ValueError(f"the corpus must be one sequence of integer ids, got shape "
                         f"{corpus.shape} and dtype {corpus.dtype}")
    if len(corpus) < least:
        raise ValueError(f"the corpus has {len(corpus)} ids, too few for {what} "
                         f"(at least {least})")
    return corpus


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


class LanguageModelLoader:
    """``(x, t)`` batches of shape (batch_size, seq_len), int64, from `batch_size` parallel
    streams over ``corpus``; ``t`` is ``x`` shifted by one id. Each ``iter()`` is one epoch
    (or the rest of one, after a ``break`` or a `load_state_dict` mid-epoch)."""

    def __init__(self, corpus: np.ndarray, batch_size: int, seq_len: int) -> None:
        self.batch_size = _positive("batch_size", batch_size)
        self.seq_len = _positive("seq_len", seq_len)
        least = self.batch_size * self.seq_len + 1
        corpus = _corpus(corpus, least, f"batch_size {batch_size} x seq_len {seq_len}")
        self.xs = corpus[:-1].astype(np.int64, copy=False)
        self.ts = corpus[1:].astype(np.int64, copy=False)
        jump = len(self.xs) // self.batch_size
        self.offsets = np.arange(self.batch_size, dtype=np.int64)[:, None] * jump
        self.steps = np.arange(self.seq_len, dtype=np.int64)[None, :]
        self.time_idx = 0  # the position of the next batch in every stream
        self.epoch = 0  # completed epochs
        self.batch = 0  # batches handed out in the epoch in progress

    def __len__(self) -> int:
        return len(self.xs) // (self.batch_size * self.seq_len)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while self.batch < len(self):
            positions = (self.offsets + self.time_idx + self.steps) % len(self.xs)
            self.time_idx += self.seq_len
            self.batch += 1
            yield self.xs[positions], self.ts[positions]
        self.epoch += 1
        self.batch = 0

    def state_dict(self) -> dict[str, int]:
        """Where the loader stands: ``{"time_idx", "epoch", "batch"}``."""
        return {"time_idx": self.time_idx, "epoch": self.epoch, "batch": self.batch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Restore a `state_dict()`: the next batch is the one the saved loader gave next."""
        missing = {"time_idx", "epoch", "batch"} - set(state)
        if missing:
            raise KeyError(f"LanguageModelLoader state is missing keys: {sorted(missing)}")
        values = {key: state[key] for key in ("time_idx", "epoch", "batch")}
        if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0
                   for v in values.values()):
            raise ValueError(f"LanguageModelLoader state must hold non-negative ints, "
                             f"got {values}")
        if values["batch"] > len(self):
            raise ValueError(f"LanguageModelLoader state has batch {values['batch']}, but this "
                             f"loader has {len(self)} batches per epoch")
        self.time_idx, self.epoch, self.batch = (int(values[k]) for k in values)


class RandomWindows:
    """``(x, t)`` batches of ``batch_size`` random windows of ``block_size`` ids, int64;
    ``t`` is ``x`` shifted by one. `get_batch()` draws one; iterating draws without end."""

    def __init__(self, corpus: np.ndarray, batch_size: int, block_size: int,
                 seed: int | None = None) -> None:
        self.batch_size = _positive("batch_size", batch_size)
        self.block_size = _positive("block_size", block_size)
        self.corpus = _corpus(corpus, self.block_size + 1, f"block_size {block_size}")
        if seed is None:
            seed = int(default_generator().integers(2**63))
        self._rng = np.random.default_rng(seed)
        self.steps = np.arange(self.block_size, dtype=np.int64)[None, :]

    def get_batch(self) -> tuple[np.ndarray, np.ndarray]:
        starts = self._rng.integers(len(self.corpus) - self.block_size, size=self.batch_size)
        positions = starts[:, None] + self.steps
        return (self.corpus[positions].astype(np.int64, copy=False),
                self.corpus[positions + 1].astype(np.int64, copy=False))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:
            yield self.get_batch()

    def state_dict(self) -> dict[str, Any]:
        """The generator's state (JSON-friendly); restoring it repeats the next batches."""
        return {"rng": copy.deepcopy(self._rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "rng" not in state:
            raise KeyError("RandomWindows state is missing keys: ['rng']")
        self._rng.bit_generator.state = copy.deepcopy(state["rng"])
