"""LSTM language-model training: mitbadak against PyTorch's nn.LSTM (CPU), same run.

    python benchmarks/bench_lstm.py [--vocab 65,10000] [--hidden 256] [--rounds 3] [--reps 3]

The model is the sequel's RNNLM (chapter 6): Embedding -> 2-layer LSTM -> Linear over the
vocabulary, cross-entropy at every position, SGD with truncated BPTT (the final states carried
to the next batch, detached), batch 20 x 35 steps of synthetic token ids. Two vocabularies by
default: 65 characters (the tinyshakespeare model: the LSTM's time loop is most of the work)
and 10,000 words (the PTB model: the output layer's (700, 256) @ (256, 10000) product and its
softmax dominate). Each library keeps its own training run going; the rounds alternate
between them (blocks of ``--reps`` steps, median per block), and the report gives the median
tokens/s of each and the median over rounds of the speed ratio mitbadak / torch (above 1:
mitbadak is faster). On a shared machine only such same-run ratios mean anything.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim


class RNNLM(nn.Module):
    """Embedding -> LSTM (batch first) -> Linear, as the sequel's Rnnlm."""

    def __init__(self, vocab: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab, init="xavier")

    def forward(self, ids: np.ndarray, state: tuple | None) -> tuple:
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def mitbadak_step(args: argparse.Namespace, data: np.ndarray) -> Callable[[], None]:
    mb.manual_seed(0)
    model = RNNLM(args.vocab_size, args.hidden, args.layers)
    opt = optim.SGD(model.parameters(), lr=0.1)
    state: list = [None]
    position = [0]

    def step() -> None:
        x, t = batch(data, position, args.batch, args.steps)
        logits, s = model(x, state[0])
        loss = F.cross_entropy(logits, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state[0] = tuple(h.detach() for h in s)
    return step


def torch_step(args: argparse.Namespace, data: np.ndarray) -> Callable[[], None]:
    import torch
    tnn = torch.nn

    class TorchRNNLM(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = tnn.Embedding(args.vocab_size, args.hidden)
            self.lstm = tnn.LSTM(args.hidden, args.hidden, num_layers=args.layers,
                                 batch_first=True)
            self.head = tnn.Linear(args.hidden, args.vocab_size)

        def forward(self, ids: torch.Tensor, state: tuple | None) -> tuple:
            out, state = self.lstm(self.embed(ids), state)
            return self.head(out), state

    torch.manual_seed(0)
    model = TorchRNNLM()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    state: list = [None]
    position = [0]

    def step() -> None:
        x, t = batch(data, position, args.batch, args.steps)
        logits, s = model(torch.from_numpy(x), state[0])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, args.vocab_size),
                                                 torch.from_numpy(t).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        state[0] = tuple(h.detach() for h in s)
    return step


def batch(data: np.ndarray, position: list[int], n: int, steps: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """The next (n, steps) inputs and targets from n parallel streams over the corpus."""
    streams = data.reshape(n, -1)
    p = position[0]
    if p + steps + 1 > streams.shape[1]:
        p = 0
    position[0] = p + steps
    return streams[:, p:p + steps], streams[:, p + 1:p + steps + 1]


def median_seconds(f: Callable[[], None], reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", default="65,10000", help="vocabulary sizes, comma-separated")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--steps", type=int, default=35)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    print(f"LSTM LM training step: {args.layers} layers x {args.hidden}, batch {args.batch} x "
          f"{args.steps} steps, float32, torch threads {args.threads} (NumPy's BLAS: "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'all cores')}), "
          f"{os.cpu_count()} cores, median of {args.rounds} rounds x {args.reps} steps")
    print(f"{'vocab':>6s} {'mitbadak ms':>11s} {'tokens/s':>9s} {'torch ms':>9s} "
          f"{'tokens/s':>9s} {'speed ratio':>11s}")
    for vocab in (int(v) for v in args.vocab.split(",")):
        args.vocab_size = vocab
        print(f"{vocab:6d} " + report(args), flush=True)


def report(args: argparse.Namespace) -> str:
    """One row: ms/step and tokens/s of each library, and mitbadak's speed / torch's."""
    data = np.random.default_rng(0).integers(0, args.vocab_size, args.batch * 2000)
    ours, theirs = mitbadak_step(args, data), torch_step(args, data)
    ours(), theirs()  # warm up
    pairs = []
    for _ in range(args.rounds):
        t_ours = median_seconds(ours, args.reps)
        time.sleep(0.05)
        t_torch = median_seconds(theirs, args.reps)
        time.sleep(0.05)
        pairs.append((t_ours, t_torch))
    a = np.array(pairs)
    tokens = args.batch * args.steps
    ms_ours, ms_torch = (float(np.median(a[:, k])) * 1e3 for k in (0, 1))
    ratio = float(np.median(a[:, 1] / a[:, 0]))
    return (f"{ms_ours:11.1f} {tokens / ms_ours * 1e3:9.0f} {ms_torch:9.1f} "
            f"{tokens / ms_torch * 1e3:9.0f} {ratio:11.2f}")


if __name__ == "__main__":
    main()
