"""Accuracy benchmarks: what `mitbadak train` reaches, and how long an epoch takes.

1. ``digits`` with the command's defaults (what ``make demo`` runs): MLP 100-100, ReLU, He,
   BatchNorm, Adam lr 1e-3, batch 32, 40 epochs. Target: test accuracy >= 0.97.
2. Fashion-MNIST, the full 60,000 training images, MLP 256-128-100 with BatchNorm, He and
   Adam (lr 1e-3, batch 100), 20 epochs, the learning rate constant or annealed to 0 along a
   cosine. Target: test accuracy >= 0.895 (the same MLP in Fashion-MNIST's published
   benchmark table reaches 0.8833).

Each run is the command itself (``mitbadak.cli.main``), seeded (seed 0), in a temporary
directory; the numbers come from its ``history.json``. Seconds per epoch include the
per-epoch evaluation; the median is reported because a shared machine makes some epochs slow.

Run: python benchmarks/accuracy.py [--skip-fashion]      (Fashion-MNIST: minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from mitbadak.cli import main as mitbadak

FASHION = ["--dataset", "fashion-mnist", "--hidden", "256,128,100", "--epochs", "20"]
RUNS = {
    "digits, defaults (100-100 BN, Adam, batch 32, 40 epochs)": [],
    "fashion-mnist, 256-128-100 BN, Adam, constant lr": FASHION,
    "fashion-mnist, 256-128-100 BN, Adam, cosine lr": [*FASHION, "--schedule", "cosine"],
}


def run(flags: list[str]) -> dict[str, float]:
    """Train with ``flags`` and summarise the history."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the command's own summary
            status = mitbadak(["train", *flags, "--quiet", "--out", out])
        seconds = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"mitbadak train {' '.join(flags)} failed with status {status}")
        history = json.loads((Path(out) / "history.json").read_text())
    accuracy = history["test_accuracy"]
    return {"epochs": len(accuracy), "final": accuracy[-1], "best": max(accuracy),
            "median s/epoch": statistics.median(history["seconds"]), "total s": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-fashion", action="store_true", help="only the digits run")
    args = parser.parse_args()
    rows = []
    for name, flags in RUNS.items():
        if args.skip_fashion and "fashion" in name:
            continue
        result = run(flags)
        rows.append(f"| {name} | {result['epochs']} | {result['final']:.4f} | "
                    f"{result['best']:.4f} | {result['median s/epoch']:.2f} | "
                    f"{result['total s']:.1f} |")
        print(rows[-1], flush=True)
    print("\n| run | epochs | test accuracy (final) | best epoch's | s/epoch (median) | "
          "total s |\n|---|---|---|---|---|---|\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
