"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number -- two zero bytes, a type code, the number of dimensions --
then one big-endian uint32 per dimension, then the values, big-endian, in C order. The files
usually travel gzip-compressed; `read_idx` recognises gzip by its own magic bytes, whatever the
file is called. Every mismatch between header and payload is a `ValueError` naming the file.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mitbadak.fileio import atomic_write

# IDX type code -> big-endian NumPy dtype.
TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_INFLATION = 1032  # deflate's largest ratio: a gzip file cannot inflate to more
_CHUNK = 1 << 20


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Return the array stored in the IDX file at `path` (gzip-compressed or raw).

    The result is a writable array in native byte order with the header's shape. The header
    is checked against the data that is really there before the array is allocated: against
    the file's size (raw), or against the bytes a bounded, streamed decompression yields
    (gzip), so a header claiming 4,000,000,000 x 28 x 28 images is an error, not a MemoryError.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        size = os.fstat(raw.fileno()).st_size
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as f:
            return _read_stream(f, path, size, compressed)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ValueError(f"{path}: corrupt gzip stream ({e})") from e


def _read_stream(f: io.BufferedIOBase, path: Path, size: int, compressed: bool) -> np.ndarray:
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0":
        raise ValueError(
            f"{path}: not an IDX file: expected magic 00 00 <type> <ndim>, found {magic.hex(' ')!r}"
        )
    code, ndim = magic[2], magic[3]
    if code not in TYPE_CODES:
        known = ", ".join(f"0x{c:02X}" for c in TYPE_CODES)
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}; expected one of {known}")
    header = f.read(4 * ndim)
    if len(header) < 4 * ndim:
        raise ValueError(
            f"{path}: truncated header: expected {ndim} dimension sizes "
            f"({4 * ndim} bytes), found {len(header)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", header)
    dtype = TYPE_CODES[code]
    expected = math.prod(shape) * dtype.itemsize

    def mismatch(kind: str, found: str) -> ValueError:
        return ValueError(f"{path}: {kind} payload: header says shape {shape} of {dtype.name} "
                          f"({expected} bytes), found {found} bytes")

    if compressed:  # the decompressed size is known only once it is read: read it first
        if expected > _MAX_INFLATION * size + 1024:
            raise mismatch("truncated", f"at most {_MAX_INFLATION} times the gzip file's {size}")
        chunks = _read_at_most(f, expected + 1)  # memory grows only as data really arrives
        found = sum(len(chunk) for chunk in chunks)
    else:
        found = size - 4 - 4 * ndim
    if found != expected:
        raise mismatch("truncated" if found < expected else "oversized",
                       str(found) if found < expected else f"at least {found}")
    out = np.empty(shape, dtype=dtype.newbyteorder("="))
    buffer = out.reshape(-1).view(np.uint8)
    if compressed:
        start = 0
        for chunk in chunks:
            buffer[start:start + len(chunk)] = np.frombuffer(chunk, np.uint8)
            start += len(chunk)
    elif expected and f.readinto(buffer.data) < expected:  # raw: straight into the output
        raise mismatch("truncated", "fewer")  # the file shrank since its size was taken
    if dtype.itemsize > 1 and dtype.byteorder != out.dtype.byteorder:
        out.byteswap(inplace=True)
    return out


def _read_at_most(f: io.BufferedIOBase, limit: int) -> list[bytes]:
    """Up to ``limit`` bytes from ``f``, in chunks of at most `_CHUNK`."""
    chunks: list[bytes] = []
    while limit > 0 and (chunk := f.read(min(_CHUNK, limit))):
        chunks.append(chunk)
        limit -= len(chunk)
    return chunks


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write `array` to `path` as IDX, gzip-compressed when the name ends in ``.gz``.

    The dtype must be one IDX can hold: uint8, int8, int16, int32, float32 or float64.
    Compressed output is byte-for-byte reproducible (the gzip timestamp is fixed at 0). The
    file is written atomically (`mitbadak.fileio.atomic_write`).
    """
    path = Path(path)
    array = np.asarray(array)
    by_kind = {dt.newbyteorder("="): code for code, dt in TYPE_CODES.items()}
    code = by_kind.get(array.dtype.newbyteorder("="))
    if code is None:
        names = ", ".join(dt.name for dt in TYPE_CODES.values())
        raise ValueError(f"{path}: IDX cannot store dtype {array.dtype}; expected one of {names}")
    if array.ndim > 255:
        raise ValueError(f"{path}: IDX holds at most 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=TYPE_CODES[code]).tobytes()
    if path.name.endswith(".gz"):
        def compress(raw: BinaryIO) -> None:  # the name in the gzip header is the target's
            with gzip.GzipFile(path.name, mode="wb", fileobj=raw, mtime=0) as f:
                f.write(header + payload)

        atomic_write(path, compress)
    else:
        atomic_write(path, header + payload)
