"""Convolution and pooling, forward + backward: mitbadak against PyTorch (CPU), same run.

    python benchmarks/bench_conv.py [--rounds 5] [--reps 15] [--threads 2]

Each round times a block of repetitions of every case in each library (median per block) and
the report gives the median over rounds of the time ratio mitbadak / torch (below 1: faster).
Blocks, not alternating calls, because BLAS and OpenMP worker threads keep spinning for a
while after a call and would slow down the other library's next call. A breakdown shows where
mitbadak's time goes (im2col, matrix products, col2im). The last cases are whole Adam steps of
the book's SimpleConvNet and DeepConvNet, the same layers in each library; below them, the
GEMM-FLOP bound of each step: its convolutions' multiply-adds at this machine's float32 GEMM
rate (a 2048x2048 product), the time no im2col-and-GEMM convolution can beat.

NumPy's BLAS threads are set from outside: for the one-thread comparison run
``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/bench_conv.py --threads 1``
(add ``--clock cpu`` on a machine that other processes share).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import mitbadak as mb
from mitbadak.functional.conv import Convolution, _bias_grad, avg_pool2d, conv2d, max_pool2d
from mitbadak.functional.im2col import add_columns

CASES = {  # name: (op, x shape, weight shape or pool kernel, padding, x requires grad)
    "SimpleConvNet conv 1x28x28 -> 30x5x5": ("conv", (100, 1, 28, 28), (30, 1, 5, 5), 0, False),
    "DeepConvNet conv 16x28x28 -> 16x3x3 p1": ("conv", (100, 16, 28, 28), (16, 16, 3, 3), 1, True),
    "conv 32x14x14 -> 64x3x3 p1": ("conv", (100, 32, 14, 14), (64, 32, 3, 3), 1, True),
    "max_pool2d 30x24x24 k2": ("max", (100, 30, 24, 24), 2, 0, True),
    "avg_pool2d 30x24x24 k2": ("avg", (100, 30, 24, 24), 2, 0, True),
}


CLOCK = time.perf_counter  # --clock cpu: time.process_time


def median_ms(f: Callable[[], object], reps: int) -> float:
    f()
    times = []
    for _ in range(reps):
        t0 = CLOCK()
        f()
        times.append(CLOCK() - t0)
    return float(np.median(times)) * 1e3


def mitbadak_step(case: tuple, rng: np.random.Generator) -> Callable[[], None]:
    op, x_shape, w, padding, x_grad = case
    x = mb.tensor(rng.standard_normal(x_shape), requires_grad=x_grad)
    if op == "conv":
        W = mb.tensor(rng.standard_normal(w) * 0.1, requires_grad=True)  # noqa: N806
        b = mb.tensor(np.zeros(w[0]), requires_grad=True)
        params = [W, b]
        forward = lambda: conv2d(x, W, b, padding=padding)  # noqa: E731
    else:
        pool = max_pool2d if op == "max" else avg_pool2d
        params = []
        forward = lambda: pool(x, w)  # noqa: E731
    gy = rng.standard_normal(forward().shape).astype(np.float32)

    def step() -> None:
        for p in params + [x]:
            p.grad = None
        forward().backward(gy)
    return step


def torch_step(case: tuple) -> Callable[[], None]:
    import torch
    tf = torch.nn.functional
    op, x_shape, w, padding, x_grad = case
    x = torch.randn(x_shape, requires_grad=x_grad)
    if op == "conv":
        W = (torch.randn(w) * 0.1).requires_grad_()  # noqa: N806
        b = torch.zeros(w[0], requires_grad=True)
        params = [W, b]
        forward = lambda: tf.conv2d(x, W, b, padding=padding)  # noqa: E731
    else:
        pool = tf.max_pool2d if op == "max" else tf.avg_pool2d
        params = []
        forward = lambda: pool(x, w)  # noqa: E731
    gy = torch.randn(forward().shape)

    def step() -> None:
        for p in params + [x]:
            p.grad = None
        forward().backward(gy)
    return step


def adam_steps(ours, theirs, batch: int = 100) -> tuple[Callable[[], None], Callable[[], None]]:
    """One Adam training step (cross-entropy) of each library's network, on the same batch."""
    import torch

    from mitbadak import optim
    from mitbadak.functional import cross_entropy

    rng = np.random.default_rng(1)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    t = rng.integers(0, 10, batch)
    opt = optim.Adam(ours.parameters(), lr=1e-3)
    topt = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)

    def step() -> None:
        opt.zero_grad()
        cross_entropy(ours(x), t).backward()
        opt.step()

    def torch_step() -> None:
        topt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(xt), tt).backward()
        topt.step()
    return step, torch_step


def torch_convnets() -> dict[str, object]:
    """The book's SimpleConvNet and DeepConvNet (as in `mitbadak.nn.convnets`) in torch.nn."""
    import torch
    tnn = torch.nn
    deep, c_in = [], 1
    for index, c_out in enumerate((16, 16, 32, 32, 64, 64)):
        deep += [tnn.Conv2d(c_in, c_out, 3, padding=2 if index == 3 else 1), tnn.ReLU()]
        deep += [tnn.MaxPool2d(2)] if index % 2 else []
        c_in = c_out
    return {
        "SimpleConvNet": tnn.Sequential(
            tnn.Conv2d(1, 30, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
            tnn.Linear(30 * 12 * 12, 100), tnn.ReLU(), tnn.Linear(100, 10)),
        "DeepConvNet": tnn.Sequential(
            *deep, tnn.Flatten(), tnn.Linear(64 * 4 * 4, 50), tnn.ReLU(), tnn.Dropout(0.5),
            tnn.Linear(50, 10)),
    }


def conv_flops(model: mb.nn.Module, image: tuple[int, int, int]) -> int:
    """Floating-point operations of the convolutions of one training step per image: 2*MACs
    for the forward product, the same for dW, and for dx except in the first layer (whose
    input needs no gradient). The shapes are followed through the convolutions and poolings."""
    from mitbadak.functional.im2col import output_size
    c, h, w = image
    flops, first = 0, True
    for layer in model.layers:
        if not isinstance(layer, (mb.nn.Conv2d, mb.nn.MaxPool2d)):
            continue
        h, w = (output_size(n, k, s, p) for n, k, s, p in zip(
            (h, w), layer.kernel_size, layer.stride, layer.padding))
        if isinstance(layer, mb.nn.Conv2d):
            kh, kw = layer.kernel_size
            macs = layer.out_channels * c // layer.groups * kh * kw * h * w
            flops += 2 * macs * (2 if first else 3)
            c, first = layer.out_channels, False
    return flops


def gemm_gflops(size: int = 2048, reps: int = 5) -> float:
    """This machine's float32 GEMM rate (GFLOP/s) on a large square product."""
    a, b = (np.random.default_rng(0).random((size, size), dtype=np.float32) for _ in range(2))
    return 2 * size ** 3 / median_ms(lambda: a @ b, reps) / 1e6


def breakdown(case: tuple, rng: np.random.Generator, reps: int) -> dict[str, float]:
    """Milliseconds of each stage of one conv2d forward + backward (float32), as `Convolution` runs
    them: each stage timed on the first chunk of samples and multiplied by the chunk count."""
    _, x_shape, w_shape, padding, x_grad = case
    x = rng.standard_normal(x_shape).astype(np.float32)
    W = rng.standard_normal(w_shape).astype(np.float32)  # noqa: N806
    W_col = W.reshape(w_shape[0], -1)  # noqa: N806
    f = Convolution((1, 1), (padding, padding))
    f.forward(x, W)
    kernel = w_shape[2:]
    parts = f._chunks(f.xp, kernel, f.out)
    part, chunks = parts[0], len(parts)
    col = f._columns(f.xp[part], kernel, f.out)  # (n, C*KH*KW, L): one group
    g = rng.standard_normal((col.shape[0], w_shape[0], col.shape[2])).astype(np.float32)
    stages = {
        "im2col (x2)": lambda: [f._columns(f.xp[part], kernel, f.out) for _ in range(2)],
        "forward W_col @ col": lambda: np.matmul(W_col, col),
        "dW^T = sum col @ g^T": lambda: np.matmul(col, g.transpose(0, 2, 1)).sum(axis=0),
    }
    if x_grad:
        dcol, gxp = np.matmul(W_col.T, g), np.zeros_like(f.xp[part])
        stages["dcol = W_col^T @ g"] = lambda: np.matmul(W_col.T, g)
        stages["col2im"] = lambda: add_columns(dcol, gxp, kernel, (1, 1), f.out)
    times = {k: median_ms(fn, reps) * chunks for k, fn in stages.items()}
    times["db = sum g"] = median_ms(lambda: _bias_grad(g[..., None]), reps) * chunks
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: the process's CPU time, which leaves out the time other "
                             "processes held the core (meaningful with one thread only)")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(0)
    ours = {name: mitbadak_step(case, rng) for name, case in CASES.items()}
    theirs = {name: torch_step(case) for name, case in CASES.items()}
    for name, model in torch_convnets().items():
        net = f"{name} Adam step, batch 100"
        ours[net], theirs[net] = adam_steps(getattr(mb.nn, name)(), model)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in ours}
    for _ in range(args.rounds):
        for name in ours:
            t_ours = median_ms(ours[name], args.reps)
            time.sleep(0.05)
            t_torch = median_ms(theirs[name], args.reps)
            time.sleep(0.05)
            times[name].append((t_ours, t_torch))
    print(f"forward + backward, float32, torch threads {args.threads}, median of "
          f"{args.rounds} rounds, {args.clock} time")
    print(f"{'case':42s} {'mitbadak ms':>11s} {'torch ms':>9s} {'ratio':>6s}")
    for name, pairs in times.items():
        a = np.array(pairs)
        ratio = float(np.median(a[:, 0] / a[:, 1]))
        print(f"{name:42s} {np.median(a[:, 0]):11.2f} {np.median(a[:, 1]):9.2f} {ratio:6.2f}")
    rate = gemm_gflops()
    for name in torch_convnets():
        flops = conv_flops(getattr(mb.nn, name)(), (1, 28, 28)) * 100
        print(f"{name}: {flops / 1e9:.2f} GFLOP of convolution per step, batch 100: "
              f"{flops / rate / 1e6:.1f} ms at {rate:.0f} GFLOP/s (the GEMM bound)")
    for name, case in CASES.items():
        if case[0] == "conv":
            parts = breakdown(case, rng, args.reps)
            print(f"\n{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()) + " (ms)")


if __name__ == "__main__":
    main()
