"""Which dataset an experiment trains on when none is named, found without downloading.

MNIST is the book's dataset, so it comes first; Fashion-MNIST (the same shapes, a harder
task) is next; the embedded 8x8 ``digits`` set, always present, is the fallback, so every
experiment runs offline. The summaries name the dataset that was used.
"""

from __future__ import annotations

import numpy as np

from mitbadak.data import DatasetNotFoundError, load_dataset

Split = tuple[np.ndarray, np.ndarray]


def find_splits(name: str | None) -> tuple[str, Split, Split]:
    """``(name, (x_train, t_train), (x_test, t_test))`` of dataset ``name``; by default MNIST,
    else Fashion-MNIST if either is on disk (never downloading), else the embedded digits."""
    if name is not None:
        return name, *load_dataset(name)
    for candidate in ("mnist", "fashion-mnist"):
        try:
            return candidate, *load_dataset(candidate, download=False, progress=False)
        except DatasetNotFoundError:
            continue
    return "digits", *load_dataset("digits")


def find_dataset(name: str | None) -> tuple[str, Split]:
    """The training set of ``name`` (see `find_splits`), with the name actually used."""
    found, train, _ = find_splits(name)
    return found, train
