"""Training: the loop, its history, checkpoints and the architecture registry.

* `trainer`: `Trainer` / `fit` (the book's ``Trainer``: epochs, evaluation, checkpoints, exact
  resume), `History`, `predict`, `confusion_matrix`;
* `checkpoint`: the ``.npz`` checkpoint format (no pickle, checksummed, written atomically);
* `registry`: architecture name -> class, so a checkpoint can rebuild its model.
"""

from mitbadak.training import checkpoint, registry
from mitbadak.training.trainer import (
    History,
    Trainer,
    TrainingDiverged,
    confusion_matrix,
    fit,
    predict,
)

__all__ = ["History", "Trainer", "TrainingDiverged", "checkpoint", "confusion_matrix", "fit",
           "predict", "registry"]
