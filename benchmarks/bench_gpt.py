"""One GPT training step: mitbadak against the same model in PyTorch (CPU), in one process.

The model is the issue's ~0.8M-parameter character GPT: 4 layers, 4 heads, 128 wide, block 128,
vocabulary 65 (tinyshakespeare's characters), batch 32, AdamW (lr 1e-3, weight decay 0.1 on
matrices), tanh GELU, tied head. Both frameworks train on the same random token windows; they
take turns, round after round, and we report the median seconds per step of each and the
median of the per-round ratios mitbadak/torch in steps per second (> 1: mitbadak is faster).
On a shared 2-core machine only such same-run ratios mean anything; on an overloaded one,
multi-threaded BLAS stalls (each GEMM waits for a preempted thread), so compare there with
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 for both.

Run: make bench   (or: python benchmarks/bench_gpt.py [--rounds 7] [--steps 2] [--profile])
``--profile`` adds where mitbadak's step spends its time: cProfile's own time of each module
of the library (shares of CPU time, which load on the machine disturbs far less than the
timings themselves).
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim

try:
    import torch
except ImportError:
    torch = None

V, BLOCK, LAYERS, HEADS, WIDTH, BATCH = 65, 128, 4, 4, 128, 32


def batches(seed: int = 0):
    rng = np.random.default_rng(seed)
    while True:
        x = rng.integers(0, V, (BATCH, BLOCK + 1))
        yield x[:, :-1], x[:, 1:]


def mitbadak_step() -> Callable[[np.ndarray, np.ndarray], float]:
    mb.manual_seed(0)
    model = nn.GPT(V, BLOCK, LAYERS, HEADS, WIDTH)
    opt = optim.AdamW(optim.param_groups(model.parameters(), 0.1), lr=1e-3)

    def step(x: np.ndarray, y: np.ndarray) -> float:
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(F.reshape(logits, -1, V), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    return step


def torch_step() -> Callable[[np.ndarray, np.ndarray], float]:
    tnn = torch.nn
    torch.manual_seed(0)

    class Block(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = tnn.LayerNorm(WIDTH), tnn.LayerNorm(WIDTH)
            self.qkv, self.proj = tnn.Linear(WIDTH, 3 * WIDTH), tnn.Linear(WIDTH, WIDTH)
            self.mlp = tnn.Sequential(tnn.Linear(WIDTH, 4 * WIDTH), tnn.GELU("tanh"),
                                      tnn.Linear(4 * WIDTH, WIDTH))

        def forward(self, x):
            n, t, e = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(n, t, 3, HEADS, e // HEADS).permute(
                2, 0, 3, 1, 4)
            a = tnn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(a.transpose(1, 2).reshape(n, t, e))
            return x + self.mlp(self.ln2(x))

    class TorchGPT(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok, self.pos = tnn.Embedding(V, WIDTH), tnn.Embedding(BLOCK, WIDTH)
            self.blocks = tnn.Sequential(*(Block() for _ in range(LAYERS)))
            self.ln_f = tnn.LayerNorm(WIDTH)

        def forward(self, idx):
            x = self.tok(idx) + self.pos.weight[: idx.shape[1]]
            return self.ln_f(self.blocks(x)) @ self.tok.weight.T

    model = TorchGPT()
    decay = [p for p in model.parameters() if p.ndim >= 2]
    plain = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": plain, "weight_decay": 0.0}], lr=1e-3)

    def step(x: np.ndarray, y: np.ndarray) -> float:
        opt.zero_grad(set_to_none=True)
        logits = model(torch.from_numpy(x))
        loss = tnn.functional.cross_entropy(logits.reshape(-1, V), torch.from_numpy(y).reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    return step


def profile(step: Callable[[np.ndarray, np.ndarray], float],
            data: Iterator[tuple[np.ndarray, np.ndarray]], steps: int = 4) -> None:
    """Print each library module's share of the step's CPU time (own time, not callees')."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(steps):
        step(*next(data))
    profiler.disable()
    stats = pstats.Stats(profiler)
    shares: Counter[str] = Counter()
    for (path, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        shares[path.split("mitbadak/")[-1] if "mitbadak/" in path else "NumPy and Python"] += own
    total = sum(shares.values())
    print(f"mitbadak's step by module (cProfile, {steps} steps, {total / steps * 1e3:.0f} ms "
          "of CPU time each with the profiler's overhead):")
    for name, own in shares.most_common(8):
        print(f"  {own / total:6.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=2, help="steps per framework per round")
    parser.add_argument("--profile", action="store_true",
                        help="then profile mitbadak's step: each module's share of the time")
    args = parser.parse_args()
    runners = {"mitbadak": mitbadak_step()}
    if torch is None:
        print("torch is not installed: only mitbadak is timed")
    else:
        runners["torch"] = torch_step()
    data = batches()
    for step in runners.values():  # warm-up: first allocations, BLAS threads
        step(*next(data))
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, step in runners.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                step(*next(data))
            seconds[name].append((time.perf_counter() - start) / args.steps)
    params = sum(p.size for p in nn.GPT(V, BLOCK, LAYERS, HEADS, WIDTH).parameters())
    print(f"GPT training step: {LAYERS} layers, {HEADS} heads, width {WIDTH}, block {BLOCK}, "
          f"batch {BATCH}, {params:,} parameters, AdamW; {args.rounds} rounds")
    for name, times in seconds.items():
        print(f"  {name:9} {statistics.median(times) * 1e3:8.1f} ms/step  "
              f"{BATCH * BLOCK / statistics.median(times):9.0f} tokens/s")
    if "torch" in seconds:
        ratios = [t / m for m, t in zip(seconds["mitbadak"], seconds["torch"])]
        print(f"  mitbadak/torch (steps per second, median of rounds): "
              f"{statistics.median(ratios):.2f}   (goal >= 0.8)")
    assert all(math.isfinite(t) for times in seconds.values() for t in times)
    if args.profile:
        profile(runners["mitbadak"], data)


if __name__ == "__main__":
    main()
