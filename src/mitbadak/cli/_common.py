"""What ``mitbadak train``, ``evaluate`` and ``predict`` share: loading a dataset or a
checkpoint, with each failure turned into a one-line `UsageError`."""

from __future__ import annotations

import os

import numpy as np

from mitbadak.cli import UsageError
from mitbadak.data import DatasetNotFoundError, DownloadError, load_dataset
from mitbadak.training.checkpoint import Checkpoint, CheckpointError, load
from mitbadak.training.evaluation import EVAL_BATCH_SIZE as EVAL_BATCH_SIZE  # the library's
from mitbadak.training.registry import ARCHITECTURES


def load_data(name: str, data_dir: str | None, quiet: bool = False, flatten: bool = True
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``load_dataset(name)`` as the network sees it: float32 images in [0, 1], flat vectors
    (N, H*W) for an MLP, or (N, 1, H, W) for a convolutional network (``flatten=False``)."""
    try:
        return load_dataset(name, data_dir, flatten=flatten, progress=not quiet)
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


def input_shape(saved: Checkpoint) -> tuple[int, ...]:
    """The shape of one input of the checkpoint's model, as its registered architecture
    says: (pixels,) for an MLP, (C, H, W) for a convolutional network."""
    config = saved.model_config or {}
    try:
        return ARCHITECTURES[config["type"]].input_shape(config)
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"{saved.path}: the checkpoint does not say what input its model "
                         "takes") from None


def trained_dataset(saved: Checkpoint, override: str | None) -> str:
    """The dataset to use with a checkpoint: ``override``, else the one it was trained on."""
    name = override or saved.meta.get("settings", {}).get("dataset")
    if name is None:
        raise UsageError(f"{saved.path}: the checkpoint does not say which dataset it was "
                         "trained on; pass --dataset")
    return name
