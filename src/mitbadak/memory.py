"""Keep one training step's memory for the next, instead of giving it back to the system.

A training step allocates its activations (the GPT of ``benchmarks/bench_gpt.py``: about
400 MB in arrays of 2-8 MB), and the backward frees them all. glibc's allocator returns the
freed top of its heap to the system as soon as more than ``M_TRIM_THRESHOLD`` bytes are free
there (by default twice the largest block it recently handed out, a few MB), so the next
step gets the same memory back page by page, one page fault per 4 KiB touched: 43,000 page
faults per GPT step, measured, 60 of its 330 ms. Raising the threshold keeps the freed
memory for the next step (no page faults: 270 ms); the process's peak memory is the same
(487 MB both ways), it only stays at that peak between steps.

`keep_freed_memory()` sets, once, through glibc's ``mallopt``:

    M_TRIM_THRESHOLD = 256 MiB    free memory at the top of the heap kept for reuse
    M_MMAP_THRESHOLD = 32 MiB     larger blocks get their own pages, freed at once

(32 MiB is the largest threshold glibc's own adaptive rule would reach; fixing both values
turns that rule off, so that it cannot lower the trim threshold again.) `backward()` calls
it on its first run, so only a process that trains changes its allocator;
``MITBADAK_KEEP_MEMORY=0`` leaves glibc's defaults. Off glibc (macOS, Windows, musl) there is
no ``mallopt`` and nothing changes.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
TRIM_THRESHOLD = 256 << 20
MMAP_THRESHOLD = 32 << 20

_done = False


def environment_setting() -> bool:
    """MITBADAK_KEEP_MEMORY: True for "1" (the default), False for "0"."""
    setting = os.environ.get("MITBADAK_KEEP_MEMORY", "1").strip()
    if setting not in ("0", "1"):
        raise ValueError(f"MITBADAK_KEEP_MEMORY must be 0 or 1, got {setting!r}")
    return setting == "1"


def keep_freed_memory() -> bool:
    """Once per process: keep freed memory for reuse (see the module docstring). True when
    the allocator's settings were changed now."""
    global _done
    if _done:
        return False
    _done = True
    if not environment_setting():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process runs on
    except (AttributeError, OSError, TypeError):  # no mallopt there (or no CDLL(None))
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
