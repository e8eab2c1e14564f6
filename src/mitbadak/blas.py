"""BLAS threads that give way when the machine is busy.

NumPy's matrix products run in OpenBLAS, which splits each product over its threads (by
default one per core) and keeps idle threads spinning for a while after each call. On a quiet
machine that is what you want. When another busy process shares the cores, it is the worst
choice there is: each product waits for its slowest thread, and a thread that lost its core
waits for the next time slice (milliseconds) before it finishes its part. Measured on a 2-core
machine, the mean time of one product (100x784 @ 784x50), quiet: 101 µs with 2 threads,
129 µs with 1; beside one busy process: 292 µs with 2, 135 µs with 1; two such programs side
by side: 1,110 µs with 2 threads each, 133 µs with 1. Large products behave the same way
(256x1000 @ 1000x1000: 2.2 ms quiet with 2 threads against 4.0 ms with 1, but 6.4 ms with 2
and 4.1 ms with 1 beside a busy process). So the right number of threads depends on the load
on the machine, not on the size of the product.

`adapt()` therefore measures the load: every `INTERVAL` seconds it reads how much CPU time the
cores this process may run on spent busy (``/proc/stat``), subtracts this process's own CPU
time, and gives OpenBLAS the cores the others leave free (rounded, at least 1, at most the
count it started with):

    others = (Δ busy time of our cores − Δ our CPU time) / Δ wall time      (in cores)
    threads = clamp(round(cores − others), 1, threads at start)

The load is smoothed over two intervals so that one spike does not flip the setting. The
training step (`backward()`) and every module call run `adapt()`; between intervals it costs
one clock read.

The number of threads changes the rounding of some float32 products in their last bits
(OpenBLAS takes other kernels for one thread), so a run is bitwise reproducible only with the
threads pinned: ``MITBADAK_BLAS_THREADS=2`` in the environment, or ``set_threads(2)``.
``MITBADAK_BLAS_THREADS=auto`` (the default) adapts. Where the BLAS is not OpenBLAS or
``/proc/stat`` does not exist (macOS, Windows), nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

INTERVAL = 0.25  # seconds between two looks at the load
_SMOOTHING = 0.5  # weight of the newest interval in the smoothed load

_set_num_threads = None  # OpenBLAS's setter (ctypes), None where there is no OpenBLAS
_shutdown = None
_initialized = False
_start_threads = 0  # OpenBLAS's thread count when mitbadak first looked
_threads = 0  # the count OpenBLAS has now
_cores: set[int] = set()  # the cores this process may run on (their /proc/stat lines)
_pinned: int | None = None  # set_threads(n) or MITBADAK_BLAS_THREADS=n
_next_look = 0.0  # time.perf_counter() of the next look at the load
_last: tuple[float, float, float] | None = None  # (wall, busy of our cores, our CPU) seconds
_others = 0.0  # smoothed CPU use of everything else, in cores


def _initialize() -> None:
    """Once: bind OpenBLAS's thread functions, list our cores, read MITBADAK_BLAS_THREADS."""
    global _initialized, _cores
    _initialized = True
    _find_openblas()
    _cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    pinned = environment_setting()
    if pinned is not None:
        set_threads(pinned)


def environment_setting() -> int | None:
    """MITBADAK_BLAS_THREADS: None for 'auto' (the default), else the count to pin."""
    setting = os.environ.get("MITBADAK_BLAS_THREADS", "auto").strip().lower()
    if setting == "auto":
        return None
    if not setting.isdigit() or int(setting) < 1:
        raise ValueError(f"MITBADAK_BLAS_THREADS must be 'auto' or a positive integer, "
                         f"got {setting!r}")
    return int(setting)


def _find_openblas() -> None:
    """Bind OpenBLAS's get/set-threads functions from the library NumPy loaded (Linux)."""
    global _set_num_threads, _shutdown, _start_threads, _threads
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return
    for path in sorted(p for p in paths if ".so" in p):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_{}64_", "scipy_openblas_{}", "openblas_{}64_", "openblas_{}"):
            setter = getattr(lib, name.format("set_num_threads"), None)
            getter = getattr(lib, name.format("get_num_threads"), None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                _set_num_threads = setter
                _shutdown = getattr(lib, "blas_thread_shutdown_", None)
                _start_threads = _threads = int(getter())
                return


def _read_load() -> tuple[float, float, float] | None:
    """(wall, busy CPU seconds of our cores, this process's CPU seconds), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            lines = f.read().split("\n")
    except OSError:
        return None
    busy = 0
    for line in lines:
        m = re.match(r"cpu(\d+) (.*)", line)
        if m and int(m.group(1)) in _cores:
            user, nice, system, _idle, _iowait, irq, softirq, steal, *_ = m.group(2).split()
            busy += sum(map(int, (user, nice, system, irq, softirq, steal)))
    return time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"), time.process_time()


def _set(n: int) -> None:
    global _threads
    if n != _threads and _set_num_threads is not None:
        _set_num_threads(n)
        _threads = n


def adapt() -> None:
    """Give OpenBLAS the cores the rest of the machine leaves free (at most every INTERVAL s)."""
    global _next_look, _last, _others
    now = time.perf_counter()
    if now < _next_look:
        return
    _next_look = now + INTERVAL
    if not _initialized:
        _initialize()
    sample = None if _pinned is not None or _set_num_threads is None else _read_load()
    if sample is None:  # pinned, or nothing to adapt: look again only after set_threads(None)
        _next_look = float("inf")
        return
    if _last is not None and sample[0] > _last[0]:
        wall, busy, own = (a - b for a, b in zip(sample, _last))
        others = max(0.0, busy - own) / wall
        _others = _SMOOTHING * others + (1 - _SMOOTHING) * _others
        _set(max(1, min(_start_threads, round(len(_cores) - _others))))
    _last = sample


def set_threads(n: int | None) -> None:
    """Pin OpenBLAS to ``n`` threads (bitwise-reproducible runs), or adapt again with None."""
    global _pinned, _next_look, _last
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"set_threads takes a positive integer or None, got {n!r}")
    if not _initialized:
        _initialize()
    _pinned, _last, _next_look = n, None, 0.0
    _set(n if n is not None else _start_threads)


@contextmanager
def one_thread() -> Iterator[None]:
    """OpenBLAS on one thread inside the block, for `mitbadak.parallel`'s own threads.

    OpenBLAS's idle worker threads keep spinning (about 0.1 s) after a product, on the core a
    share of ours needs: attention after a product took 19.6 ms in two shares against 16.7 in
    one thread. So they are also stopped (``blas_thread_shutdown_``; the next product with
    two threads starts them again, about 0.2 ms): then 13.1 ms."""
    before = _threads
    _set(1)
    if _shutdown is not None and before > 1:
        _shutdown()
    try:
        yield
    finally:
        _set(before)


def threads() -> int | None:
    """OpenBLAS's thread count now, or None where the BLAS is not OpenBLAS."""
    if not _initialized:
        _initialize()
    return _threads if _set_num_threads is not None else None
