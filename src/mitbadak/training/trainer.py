"""Training: the fit loop (the book's ``Trainer``), with evaluation, history, checkpoints, resume.

Each iteration is `train_step` (``training/step.py``: forward, loss, zero_grad, backward,
step); each epoch ends with `evaluate` (``training/evaluation.py``) on both sets and one
entry in the `History` (``training/history.py``).

::

    trainer = Trainer(model, optimizer, (x_train, t_train), (x_test, t_test),
                      batch_size=100, out_dir="runs/fashion")
    history = trainer.fit(epochs=20)          # history.test_accuracy[-1], ...

    # later, in a new process, after building the same model and optimizer:
    trainer.resume("runs/fashion/last.npz")
    trainer.fit(epochs=30)                    # epochs 21..30, as if it had never stopped

How it differs from the book's ``common/trainer.py``:

* An epoch is one pass over the shuffled training set (`DataLoader`); the book draws each
  batch with replacement, so its "epoch" skips about a third of the samples.
* The loss recorded for an iteration is the one the update was computed from; the book runs a
  second forward pass after each update just to print the loss.
* The per-epoch losses and accuracies come from an evaluation in eval mode (BatchNorm's
  running statistics, no dropout) under ``no_grad``, in batches: on the whole test set, and on
  the first ``train_eval_samples`` training samples (the book's
  ``evaluate_sample_num_per_epoch``; 10,000 by default, which keeps it a small part of an
  epoch on MNIST's 60,000).
* A NaN or infinite loss stops the run with an error naming the epoch and iteration
  (`TrainingDiverged`), before the weights are updated with it, so the last checkpoint stays
  good; NumPy's overflow warnings, which only foreshadow it, are silenced.
* With an ``out_dir``, each epoch ends by writing ``best.npz`` when its test accuracy is
  higher than every earlier epoch's (`best_epoch`: the first epoch to reach the best accuracy;
  a later tie does not replace it), then ``last.npz``, ``history.json`` and ``history.csv``.
* An optional learning-rate ``scheduler`` (`mitbadak.optim.lr_scheduler`) steps once per
  epoch.
* `Trainer.resume` restores the weights, BatchNorm's running statistics, the optimizer's
  state, the scheduler's epoch, the data loader's shuffling state and position, and the
  generator that draws the dropout masks: the resumed run's parameters are bit for bit those
  of an uninterrupted one.

Language models train through the same loop. Their data are `Batches` (an object yielding
(x, t) batches in order, with a ``state_dict``: the truncated-BPTT stream loader of
`mitbadak.data`) rather than a pair of arrays; ``metric="perplexity"`` reports exp(loss)
per epoch and keeps the epoch of the lowest held-out loss as ``best.npz``; ``max_norm`` clips
the gradients' global norm. A stateful model (one with ``reset_state()``, as
`nn.LSTMLanguageModel`, which carries its LSTM state from batch to batch) is reset at the start
of every epoch and around every evaluation: checkpoints are written between epochs, so the
state a resumed run needs is the zero state it starts its next epoch with.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.random import default_generator
from mitbadak.data import DataLoader
from mitbadak.nn import BatchNorm1d, Module
from mitbadak.optim import Optimizer
from mitbadak.optim.lr_scheduler import LRScheduler
from mitbadak.progress import progress_bar
from mitbadak.training import checkpoint
from mitbadak.training.evaluation import (
    EVAL_BATCH_SIZE,
    confusion_matrix,
    evaluate,
    evaluate_batches,
    predict,
    reset_state,
)
from mitbadak.training.history import EPOCH_COLUMNS, History
from mitbadak.training.language import perplexity
from mitbadak.training.step import LossFunction, TrainingDiverged, train_step

# Also importable from here, where they were first defined.
__all__ = ["EPOCH_COLUMNS", "History", "Trainer", "TrainingDiverged", "confusion_matrix",
           "fit", "predict"]

Data = tuple[np.ndarray, np.ndarray]


class Batches(Protocol):
    """Training data that batch themselves (a language model's stream of tokens): each
    ``iter()`` yields one epoch of (x, t) batches; the state says where the next one starts."""

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]: ...
    def __len__(self) -> int: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


EvalData = Data | Iterable[tuple[np.ndarray, np.ndarray]]
Metric = Literal["accuracy", "perplexity"]


class Trainer:
    """Trains ``model`` with ``optimizer`` on ``train_data`` = (x, t), evaluating on both
    sets after every epoch (see the module docstring).

    ``batch_size``: samples per update; when the model has a `BatchNorm1d` (which cannot
    train on a batch of one: its variance is 0) and the last batch of an epoch would hold a
    single sample, that batch is dropped; no other model drops anything. ``seed`` seeds the
    shuffling; None draws it from mitbadak's default generator, so ``mb.manual_seed`` fixes
    the whole run. ``out_dir``: where checkpoints and the history go (None: nowhere).
    ``scheduler``: a learning-rate schedule of ``optimizer``, stepped after each epoch (after
    each batch if it says ``per_step``, as `optim.lr_scheduler.WarmupCosineLR`).
    ``quiet``: no progress bar and no line per epoch. ``meta``: JSON-serialisable values
    stored in every checkpoint (e.g. the settings that built the model and optimizer).
    ``train_eval_samples``: how many training samples (the first ones) the per-epoch training
    loss and accuracy are measured on; None for all.

    For a language model (see the module docstring): ``train_data`` may be `Batches` and
    ``test_data`` any re-iterable sequence of (x, t) batches, evaluated in order
    (`evaluate_batches`); ``train_eval_data`` then says what the training loss is measured on
    (default: the training batches themselves). ``metric``: what each epoch's line shows and
    ``best.npz`` keeps, the highest test accuracy or the lowest test perplexity (= loss).
    ``max_norm``: clip the gradients' global norm to it before each update (None: never).
    """

    def __init__(
        self,
        model: Module,
        optimizer: Optimizer,
        train_data: Data | Batches,
        test_data: EvalData,
        *,
        batch_size: int = 100,
        loss_fn: LossFunction = F.cross_entropy,
        seed: int | None = None,
        scheduler: LRScheduler | None = None,
        out_dir: str | os.PathLike | None = None,
        quiet: bool = False,
        meta: dict[str, Any] | None = None,
        eval_batch_size: int = EVAL_BATCH_SIZE,
        train_eval_samples: int | None = 10_000,
        train_eval_data: EvalData | None = None,
        metric: Metric = "accuracy",
        max_norm: float | None = None,
    ) -> None:
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.scheduler = scheduler
        self.test_data = test_data
        self.metric, self.max_norm = metric, max_norm
        self.loader: DataLoader | Batches
        if isinstance(train_data, tuple):
            x, t = train_data
            self.loader = DataLoader(x, t, batch_size, shuffle=True, seed=seed)
            self.loader.drop_last = _drops_a_batch_of_one(model, self.loader)
            self.train_eval_data: EvalData = (x[:train_eval_samples], t[:train_eval_samples])
        else:
            self.loader, self.train_eval_data = train_data, train_data
            if len(train_data) == 0:
                raise ValueError("the training data hold no batch: there is nothing to train on")
        if train_eval_data is not None:
            self.train_eval_data = train_eval_data
        if _size(test_data) == 0:
            raise ValueError("the test set is empty (0 samples): there is nothing to evaluate "
                             "the model on after each epoch")
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.quiet = quiet
        self.meta = dict(meta or {})
        self.eval_batch_size = eval_batch_size
        self.history = History()
        # The newest checkpoint of this run (the one resumed from, then out_dir/last.npz), the
        # epoch and history it holds, and the checkpoint of the best epoch (None: not kept).
        self.saved_epoch = 0
        self.saved_path: Path | None = None
        self._saved_history = self.history.to_dict()
        self.best_path: Path | None = None

    @property
    def epoch(self) -> int:
        """The number of epochs completed."""
        return len(self.history.epoch)

    @property
    def checkpoint_path(self) -> Path | None:
        """The checkpoint each epoch writes (``out_dir/last.npz``), or None without out_dir."""
        return None if self.out_dir is None else self.out_dir / "last.npz"

    # ------------------------------------------------------------------------- training
    def fit(self, epochs: int) -> History:
        """Train until ``epochs`` epochs are complete in all (after `resume`, the remaining
        ones) and return the history."""
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        with np.errstate(over="ignore", invalid="ignore"):
            while self.epoch < epochs:
                self._run_epoch(self.epoch + 1, epochs)
        return self.history

    def _run_epoch(self, number: int, epochs: int) -> None:
        start = time.perf_counter()
        self.model.train()
        reset_state(self.model)  # a stateful model starts each epoch from zeros
        bar = None if self.quiet else _progress_bar(len(self.loader), f"epoch {number}/{epochs}")
        total_loss, correct, seen = 0.0, 0, 0
        # a schedule of optimizer steps (warm-up then cosine) steps after every batch
        per_step = self.scheduler if getattr(self.scheduler, "per_step", False) else None
        try:
            for iteration, (x, t) in enumerate(self.loader, 1):
                try:
                    value, logits = train_step(self.model, self.optimizer, x, t, self.loss_fn,
                                               self.max_norm)
                except TrainingDiverged as error:
                    raise TrainingDiverged(self._divergence(
                        f"the loss is {error.loss} at epoch {number}, iteration {iteration} "
                        f"of {len(self.loader)}; the weights were not updated with it"),
                        error.loss) from None
                self.history.loss.append(value)
                if per_step is not None:
                    per_step.step()
                if bar is not None:  # running figures, only for display
                    total_loss, seen = total_loss + value * len(t), seen + len(t)
                    correct += round(F.accuracy(logits, t) * len(t))
                    if bar.update():
                        bar.set_postfix_str(f"loss {total_loss / seen:.4f}, "
                                            f"{self._score(total_loss / seen, correct / seen)}",
                                            refresh=False)
        finally:
            if bar is not None:
                with _interrupts_held():  # a bar half closed prints tqdm's own traceback
                    bar.close()
        if self.scheduler is not None and per_step is None:
            self.scheduler.step()
        train, test = self._evaluate(self.train_eval_data), self._evaluate(self.test_data)
        if not (math.isfinite(train[0]) and math.isfinite(test[0])):
            raise TrainingDiverged(self._divergence(
                f"the loss is {train[0]} (training set) and {test[0]} (test set) in the "
                f"evaluation after epoch {number}"))
        self.history.record(number, train, test, time.perf_counter() - start)
        self._report(number)

    def evaluate(self, x: np.ndarray, t: np.ndarray) -> tuple[float, float]:
        """(mean loss, accuracy) of the model on ``(x, t)``, with this trainer's loss and
        evaluation batch size (`mitbadak.training.evaluation.evaluate`)."""
        return evaluate(self.model, x, t, self.loss_fn, self.eval_batch_size)

    def _evaluate(self, data: EvalData) -> tuple[float, float]:
        if isinstance(data, tuple):
            return self.evaluate(*data)
        return evaluate_batches(self.model, data, self.loss_fn)

    def _score(self, loss: float, accuracy: float) -> str:
        """``acc 0.9712`` or ``ppl 4.81``: the run's metric, for the bar and the epoch line."""
        if self.metric == "perplexity":
            return f"ppl {perplexity(loss):.2f}"
        return f"acc {accuracy:.4f}"

    def _report(self, number: int) -> None:
        """Save the epoch just recorded, and print its line."""
        if self.out_dir is not None:
            self._save()
        if not self.quiet:
            h = self.history
            print(f"epoch {number}: train loss {h.train_loss[-1]:.4f} "
                  f"{self._score(h.train_loss[-1], h.train_accuracy[-1])} | test loss "
                  f"{h.test_loss[-1]:.4f} {self._score(h.test_loss[-1], h.test_accuracy[-1])} "
                  f"| {h.seconds[-1]:.2f} s", flush=True)

    def saved_history(self) -> History:
        """The history as the newest checkpoint holds it (the in-memory one may be ahead: the
        losses of an epoch cut short, an epoch whose save failed)."""
        return History.from_dict(self._saved_history)

    def _save(self) -> None:
        """Write best.npz (if this epoch is the best), then last.npz, then the history, with
        Ctrl-C held until all are written. (A crash between two writes leaves last.npz at the
        previous epoch, from which the resumed run redoes this one, best.npz included.)"""
        out, meta = self.out_dir, self._checkpoint_meta()
        assert out is not None  # called only with an out_dir
        with _interrupts_held():
            if self.epoch == best_epoch(self.history, self.metric):
                self.best_path = checkpoint.save(out / "best.npz", self.model, self.optimizer,
                                                 **meta)
            self.saved_path = checkpoint.save(out / "last.npz", self.model, self.optimizer,
                                              **meta)
            self.saved_epoch, self._saved_history = self.epoch, meta["training"]["history"]
            self.history.write(out)

    def _checkpoint_meta(self) -> dict[str, Any]:
        return {**self.meta, "training": {
            "epoch": self.epoch,
            "loader": self.loader.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "history": self.history.to_dict(),
        }}

    def _divergence(self, what: str) -> str:
        lr = self.optimizer.param_groups[0]["lr"]
        if self.saved_path is not None:
            kept = f"the last good checkpoint is {self.saved_path} (epoch {self.saved_epoch})"
        elif self.out_dir is None:
            kept = "no checkpoints are written without an output directory"
        else:
            kept = "no epoch finished, so there is no checkpoint"
        return (f"training diverged: {what}; {kept}. Try a smaller learning rate "
                f"(it is {lr:g}).")

    # ------------------------------------------------------------------------- resuming
    def resume(self, path: str | os.PathLike) -> checkpoint.Checkpoint:
        """Continue from a checkpoint written by a Trainer: weights and buffers, optimizer
        and scheduler state, data-loader position, the default generator's state (dropout
        masks) and the history. The model, optimizer and scheduler must be built as in the
        original run."""
        saved = checkpoint.load(path, self.model, self.optimizer)
        training = saved.meta.get("training")
        if training is None:
            raise checkpoint.CheckpointError(
                f"{path}: holds no training state (it was not written by a Trainer)")
        if (self.scheduler is None) != (training["scheduler"] is None):
            raise checkpoint.CheckpointError(
                f"{path}: the run was saved {'without' if self.scheduler else 'with'} a "
                "learning-rate scheduler; build the trainer as in the original run")
        self.loader.load_state_dict(training["loader"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(training["scheduler"])
        self.history = History.from_dict(training["history"])
        default_generator().bit_generator.state = saved.rng_state
        self.saved_epoch, self.saved_path = self.epoch, Path(path)
        self._saved_history = training["history"]
        self.best_path = self._locate_best(Path(path))
        return saved

    def _locate_best(self, resumed: Path) -> Path | None:
        """The checkpoint of the best epoch so far, after resuming from ``resumed``: out_dir's
        best.npz if it holds that epoch of this run; else, when the resumed epoch is the best,
        out_dir/best.npz written now (a run continued in a new directory has its best there
        too); else the best.npz beside ``resumed`` if it holds that epoch; else None."""
        best = best_epoch(self.history, self.metric)
        if best is None:
            return None
        mine = None if self.out_dir is None else self.out_dir / "best.npz"
        if mine is not None and _holds_epoch(mine, best, self.history):
            return mine
        if mine is not None and best == self.epoch:
            mine.parent.mkdir(parents=True, exist_ok=True)
            return checkpoint.save(mine, self.model, self.optimizer, **self._checkpoint_meta())
        beside = resumed.parent / "best.npz"
        if _holds_epoch(beside, best, self.history):
            return beside
        return resumed if best == self.epoch else None


def best_epoch(history: History, metric: Metric = "accuracy") -> int | None:
    """The first epoch that reached the best test accuracy of ``history`` (None before any),
    or with ``metric="perplexity"`` the lowest test loss: the one best.npz holds and the
    summary names."""
    if not history.epoch:
        return None
    scores = history.test_accuracy if metric == "accuracy" else [-v for v in history.test_loss]
    return history.epoch[scores.index(max(scores))]


def _size(data: EvalData) -> int:
    """Samples in a pair of arrays, batches in anything else that has a length (else 1)."""
    if isinstance(data, tuple):
        return len(data[0])
    return len(data) if isinstance(data, Sized) else 1


def _holds_epoch(path: Path, epoch: int, history: History) -> bool:
    """Whether ``path`` is a checkpoint of epoch ``epoch`` of the run that ``history``
    describes (same test accuracies up to that epoch)."""
    if not path.is_file():
        return False
    try:
        training = checkpoint.read_meta(path).get("training") or {}
    except checkpoint.CheckpointError:
        return False
    saved = training.get("history") or {}
    return (training.get("epoch") == epoch
            and saved.get("test_accuracy") == history.test_accuracy[:epoch])


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends, then raise it: what the block writes is
    written whole. (Only in the main thread, and only where Python's own handler is set.)"""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda number, frame: held.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if held:
        raise KeyboardInterrupt


def _drops_a_batch_of_one(model: Module, loader: DataLoader) -> bool:
    """Whether ``loader`` must drop an epoch's last batch because it holds one sample and the
    model has a BatchNorm1d; refuses data and batch sizes with which such a model cannot train."""
    samples, batch_size = len(loader.x), loader.batch_size
    if samples == 0:
        raise ValueError("the training set is empty (0 samples): there is nothing to train on")
    if not any(isinstance(module, BatchNorm1d) for module in model.modules()):
        return False
    if batch_size == 1 or samples == 1:
        raise ValueError(f"BatchNorm cannot train on batches of one sample (batch size "
                         f"{batch_size}, {samples} training samples): use a batch size of 2 or "
                         "more, or a model without BatchNorm")
    return samples % batch_size == 1


def fit(model: Module, optimizer: Optimizer, train_data: Data | Batches, test_data: EvalData,
        epochs: int, batch_size: int = 100, *, resume: str | os.PathLike | None = None,
        **options: Any) -> History:
    """Train for ``epochs`` epochs in all (continuing from checkpoint ``resume`` if given);
    ``options`` are `Trainer`'s keyword arguments."""
    trainer = Trainer(model, optimizer, train_data, test_data, batch_size=batch_size, **options)
    if resume is not None:
        trainer.resume(resume)
    return trainer.fit(epochs)


def _progress_bar(total: int, description: str) -> Any:
    """The epoch's bar, or None where none is shown (`mitbadak.progress`: piped output gets
    only the per-epoch lines)."""
    with _interrupts_held():  # Ctrl-C inside tqdm's __init__ leaves a bar whose __del__ fails
        return progress_bar(total=total, desc=description, unit="batch", leave=False,
                            dynamic_ncols=True)
