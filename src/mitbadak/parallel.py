"""A loop of mitbadak's own over every free core: contiguous shares of it, one per thread.

OpenBLAS already splits each large matrix product over the cores (`mitbadak.blas`), but some
work is a batch of small pieces that it cannot split: attention multiplies a (32, 128) tile of
queries with the keys of each of the batch's N * heads sequences, products too small for two
BLAS threads to share. NumPy lets go of Python's global lock while it computes, so Python
threads can run such pieces side by side. ``split(items)`` cuts ``items`` into `count()`
contiguous shares, and ``run(task, shares)`` calls ``task(share)`` for each, one share per
thread (this thread does the first), with OpenBLAS on one thread meanwhile, so that every
share's products run on a core of their own.

Where it pays, measured on 2-core machines: scaled dot-product attention of the GPT in
``benchmarks/bench_gpt.py`` (forward + backward, batch 32, 4 heads, 128 x 32) in 10.6 ms
against 16.3 in one thread; each NumPy call there takes 100 µs or more. A convolution's
chunks of columns (im2col and a product with 16-64 filters, too narrow for two BLAS threads
to share well): DeepConvNet's step 0.75-0.8x the time on an AMD EPYC, unchanged on an Intel
Xeon. Where it does not: a loop of calls of 20-40 µs each (GELU in cache-sized pieces) ran
no faster, often slower, in two threads, because each call must take Python's lock back, and
a thread that waits for it waits for the other to be woken: those loops stay in one thread.

How many shares: as many as the threads `mitbadak.blas` gives OpenBLAS now, so one rule
holds for both: every core the rest of the machine leaves free, fewer under load, and a count
pinned with ``MITBADAK_BLAS_THREADS`` (1: everything in this thread). The shares depend only
on that count, so results are the same from run to run for a given count. Shares run only
from the main thread. Run no BLAS of your own in other threads while it trains: OpenBLAS's
thread count is one setting for the whole process (pin ``MITBADAK_BLAS_THREADS=1`` then).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

from mitbadak import blas

T = TypeVar("T")
R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_inside = threading.local()  # .active: this thread is running a share (no shares within)
_main = threading.main_thread()


def workers() -> int:
    """How many threads a loop may use now: OpenBLAS's thread count (1 without OpenBLAS)."""
    return blas.threads() or 1


def shares(items: Sequence[T], k: int) -> list[Sequence[T]]:
    """``items`` cut into at most ``k`` contiguous, nearly equal, non-empty shares (one empty
    share when there are no items)."""
    k = max(1, min(k, len(items)))
    q, r = divmod(len(items), k)
    bounds = [i * q + min(i, r) for i in range(k + 1)]
    return [items[a:b] for a, b in zip(bounds, bounds[1:])]


def count() -> int:
    """How many shares `split` makes now: `workers()` in the main thread; 1 inside a running
    share, and in any other thread (two trainings in threads of one process, as a thread pool
    of `mitbadak.tune` runs them, must not stop each other's OpenBLAS workers)."""
    if getattr(_inside, "active", False) or threading.current_thread() is not _main:
        return 1
    return workers()


def split(items: Sequence[T]) -> list[Sequence[T]]:
    """``items`` in `count()` contiguous shares (`shares`)."""
    return shares(items, count())


def run(task: Callable[[Sequence[T]], R], parts: list[Sequence[T]]) -> list[R]:
    """[task(part) for part in parts], the parts in threads side by side (this thread takes
    the first), OpenBLAS on one thread meanwhile. ``parts`` come from `split`; a caller that
    runs a backward over the same shares as its forward keeps the forward's.

    Where `count()` is 1 (inside a share, off the main thread) the parts run here, in order.
    An exception in any part is raised here, after all parts have finished.
    """
    if len(parts) == 1 or count() == 1:
        return [task(part) for part in parts]
    pool = _threads(len(parts) - 1)
    with blas.one_thread():
        futures: list[Future[R]] = [pool.submit(_share, task, part) for part in parts[1:]]
        try:
            first = _share(task, parts[0])
        finally:
            wait(futures)  # all shares finish before OpenBLAS gets its threads back
    return [first, *(f.result() for f in futures)]


def _share(task: Callable[[Sequence[T]], R], part: Sequence[T]) -> R:
    _inside.active = True
    try:
        return task(part)
    finally:
        _inside.active = False


def _forget_pool() -> None:
    """In a forked child: its parent's helper threads do not exist there."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _threads(n: int) -> ThreadPoolExecutor:
    """The pool of helper threads (made once, and again only if more are needed)."""
    global _pool, _pool_size
    if _pool is None or _pool_size < n:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool, _pool_size = ThreadPoolExecutor(n, thread_name_prefix="mitbadak"), n
    return _pool
