"""What ``mitbadak train``, ``evaluate`` and ``predict`` share: loading a dataset or a
checkpoint, with each failure turned into a one-line `UsageError`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mitbadak.cli import UsageError
from mitbadak.data import CLASSES, DATASETS, load_dataset
from mitbadak.data.datasets import IMAGE_SIZE
from mitbadak.training.checkpoint import Checkpoint, CheckpointError, load
from mitbadak.training.registry import ARCHITECTURES

IMAGE_SHAPES = {"digits": (8, 8), "mnist": IMAGE_SIZE, "fashion-mnist": IMAGE_SIZE}


def load_data(name: str, data_dir: str | None, quiet: bool = False, flatten: bool = True
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``load_dataset(name)`` as the network sees it: float32 images in [0, 1], flat vectors
    (N, H*W) for an MLP, or (N, 1, H, W) for a convolutional network (``flatten=False``)."""
    try:  # a missing dataset, a failed download or an OSError is a user error as it is
        return load_dataset(name, data_dir, flatten=flatten, progress=not quiet)
    except ValueError as error:  # a damaged file
        raise UsageError(str(error)) from None


def output_dir(path: str | os.PathLike) -> Path:
    """``path`` as a directory, created if needed, once files can be written in it: checked
    before the work, so a run or an evaluation does not fail at its end for want of a place."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: a file, not a directory; choose another --out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{path}: cannot create the directory ({error.strerror or error}); "
                         "choose another --out") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{path}: cannot write in this directory (permission denied); "
                         "choose another --out")
    return path


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """The checkpoint at ``path`` with its model rebuilt, in eval mode. The metadata that
    `mitbadak train` writes (``settings``, ``training``), if there, must be JSON objects."""
    try:
        saved = load(path)
    except CheckpointError as error:
        raise UsageError(str(error)) from None
    for key, what in (("settings", "settings are"), ("training", "training state is")):
        if not isinstance(saved.meta.get(key, {}), dict):
            raise UsageError(f"{path}: its {what} a {type(saved.meta[key]).__name__}, not an "
                             "object")
    saved.model.eval()
    return saved


def check_fits_dataset(saved: Checkpoint, dataset: object) -> None:
    """Refuse a checkpoint whose model cannot be used on ``dataset``: the dataset must be
    one mitbadak knows, the model must take its images (flat, or as (1, H, W)) and give one
    output per class."""
    from mitbadak.training.evaluation import predict

    if not isinstance(dataset, str) or dataset not in DATASETS:
        raise UsageError(f"{saved.path}: names dataset {dataset!r}, which mitbadak does not "
                         f"know (it knows {', '.join(DATASETS)})")
    shape, (height, width) = input_shape(saved), IMAGE_SHAPES[dataset]
    if shape not in ((height * width,), (1, height, width)):
        raise UsageError(f"{saved.path}: the model takes inputs of shape {shape}, but "
                         f"{dataset} gives {(height * width,)} (or {(1, height, width)})")
    outputs = predict(saved.model, np.zeros((1, *shape), np.float32)).shape[1]
    if outputs != len(CLASSES[dataset]):
        raise UsageError(f"{saved.path}: the model gives {outputs} outputs, but {dataset} has "
                         f"{len(CLASSES[dataset])} classes")


def input_shape(saved: Checkpoint) -> tuple[int, ...]:
    """The shape of one input of the checkpoint's model, as its registered architecture
    says: (pixels,) for an MLP, (C, H, W) for a convolutional network."""
    config = saved.model_config or {}
    if config.get("type") in ARCHITECTURES and ARCHITECTURES[config["type"]].input == "tokens":
        raise UsageError(f"{saved.path}: a language model ({config['type']}), not an image "
                         "classifier; generate text with `mitbadak sample`")
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
