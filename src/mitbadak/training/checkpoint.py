"""Checkpoints: a model, its optimizer and the random state in one ``.npz`` file, without pickle.

The book saves its networks with ``pickle``, and loading a pickle runs whatever code the file
asks for. A checkpoint here is a plain NumPy ``.npz`` (a zip of ``.npy`` arrays) read with
``allow_pickle=False``, so loading one can only ever produce arrays. Its entries:

* ``model/<name>``: each parameter and buffer of ``model.state_dict()`` (``model/layers.0.W``,
  ``model/layers.1.running_mean``, ...);
* ``optimizer/...``: each array of ``optimizer.state_dict()``, named by its place in it
  (``optimizer/state/0/exp_avg`` is Adam's first moment of parameter 0);
* ``__header__``: UTF-8 JSON (as a uint8 array) holding everything else::

    {"format": "mitbadak-checkpoint", "version": 1,
     "model": {"type": "MLP", "input_size": 64, ...},  # how to rebuild it (null: custom model)
     "optimizer": {...},     # the optimizer's state dict, arrays replaced by {"$array": name}
     "rng": {...},           # mitbadak's default generator (dropout masks) bit_generator.state
     "meta": {...},          # save()'s keyword arguments: epoch, history, settings, ...
     "sha256": "..."}        # over every array (name, dtype, shape, bytes) and the rest of this

`save` writes atomically: into a temporary file in the same directory, flushed to disk, then
renamed over the old checkpoint in one step. A crash or a kill mid-save leaves the previous
checkpoint whole (and at worst a ``.<name>.*.tmp`` file that nothing reads). `load` checks
the format, the version and the checksum, and reports a missing, truncated or corrupted file,
or one whose model does not match, as a `CheckpointError` naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mitbadak.autograd.random import default_generator
from mitbadak.nn import Module
from mitbadak.optim import Optimizer
from mitbadak.training.registry import build_model, describe, model_config, same_architecture

FORMAT = "mitbadak-checkpoint"
VERSION = 1
HEADER = "__header__"


class CheckpointError(Exception):
    """A checkpoint file that is missing, damaged, or does not fit the model or optimizer."""


@dataclass
class Checkpoint:
    """What `load` returns: the model (with the saved weights), the saved optimizer state (if
    any), the default generator's state at save time, and the metadata given to `save`."""

    path: Path
    model: Module
    model_config: dict[str, Any] | None
    optimizer_state: dict[str, Any] | None
    rng_state: dict[str, Any]
    meta: dict[str, Any]


def save(path: str | os.PathLike, model: Module, optimizer: Optimizer | None = None,
         **meta: Any) -> Path:
    """Write ``model`` (and ``optimizer``) state, the random state and ``meta`` (any
    JSON-serialisable values) to ``path``, atomically. Returns the path."""
    path = Path(path)
    arrays = {f"model/{name}": array for name, array in model.state_dict().items()}
    header = {
        "format": FORMAT,
        "version": VERSION,
        "model": model_config(model),
        "optimizer": None if optimizer is None else _split_arrays(
            optimizer.state_dict(), "optimizer", arrays),
        "rng": default_generator().bit_generator.state,
        "meta": meta,
    }
    try:
        text = _canonical_json(header)
    except (TypeError, ValueError) as error:
        raise TypeError(f"checkpoint metadata must be JSON-serialisable: {error}") from None
    header = json.loads(text)
    header["sha256"] = _checksum(arrays, text)
    arrays[HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    _write_atomically(path, arrays)
    return path


def load(path: str | os.PathLike, model: Module | None = None,
         optimizer: Optimizer | None = None) -> Checkpoint:
    """Read a checkpoint written by `save` and verify it.

    Without ``model`` the model is rebuilt from the saved architecture; with one, its
    architecture must match. The weights are copied into the model, and the optimizer's state
    into ``optimizer`` when one is given. The random state is returned, not applied: a trainer
    resuming a run restores it (``Trainer.resume``), an evaluation does not need to.
    """
    path = Path(path)
    arrays = _read_arrays(path)
    header = _read_header(path, arrays)
    saved_config = header["model"]
    if model is None:
        if saved_config is None:
            raise CheckpointError(f"{path}: holds no architecture (it was saved from a custom "
                                  "model); build that model and pass it to load()")
        try:
            model = build_model(saved_config)
        except ValueError as error:
            raise CheckpointError(f"{path}: {error}") from None
    else:
        own_config = model_config(model)
        if saved_config and own_config and not same_architecture(saved_config, own_config):
            raise CheckpointError(f"{path}: holds a {describe(saved_config)}, but the model is a "
                                  f"{describe(own_config)}")
    state = {name.removeprefix("model/"): a for name, a in arrays.items()
             if name.startswith("model/")}
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: the saved weights do not fit the model: {error}") from None

    optimizer_state = None
    if header["optimizer"] is not None:
        optimizer_state = _join_arrays(header["optimizer"], arrays)
    if optimizer is not None:
        if optimizer_state is None:
            raise CheckpointError(f"{path}: holds no optimizer state")
        try:
            optimizer.load_state_dict(optimizer_state)
        except ValueError as error:
            raise CheckpointError(f"{path}: the optimizer state does not fit: {error}") from None
    return Checkpoint(path, model, saved_config, optimizer_state, header["rng"], header["meta"])


# ------------------------------------------------------------------------------ the file
def _write_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` into a temporary file beside ``path``, fsync, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private (0600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if os.name == "posix":  # make the rename itself durable
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a file")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise CheckpointError(f"{path}: a single .npy array, not a checkpoint")
        with npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path}: cannot be read: damaged, truncated or not an .npz "
                              f"file ({type(error).__name__}: {error})") from None


def _read_header(path: Path, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The parsed header, once its format, version and checksum are checked."""
    if HEADER not in arrays:
        raise CheckpointError(f"{path}: an .npz file, but not a mitbadak checkpoint "
                              f"(it has no {HEADER} entry)")
    raw = arrays.pop(HEADER)
    try:
        header = json.loads(raw.tobytes().decode())
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (UnicodeDecodeError, ValueError) as error:
        raise CheckpointError(f"{path}: corrupted header ({error})") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a mitbadak checkpoint (format "
                              f"{header.get('format')!r})")
    if header.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {header.get('version')!r}; "
                              f"this mitbadak reads version {VERSION}")
    stored = header.pop("sha256", None)
    if stored != _checksum(arrays, _canonical_json(header)):
        raise CheckpointError(f"{path}: corrupted (its SHA-256 checksum does not match its "
                              "contents)")
    return header


# ------------------------------------------------------------------------------ helpers
def _canonical_json(obj: Any) -> str:
    """The one JSON text of ``obj`` that save and load both hash (keys sorted; NumPy scalars
    as Python numbers; a float always written as the shortest text that reads back exactly)."""
    return json.dumps(obj, sort_keys=True, default=_json_scalar)


def _json_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _checksum(arrays: dict[str, np.ndarray], header_text: str) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}\n".encode())
        digest.update(array.data)
    digest.update(header_text.encode())
    return digest.hexdigest()


def _split_arrays(obj: Any, name: str, arrays: dict[str, np.ndarray]) -> Any:
    """A copy of nested dicts and lists ``obj`` with each ndarray moved into ``arrays`` (under
    a name that says where it was) and replaced by ``{"$array": that name}``."""
    if isinstance(obj, np.ndarray):
        arrays[name] = obj
        return {"$array": name}
    if isinstance(obj, dict):
        return {k: _split_arrays(v, f"{name}/{k}", arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split_arrays(v, f"{name}/{i}", arrays) for i, v in enumerate(obj)]
    return obj


def _join_arrays(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of `_split_arrays`."""
    if isinstance(obj, dict):
        if obj.keys() == {"$array"}:
            return arrays[obj["$array"]]
        return {k: _join_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join_arrays(v, arrays) for v in obj]
    return obj
