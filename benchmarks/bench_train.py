"""Training throughput: mitbadak against PyTorch (CPU) and a hand-written NumPy floor.

All three train the same networks on the same synthetic data (60,000 samples of 784 float32
features, 10 classes, fixed seed) in one process. They take turns, round after round, each
continuing its own training run, and we report the median samples/second and the median of the
per-round ratios — on a noisy 2-core machine, only same-run ratios mean anything.

Run: make bench   (or: python benchmarks/bench_train.py [--rounds 9] [--only a,b] [--busy 1])

``--busy N`` runs N competing busy processes (each a Python loop on one core) for the whole
benchmark: the load of a browser tab, another training or a hyper-parameter search beside
yours. mitbadak then gives its BLAS the cores left free (`mitbadak.blas`); the floor runs in
the same process, so with the same BLAS threads.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mitbadak as mb  # noqa: E402
from floor import FloorMLP  # noqa: E402
from mitbadak import functional as F  # noqa: E402
from mitbadak import nn, optim  # noqa: E402

try:
    import torch
except ImportError:  # the table then says so
    torch = None

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@dataclass(frozen=True)
class Config:
    key: str
    title: str
    hidden: tuple[int, ...]
    activation: str
    batchnorm: bool
    init: str  # "std" (0.01) or "he"
    optimizer: str  # sgd | momentum | adam
    lr: float
    batch: int
    iters: int  # per round
    inference: bool = False


CONFIGS = [
    Config("a", "TwoLayerNet 784-50-10 sigmoid, SGD", (50,), "sigmoid", False, "std", "sgd",
           0.1, 100, 1500),
    Config("b", "784-100x4-10 ReLU He, Adam", (100,) * 4, "relu", False, "he", "adam", 1e-3,
           128, 600),
    Config("c", "b + BatchNorm", (100,) * 4, "relu", True, "he", "adam", 1e-3, 128, 500),
    Config("d", "784-1000-1000-10 ReLU, momentum", (1000, 1000), "relu", False, "he",
           "momentum", 0.01, 256, 40),
    Config("b-inf", "inference of b, eval, batch 1000", (100,) * 4, "relu", False, "he",
           "adam", 1e-3, 1000, 150, inference=True),
    Config("c-inf", "inference of c, eval, batch 1000", (100,) * 4, "relu", True, "he",
           "adam", 1e-3, 1000, 150, inference=True),
]


def synthetic_data(n: int = 60_000, features: int = 784, seed: int = 0):
    """Inputs in [0, 1) and labels from a random linear teacher (learnable, like images)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, features), dtype=np.float32)
    teacher = rng.standard_normal((features, 10)).astype(np.float32)
    t = ((x - 0.5) @ teacher).argmax(axis=1)
    return x, t


class Batches:
    """An endless stream of shuffled mini-batches (without replacement), shared recipe for all."""

    def __init__(self, x: np.ndarray, t: np.ndarray, batch: int, seed: int) -> None:
        self.x, self.t, self.batch = x, t, batch
        self.rng = np.random.default_rng(seed)
        self.order, self.pos = self.rng.permutation(len(x)), 0

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        if self.pos + self.batch > len(self.order):
            self.order, self.pos = self.rng.permutation(len(self.x)), 0
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return np.take(self.x, idx, axis=0), np.take(self.t, idx)


# ------------------------------------------------------------------------------ mitbadak
def mitbadak_runner(cfg: Config, batches: Batches) -> Callable[[int], None]:
    mb.manual_seed(0)
    init = 0.01 if cfg.init == "std" else "he"
    model = nn.MLP(784, list(cfg.hidden), 10, activation=cfg.activation, init=init,
                   batchnorm=cfg.batchnorm)
    params = model.parameters()
    opt = {"sgd": lambda: optim.SGD(params, lr=cfg.lr),
           "momentum": lambda: optim.Momentum(params, lr=cfg.lr, momentum=0.9),
           "adam": lambda: optim.Adam(params, lr=cfg.lr)}[cfg.optimizer]()

    def step(x: np.ndarray, t: np.ndarray) -> None:
        loss = F.cross_entropy(model(mb.Tensor._wrap(x)), t)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer(x: np.ndarray) -> None:
        model.eval()
        with mb.no_grad():
            model(mb.Tensor._wrap(x))

    if cfg.inference:
        train_briefly(step, batches, 20)
    return make_loop(cfg, batches, step, infer)


# --------------------------------------------------------------------------------- torch
def torch_runner(cfg: Config, batches: Batches) -> Callable[[int], None]:
    torch.manual_seed(0)
    layers: list = []
    sizes = [784, *cfg.hidden]
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        linear = torch.nn.Linear(n_in, n_out)
        std = 0.01 if cfg.init == "std" else float(np.sqrt(2.0 / n_in))
        torch.nn.init.normal_(linear.weight, 0.0, std)
        torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if cfg.batchnorm:
            layers.append(torch.nn.BatchNorm1d(n_out))
        layers.append(torch.nn.ReLU() if cfg.activation == "relu" else torch.nn.Sigmoid())
    layers.append(torch.nn.Linear(sizes[-1], 10))
    model = torch.nn.Sequential(*layers)
    params = model.parameters()
    opt = {"sgd": lambda: torch.optim.SGD(params, lr=cfg.lr),
           "momentum": lambda: torch.optim.SGD(params, lr=cfg.lr, momentum=0.9),
           "adam": lambda: torch.optim.Adam(params, lr=cfg.lr)}[cfg.optimizer]()
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x: np.ndarray, t: np.ndarray) -> None:
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(t))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer(x: np.ndarray) -> None:
        model.eval()
        with torch.no_grad():
            model(torch.from_numpy(x))

    if cfg.inference:
        train_briefly(step, batches, 20)
    return make_loop(cfg, batches, step, infer)


# --------------------------------------------------------------------------------- floor
def floor_runner(cfg: Config, batches: Batches) -> Callable[[int], None]:
    net = FloorMLP([784, *cfg.hidden, 10], cfg.activation, cfg.batchnorm, cfg.init,
                   cfg.optimizer, cfg.lr)
    if cfg.inference:
        train_briefly(net.train_step, batches, 20)
    return make_loop(cfg, batches, net.train_step, net.predict)


def train_briefly(step: Callable, batches: Batches, iters: int) -> None:
    """A few training steps before timing inference, so BatchNorm has running statistics."""
    for _ in range(iters):
        step(*batches.next())


def make_loop(cfg: Config, batches: Batches, step: Callable, infer: Callable):
    def run(iters: int) -> None:
        for _ in range(iters):
            x, t = batches.next()
            if cfg.inference:
                infer(x)
            else:
                step(x, t)
    return run


RUNNERS = {"mitbadak": mitbadak_runner, "torch": torch_runner, "floor": floor_runner}


def bench(cfg: Config, x: np.ndarray, t: np.ndarray, rounds: int) -> dict[str, list[float]]:
    names = [n for n in RUNNERS if n != "torch" or torch is not None]
    runs = {n: RUNNERS[n](cfg, Batches(x, t, cfg.batch, seed=1)) for n in names}
    for run in runs.values():  # warm-up
        run(3)
    rates: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]  # alternate who goes first
        for n in order:
            start = time.perf_counter()
            runs[n](cfg.iters)
            rates[n].append(cfg.iters * cfg.batch / (time.perf_counter() - start))
    return rates


def machine_info() -> str:
    lines = [f"cores: {CORES}, Python {platform.python_version()}, NumPy {np.__version__}, "
             f"torch {torch.__version__ if torch else 'absent'}, mitbadak {mb.__version__}"]
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            lines.append(f"BLAS: {pool.get('internal_api')} {pool.get('version')} "
                         f"({pool.get('architecture')}, {pool.get('num_threads')} threads)")
    except ImportError:
        lines.append("BLAS: (install threadpoolctl to see it)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--only", default="", help="comma-separated config keys, e.g. a,c")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="run N competing busy processes during the benchmark")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    if args.busy < 0:
        parser.error(f"--busy must be >= 0, got {args.busy}")
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(args.busy)]
    try:
        run(args)
    finally:
        for process in busy:
            process.kill()


def run(args: argparse.Namespace) -> None:
    if torch is not None:
        torch.set_num_threads(CORES)
        torch.set_flush_denormal(True)  # torch at its best: no subnormal slow-down either
    print(machine_info())
    if args.busy:
        print(f"with {args.busy} competing busy process(es); mitbadak's BLAS threads: "
              f"{os.environ.get('MITBADAK_BLAS_THREADS', 'auto')}")
    if torch is None:
        print("torch is not installed: the torch column is skipped "
              "(pip install -e '.[parity]')")
    x, t = synthetic_data()
    wanted = set(args.only.split(",")) if args.only else None
    header = (f"{'config':6} {'what':38} {'mitbadak':>10} {'torch':>10} {'floor':>10} "
              f"{'mb/torch':>9} {'mb/floor':>9}")
    print("\nsamples/second (median of rounds); ratios: median of per-round ratios")
    print(header)
    print("-" * len(header))
    for cfg in CONFIGS:
        if wanted and cfg.key not in wanted:
            continue
        rates = bench(cfg, x, t, args.rounds)
        med = {n: statistics.median(v) for n, v in rates.items()}
        print(f"{cfg.key:6} {cfg.title:38} {med['mitbadak']:10.0f} "
              f"{med.get('torch', float('nan')):10.0f} {med['floor']:10.0f} "
              f"{median_ratio(rates, 'torch'):>9} {median_ratio(rates, 'floor'):>9}", flush=True)


def median_ratio(rates: dict[str, list[float]], other: str) -> str:
    """Median over rounds of mitbadak's rate divided by ``other``'s in the same round."""
    if other not in rates:
        return "-"
    return f"{statistics.median(a / b for a, b in zip(rates['mitbadak'], rates[other])):.2f}"


if __name__ == "__main__":
    main()
