"""`DataLoader`: mini-batches over a pair of arrays, one true pass per epoch.

The book's `Trainer` draws each batch with ``np.random.choice(n, batch_size)``, i.e. with
replacement, so its "epoch" of ``n / batch_size`` iterations sees about 63% of the samples and
some twice. Here each epoch is a permutation: every sample is seen exactly once (the last batch is
smaller unless `drop_last`).

Shuffling uses the loader's own ``np.random.Generator``, never NumPy's global state: seeded by
`seed`, or, when that is None, from mitbadak's default generator, so that ``mb.manual_seed(s)``
makes a whole run reproducible.

`state_dict()` captures the generator, the epoch count and the position inside the current epoch
as JSON-friendly data; `load_state_dict()` on a fresh loader over the same arrays makes it yield
exactly the batches the saved one would have yielded next, even mid-epoch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from mitbadak.autograd.random import default_generator


class DataLoader:
    """Iterate over ``(x[idx], t[idx])`` batches of `batch_size` along the first axis.

    Each ``iter()`` starts a new epoch (with a new permutation when `shuffle`), except right after
    `load_state_dict` of a mid-epoch state, when it finishes that epoch. Shuffled batches are fresh
    arrays; unshuffled batches are views of `x` and `t`.
    """

    def __init__(
        self,
        x: np.ndarray,
        t: np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int | None = None,
    ) -> None:
        self.x, self.t = np.asarray(x), np.asarray(t)
        if self.x.ndim == 0 or self.t.ndim == 0:
            raise ValueError(
                f"x and t need a sample axis, got shapes {self.x.shape} and {self.t.shape}"
            )
        if len(self.x) != len(self.t):
            raise ValueError(
                f"x and t differ in length: x has {len(self.x)} samples (shape {self.x.shape}), "
                f"t has {len(self.t)} (shape {self.t.shape})"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.epoch = 0  # completed epochs
        if seed is None:
            seed = int(default_generator().integers(2**63))
        self._rng = np.random.default_rng(seed)
        # the generator's state before this epoch's permutation
        self._epoch_start: Mapping[str, Any] | None = None
        self._batch = 0  # batches handed out in the epoch in progress
        self._resume = False

    def __len__(self) -> int:
        n, b = len(self.x), self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        skip = self._batch if self._resume else 0
        self._resume = False
        self._epoch_start = self._rng.bit_generator.state
        order = self._rng.permutation(len(self.x)) if self.shuffle else None
        self._batch = skip
        return self._batches(order, skip)

    def _batches(
        self, order: np.ndarray | None, skip: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        b = self.batch_size
        for i in range(skip, len(self)):
            self._batch = i + 1
            if order is None:
                yield self.x[i * b : (i + 1) * b], self.t[i * b : (i + 1) * b]
            else:
                idx = order[i * b : (i + 1) * b]
                yield np.take(self.x, idx, axis=0), np.take(self.t, idx, axis=0)
        self.epoch += 1
        self._batch = 0
        self._epoch_start = None

    def state_dict(self) -> dict[str, Any]:
        """Epoch count, position in the current epoch and generator state, JSON-serialisable."""
        in_epoch = self._epoch_start is not None
        rng = self._epoch_start if in_epoch else self._rng.bit_generator.state
        return {"epoch": self.epoch, "batch": self._batch, "rng": copy.deepcopy(rng)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()`; the next ``iter()`` continues where that loader stood."""
        missing = {"epoch", "batch", "rng"} - set(state)
        if missing:
            raise KeyError(f"DataLoader state is missing keys: {sorted(missing)}")
        if not 0 <= state["batch"] <= len(self):
            raise ValueError(
                f"DataLoader state has batch {state['batch']}, but this loader has "
                f"{len(self)} batches per epoch"
            )
        self._rng.bit_generator.state = copy.deepcopy(state["rng"])
        self.epoch = int(state["epoch"])
        self._batch = int(state["batch"])
        self._epoch_start = None
        self._resume = True
