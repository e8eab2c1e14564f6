"""``mitbadak evaluate CKPT``: a checkpoint's accuracy on its test set, per class, and its
confusion matrix (printed, and drawn as ``confusion.png``); for a language model, its
perplexity on the validation part of its text."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from mitbadak.data import CLASSES, DATASETS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="test accuracy, per-class accuracy and confusion matrix of a checkpoint",
        description="Evaluate a checkpoint written by `mitbadak train` on the test set of its "
                    "dataset: accuracy, accuracy per class, and the confusion matrix (printed, "
                    "and drawn as confusion.png).")
    parser.add_argument("checkpoint", metavar="CKPT", help="a checkpoint (.npz)")
    parser.add_argument("--dataset", choices=DATASETS,
                        help="evaluate on this dataset's test set (default: the one the "
                             "checkpoint was trained on)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="a directory holding the dataset's four IDX files")
    parser.add_argument("--out", metavar="DIR",
                        help="where to write confusion.png (default: the checkpoint's "
                             "directory)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mitbadak.cli._common import (
        check_fits_dataset,
        input_shape,
        load_checkpoint,
        load_data,
        output_dir,
        trained_dataset,
    )
    from mitbadak.training.evaluation import confusion_matrix, predict
    from mitbadak.viz.figures import confusion_matrix as draw_confusion_matrix

    saved = load_checkpoint(args.checkpoint)
    if saved.meta.get("settings", {}).get("task") == "language-model":
        return _language_model(args, saved)
    out = output_dir(args.out or Path(args.checkpoint).parent)  # before the work, not after
    dataset = trained_dataset(saved, args.dataset)
    check_fits_dataset(saved, dataset)
    shape = input_shape(saved)
    _, (x, t) = load_data(dataset, args.data_dir, flatten=len(shape) == 1)
    names = CLASSES[dataset]
    predictions = predict(saved.model, x).argmax(axis=1)
    matrix = confusion_matrix(t, predictions, len(names))
    correct = int(np.trace(matrix))
    epoch = saved.meta.get("training", {}).get("epoch")
    print(f"{args.checkpoint}" + (f" (after epoch {epoch})" if epoch else "") + "\n"
          f"{dataset} test set: accuracy {correct / len(t):.4f} ({correct} of {len(t)})\n")
    print(_per_class_table(matrix, names) + "\n")
    print(_matrix_table(matrix))
    figure = draw_confusion_matrix(matrix, names, out / "confusion.png",
                                   title=f"{dataset}: test accuracy {correct / len(t):.4f}")
    print(f"\nfigure: {figure}")
    return 0


def _language_model(args: argparse.Namespace, saved: Any) -> int:
    """Print the model's perplexity on the validation stream of the text it was trained on."""
    from mitbadak.cli import UsageError
    from mitbadak.cli import _language_model as lm
    from mitbadak.training.evaluation import evaluate_batches
    from mitbadak.training.language import perplexity

    if args.dataset is not None or args.data_dir is not None or args.out is not None:
        raise UsageError("--dataset, --data-dir and --out are for image classifiers; a "
                         "language model is evaluated on the text it was trained on")
    settings = saved.meta["settings"]
    data = lm.load(settings, saved.meta.get("vocabulary"))
    loss, accuracy = evaluate_batches(saved.model, data.valid)
    epoch = saved.meta.get("training", {}).get("epoch")
    tokens = sum(t.size for _, t in data.valid)
    print(f"{args.checkpoint}" + (f" (after epoch {epoch})" if epoch else "") + "\n"
          f"{lm.name(settings)} validation text ({tokens:,} characters): perplexity "
          f"{perplexity(loss):.3f} (loss {loss:.4f} nats per character), next-character "
          f"accuracy {accuracy:.4f}")
    return 0


def _per_class_table(matrix: np.ndarray, names: tuple[str, ...]) -> str:
    labels = [name if name == str(i) else f"{i} {name}" for i, name in enumerate(names)]
    width = max(map(len, [*labels, "class"]))
    lines = [f"{'class':<{width}}  accuracy  correct"]
    for i, label in enumerate(labels):
        total = int(matrix[i].sum())
        share = matrix[i, i] / total if total else float("nan")
        lines.append(f"{label:<{width}}  {share:8.4f}  {matrix[i, i]:>4} of {total}")
    return "\n".join(lines)


def _matrix_table(matrix: np.ndarray) -> str:
    width = max(len(str(matrix.max())), 2) + 1
    header = " " * len("true  0 -> ") + "".join(f"{j:>{width}}" for j in range(len(matrix)))
    rows = [f"true {i:>2} -> " + "".join(f"{n:>{width}}" for n in row)
            for i, row in enumerate(matrix)]
    return "confusion matrix (rows: true class, columns: predicted class)\n" + "\n".join(
        [header, *rows])
