"""`History`: what a training run measured, for the `Trainer`, the experiments and the figures.

``loss`` holds the loss of every iteration (the batch's, the one its update was computed
from); the other lists hold one entry per evaluation, numbered in ``epoch`` (the `Trainer`
evaluates after each epoch, 1, 2, ...; the experiments also before training, as epoch 0).
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from mitbadak.fileio import atomic_write

EPOCH_COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds")


@dataclass
class History:
    """The loss of every iteration, and one entry per evaluation in each of the other lists
    (``seconds``: the wall-clock time since the previous one, evaluation included). ``test_*``
    is whichever held-out set the run was evaluated on (a validation set, for tuning)."""

    loss: list[float] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def record(self, epoch: int, train: tuple[float, float], test: tuple[float, float] | None,
               seconds: float) -> None:
        """Append one evaluation: (loss, accuracy) on the training set and, if there is one,
        on the held-out set, and the time since the last."""
        self.epoch.append(epoch)
        self.train_loss.append(train[0])
        self.train_accuracy.append(train[1])
        if test is not None:
            self.test_loss.append(test[0])
            self.test_accuracy.append(test[1])
        self.seconds.append(seconds)

    def to_dict(self) -> dict[str, list]:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict[str, list]) -> History:
        return cls(**{f.name: list(saved[f.name]) for f in fields(cls)})

    def write(self, directory: str | os.PathLike) -> None:
        """Write ``history.json`` (everything) and ``history.csv`` (one row per epoch)."""
        directory = Path(directory)
        atomic_write(directory / "history.json", (json.dumps(self.to_dict()) + "\n").encode())
        table = io.StringIO(newline="")
        writer = csv.writer(table)
        writer.writerow(EPOCH_COLUMNS)
        writer.writerows(zip(*(getattr(self, name) for name in EPOCH_COLUMNS)))
        atomic_write(directory / "history.csv", table.getvalue().encode())
