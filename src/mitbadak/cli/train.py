"""``mitbadak train``: train an MLP or a convolutional network on digits, MNIST or
Fashion-MNIST and keep the whole run.

Writes into ``--out`` (default ``runs/<dataset>-<date>-<time>``): ``last.npz`` (the checkpoint
after the latest epoch), ``best.npz`` (the one with the best test accuracy), ``history.json``,
``history.csv`` and ``curves.png``. ``--resume DIR/last.npz`` continues such a run with its
saved settings, bit for bit as if it had not stopped.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from mitbadak.cli import UsageError
from mitbadak.data import CLASSES, DATASETS
from mitbadak.training.registry import ARCHITECTURES, architecture

# The settings of a run, with their defaults. The flags default to None so that a run can
# tell which ones were given (``--resume`` takes the saved settings and refuses new ones);
# epochs and batch size, when not given, depend on the model and the dataset.
DEFAULTS: dict[str, Any] = {
    "model": "mlp", "dataset": "digits", "hidden": [100, 100], "activation": "relu",
    "init": "he", "batchnorm": True, "dropout": 0.0, "weight_decay": 0.0, "optimizer": "adam",
    "lr": None, "schedule": "constant", "epochs": None, "batch_size": None, "seed": 0,
}
MLP_ONLY = ("hidden", "activation", "batchnorm", "dropout")  # a CNN run refuses these flags
# From the architecture registry: --model name -> class name, and -> default epochs by dataset.
MODELS = {arch.cli_name: arch.name for arch in ARCHITECTURES.values()}
EPOCHS = {arch.cli_name: dict(arch.epochs) for arch in ARCHITECTURES.values()}
BATCH_SIZE = {"digits": 32, "mnist": 100, "fashion-mnist": 100}  # digits: 1,437 images


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from mitbadak.nn import ACTIVATIONS
    from mitbadak.optim import OPTIMIZERS

    parser = subparsers.add_parser(
        "train", help="train an MLP or a CNN on digits, MNIST or Fashion-MNIST",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a network and save the run: the checkpoints last.npz and best.npz,\n"
                    "history.json, history.csv and curves.png. The models: mlp, a multi-layer\n"
                    "perceptron (per hidden layer: Linear -> [BatchNorm] -> activation ->\n"
                    "[Dropout]); simple-cnn, the book's SimpleConvNet (chapter 7); deep-cnn,\n"
                    "its DeepConvNet (chapter 8).",
        epilog="examples:\n"
               "  mitbadak train                                   # digits, built in\n"
               "  mitbadak train --dataset fashion-mnist --hidden 256,128,100 --out runs/f\n"
               "  mitbadak train --resume runs/f/last.npz --epochs 30   # 10 more epochs\n"
               "  mitbadak train --model simple-cnn --dataset fashion-mnist")
    parser.add_argument("--model", choices=MODELS,
                        help="the network (default: mlp); --hidden, --activation, --batchnorm "
                             "and --dropout shape the mlp only")
    parser.add_argument("--dataset", choices=DATASETS,
                        help="the data (default: digits, built in; the others are found or "
                             "downloaded, see --data-dir)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="a directory holding the dataset's four IDX files")
    parser.add_argument("--hidden", type=_sizes, metavar="N,N,...",
                        help="hidden layer sizes (default: 100,100)")
    parser.add_argument("--activation", choices=sorted(ACTIVATIONS),
                        help="activation of the hidden layers (default: relu)")
    parser.add_argument("--init", type=_initializer, metavar="NAME|STD",
                        help="weight initialisation: he, xavier, lecun, auto, ... or a "
                             "standard deviation such as 0.01 (default: he)")
    parser.add_argument("--batchnorm", action=argparse.BooleanOptionalAction,
                        help="BatchNorm after each hidden Linear layer (default: on)")
    parser.add_argument("--dropout", type=_probability, metavar="P",
                        help="dropout probability after each hidden layer (default: 0, none)")
    parser.add_argument("--weight-decay", type=_non_negative, metavar="L",
                        help="L2 weight decay, added to the gradient (AdamW: decoupled) "
                             "(default: 0)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS),
                        help="update rule (default: adam)")
    parser.add_argument("--lr", type=_positive, metavar="LR",
                        help="learning rate (default: the optimizer's own, 0.001 for adam)")
    parser.add_argument("--schedule", choices=("constant", "cosine"),
                        help="learning rate over the epochs: constant, or cosine annealing "
                             "from --lr down to 0 at the last epoch (default: constant)")
    parser.add_argument("--epochs", type=_positive_int, metavar="N",
                        help="epochs in all (default for digits, mnist, fashion-mnist: "
                             "40, 10, 20 (mlp); 30, 10, 10 (simple-cnn); 30, 10, 15 (deep-cnn); "
                             "with --resume, the run's own)")
    parser.add_argument("--batch-size", type=_positive_int, metavar="B",
                        help="samples per update (default: 32 for digits, 100 otherwise)")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="seed of the weights, the shuffling and dropout (default: 0)")
    parser.add_argument("--out", metavar="DIR",
                        help="output directory (default: runs/<dataset>-<date>-<time>; with "
                             "--resume, the checkpoint's directory)")
    parser.add_argument("--resume", metavar="CKPT",
                        help="continue the run saved in CKPT (its last.npz) with its saved "
                             "settings; only --epochs, --out, --data-dir and --quiet apply")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no line per epoch, only the summary")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mitbadak.cli._common import EVAL_BATCH_SIZE, load_checkpoint, load_data
    from mitbadak.training.checkpoint import CheckpointError
    from mitbadak.training.trainer import Trainer, TrainingDiverged
    from mitbadak.viz.figures import learning_curves

    if args.resume is None:
        settings = _new_settings(args)
        out = Path(args.out or f"runs/{settings['dataset']}-{datetime.now():%Y%m%d-%H%M%S}")
        if (out / "last.npz").exists():
            raise UsageError(f"{out} already holds a run (last.npz): choose another --out, or "
                             f"continue it with --resume {out / 'last.npz'}")
    else:
        settings = _resumed_settings(args, load_checkpoint(args.resume).meta)
        out = Path(args.out) if args.out else Path(args.resume).parent

    (x_train, t_train), test_data = load_data(settings["dataset"], args.data_dir, args.quiet,
                                              flatten=settings["model"] == "mlp")
    model, optimizer, scheduler = _build(settings, x_train.shape[1:])
    trainer = Trainer(model, optimizer, (x_train, t_train), test_data,
                      batch_size=settings["batch_size"], scheduler=scheduler, out_dir=out,
                      quiet=args.quiet, meta={"settings": settings},
                      eval_batch_size=EVAL_BATCH_SIZE)
    if args.resume is not None:
        try:  # the weights, optimizer, schedule, shuffling, dropout and history
            trainer.resume(args.resume)
        except CheckpointError as error:
            raise UsageError(str(error)) from None
        if trainer.epoch >= settings["epochs"]:
            raise UsageError(f"{args.resume} has completed {trainer.epoch} epochs already; "
                             f"ask for more with --epochs N (N > {trainer.epoch})")

    start = time.perf_counter()
    try:
        history = trainer.fit(settings["epochs"])
    except TrainingDiverged as error:
        print(f"mitbadak train: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if trainer.epoch:
            print(f"interrupted after epoch {trainer.epoch}; continue with: mitbadak train "
                  f"--resume {trainer.checkpoint_path}", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    figure = learning_curves(history, out / "curves.png", title=_title(settings))
    best = max(range(len(history.epoch)), key=history.test_accuracy.__getitem__)
    print(f"{_title(settings)}: {trainer.epoch} epochs ({seconds:.1f} s)\n"
          f"test accuracy {history.test_accuracy[-1]:.4f} (train {history.train_accuracy[-1]:.4f}"
          f"); best {history.test_accuracy[best]:.4f} at epoch {history.epoch[best]}\n"
          f"run saved in {out}/: last.npz, best.npz, history.json, history.csv\n"
          f"figure: {figure}")
    return 0


def _new_settings(args: argparse.Namespace) -> dict[str, Any]:
    settings = {**DEFAULTS, **{k: v for k in DEFAULTS if (v := getattr(args, k)) is not None}}
    model = settings["model"]
    if model != "mlp":
        mlp_flags = [_flag(k) for k in MLP_ONLY if getattr(args, k) is not None]
        if mlp_flags:
            raise UsageError(f"{', '.join(mlp_flags)}: for --model mlp only ({model} is the "
                             "book's recipe)")
        settings = {k: v for k, v in settings.items() if k not in MLP_ONLY}
    if settings["epochs"] is None:
        settings["epochs"] = EPOCHS[model][settings["dataset"]]
    if settings["batch_size"] is None:
        settings["batch_size"] = BATCH_SIZE[settings["dataset"]]
    settings["weight_decay_on"] = "weights"  # see _build
    return settings


def _resumed_settings(args: argparse.Namespace, meta: dict[str, Any]) -> dict[str, Any]:
    if "settings" not in meta:
        raise UsageError(f"{args.resume}: not a checkpoint of `mitbadak train` (it holds no "
                         "settings)")
    ignored = [_flag(k) for k in DEFAULTS if k != "epochs" and getattr(args, k) is not None]
    if ignored:
        raise UsageError(f"--resume continues a run with its saved settings; drop "
                         f"{', '.join(ignored)} (only --epochs, --out, --data-dir and --quiet "
                         "apply)")
    settings = {"model": "mlp", **meta["settings"]}  # runs saved before --model: MLPs
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    return settings


def _flag(setting: str) -> str:
    return f"--{setting.replace('_', '-')}"


def _build(settings: dict[str, Any], input_shape: tuple[int, ...]) -> tuple[Any, Any, Any]:
    """The model, optimizer and scheduler (or None) that ``settings`` describe, for inputs of
    ``input_shape`` (pixels for the mlp, (C, H, W) for a CNN), seeded by ``settings["seed"]``.

    Weight decay follows `optim.param_groups`: the weights are decayed, biases and
    BatchNorm's gamma and beta are not. Runs saved before that policy (their settings lack
    ``weight_decay_on``) decayed every parameter, and resume as they ran."""
    import mitbadak as mb
    from mitbadak import nn
    from mitbadak.optim import OPTIMIZERS, param_groups
    from mitbadak.optim.lr_scheduler import CosineAnnealingLR

    mb.manual_seed(settings["seed"])
    classes = len(CLASSES[settings["dataset"]])
    network: Any = architecture(settings["model"]).cls
    model: nn.Module
    if network is nn.MLP:
        model = nn.MLP(math.prod(input_shape), settings["hidden"], classes,
                       activation=settings["activation"], init=settings["init"],
                       batchnorm=settings["batchnorm"], dropout=settings["dropout"])
    else:
        model = network(input_dim=input_shape, output_size=classes, init=settings["init"])
    options: dict[str, Any] = {} if settings["lr"] is None else {"lr": settings["lr"]}
    if settings.get("weight_decay_on", "all") == "weights":
        params: Any = param_groups(model.parameters(), settings["weight_decay"])
    else:
        params, options["weight_decay"] = model.parameters(), settings["weight_decay"]
    optimizer = OPTIMIZERS[settings["optimizer"]](params, **options)
    cosine = settings["schedule"] == "cosine"
    return model, optimizer, CosineAnnealingLR(optimizer, settings["epochs"]) if cosine else None


def _title(settings: dict[str, Any]) -> str:
    """``digits: MLP 100-100 relu/he +BN, adam`` -- the run in one line."""
    decay = f" wd {settings['weight_decay']:g}" if settings["weight_decay"] else ""
    lr = f" lr {settings['lr']:g}" if settings["lr"] is not None else ""
    lr += " cosine" if settings["schedule"] == "cosine" else ""
    return f"{settings['dataset']}: {_architecture(settings)}{decay}, {settings['optimizer']}{lr}"


def _architecture(settings: dict[str, Any]) -> str:
    """``MLP 100-100 relu/he +BN`` or ``SimpleConvNet he``."""
    if settings["model"] != "mlp":
        return f"{MODELS[settings['model']]} {settings['init']}"
    extras = "".join([" +BN" if settings["batchnorm"] else "",
                      f" dropout {settings['dropout']:g}" if settings["dropout"] else ""])
    hidden = "-".join(map(str, settings["hidden"]))
    return f"MLP {hidden} {settings['activation']}/{settings['init']}{extras}"


# ------------------------------------------------------------------ argument types
def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive layer sizes separated by commas, such as 100,100; got {text!r}")
    return sizes


def _initializer(text: str) -> str:
    from mitbadak.nn.init import get_initializer

    try:
        get_initializer(text)
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _number(text: str, accept: Any, expected: str, kind: type = float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive(text: str) -> float:
    return _number(text, lambda v: v > 0 and v != float("inf"), "a positive number")


def _non_negative(text: str) -> float:
    return _number(text, lambda v: 0 <= v < float("inf"), "a number >= 0")


def _probability(text: str) -> float:
    return _number(text, lambda v: 0 <= v < 1, "a probability in [0, 1)")


def _positive_int(text: str) -> int:
    return _number(text, lambda v: v > 0, "a positive integer", int)
