"""Hyperparameter search (chapter 6): sample at random on a log scale, judge on validation data.

The book's ``hyperparameter_optimization.py``: 100 trials, each training the MLP 784-(100 x 6)-10
(ReLU, He init) with SGD (batch 100, 50 epochs) at a learning rate drawn from 10^U(-6, -2) and
a weight decay from 10^U(-8, -4). The data are the first 500 training samples: 20% of them,
after a shuffle, are the validation set that ranks the trials; the other 400 train. The test
set is never looked at: choosing hyperparameters by test accuracy would fit them to the test
set, and the test accuracy would no longer say how the model does on new data.

Why random and why logarithmic: a good learning rate may be 0.001 or 0.01, so each order of
magnitude deserves as many trials; and when only some hyperparameters matter (here the
learning rate matters far more than the weight decay), random points try a new value of each
in every trial where a grid repeats the same few (Bergstra and Bengio, 2012). The book's
result: the best trials all have a learning rate near 0.01, whatever their weight decay; the
next step would be a narrower search there.

The search is `mitbadak.tune.random_search`: trials run in parallel on a process pool
(``workers``; by default one per available core, each with a single BLAS thread), or on a Dask
cluster (``scheduler="tcp://host:8786"``, whose workers have mitbadak installed). Trial i draws
its hyperparameters, initial weights and batch order from the seed (seed, i) alone, so the
results are the same whatever runs them, in whatever order they finish. Ctrl-C keeps the
trials finished so far (the result says ``interrupted``).

``quick`` runs 6 trials of 10 epochs; ``trials`` sets their number.
"""

from __future__ import annotations

from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import mitbadak as mb
from mitbadak import nn, tune
from mitbadak.experiments import ExperimentError
from mitbadak.experiments._data import Split, find_dataset
from mitbadak.experiments._report import save_figure, subplots
from mitbadak.experiments._training import fit_lesson, make_optimizer

SAMPLES = 500
VALIDATION_SHARE = 0.2
HIDDEN = [100] * 6
BATCH = 100
TRIALS, QUICK_TRIALS = 100, 6
EPOCHS, QUICK_EPOCHS = 50, 10
LOG10_LR = (-6.0, -2.0)
LOG10_WEIGHT_DECAY = (-8.0, -4.0)
SHOWN = 20  # best trials drawn, as the book
# The book's best trial (its 2022 notebook run, MNIST).
BOOK_BEST = {"val": 0.84, "lr": 0.0094, "weight_decay": 2.8e-6}
#: The search space; the seeds make each trial's initial weights and batch order.
SPACE: dict[str, tune.Distribution] = {
    "lr": tune.loguniform(10 ** LOG10_LR[0], 10 ** LOG10_LR[1]),
    "weight_decay": tune.loguniform(10 ** LOG10_WEIGHT_DECAY[0], 10 ** LOG10_WEIGHT_DECAY[1]),
    "init_seed": tune.randint(0, 2**32), "batch_seed": tune.randint(0, 2**32)}


def split(x: np.ndarray, t: np.ndarray, seed: int) -> tuple[Split, Split]:
    """``(train, validation)`` from a shuffle of the first `SAMPLES` samples."""
    order = np.random.default_rng(seed).permutation(min(SAMPLES, len(x)))
    n_val = int(len(order) * VALIDATION_SHARE)
    val, rest = order[:n_val], order[n_val:]
    return (x[rest], t[rest]), (x[val], t[val])


def trial(params: dict[str, Any], train_set: Split, val_set: Split,
          epochs: int) -> dict[str, Any]:
    """Train the network with the learning rate and weight decay of ``params``; return the
    accuracy per epoch. A module-level function, so that a worker can be sent it."""
    mb.manual_seed(params["init_seed"])
    model = nn.MLP(train_set[0].shape[1], HIDDEN, 10, init="he")
    optimizer = make_optimizer("sgd", model, params["lr"], params["weight_decay"])
    history = fit_lesson(model, optimizer, train_set, batch_size=BATCH, epochs=epochs,
                         evaluate=True, test=val_set, seed=params["batch_seed"])
    return {"train": history.train_accuracy, "val": history.test_accuracy,
            "final_val": history.test_accuracy[-1]}


def run(quick: bool = False, dataset: str | None = None, seed: int = 0,
        workers: int | None = None, trials: int | None = None,
        scheduler: str | None = None) -> dict[str, Any]:
    """Run the trials, ``workers`` at a time here or on the Dask cluster at ``scheduler``,
    and rank them by final validation accuracy.

    With ``workers`` > 1 the trials run in fresh Python processes, which import the main
    module again: a script that calls this needs the ``if __name__ == "__main__":`` guard.
    """
    if workers is not None and workers < 1:
        raise ExperimentError(f"--workers must be at least 1, got {workers}")
    if trials is not None and trials < 1:
        raise ExperimentError(f"--trials must be at least 1, got {trials}")
    if workers is not None and scheduler is not None:
        raise ExperimentError("--workers is for this machine; a Dask cluster (--scheduler) "
                              "has its own workers")
    found, (x, t) = find_dataset(dataset)
    train_set, val_set = split(x, t, seed)
    default_trials, epochs = (QUICK_TRIALS, QUICK_EPOCHS) if quick else (TRIALS, EPOCHS)
    trials = trials or default_trials
    workers = None if scheduler else min(workers or tune.default_workers(), trials)
    objective = partial(trial, train_set=train_set, val_set=val_set, epochs=epochs)
    try:
        with _executor(workers, scheduler) as executor:
            search = tune.random_search(objective, SPACE, trials, executor, seed,
                                        metric="final_val")
    except tune.SchedulerError as error:
        raise ExperimentError(str(error)) from None
    if search.best is None:  # nothing to rank or draw
        raise ExperimentError(f"every finished trial failed; the first: {search.trials[0].error}"
                              if search.trials else "interrupted before any trial finished")
    ranked = sorted((t for t in search.trials if t.ok), key=lambda t: (-(t.value or 0), t.index))
    return {"dataset": found, "seed": seed, "workers": workers, "scheduler": scheduler,
            "trials": [{"index": t.index, "lr": t.params["lr"],
                        "weight_decay": t.params["weight_decay"], **t.result} for t in ranked],
            "failed": [{"index": t.index, "error": t.error} for t in search.failed],
            "planned": trials, "interrupted": search.interrupted,
            "train_samples": len(train_set[0]), "val_samples": len(val_set[0]),
            "network": [x.shape[1], *HIDDEN, 10], "batch": BATCH,
            "epochs": epochs, "log10_lr": LOG10_LR,
            "log10_weight_decay": LOG10_WEIGHT_DECAY, "book_best": BOOK_BEST}


def _executor(workers: int | None, scheduler: str | None) -> AbstractContextManager[Executor]:
    """Where the trials run: the Dask cluster at ``scheduler``, else ``workers`` processes
    here (one: in this process)."""
    if scheduler is not None:
        return tune.dask_executor(scheduler)
    if workers == 1:
        return nullcontext(tune.SerialExecutor())
    return tune.process_pool(workers)


def draw(result: dict[str, Any], out: Path) -> list[Path]:
    return [_draw_scatter(result, out / "hyperparams.png"),
            _draw_best(result, out / "hyperparams-best.png")]


def _draw_scatter(result: dict[str, Any], path: Path) -> Path:
    trials = result["trials"]
    fig, ax = subplots(figsize=(7, 5.5))
    points = ax.scatter([r["lr"] for r in trials], [r["weight_decay"] for r in trials],
                        c=[r["final_val"] for r in trials], cmap="viridis", vmin=0, vmax=1,
                        s=40, edgecolors="black", linewidths=0.4)
    best = trials[0]
    ax.scatter(best["lr"], best["weight_decay"], marker="*", s=300, color="#d62728")
    ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="weight decay",
           xlim=_padded(result["log10_lr"]), ylim=_padded(result["log10_weight_decay"]),
           title=f"{len(trials)} random trials on {result['dataset']}: validation accuracy "
                 f"after {result['epochs']} epochs\nbest (star): {best['final_val']:.2f} at "
                 f"lr {best['lr']:.1e}, weight decay {best['weight_decay']:.1e}")
    fig.colorbar(points, ax=ax, label="validation accuracy")
    return save_figure(fig, path)


def _padded(log10_range: tuple[float, float]) -> tuple[float, float]:
    """The range ``10^low .. 10^high``, a little wider so that points on its edges show whole."""
    low, high = log10_range
    return 10 ** (low - 0.1), 10 ** (high + 0.1)


def _draw_best(result: dict[str, Any], path: Path) -> Path:
    shown = result["trials"][:SHOWN]
    columns = min(5, len(shown))
    rows = -(-len(shown) // columns)
    fig, axes = subplots(rows, columns, figsize=(2.8 * columns, 2.3 * rows), sharex=True,
                         sharey=True, squeeze=False)
    for rank, (ax, r) in enumerate(zip(axes.flat, shown), start=1):
        ax.plot(r["val"], color="#1f5fa8", label="validation")
        ax.plot(r["train"], color="#7f7f7f", linestyle="--", label="train")
        ax.set(ylim=(0, 1.02), title=f"#{rank}: val {r['final_val']:.2f}\n"
                                     f"lr {r['lr']:.1e}, wd {r['weight_decay']:.1e}")
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    axes.flat[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"The {len(shown)} best trials: accuracy per epoch "
                 f"({result['train_samples']} training, {result['val_samples']} validation "
                 f"samples of {result['dataset']})")
    return save_figure(fig, path)


def summary(result: dict[str, Any]) -> str:
    where = (f"on the Dask cluster at {result['scheduler']}" if result["scheduler"]
             else f"{result['workers']} workers")
    lines = [f"{len(result['trials'])} trials on {result['dataset']} ({result['train_samples']} "
             f"train / {result['val_samples']} validation samples, {result['epochs']} epochs, "
             f"{where}); the best by validation accuracy:"]
    if result["interrupted"]:
        lines.insert(0, f"interrupted: {len(result['trials']) + len(result['failed'])} of "
                        f"{result['planned']} trials finished")
    lines += [f"  trial {f['index']} failed: {f['error']}" for f in result["failed"]]
    for rank, r in enumerate(result["trials"][:5], start=1):
        lines.append(f"  #{rank} val {r['final_val']:.3f}  lr {r['lr']:.2e}  "
                     f"weight decay {r['weight_decay']:.2e}  (trial {r['index']})")
    book = result["book_best"]
    lines.append(f"  [book, MNIST: best val {book['val']:.2f} at lr {book['lr']:g}, "
                 f"weight decay {book['weight_decay']:g}]")
    return "\n".join(lines)
