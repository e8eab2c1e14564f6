"""What ``mitbadak train``, ``evaluate`` and ``predict`` share: loading a dataset or a
checkpoint, with each failure turned into a one-line `UsageError`."""

from __future__ import annotations

import os

import numpy as np

from mitbadak.checkpoint import Checkpoint, CheckpointError, load
from mitbadak.cli import UsageError
from mitbadak.data import DatasetNotFoundError, DownloadError, load_dataset


def load_data(name: str, data_dir: str | None, quiet: bool = False
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``load_dataset(name)`` as the network sees it: flat float32 images in [0, 1]."""
    try:
        return load_dataset(name, data_dir, progress=not quiet)
    except (DatasetNotFoundError, DownloadError, OSError, ValueError) as error:
        raise UsageError(str(error)) from None


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """The checkpoint at ``path`` with its model rebuilt, in eval mode."""
    try:
        saved = load(path)
    except CheckpointError as error:
        raise UsageError(str(error)) from None
    saved.model.eval()
    return saved


def trained_dataset(saved: Checkpoint, override: str | None) -> str:
    """The dataset to use with a checkpoint: ``override``, else the one it was trained on."""
    name = override or saved.meta.get("settings", {}).get("dataset")
    if name is None:
        raise UsageError(f"{saved.path}: the checkpoint does not say which dataset it was "
                         "trained on; pass --dataset")
    return name
