"""CNN accuracy benchmark: the book's SimpleConvNet and DeepConvNet on Fashion-MNIST.

Each is trained on the full 60,000 training images by the command itself, ``mitbadak train
--model simple-cnn|deep-cnn --dataset fashion-mnist`` (He init, Adam lr 1e-3, batch 100: the
book's train_convnet.py and train_deepnet.py settings apart from the init and the number of
epochs), seeded (seed 0); ``--schedule cosine`` anneals the learning rate to 0 over the
epochs. The run is kept in ``--out``/<model>-<schedule> (checkpoints, history, curves.png).
Targets: test accuracy >= 0.915 (SimpleConvNet) and >= 0.925 (DeepConvNet).

Seconds per epoch include the per-epoch evaluation (10,000 training and 10,000 test images);
the median is reported because a shared machine makes some epochs slow.

Run: OPENBLAS_NUM_THREADS=2 python benchmarks/cnn_accuracy.py [--simple-epochs 20]
     [--deep-epochs 20] [--only simple-cnn|deep-cnn] [--schedule constant|cosine]
     [--out runs/cnn-accuracy]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from mitbadak.cli import main as mitbadak

TARGETS = {"simple-cnn": 0.915, "deep-cnn": 0.925}


def train(model: str, epochs: int, schedule: str, out: Path) -> dict:
    """Train ``model`` on Fashion-MNIST into ``out`` (replacing an earlier run there) and
    return its history with the wall-clock seconds of the whole command."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    status = mitbadak(["train", "--model", model, "--dataset", "fashion-mnist", "--epochs",
                       str(epochs), "--schedule", schedule, "--quiet", "--out", str(out)])
    if status != 0:
        raise SystemExit(f"mitbadak train --model {model} failed with status {status}")
    history = json.loads((out / "history.json").read_text())
    return {**history, "total_seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simple-epochs", type=int, default=20)
    parser.add_argument("--deep-epochs", type=int, default=20)
    parser.add_argument("--only", choices=TARGETS, help="run one of the two models")
    parser.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                        help="the learning rate over the epochs (see mitbadak train --help)")
    parser.add_argument("--out", type=Path, default=Path("runs/cnn-accuracy"))
    args = parser.parse_args()
    epochs = {"simple-cnn": args.simple_epochs, "deep-cnn": args.deep_epochs}
    rows = []
    for model, target in TARGETS.items():
        if args.only not in (None, model):
            continue
        h = train(model, epochs[model], args.schedule, args.out / f"{model}-{args.schedule}")
        accuracy = h["test_accuracy"]
        best = max(range(len(accuracy)), key=accuracy.__getitem__)
        print(f"{model}, {args.schedule} lr: test accuracy by epoch: "
              + " ".join(f"{a:.4f}" for a in accuracy), flush=True)
        rows.append(f"| {model} | {args.schedule} | {len(accuracy)} | {accuracy[-1]:.4f} | "
                    f"{accuracy[best]:.4f} (epoch {best + 1}) | {h['train_accuracy'][-1]:.4f} | "
                    f">= {target}: {'met' if accuracy[-1] >= target else 'missed'} | "
                    f"{statistics.median(h['seconds']):.1f} | {h['total_seconds']:.0f} |")
    print("\n| model | lr | epochs | test accuracy (final) | best (epoch) | train accuracy "
          "| target | s/epoch (median) | total s |\n|---|---|---|---|---|---|---|---|---|\n"
          + "\n".join(rows))


if __name__ == "__main__":
    main()
