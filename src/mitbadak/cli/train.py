"""``mitbadak train``: train an MLP or a convolutional network on digits, MNIST or
Fashion-MNIST, or a language model on a text (``--task language-model``,
`mitbadak.cli._language_model`), and keep the whole run.

Writes into ``--out`` (default ``runs/<dataset>-<date>-<time>``): ``last.npz`` (the checkpoint
after the latest epoch), ``best.npz`` (the one with the best test accuracy), ``history.json``,
``history.csv`` and ``curves.png``. ``--resume DIR/last.npz`` continues such a run with its
saved settings, bit for bit as if it had not stopped; with ``--epochs N`` it trains it further
(`_replan_cosine` says what that means for a cosine schedule). A command never replaces a
later checkpoint or another run's without ``--overwrite``; when it stops early (Ctrl-C, a full
disk) it says what is saved and the command that continues.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from mitbadak.cli import UsageError
from mitbadak.cli import _language_model as lm
from mitbadak.data import CLASSES, CORPORA, DATASETS
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
CLASSIFIERS = [name for name in MODELS if name not in lm.MODELS]
EPOCHS = {arch.cli_name: dict(arch.epochs) for arch in ARCHITECTURES.values()}
BATCH_SIZE = {"digits": 32, "mnist": 100, "fashion-mnist": 100}  # digits: 1,437 images


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from mitbadak.nn import ACTIVATIONS
    from mitbadak.optim import OPTIMIZERS

    parser = subparsers.add_parser(
        "train", help="train an image classifier (MLP, CNN) or a language model (LSTM)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a network and save the run: the checkpoints last.npz and best.npz,\n"
                    "history.json, history.csv and curves.png. The models: mlp, a multi-layer\n"
                    "perceptron (per hidden layer: Linear -> [BatchNorm] -> activation ->\n"
                    "[Dropout]); simple-cnn, the book's SimpleConvNet (chapter 7); deep-cnn,\n"
                    "its DeepConvNet (chapter 8); and, with --task language-model, lstm, the\n"
                    "sequel's better RNNLM (Embedding -> LSTM layers with dropout -> output\n"
                    "layer tied to the embedding) on the characters of a text, trained by\n"
                    "truncated BPTT and measured in perplexity per character (best.npz: the\n"
                    "lowest validation perplexity; draw text from it with `mitbadak sample`).",
        epilog="examples:\n"
               "  mitbadak train                                   # digits, built in\n"
               "  mitbadak train --dataset fashion-mnist --hidden 256,128,100 --out runs/f\n"
               "  mitbadak train --resume runs/f/last.npz --epochs 30   # 10 more epochs\n"
               "  mitbadak train --resume runs/f/best.npz --out runs/g  # from the best epoch\n"
               "  mitbadak train --model simple-cnn --dataset fashion-mnist\n"
               "  mitbadak train --task language-model --dataset tinyshakespeare --out runs/s\n"
               "  mitbadak train --task language-model --text my.txt --hidden 128 --seq-len 64\n"
               "  mitbadak sample runs/s/best.npz --prompt ROMEO: --temperature 0.8")
    parser.add_argument("--task", choices=("classify", lm.TASK),
                        help="classify images (default), or model a text's next character "
                             "(language-model; implied by a text --dataset, --text or --model "
                             "lstm)")
    parser.add_argument("--model", choices=MODELS,
                        help=f"the network (default: mlp; {lm.TASK}: lstm); --hidden, "
                             "--activation, --batchnorm and --dropout shape the mlp only, "
                             f"and --hidden, --layers, --dropout the {lm.TASK}")
    parser.add_argument("--dataset", choices=(*DATASETS, *CORPORA),
                        help="the data (default: digits, built in; the others are found or "
                             f"downloaded, see --data-dir; {lm.TASK}: tinyshakespeare, 40,000 "
                             "lines of Shakespeare, or names, 32,032 first names, both built "
                             "in)")
    parser.add_argument("--text", metavar="FILE",
                        help=f"{lm.TASK}: train on this UTF-8 text file instead (the last "
                             "10%% validates)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="a directory holding the dataset's four IDX files")
    parser.add_argument("--hidden", type=_sizes, metavar="N,N,...",
                        help="hidden layer sizes (default: 100,100); language-model: the "
                             "LSTM's size, also the embedding's (default: 256)")
    parser.add_argument("--layers", type=_positive_int, metavar="N",
                        help=f"{lm.TASK}: LSTM layers (default: 2)")
    parser.add_argument("--seq-len", type=_positive_int, metavar="T",
                        help=f"{lm.TASK}: time steps per batch, the truncated-BPTT length: "
                             "the gradient flows back T steps, the state runs on (default: "
                             "100)")
    parser.add_argument("--heads", type=_positive_int, metavar="H",
                        help=f"{lm.TASK} --model gpt: attention heads, which divide --hidden "
                             "(default: 4)")
    parser.add_argument("--warmup", type=_positive_int, metavar="STEPS",
                        help=f"{lm.TASK} --model gpt: optimizer steps of linear lr warm-up "
                             "before the cosine decay (default: 100)")
    parser.add_argument("--clip", dest="max_norm", type=_positive, metavar="NORM",
                        help=f"{lm.TASK}: clip the gradients' global norm to NORM before each "
                             "update (default: 1)")
    parser.add_argument("--activation", choices=sorted(ACTIVATIONS),
                        help="activation of the hidden layers (default: relu)")
    parser.add_argument("--init", type=_initializer, metavar="NAME|STD",
                        help="weight initialisation: he, xavier, lecun, auto, ... or a "
                             "standard deviation such as 0.01 (default: he)")
    parser.add_argument("--batchnorm", action=argparse.BooleanOptionalAction,
                        help="BatchNorm after each hidden Linear layer (default: on)")
    parser.add_argument("--dropout", type=_probability, metavar="P",
                        help="dropout probability after each hidden layer (default: 0, none; "
                             f"{lm.TASK}: 0.2, after the embedding, between the LSTM layers "
                             "and before the output)")
    parser.add_argument("--weight-decay", type=_non_negative, metavar="L",
                        help="L2 weight decay, added to the gradient (AdamW: decoupled) "
                             "(default: 0)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS),
                        help="update rule (default: adam)")
    parser.add_argument("--lr", type=_positive, metavar="LR",
                        help="learning rate (default: the optimizer's own, 0.001 for adam; "
                             f"{lm.TASK}: 0.002)")
    parser.add_argument("--schedule", choices=("constant", "cosine"),
                        help="learning rate over the epochs: constant, or cosine annealing "
                             "from --lr down to 0 at the last epoch (default: constant; "
                             f"{lm.TASK}: cosine). "
                             "Trained further (--resume with a new --epochs N), a constant "
                             "schedule keeps its lr; a cosine one starts a new cosine from the "
                             "lr it is at down to 0 at epoch N, or, if it had finished (lr 0), "
                             "from --lr again (a warm restart)")
    parser.add_argument("--epochs", type=_positive_int, metavar="N",
                        help="epochs in all (default for digits, mnist, fashion-mnist: "
                             "40, 10, 20 (mlp); 30, 10, 10 (simple-cnn); 30, 10, 15 (deep-cnn); "
                             f"{lm.TASK}: {_lstm_epochs()}; an epoch is one pass over the "
                             "training text; with --resume, the run's own; more trains it "
                             "further, see --schedule)")
    parser.add_argument("--batch-size", type=_positive_int, metavar="B",
                        help="samples per update (default: 32 for digits, 100 otherwise; "
                             f"{lm.TASK}: 32 parallel streams of --seq-len characters)")
    parser.add_argument("--seed", type=seed, metavar="S",
                        help="seed of the weights, the shuffling and dropout (default: 0)")
    parser.add_argument("--out", metavar="DIR",
                        help="output directory (default: runs/<dataset>-<date>-<time>; with "
                             "--resume, the checkpoint's directory)")
    parser.add_argument("--overwrite", action="store_true",
                        help="let the run replace the last.npz already in --out (another run, "
                             "or a later epoch than the --resume checkpoint); refused otherwise")
    parser.add_argument("--resume", metavar="CKPT",
                        help="continue the run saved in CKPT (its last.npz, or best.npz with "
                             "--out) with its saved settings; only --epochs, --out, "
                             "--overwrite, --data-dir and --quiet apply")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no line per epoch, only the summary")
    parser.set_defaults(func=run)


def _lstm_epochs() -> str:
    epochs = ARCHITECTURES["LSTMLanguageModel"].epochs
    return f"{epochs['tinyshakespeare']} (tinyshakespeare), {epochs['names']} (names, --text)"


def run(args: argparse.Namespace) -> int:
    from mitbadak.cli._common import load_checkpoint, output_dir
    from mitbadak.training.step import TrainingDiverged

    if args.resume is None:
        settings, resumed = _new_settings(args), None
        out = Path(args.out or f"runs/{_data_name(settings)}-{datetime.now():%Y%m%d-%H%M%S}")
        if (out / "last.npz").exists() and not args.overwrite:
            raise UsageError(f"{out} already holds a run (last.npz): choose another --out, "
                             f"continue it with --resume {out / 'last.npz'}, or replace it "
                             "with --overwrite")
    else:
        resumed = load_checkpoint(args.resume)
        settings = _resumed_settings(args, resumed.meta)
        out = Path(args.out) if args.out else Path(args.resume).parent
        if not args.overwrite:
            _refuse_to_overwrite(out, args.resume, resumed.meta.get("training"))
    output_dir(out)

    trainer = (_language_model_trainer(settings, args, out, resumed)
               if _task(settings) == lm.TASK else _classifier_trainer(settings, args, out))
    if resumed is not None:
        _resume(trainer, args.resume, settings, resumed.meta["settings"].get("epochs"))
    first = trainer.epoch

    start = time.perf_counter()
    try:
        trainer.fit(settings["epochs"])
        seconds = time.perf_counter() - start
        figure = _draw(trainer.history, settings, out)
    except TrainingDiverged as error:
        print(f"mitbadak train: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return _interrupted(trainer, args, settings, first)
    except OSError as error:  # the disk filled, the directory was removed, ...
        from mitbadak.cli import describe_error

        print(f"mitbadak train: error: cannot save the run in {out}: {describe_error(error)}; "
              f"{_standing(trainer, args, settings, first)}", file=sys.stderr)
        return 2
    print(_summary(trainer, settings, seconds, figure))
    return 0


def _task(settings: dict[str, Any]) -> str:
    return settings.get("task", "classify")  # runs saved before --task: classifiers


def _data_name(settings: dict[str, Any]) -> str:
    return lm.name(settings) if _task(settings) == lm.TASK else settings["dataset"]


def _classifier_trainer(settings: dict[str, Any], args: argparse.Namespace, out: Path) -> Any:
    """The `Trainer` of an image classifier's run: its dataset, model and optimizer."""
    from mitbadak.cli._common import load_data
    from mitbadak.training.trainer import Trainer

    (x_train, t_train), test_data = load_data(settings["dataset"], args.data_dir, args.quiet,
                                              flatten=settings["model"] == "mlp")
    _check_size(settings, x_train.shape[1:])
    model, optimizer, scheduler = _build(settings, x_train.shape[1:])
    try:
        return Trainer(model, optimizer, (x_train, t_train), test_data,
                       batch_size=settings["batch_size"], scheduler=scheduler, out_dir=out,
                       quiet=args.quiet, meta={"settings": settings})
    except ValueError as error:  # data or a batch size the model cannot train on
        raise UsageError(str(error)) from None


def _language_model_trainer(settings: dict[str, Any], args: argparse.Namespace, out: Path,
                            resumed: Any) -> Any:
    """The `Trainer` of a language model's run: the text's batches (encoded with the saved
    vocabulary when resuming), the model from the registry, perplexity as the metric."""
    import mitbadak as mb
    from mitbadak.training.trainer import Trainer

    data = lm.load(settings, None if resumed is None else resumed.meta.get("vocabulary"))
    mb.manual_seed(settings["seed"])
    model = lm.build_model(settings, len(data.vocabulary))
    optimizer, scheduler = _optimizer(settings, model, len(data.train))
    return Trainer(model, optimizer, data.train, data.valid, scheduler=scheduler, out_dir=out,
                   quiet=args.quiet, train_eval_data=data.train_eval, metric="perplexity",
                   max_norm=settings["max_norm"],
                   meta={"settings": settings, "vocabulary": data.vocabulary.to_dict()})


def _refuse_to_overwrite(out: Path, resume: str, training: dict[str, Any] | None) -> None:
    """``--resume CKPT`` writes out/last.npz: refuse when that file is another point of the run
    (a later epoch, when CKPT is best.npz) or of another run, which it would destroy."""
    from mitbadak.training.checkpoint import CheckpointError, read_meta

    last = out / "last.npz"
    if not last.exists() or last.samefile(resume):
        return
    try:
        there = read_meta(last).get("training")
    except CheckpointError:
        there = None
    if there is not None and there == training:  # the same state: nothing would be lost
        return
    held = f" (epoch {there['epoch']})" if there else ""
    raise UsageError(f"{last}{held} would be overwritten by the run resumed from {resume}; "
                     f"pass --out NEW_DIR to continue it there, or --overwrite to replace {last}")


def _resume(trainer: Any, path: str, settings: dict[str, Any], planned: int | None) -> None:
    """Restore the run saved in ``path`` into ``trainer``; re-plan a cosine schedule when the
    run is trained further (``settings["epochs"]`` is not the ``planned`` end)."""
    from mitbadak.training.checkpoint import CheckpointError

    scheduler = trainer.scheduler
    first_lrs = None if scheduler is None else list(scheduler.base_lrs)
    try:  # the weights, optimizer, schedule, shuffling, dropout and history
        trainer.resume(path)
    except CheckpointError as error:
        raise UsageError(str(error)) from None
    if trainer.epoch >= settings["epochs"]:
        raise UsageError(f"{path} has completed {trainer.epoch} epochs already; "
                         f"ask for more with --epochs N (N > {trainer.epoch})")
    if first_lrs is not None and planned is not None and settings["epochs"] != planned:
        _replan_cosine(scheduler, trainer.epoch, planned, settings["epochs"], first_lrs)


def _replan_cosine(scheduler: Any, done: int, planned: int, epochs: int,
                   first_lrs: list[float]) -> None:
    """What "train it further" means for a cosine schedule: a new cosine over the epochs left,
    from the learning rate the run is at (the one its next epoch would have used) down to 0 at
    epoch ``epochs``. A run that had finished (``done == planned``) is at lr 0, so its new
    cosine starts from its first learning rate again: a warm restart (SGDR, Loshchilov and
    Hutter 2016). (Keeping the old cosine would run the next epoch at lr 0 and then climb.)"""
    start = first_lrs if done >= planned else scheduler.get_last_lr()
    if hasattr(scheduler, "warmup_steps"):  # WarmupCosineLR, in steps: no second warm-up
        steps = (epochs - done) * (scheduler.total_steps // planned)
        scheduler.load_state_dict({**scheduler.state_dict(), "base_lrs": start,
                                   "warmup_steps": 0, "total_steps": steps, "last_epoch": 0})
        return
    scheduler.load_state_dict({**scheduler.state_dict(), "base_lrs": start,
                               "T_max": epochs - done, "last_epoch": 0})


def _draw(history: Any, settings: dict[str, Any], out: Path) -> Path:
    from mitbadak.viz.figures import learning_curves

    metric = "perplexity" if _task(settings) == lm.TASK else "accuracy"
    return learning_curves(history, out / "curves.png", title=_title(settings), metric=metric)


def _summary(trainer: Any, settings: dict[str, Any], seconds: float, figure: Path) -> str:
    from mitbadak.training.trainer import best_epoch

    history, out = trainer.history, trainer.out_dir
    best = best_epoch(history, trainer.metric)
    files = ["last.npz", "history.json", "history.csv"]
    if trainer.best_path == out / "best.npz":
        files.insert(1, "best.npz")
        where = ""
    elif trainer.best_path is not None:
        where = f" (its checkpoint: {trainer.best_path})"
    else:
        where = " (its checkpoint was not kept)"
    return (f"{_title(settings)}: {trainer.epoch} epochs ({seconds:.1f} s)\n"
            f"{_scores(history, best, trainer.metric)}{where}\n"
            f"run saved in {out}/: {', '.join(files)}\n"
            f"figure: {figure}" + ("" if _task(settings) != lm.TASK else
                                   f"\nsample: mitbadak sample {out / 'best.npz'} --prompt ..."))


def _scores(history: Any, best: int | None, metric: str) -> str:
    """The summary's line of results: the last epoch's (test and train) and the best one's."""
    at = history.epoch.index(best)  # after an epoch at least, best is one
    if metric == "perplexity":
        from mitbadak.training.language import perplexity

        return (f"validation perplexity {perplexity(history.test_loss[-1]):.3f} (loss "
                f"{history.test_loss[-1]:.4f} nats per token; train "
                f"{perplexity(history.train_loss[-1]):.3f}); best "
                f"{perplexity(history.test_loss[at]):.3f} at epoch {best}")
    return (f"test accuracy {history.test_accuracy[-1]:.4f} (train "
            f"{history.train_accuracy[-1]:.4f}); best {history.test_accuracy[at]:.4f} at "
            f"epoch {best}")


def _interrupted(trainer: Any, args: argparse.Namespace, settings: dict[str, Any],
                 first: int) -> int:
    """Ctrl-C: bring the history files and curves.png in line with the newest checkpoint (if
    this command wrote one), then say what is saved and how to continue."""
    figure = ""
    if trainer.saved_epoch > first:
        history = trainer.saved_history()
        history.write(trainer.out_dir)
        figure = f"; figure: {_draw(history, settings, trainer.out_dir)}"
    print(f"interrupted: {_standing(trainer, args, settings, first)}{figure}", file=sys.stderr)
    return 130


def _standing(trainer: Any, args: argparse.Namespace, settings: dict[str, Any],
              first: int) -> str:
    """What a run that stopped early has saved, and the exact command that continues it (or
    that nothing is left to do). ``first``: the epoch this command started from."""
    epochs = settings["epochs"]
    if trainer.saved_epoch >= epochs:
        return (f"the run is complete ({trainer.saved_path} holds epoch {trainer.saved_epoch} "
                f"of {epochs}); nothing is left to do")
    if trainer.saved_epoch == first:
        saved = ("nothing was saved (no epoch finished)" if trainer.saved_path is None else
                 f"nothing new was saved ({trainer.saved_path} holds epoch {first})")
        return f"{saved}; run the same command again: mitbadak {shlex.join(args.argv)}"
    command = ["mitbadak", "train", "--resume", str(trainer.saved_path)]
    if args.data_dir is not None:
        command += ["--data-dir", args.data_dir]
    return (f"epoch {trainer.saved_epoch} of {epochs} is saved in {trainer.saved_path}; "
            f"continue with: {shlex.join(command)}")


def _check_size(settings: dict[str, Any], input_shape: tuple[int, ...]) -> None:
    """Refuse an MLP this machine cannot hold, before allocating it, saying how big it would
    be: its parameters in float32, times 4 (weights, gradients and up to two moments of the
    optimizer). The book's CNNs have a fixed, small size."""
    if settings["model"] != "mlp":
        return
    hidden = settings["hidden"]
    widths = [math.prod(input_shape), *hidden, len(CLASSES[settings["dataset"]])]
    parameters = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(widths, widths[1:]))
    if settings["batchnorm"]:
        parameters += 4 * sum(hidden)  # gamma, beta, running mean and variance
    need, have = 4 * 4 * parameters, _physical_memory()
    if need > have:
        raise UsageError(f"--hidden {','.join(map(str, hidden))}: the model would have "
                         f"{parameters:,} parameters and need about {need / 1e9:.1f} GB to "
                         f"train, more than this machine's {have / 1e9:.1f} GB")


def _physical_memory() -> int:
    """This machine's memory in bytes (64 GB where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return 64 * 10**9


def _new_settings(args: argparse.Namespace) -> dict[str, Any]:
    if lm.wanted(args):
        return lm.new_settings(args)
    if args.model is not None and args.model not in CLASSIFIERS:
        raise UsageError(f"--model {args.model}: a language model (add --task {lm.TASK})")
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
    ignored = [_flag(k) for k in (*DEFAULTS, "task", *lm.FLAGS)
               if k != "epochs" and getattr(args, k) is not None]
    if ignored:
        raise UsageError(f"--resume continues a run with its saved settings; drop "
                         f"{', '.join(ignored)} (only --epochs, --out, --overwrite, --data-dir "
                         "and --quiet apply)")
    settings = {"model": "mlp", **meta["settings"]}  # runs saved before --model: MLPs
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    return settings


def _flag(setting: str) -> str:
    return lm._flag(setting)


def _build(settings: dict[str, Any], input_shape: tuple[int, ...]) -> tuple[Any, Any, Any]:
    """The model, optimizer and scheduler (or None) that ``settings`` describe, for inputs of
    ``input_shape`` (pixels for the mlp, (C, H, W) for a CNN), seeded by ``settings["seed"]``."""
    import mitbadak as mb
    from mitbadak import nn

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
    return (model, *_optimizer(settings, model))


def _optimizer(settings: dict[str, Any], model: Any,
               steps_per_epoch: int | None = None) -> tuple[Any, Any]:
    """The optimizer and scheduler (or None) that ``settings`` describe, over ``model``.
    A cosine schedule with ``warmup`` steps (a GPT's settings) is `WarmupCosineLR` over the
    run's optimizer steps (the warm-up at most all steps but the last).

    Weight decay follows `optim.param_groups`: the weights are decayed, biases and
    BatchNorm's gamma and beta are not. Runs saved before that policy (their settings lack
    ``weight_decay_on``) decayed every parameter, and resume as they ran."""
    from mitbadak.optim import OPTIMIZERS, param_groups
    from mitbadak.optim.lr_scheduler import CosineAnnealingLR, WarmupCosineLR

    options: dict[str, Any] = {} if settings["lr"] is None else {"lr": settings["lr"]}
    if settings.get("weight_decay_on", "all") == "weights":
        params: Any = param_groups(model.parameters(), settings["weight_decay"])
    else:
        params, options["weight_decay"] = model.parameters(), settings["weight_decay"]
    optimizer = OPTIMIZERS[settings["optimizer"]](params, **options)
    cosine = settings["schedule"] == "cosine"
    if cosine and settings.get("warmup") and steps_per_epoch:
        total = settings["epochs"] * steps_per_epoch
        return optimizer, WarmupCosineLR(optimizer, min(settings["warmup"], total - 1), total)
    return optimizer, CosineAnnealingLR(optimizer, settings["epochs"]) if cosine else None


def _title(settings: dict[str, Any]) -> str:
    """``digits: MLP 100-100 relu/he +BN, adam`` -- the run in one line."""
    if _task(settings) == lm.TASK:
        return lm.title(settings)
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


def non_negative_int(text: str) -> int:
    """An integer >= 0: a length, a count, or a random seed (NumPy's generators take no
    negative seed)."""
    return _number(text, lambda v: v >= 0, "an integer >= 0", int)


seed = non_negative_int
