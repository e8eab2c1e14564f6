"""One durable, atomic way to write a file: every file the library writes goes through it.

`atomic_write` writes the new contents into a temporary file beside the target, named
``.<name>.<pid>.<random>.tmp``, flushes it and asks the OS to put it on disk (``fsync``), then
renames it over the target in one step (``os.replace``) and syncs the directory, so the rename
itself survives a power cut. Whatever instant the process dies at, the target is either the
old file or the new one, never a mix.

A process killed mid-write (``kill -9``, out of memory) cannot delete its temporary file, and a
checkpoint's is as large as the checkpoint. So each write first removes the temporary files of
the same target whose writer (the ``<pid>`` in the name) is no longer running. Files of any
other name are never touched.

Any failure (a read-only directory, a path under a file, a full disk) is raised as
`FileWriteError`: an `OSError` whose message names the target and the reason in one line.

`to_json` is the JSON text the library writes (the experiments' results, a search's trials):
strict JSON, NumPy values as Python ones, compact lists of numbers.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

FILE_MODE = 0o644  # mkstemp makes the file private (0600); written files are readable by all


class FileWriteError(OSError):
    """A file could not be written; ``str(error)`` is one line naming the file and why."""

    def __init__(self, path: str | os.PathLike, reason: str, code: int | None = None) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.errno, self.filename = code, os.fspath(path)

    def __str__(self) -> str:  # not OSError's "[Errno 28] ...: 'path'"
        return str(self.args[0])

    @classmethod
    def of(cls, path: Path, error: OSError) -> FileWriteError:
        """The error for ``path`` that ``error`` caused, saying which file is in the way
        when a directory on the path is a file."""
        reason = error.strerror or str(error) or type(error).__name__
        if isinstance(error, (FileExistsError, NotADirectoryError)):
            blocker = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()),
                           None)
            if blocker is not None:
                reason = f"{blocker} is a file, not a directory"
        return cls(path, reason, error.errno)


def atomic_write(path: str | os.PathLike,
                 contents: bytes | Callable[[BinaryIO], object]) -> Path:
    """Replace the file at ``path`` by ``contents`` (bytes, or a function that writes into the
    binary file it is given), atomically and durably; create missing parent directories.
    Returns the path. Raises `FileWriteError` if the file cannot be written."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                                         suffix=".tmp")
    except OSError as error:
        raise FileWriteError.of(path, error) from None
    try:
        with os.fdopen(fd, "wb") as file:
            if callable(contents):
                contents(file)
            else:
                file.write(contents)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, FileWriteError):
            raise FileWriteError.of(path, error) from None
        raise
    return path


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files `atomic_write` left beside ``path`` in processes that are
    no longer running; return them. A running writer's file (this process's included) stays."""
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp")
    removed = []
    for entry in os.scandir(path.parent):
        match = pattern.fullmatch(entry.name)
        if match and not _running(int(match[1])):
            Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (on this machine). Where that cannot be told (not
    POSIX, where signal 0 does not probe; another user's process), it counts as running."""
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: delivers nothing, only checks that the process exists
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True
    return True


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; Windows has no directory handles)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays turned into Python numbers and lists, and
    non-finite floats into the strings "nan", "inf", "-inf" (strict JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def to_json(value: Any, indent: str = "") -> str:
    """JSON text with one key per line, but each list of numbers or strings on a single line,
    so a curve of 400 points takes one line instead of 400."""
    value = jsonable(value)
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, allow_nan=False)
