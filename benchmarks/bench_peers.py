"""mitbadak against every peer a user could pick: PyTorch, JAX, tinygrad, DeZero, MyGrad,
the hand-written NumPy floor and the book's own code, on the book's networks (float32, CPU).

Every framework trains the same network from the same initial weights (read out of
mitbadak's own model, see `peers.base.layers_of`) on the same stream of synthetic batches
(`bench_train.synthetic_data`: a learnable random teacher; 28x28 images for the ConvNets). They
take turns in one process, round after round, each running a block of steps sized to take
about ``--block`` seconds; the table gives the median over rounds of the per-round ratio of
rates, peer / mitbadak (above 1: the peer is faster), with the spread (min-max). Only such
same-run ratios mean anything on a noisy machine. Each peer is shown to train: the loss on a
fixed batch of 1,000 before and after the same untimed training steps, both equal in
every framework to about 0.01 (the same weights, batches and arithmetic; DeZero's Adam puts
eps elsewhere, DeepConvNet's dropout masks differ). The first call (JAX's and tinygrad's
compilation) is timed apart and never counted in the rates.

Run: make bench-peers   (or: python benchmarks/bench_peers.py [--rounds 5] [--workloads a,e]
     [--peers torch,jax] [--threads 1] [--quick] [--write-docs] [--book-dir DIR])
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mitbadak as mb  # noqa: E402
from bench_train import Batches, synthetic_data  # noqa: E402
from mitbadak import functional as F  # noqa: E402
from mitbadak import nn, optim  # noqa: E402
from mitbadak.fileio import atomic_write  # noqa: E402
from peers import MODULES, OPT_IN  # noqa: E402
from peers.base import PeerSetupError, Runner, Unavailable, layers_of  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench-peers:begin -->", "<!-- bench-peers:end -->"
EVAL_SAMPLES = 1000  # the fixed batch whose loss shows that a framework trains
TRAIN_STEPS = 20  # untimed steps that show each framework training (and give BatchNorm statistics)
PAUSE_S = 0.05  # between blocks: the last framework's BLAS/OpenMP/XLA workers stop spinning


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    model: Callable[[], nn.Module]
    optimizer: str  # sgd | adam
    lr: float
    batch: int
    image: bool = False
    inference: bool = False
    train_batch: int = 0  # inference workloads: the batch of the training steps before
    check_steps: int = TRAIN_STEPS  # the untimed steps that show a framework training


def mlp(hidden: list[int], batchnorm: bool = False) -> Callable[[], nn.Module]:
    return lambda: nn.MLP(784, hidden, 10, activation="relu", init="he", batchnorm=batchnorm)


WORKLOADS = [
    # the book's start (std 0.01) sits on a plateau at ln 10 for ~1,500 SGD steps on these data
    Workload("a", "TwoLayerNet 784-50-10 sigmoid, SGD, batch 100", nn.TwoLayerNet, "sgd", 0.1,
             100, check_steps=2000),
    Workload("b", "784-100x4-10 ReLU He, Adam, batch 128", mlp([100] * 4), "adam", 1e-3, 128),
    Workload("c", "b + BatchNorm", mlp([100] * 4, True), "adam", 1e-3, 128),
    Workload("d", "784-1000-1000-10 ReLU He, Adam, batch 256", mlp([1000, 1000]), "adam",
             1e-3, 256),
    Workload("e", "SimpleConvNet, Adam, batch 100", nn.SimpleConvNet, "adam", 1e-3, 100,
             image=True),
    Workload("f", "DeepConvNet, Adam, batch 100", nn.DeepConvNet, "adam", 1e-3, 100,
             image=True),
    Workload("g", "inference of c (eval), batch 1000", mlp([100] * 4, True), "adam", 1e-3,
             1000, inference=True, train_batch=128),
    Workload("h", "inference of SimpleConvNet, batch 1000", nn.SimpleConvNet, "adam", 1e-3,
             1000, image=True, inference=True, train_batch=100),
]


class MitbadakRunner(Runner):
    def __init__(self, model: nn.Module, optimizer: str, lr: float) -> None:
        self.model = model
        params = list(model.parameters())
        self.opt = optim.SGD(params, lr=lr) if optimizer == "sgd" else optim.Adam(params, lr=lr)

    def train_mode(self) -> None:
        self.model.train()

    def train(self, x: np.ndarray, t: np.ndarray) -> Any:
        loss = F.cross_entropy(self.model(mb.Tensor._wrap(x)), t)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()

    def infer(self, x: np.ndarray) -> Any:
        self.model.eval()
        with mb.no_grad():
            return self.model(mb.Tensor._wrap(x)).data


@dataclass
class Result:
    """One framework on one workload."""
    rates: list[float] = field(default_factory=list)  # samples/second, one per round
    loss_before: float = float("nan")
    loss_after: float = float("nan")
    first_call_s: float = float("nan")
    error: str = ""
    covered: bool = True  # False: the implementation does not cover this workload (the floor)


def cross_entropy(logits: np.ndarray, t: np.ndarray) -> float:
    """Mean softmax cross-entropy in float64, the same for every framework's logits."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(t)), t]))


def eval_loss(runner: Runner, x: np.ndarray, t: np.ndarray) -> float:
    out = runner.infer(x)
    runner.wait(out)
    return cross_entropy(runner.numpy(out), t)


class Contestant:
    """A runner, its own stream of batches (the same seed for all) and its result so far."""

    def __init__(self, runner: Runner, work: Workload, x: np.ndarray, t: np.ndarray) -> None:
        self.runner, self.work, self.result = runner, work, Result()
        self.batches = Batches(x, t, work.batch, seed=1)
        self.steps = 1  # per block, set by warm_up()

    def call(self) -> Any:
        """One timed unit: a training step, or an inference of one batch."""
        xb, tb = self.batches.next()
        return self.runner.infer(xb) if self.work.inference else self.runner.train(xb, tb)

    def finish(self, out: Any) -> None:
        if self.work.inference:
            self.runner.wait(out)
        else:
            self.runner.scalar(out)

    def block(self, steps: int) -> float:
        time.sleep(PAUSE_S)
        start = time.perf_counter()
        out = None
        for _ in range(steps):
            out = self.call()
        self.finish(out)
        return time.perf_counter() - start

    def warm_up(self, x_eval: np.ndarray, t_eval: np.ndarray, block_s: float,
                steps: int) -> None:
        """The loss on the fixed batch before and after the same ``check_steps`` in every
        framework (both numbers should agree across frameworks), the first call timed apart
        (compilation), then the block size: ``steps``, or as many as take ``block_s``."""
        runner, result, work = self.runner, self.result, self.work
        result.loss_before = eval_loss(runner, x_eval, t_eval)
        runner.train_mode()
        train = (Batches(self.batches.x, self.batches.t, work.train_batch, seed=2)
                 if work.inference else self.batches)
        for i in range(work.check_steps):
            start = time.perf_counter()
            runner.scalar(runner.train(*train.next()))
            if i == 0:
                result.first_call_s = time.perf_counter() - start
        result.loss_after = eval_loss(runner, x_eval, t_eval)
        if work.inference:
            result.first_call_s = self.block(1)
        else:
            runner.train_mode()
        self.block(2)  # a jit may capture on its second call (tinygrad)
        self.steps = steps or max(1, round(block_s / (self.block(3) / 3)))

    def round(self) -> None:
        self.result.rates.append(self.steps * self.work.batch / self.block(self.steps))


def load_peer(name: str) -> tuple[ModuleType | None, str]:
    """The peer's module, or None and the one line that says why it is skipped."""
    try:
        return importlib.import_module(f"peers.{MODULES[name]}"), ""
    except PeerSetupError as e:
        print(f"bench_peers: {name}: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except Unavailable as e:
        return None, f"{name}: {e}; skipped"
    except ImportError as e:
        return None, f"{name}: not installed ({e}); skipped (pip install -e '.[peers]')"


def bench(work: Workload, peers: dict[str, ModuleType], x: np.ndarray, t: np.ndarray,
          rounds: int, block_s: float, steps: int) -> dict[str, Result]:
    mb.manual_seed(0)
    model = work.model()
    layers = layers_of(model)
    if work.image:
        x = x.reshape(-1, 1, 28, 28)
    x_eval, t_eval = x[:EVAL_SAMPLES], t[:EVAL_SAMPLES]
    contestants: dict[str, Contestant] = {}
    results: dict[str, Result] = {}
    builders: dict[str, Callable[[], Runner]] = {
        "mitbadak": lambda: MitbadakRunner(model, work.optimizer, work.lr)}
    for name, module in peers.items():
        builders[name] = (lambda m=module, n=name: m.build(layers, work.optimizer, work.lr, n))
    for name, make in builders.items():
        try:
            contestants[name] = Contestant(make(), work, x, t)
            contestants[name].warm_up(x_eval, t_eval, block_s, steps)
        except NotImplementedError:  # not written for this workload: the cell says "—"
            contestants.pop(name, None)
            results[name] = Result(covered=False)
        except Exception as e:  # a peer that cannot run this workload: its cell says why
            contestants.pop(name, None)
            results[name] = Result(error=f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
                                   if str(e) else type(e).__name__)
    names = list(contestants)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:  # alternate who goes first
            if name in contestants:
                try:
                    contestants[name].round()
                except Exception as e:
                    results[name] = Result(error=f"{type(e).__name__} in round {r}: {e}")
                    del contestants[name]
    for name, c in contestants.items():
        results[name] = c.result
    return {name: results[name] for name in builders if name in results}


def ratio_cell(ours: list[float], theirs: Result) -> str:
    if theirs.error or not theirs.covered:
        return "—"
    ratios = [b / a for a, b in zip(ours, theirs.rates)]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


def trains(r: Result) -> bool:
    return r.loss_after < r.loss_before


def tables(all_results: dict[str, dict[str, Result]], columns: list[str]) -> list[str]:
    by_key = {w.key: w for w in WORKLOADS}
    labels = {"mitbadak": "mitbadak", **{n: label_of(n) for n in columns}}
    lines = ["peer / mitbadak, median over rounds of same-round rate ratios (min–max); above 1: "
             "the peer is faster", "",
             "| workload | mitbadak ms | " + " | ".join(labels[n] for n in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for key, results in all_results.items():
        ours = results["mitbadak"]
        ms = (f"{1e3 * by_key[key].batch / statistics.median(ours.rates):.2f}"
              if ours.rates else "—")
        cells = [ratio_cell(ours.rates, results[n]) if n in results else "—" for n in columns]
        lines.append(f"| {key}. {by_key[key].title} | {ms} | " + " | ".join(cells) + " |")
    names = ["mitbadak", *columns]
    lines += ["", "loss on a fixed batch of 1,000 before → after the same untimed training "
              "steps in every framework, first call in seconds (compilation)", "",
              "| workload | " + " | ".join(labels[n] for n in names) + " |",
              "|---|" + "---|" * len(names)]
    failures = []
    for key, results in all_results.items():
        cells = []
        for n in names:
            r = results.get(n)
            if r is None or not r.covered:
                cells.append("—")
            elif r.error:
                cells.append("cannot run")
                failures.append(f"- {key}, {labels[n]}: {r.error}")
            else:
                flag = "" if trains(r) else " **NOT TRAINING**"
                cells.append(f"{r.loss_before:.3f} → {r.loss_after:.3f}{flag}, "
                             f"{r.first_call_s:.2f} s")
        steps = by_key[key].check_steps
        lines.append(f"| {key}, {steps} steps | " + " | ".join(cells) + " |")
    lines += ["", "—: not covered (the NumPy floor is written for MLPs only), or cannot run"]
    return lines + ([""] + failures if failures else [])


def label_of(name: str) -> str:
    return {"floor": "NumPy floor", "torch": "PyTorch", "torch-best": "PyTorch best",
            "torch-compile": "PyTorch compile",
            "jax": "JAX jit", "tinygrad": "tinygrad", "dezero": "DeZero",
            "mygrad": "MyGrad", "book": "book's code"}[name]


def versions(peers: dict[str, ModuleType]) -> list[str]:
    out = [f"mitbadak {mb.__version__}, NumPy {np.__version__}, Python "
           f"{platform.python_version()}, {os.cpu_count()} cores"]
    try:
        from threadpoolctl import threadpool_info
        out += [f"BLAS: {p.get('internal_api')} {p.get('version')}, {p.get('num_threads')} "
                "threads" for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        pass
    seen = set()
    for module in peers.values():
        if module.__name__ not in seen:
            seen.add(module.__name__)
            out.append(module.version())
    return out


def write_docs(block: list[str]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"bench_peers: {DOCS} has no {BEGIN} ... {END} block to replace")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    new = head + BEGIN + "\n" + "\n".join(block) + "\n" + END + tail
    atomic_write(DOCS, new.encode("utf-8"))
    print(f"wrote the table into {DOCS}")


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUM_CPU_THREADS")  # the last is tinygrad's CPU backend's


def set_threads(n: int, argv: list[str]) -> None:
    """BLAS, OpenMP (torch) and XLA read their thread counts when they load, so the script
    runs itself again with the variables set (once: the marker variable says it is done)."""
    if os.environ.get("BENCH_PEERS_THREADS") == str(n):
        return
    env = dict(os.environ, BENCH_PEERS_THREADS=str(n), **{v: str(n) for v in THREAD_VARIABLES})
    if n == 1:  # XLA's CPU client: one thread for its Eigen pool
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                            "intra_op_parallelism_threads=1").strip()
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), *argv], env)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=float, default=0.3,
                        help="seconds each framework runs per round (default 0.3)")
    parser.add_argument("--workloads", default=",".join(w.key for w in WORKLOADS))
    parser.add_argument("--peers", default=",".join(n for n in MODULES if n not in OPT_IN),
                        help=f"comma-separated, from {', '.join(MODULES)} (default: all but "
                             f"{', '.join(OPT_IN)})")
    parser.add_argument("--threads", type=int, default=0,
                        help="BLAS/OpenMP/torch/XLA/tinygrad threads (default: their own)")
    parser.add_argument("--quick", action="store_true",
                        help="3 steps a block, at most 2 rounds: a smoke test")
    parser.add_argument("--samples", type=int, default=10_000, help="synthetic samples")
    parser.add_argument("--book-dir", default="",
                        help="a checkout of the book's code (oreilly-japan/"
                             "deep-learning-from-scratch) for the peer 'book'; default: "
                             "$MITBADAK_BOOK_DIR")
    parser.add_argument("--note", default="", help="a line for the docs (e.g. the load)")
    parser.add_argument("--write-docs", action="store_true",
                        help=f"replace the block between {BEGIN} and {END} in {DOCS.name}")
    args = parser.parse_args(argv)
    known = {w.key for w in WORKLOADS}
    args.workloads = [k for k in args.workloads.split(",") if k]
    args.peers = [p for p in args.peers.split(",") if p and p != "mitbadak"]
    for what, given, allowed in (("workload", args.workloads, known),
                                 ("peer", args.peers, set(MODULES))):
        bad = [g for g in given if g not in allowed]
        if bad:
            parser.error(f"unknown {what} {', '.join(bad)}; choose from "
                         f"{', '.join(sorted(allowed))}")
    if args.rounds < 1 or args.block <= 0 or args.threads < 0 or args.samples < EVAL_SAMPLES:
        parser.error(f"--rounds must be >= 1, --block > 0, --threads >= 0 and --samples >= "
                     f"{EVAL_SAMPLES}")
    if args.quick:
        args.rounds, args.samples = min(args.rounds, 2), 2000
    args.steps = 3 if args.quick else 0
    return args


def command_line(argv: list[str]) -> str:
    """The command as the docs show it: without --write-docs, and --note's text stands apart."""
    shown, skip = ["python", "benchmarks/bench_peers.py"], False
    for arg in argv:
        if not skip and arg not in ("--write-docs", "--note") and not arg.startswith("--note="):
            shown.append(arg)
        skip = arg == "--note"
    return " ".join(shown)


def main(argv: list[str] | None = None) -> None:
    raw = sys.argv[1:] if argv is None else argv
    args = parse(raw)
    if args.threads and argv is None:
        set_threads(args.threads, raw)
    if args.book_dir:  # where peers.book_peer looks
        os.environ["MITBADAK_BOOK_DIR"] = args.book_dir
    peers: dict[str, ModuleType] = {}
    skipped = []
    for name in args.peers:
        module, why = load_peer(name)
        if module is None:
            print(why)
            skipped.append(why)
        else:
            peers[name] = module
    info = versions(peers)
    print("\n".join(info), flush=True)
    x, t = synthetic_data(args.samples)
    started = time.perf_counter()
    results = {}
    for work in WORKLOADS:
        if work.key in args.workloads:
            results[work.key] = bench(work, peers, x, t, args.rounds, args.block, args.steps)
            mine = results[work.key]["mitbadak"]
            print(f"{work.key}. {work.title}: done ({time.perf_counter() - started:.0f} s; "
                  f"mitbadak loss {mine.loss_before:.3f} -> {mine.loss_after:.3f})", flush=True)
    body = tables(results, list(peers))
    print("\n" + "\n".join(body))
    took = time.perf_counter() - started
    print(f"\ntook {took:.0f} s")
    if args.write_docs:
        settings = (f"{args.rounds} rounds of ~{args.block} s blocks per framework, "
                    f"{args.samples} synthetic samples, threads: "
                    f"{args.threads or 'each library its default'}; the run took {took:.0f} s")
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        block = [f"Measured {stamp} by `{command_line(raw)}`.", "", "- " + "\n- ".join(info),
                 f"- {settings}"] + ([f"- {args.note}"] if args.note else []) + \
                ([f"- {s}" for s in skipped]) + [""] + body
        write_docs(block)


if __name__ == "__main__":
    main()
