"""Random hyper-parameter search on any `concurrent.futures.Executor`: this machine's cores or
a Dask cluster (chapter 6: sample at random, on a log scale where the order of magnitude is
what is unknown).

    space = {"lr": tune.loguniform(1e-6, 1e-2), "weight_decay": tune.loguniform(1e-8, 1e-4),
             "hidden": tune.choice([50, 100]), "seed": tune.randint(0, 2**31)}
    search = tune.random_search(objective, space, trials=100)
    search.best.params, search.best.value

The search space maps each parameter's name to a distribution: `loguniform` (``low *
(high/low)^U``, for a learning rate), `uniform`, `randint` (``low <= n < high``) and `choice`.
Trial i's parameters are drawn here, in the caller, from the generator seeded ``(seed, i)``
alone: they, and so the results, are the same whatever executor runs the trials, in whatever
order they finish. A trial's own randomness (initial weights, batch order) should come from
a parameter too (``"seed": randint(0, 2**31)`` above) so that ``seed`` fixes it with the rest.

``objective(params)`` returns the score, a number, or a dict of numbers holding it under
``metric``; the best trial has the highest score (``mode="max"``) or the lowest (``"min"``),
the first such trial on a tie; a NaN score never wins. A trial that raises is recorded with
its error in one line, and the other trials go on. The objective and its results travel to
the workers and back by pickle: a function defined at the top of a module (not a lambda),
or a `functools.partial` of one.

Executors: ``executor=None`` is a local process pool (`process_pool`: one worker per core,
each with a single BLAS thread, since workers that each start a thread per core fight over
the cores); `SerialExecutor` runs in the caller; ``distributed.Client(address)
.get_executor()`` (`dask_executor`) runs on a Dask cluster, whose workers need mitbadak and
what the objective imports installed.

Ctrl-C (`KeyboardInterrupt`) stops the search: the trials not started are cancelled and the
finished ones are returned, with ``interrupted`` set. With ``out``, the results so far are
written there as JSON (atomically, `mitbadak.fileio`) after every finished trial, so even a
killed search leaves them behind.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

import numpy as np

from mitbadak import fileio
from mitbadak.messages import one_line


class Distribution(Protocol):
    """A parameter's distribution: ``sample(rng)`` draws one value with a NumPy Generator."""

    def sample(self, rng: np.random.Generator) -> Any: ...


@dataclass(frozen=True)
class LogUniform:
    """``10^U(log10 low, log10 high)``: each order of magnitude between low and high equally
    likely."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high:
            raise ValueError(f"loguniform needs 0 < low < high, got {self.low}, {self.high}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(10 ** rng.uniform(math.log10(self.low), math.log10(self.high)))


@dataclass(frozen=True)
class Uniform:
    """``U(low, high)``: every value between low and high equally likely."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"uniform needs low < high, got {self.low}, {self.high}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class RandInt:
    """An integer ``low <= n < high``, each equally likely (NumPy's and Python's ranges)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"randint needs low < high, got {self.low}, {self.high}")

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high))


@dataclass(frozen=True)
class Choice:
    """One of ``options``, each equally likely."""

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("choice needs at least one option")

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]


def loguniform(low: float, high: float) -> LogUniform:
    return LogUniform(low, high)


def uniform(low: float, high: float) -> Uniform:
    return Uniform(low, high)


def randint(low: int, high: int) -> RandInt:
    return RandInt(low, high)


def choice(options: Sequence[Any]) -> Choice:
    return Choice(tuple(options))


def sample(space: Mapping[str, Distribution], seed: int, index: int) -> dict[str, Any]:
    """Trial ``index``'s parameters: each distribution of ``space``, in its order, drawn from
    the generator seeded ``(seed, index)``."""
    rng = np.random.default_rng([seed, index])
    return {name: distribution.sample(rng) for name, distribution in space.items()}


@dataclass
class Trial:
    """One finished trial: its parameters, and its score and result or its error."""

    index: int
    params: dict[str, Any]
    value: float | None = None
    result: Any = None  # what the objective returned
    error: str | None = None  # "TypeName: message", on one line

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class SearchResult:
    """The finished trials in trial order (all of them unless ``interrupted``)."""

    trials: list[Trial]
    planned: int
    seed: int
    mode: Literal["max", "min"] = "max"
    interrupted: bool = False
    best: Trial | None = field(init=False)

    def __post_init__(self) -> None:
        scored = [t for t in self.trials if t.ok and t.value is not None
                  and not math.isnan(t.value)]
        sign = -1.0 if self.mode == "max" else 1.0
        self.best = min(scored, key=lambda t: (sign * (t.value or 0.0), t.index), default=None)

    @property
    def failed(self) -> list[Trial]:
        return [t for t in self.trials if not t.ok]

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "planned": self.planned, "finished": len(self.trials),
                "interrupted": self.interrupted, "mode": self.mode,
                "best": None if self.best is None else self.best.index,
                "trials": [vars(t) for t in self.trials]}


class SerialExecutor(Executor):
    """Runs each call at once, in the calling process: a search without workers (to debug
    an objective, or where processes cost more than the trials)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # the trial's failure, reported with its index
            future.set_exception(error)
        return future


BLAS_THREADS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def default_workers() -> int:
    """The number of CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def process_pool(workers: int | None = None) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` fresh processes (default: one per core), each with one BLAS
    thread (measured on 2 cores: a thread per core in each worker is 10x slower).

    A BLAS library reads its thread variables once, when it loads: they are set for the
    pool's life, so that each worker, a new interpreter ("spawn", which imports the main
    module again: a script needs the ``if __name__ == "__main__":`` guard), reads 1, while
    this process keeps the threads it started with.
    """
    saved = {name: os.environ.get(name) for name in BLAS_THREADS_VARIABLES}
    os.environ.update(dict.fromkeys(BLAS_THREADS_VARIABLES, "1"))
    try:
        with ProcessPoolExecutor(workers or default_workers(),
                                 multiprocessing.get_context("spawn")) as pool:
            yield pool
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


CONNECT_TIMEOUT = 10.0  # seconds to wait for a Dask scheduler before saying it cannot be reached


class SchedulerError(ConnectionError):
    """The Dask scheduler cannot be reached, or Dask's ``distributed`` is not installed."""


@contextmanager
def dask_executor(address: str, timeout: float | None = None) -> Iterator[Executor]:
    """An executor on the Dask cluster whose scheduler listens at ``address``
    (``tcp://host:8786``): ``distributed.Client(address).get_executor()``, closed after.
    Raises `SchedulerError` if no scheduler answers within ``timeout`` (`CONNECT_TIMEOUT`)
    seconds."""
    try:
        from distributed import Client
    except ImportError:
        raise SchedulerError("a Dask cluster needs Dask's distributed: pip install "
                             "'mitbadak[cluster]'") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT if timeout is None else timeout)
    except (OSError, TimeoutError, ValueError) as error:
        raise SchedulerError(f"cannot reach the Dask scheduler at {address}: "
                             f"{one_line(error)}") from None
    with client:
        yield client.get_executor()


def random_search(objective: Callable[[dict[str, Any]], Any],
                  space: Mapping[str, Distribution], trials: int,
                  executor: Executor | None = None, seed: int = 0, *,
                  metric: str = "score", mode: Literal["max", "min"] = "max",
                  out: str | os.PathLike | None = None) -> SearchResult:
    """Run ``objective`` on ``trials`` parameter sets drawn from ``space`` (see the module
    docstring) on ``executor`` (default: `process_pool` of min(cores, trials) workers) and
    return the finished trials in order, with the best."""
    _check(space, trials, mode)
    planned = [sample(space, seed, i) for i in range(trials)]
    finished: dict[int, Trial] = {}
    lock = threading.Lock()

    def collect(index: int, future: Future) -> None:  # run by whichever thread finishes it
        if future.cancelled() or isinstance(future.exception(), KeyboardInterrupt):
            return  # not run, or stopped by Ctrl-C in its worker: not finished
        trial = _trial(index, planned[index], future, metric)
        with lock:
            finished[index] = trial
            if out is not None:
                _write(out, _result(finished, trials, seed, mode, False))

    def submit_all(pool: Executor) -> bool:
        """Submit every trial and wait for them; False if interrupted."""
        futures = []
        try:
            for index, params in enumerate(planned):
                futures.append(future := pool.submit(objective, params))
                future.add_done_callback(partial(collect, index))
            wait(futures)
            return True
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            return False

    if executor is None:
        with process_pool(min(default_workers(), trials)) as pool:
            completed = submit_all(pool)
            if not completed:
                pool.shutdown(wait=False, cancel_futures=True)
    else:
        completed = submit_all(executor)
    with lock:
        result = _result(finished, trials, seed, mode, not completed)
        if out is not None:
            _write(out, result)
    if not completed:
        print(f"interrupted: {len(result.trials)} of {trials} trials finished; their "
              "results are kept" + (f" in {out}" if out is not None else ""), file=sys.stderr)
    return result


def _check(space: Mapping[str, Distribution], trials: int, mode: str) -> None:
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be a positive integer, got {trials!r}")
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    for name, distribution in space.items():
        if not callable(getattr(distribution, "sample", None)):
            raise TypeError(f"space[{name!r}] is a {type(distribution).__name__}, not a "
                            "distribution (loguniform, uniform, randint or choice)")


def _trial(index: int, params: dict[str, Any], future: Future, metric: str) -> Trial:
    error = future.exception()
    if error is not None:
        return Trial(index, params, error=f"{type(error).__name__}: {one_line(error)}")
    result = future.result()
    score: Any = result.get(metric) if isinstance(result, Mapping) else result
    try:
        value = float(score)
    except (TypeError, ValueError):
        what = (f"has no number under {metric!r}" if isinstance(result, Mapping)
                else f"is a {type(result).__name__}, not a number")
        return Trial(index, params, result=result, error=f"the objective's result {what}")
    return Trial(index, params, value, result)


def _result(finished: dict[int, Trial], planned: int, seed: int, mode: Literal["max", "min"],
            interrupted: bool) -> SearchResult:
    return SearchResult([finished[i] for i in sorted(finished)], planned, seed, mode,
                        interrupted)


def _write(path: str | os.PathLike, result: SearchResult) -> None:
    fileio.atomic_write(path, (fileio.to_json(result.to_dict()) + "\n").encode())
