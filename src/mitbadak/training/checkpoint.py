"""Checkpoints: a model, its optimizer and the random state in one ``.npz`` file, without pickle.

The book saves its networks with ``pickle``, and loading a pickle runs whatever code the file
asks for. A checkpoint here is a plain NumPy ``.npz`` (a zip of ``.npy`` arrays) read by a
parser that knows arrays of numbers only, so loading one can only ever produce those. Its
entries:

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

`save` writes atomically (`mitbadak.fileio.atomic_write`): into a temporary file in the same
directory, flushed to disk, then renamed over the old checkpoint in one step. A crash or a kill
mid-save leaves the previous checkpoint whole, and the next save removes the temporary file the
killed process left.

`load` trusts nothing in the file. It reads the zip itself (with `zipfile`, stored or deflated
entries only, never encrypted ones) and each ``.npy`` header with a strict parser of the one
layout NumPy writes (never ``eval``, never pickle; bool and plain numeric dtypes only). Every
size a header claims is checked against the entry's real size before anything is allocated,
and all entries together may not inflate to more than `MAX_INFLATION` times the file, so a zip
bomb is refused from its sizes alone. Then the format, the version and the checksum are
checked, and the fields of the header for their types. Whatever the bytes, a file that is
missing, truncated, damaged, crafted or of another kind, or whose model does not match, is
reported as a `CheckpointError`: one line naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from mitbadak.autograd.random import default_generator
from mitbadak.fileio import atomic_write
from mitbadak.messages import one_line
from mitbadak.nn import Module
from mitbadak.optim import Optimizer
from mitbadak.training.registry import build_model, describe, model_config, same_architecture

FORMAT = "mitbadak-checkpoint"
VERSION = 1
HEADER = "__header__"

MAX_INFLATION = 32
"""The most a checkpoint's entries may hold uncompressed, as a multiple of the file's size
(`save` stores them uncompressed, a ratio of 1; recompressed weights rarely reach 2)."""
DTYPES = frozenset(np.dtype(order + code).str for order in "<=" for code in (
    "b1", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f2", "f4", "f8"))
"""The array dtypes (``dtype.str``) a checkpoint may hold: bool and plain numbers, in little-
endian or this machine's byte order; never Python objects."""

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
# The one .npy header layout NumPy writes: keys sorted, a trailing ", }", padded with spaces.
_NPY_HEADER = re.compile(r"\{'descr': '([^']*)', 'fortran_order': (True|False), "
                         r"'shape': \(((?:\d{1,19}, ?)*\d{0,19})\), \} *\n")
_MAX_NPY_HEADER = 10_000  # bytes: NumPy's own limit (np.load's max_header_size)
_MAX_DIMS = 64  # NumPy's limit
_MAX_JSON_DEPTH = 64  # a checkpoint's own header nests 5 levels deep
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_OPENERS, _CLOSERS = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)
_CHUNK = 1 << 20
# What the zipfile module raises on a damaged or crafted archive (documented or not).
_ZIP_ERRORS = (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
               ValueError, struct.error, zlib.error, OverflowError, KeyError)
_FIELDS: dict[str, tuple[type, ...]] = {
    "format": (str,), "version": (int,), "model": (dict, type(None)),
    "optimizer": (dict, type(None)), "rng": (dict,), "meta": (dict,)}
_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


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
    JSON-serialisable values) to ``path``, atomically. Returns the path. Raises
    `fileio.FileWriteError` (an OSError) if the file cannot be written."""
    path = Path(path)
    arrays: dict[str, Any] = {f"model/{name}": a for name, a in model.state_dict().items()}
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
    atomic_write(path, lambda file: np.savez(file, **arrays))
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
    header, arrays = _read(path)
    _check_fields(path, header, arrays)
    saved_config = header["model"]
    if model is None:
        if saved_config is None:
            raise CheckpointError(f"{path}: holds no architecture (it was saved from a custom "
                                  "model); build that model and pass it to load()")
        try:
            model = build_model(saved_config)
        except ValueError as error:
            raise CheckpointError(f"{path}: {one_line(error)}") from None
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
        raise CheckpointError(f"{path}: the saved weights do not fit the model: "
                              f"{one_line(error)}") from None

    optimizer_state = None
    if header["optimizer"] is not None:
        optimizer_state = _join_arrays(header["optimizer"], arrays)
    if optimizer is not None:
        if optimizer_state is None:
            raise CheckpointError(f"{path}: holds no optimizer state")
        try:
            optimizer.load_state_dict(optimizer_state)
        except (ValueError, TypeError, KeyError) as error:  # the state's values, unchecked
            raise CheckpointError(f"{path}: the optimizer state does not fit: "
                                  f"{one_line(error)}") from None
    return Checkpoint(path, model, saved_config, optimizer_state, header["rng"], header["meta"])


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The ``meta`` that `save` was given (epoch, history, settings, ...), from a verified file,
    without building its model."""
    path = Path(path)
    header, arrays = _read(path)
    _check_fields(path, header, arrays)
    return header["meta"]


# ------------------------------------------------------------------------------ the file
def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header (format, version and checksum checked) and the arrays of the file."""
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a file")
    try:
        file = open(path, "rb")
    except OSError as error:
        raise CheckpointError(f"{path}: cannot be read: {error.strerror}") from None
    with file:
        size = os.fstat(file.fileno()).st_size
        _check_magic(path, file.read(len(_NPY_MAGIC)))
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                members = _members(path, archive, size)
                header = _parse_header(path, _read_member(path, archive, members.pop(HEADER)))
                arrays = {name: _read_member(path, archive, info)
                          for name, info in sorted(members.items())}
        except _ZIP_ERRORS as error:
            raise CheckpointError(f"{path}: cannot be read: damaged, truncated or not an .npz "
                                  f"file ({type(error).__name__}: {one_line(error)})") from None
    stored = header.pop("sha256", None)
    if stored != _checksum(arrays, _canonical_json(header)):
        raise CheckpointError(f"{path}: corrupted (its SHA-256 checksum does not match its "
                              "contents)")
    return header, arrays


def _check_magic(path: Path, start: bytes) -> None:
    """Refuse what is not a zip file by its first bytes (a zip starts ``PK\\3\\4``)."""
    if start.startswith(_NPY_MAGIC):
        raise CheckpointError(f"{path}: a single .npy array, not a checkpoint")
    if not start:
        raise CheckpointError(f"{path}: cannot be read: damaged, truncated or not an .npz "
                              "file (it is empty)")
    if not (start.startswith(_ZIP_MAGIC) or _ZIP_MAGIC.startswith(start)):
        raise CheckpointError(f"{path}: not a mitbadak checkpoint (not an .npz file: it "
                              f"begins with {start!r})")


def _members(path: Path, archive: zipfile.ZipFile, size: int) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name, once each is seen to be one `_read_member` can
    read, and their sizes to add up to no more than `MAX_INFLATION` times the file's."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename
        if not name.endswith(".npy") or name[:-4] in members:
            problem = "a second" if name.endswith(".npy") else "an entry that is not an .npy"
            raise CheckpointError(f"{path}: not a mitbadak checkpoint (it holds {problem} "
                                  f"{name!r})")
        if info.flag_bits & 0x1:
            raise CheckpointError(f"{path}: its entry {name!r} is encrypted; a checkpoint "
                                  "never is")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise CheckpointError(f"{path}: its entry {name!r} uses zip compression method "
                                  f"{info.compress_type}; a checkpoint is stored or deflated")
        if (info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size
                or info.header_offset + info.compress_size > size):
            raise CheckpointError(f"{path}: cannot be read: damaged, truncated or not an .npz "
                                  f"file (the sizes of entry {name!r} do not fit the file)")
        members[name[:-4]] = info
    total = sum(info.file_size for info in members.values())
    if total > MAX_INFLATION * size:
        raise CheckpointError(f"{path}: its entries would inflate to {total:,} bytes, more than "
                              f"{MAX_INFLATION} times the file's {size:,}; refused (a zip bomb?)")
    if HEADER not in members:
        raise CheckpointError(f"{path}: an .npz file, but not a mitbadak checkpoint "
                              f"(it has no {HEADER} entry)")
    return members


def _read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` entry as an array. Its header is checked against the entry's size before
    the array is allocated, and the data streamed in (the zip checks its CRC on the way)."""
    with archive.open(info) as member:
        dtype, fortran_order, shape, offset = _read_npy_header(path, info.filename, member)
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise CheckpointError(f"{path}: its entry {info.filename!r} claims {shape} of "
                                  f"{dtype} ({nbytes:,} bytes) but holds "
                                  f"{info.file_size - offset:,} bytes")
        array = np.empty(math.prod(shape), dtype)
        buffer, done = array.view(np.uint8), 0
        while done < nbytes:
            chunk = member.read(min(_CHUNK, nbytes - done))
            if not chunk:
                raise EOFError(f"entry {info.filename!r} ends early")
            buffer[done:done + len(chunk)] = np.frombuffer(chunk, np.uint8)
            done += len(chunk)
    return array.reshape(shape, order="F" if fortran_order else "C")


def _read_npy_header(path: Path, name: str, member: IO[bytes]
                     ) -> tuple[np.dtype, bool, tuple[int, ...], int]:
    """(dtype, fortran_order, shape, where the data starts) from an ``.npy`` header, parsed
    strictly (never evaluated): the one dict layout NumPy writes, a dtype from `DTYPES`."""
    start = member.read(len(_NPY_MAGIC) + 2)
    if len(start) < len(_NPY_MAGIC) + 2 or not start.startswith(_NPY_MAGIC) \
            or start[-2] not in (1, 2, 3):
        raise CheckpointError(f"{path}: its entry {name!r} is not an .npy array")
    width = 2 if start[-2] == 1 else 4
    length = int.from_bytes(member.read(width), "little")
    text = member.read(min(length, _MAX_NPY_HEADER + 1))
    match = _NPY_HEADER.fullmatch(text.decode("latin-1")) if length <= _MAX_NPY_HEADER else None
    if match is None:
        raise CheckpointError(f"{path}: its entry {name!r} has an .npy header that is not one "
                              f"NumPy writes for a plain array ({text[:60]!r}...)")
    descr, fortran_order, dims = match.groups()
    if descr not in DTYPES:
        raise CheckpointError(f"{path}: its entry {name!r} has dtype {descr!r}; a checkpoint "
                              f"holds only arrays of {', '.join(sorted(DTYPES))}")
    shape = tuple(int(d) for d in dims.replace(",", " ").split())
    if len(shape) > _MAX_DIMS:
        raise CheckpointError(f"{path}: its entry {name!r} has {len(shape)} dimensions")
    return np.dtype(descr), fortran_order == "True", shape, len(start) + width + length


def _parse_header(path: Path, raw: np.ndarray) -> dict[str, Any]:
    """The JSON header, once its format and version are checked (not yet its checksum)."""
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"it is a {raw.dtype} array of shape {raw.shape}, not bytes")
        text = raw.tobytes().decode()
        depth = _nesting_depth(text)
        if depth > _MAX_JSON_DEPTH:
            raise ValueError(f"it nests {depth} levels deep")
        header = json.loads(text)
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (UnicodeDecodeError, ValueError) as error:
        raise CheckpointError(f"{path}: corrupted header ({one_line(error)})") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a mitbadak checkpoint (format "
                              f"{str(header.get('format'))[:40]!r})")
    if header.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version "
                              f"{str(header.get('version'))[:40]}; this mitbadak reads version "
                              f"{VERSION}")
    return header


def _check_fields(path: Path, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Check the types of the header's fields (a file with a valid checksum can still have
    been written by someone else), so that using them cannot fail in an unnamed way."""
    for key, kinds in _FIELDS.items():
        if not isinstance(header.get(key), kinds):
            found = "missing" if key not in header else f"a {type(header[key]).__name__}"
            expected = " or ".join("null" if k is type(None) else _JSON_NAMES[k] for k in kinds)
            raise CheckpointError(f"{path}: the header's {key!r} is {found}; expected {expected}")
    if header["model"] is not None and not isinstance(header["model"].get("type"), str):
        raise CheckpointError(f"{path}: the header's model has no 'type' naming its class")
    if header["optimizer"] is not None:
        _check_optimizer(path, header["optimizer"], arrays)
    generator = type(default_generator().bit_generator)()
    try:
        generator.state = header["rng"]
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path}: the header's rng is not a {type(generator).__name__} "
                              f"state ({one_line(error)})") from None


def _check_optimizer(path: Path, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """The layout of `Optimizer.state_dict`, with each ``{"$array": name}`` in the file."""
    layout = {"optimizer": str, "param_groups": list, "param_shapes": list, "state": list}
    for key, kind in layout.items():
        if not isinstance(state.get(key), kind):
            raise CheckpointError(f"{path}: the header's optimizer[{key!r}] is not "
                                  f"{_JSON_NAMES[kind]}")
    for key in ("param_groups", "state"):
        if not all(isinstance(entry, dict) for entry in state[key]):
            raise CheckpointError(f"{path}: the header's optimizer[{key!r}] is not a list of "
                                  "objects")
    if not all(isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)
               for shape in state["param_shapes"]):
        raise CheckpointError(f"{path}: the header's optimizer['param_shapes'] is not a list "
                              "of shapes")
    missing = sorted(set(_array_references(state)) - set(arrays))
    if missing:
        raise CheckpointError(f"{path}: the optimizer state refers to array(s) the file does "
                              f"not hold: {', '.join(missing[:3])}")


def _array_references(obj: Any) -> list[str]:
    """The names in each ``{"$array": name}`` inside ``obj`` (see `_split_arrays`)."""
    if isinstance(obj, dict):
        if obj.keys() == {"$array"}:
            return [str(obj["$array"])]
        return [name for v in obj.values() for name in _array_references(v)]
    if isinstance(obj, list):
        return [name for v in obj for name in _array_references(v)]
    return []


def _nesting_depth(text: str) -> int:
    """How deep JSON ``text``'s arrays and objects nest (to refuse, before parsing, a header
    that would exhaust the parser's recursion)."""
    code = np.frombuffer(_JSON_STRING.sub("", text).encode(), dtype=np.uint8)
    steps = np.isin(code, _OPENERS).astype(np.int64) - np.isin(code, _CLOSERS)
    return int(np.cumsum(steps).max(initial=0))


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
