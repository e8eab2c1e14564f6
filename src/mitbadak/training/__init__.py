"""Training: the step, the loop, its history, evaluation, checkpoints and the architecture registry.

* `step`: `train_step` -- forward, loss, zero_grad, backward, step: *the* training step, which
  the `Trainer` and every experiment call -- and `TrainingDiverged`;
* `trainer`: `Trainer` / `fit` (the book's ``Trainer``: epochs, evaluation, checkpoints, exact
  resume);
* `history`: `History`, what a run measured;
* `evaluation`: `evaluate` (loss and accuracy in eval mode, in batches), `predict`,
  `confusion_matrix`;
* `checkpoint`: the ``.npz`` checkpoint format (no pickle, checksummed, written atomically);
* `registry`: the architectures (name, class, input kind, CLI name, default epochs), so the
  command line can build a model and a checkpoint can rebuild one.
"""

from mitbadak.training import checkpoint, registry
from mitbadak.training.evaluation import confusion_matrix, evaluate, predict
from mitbadak.training.history import History
from mitbadak.training.step import TrainingDiverged, train_step
from mitbadak.training.trainer import Trainer, fit

__all__ = ["History", "Trainer", "TrainingDiverged", "checkpoint", "confusion_matrix",
           "evaluate", "fit", "predict", "registry", "train_step"]
