"""Loss functions (the book's chapter 4) and accuracy.

A loss is a single number saying how wrong the network is, smooth enough that its gradient
says how to be less wrong. Accuracy is not a loss: nudging a weight a little rarely changes a
single prediction, so its gradient is zero almost everywhere and gives no direction.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.grad_mode import no_grad
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional._util import check_floating, on_either, sum_columns
from mitbadak.functional.activation import sigmoid, softmax
from mitbadak.functional.elementwise import Log, maximum
from mitbadak.functional.shape import getitem, reshape


def _labels_array(labels: Any) -> np.ndarray:
    return np.asarray(labels.data if isinstance(labels, Tensor) else labels)


def _check_labels(labels: np.ndarray, logits_shape: tuple[int, ...]) -> np.ndarray:
    """Validate class indices (N,) in [0, C) or non-negative target weights (N, C): one-hot,
    probabilities, or any other t >= 0 (multi-hot, unnormalised)."""
    n, classes = logits_shape
    if labels.dtype.kind in "iu":
        if labels.shape != (n,):
            raise ValueError(f"cross_entropy: integer labels must have shape ({n},) for logits "
                             f"of shape {logits_shape}, got {labels.shape}")
        # Viewed as unsigned, a negative label becomes huge: one max() checks both bounds.
        if n and labels.view(f"u{labels.itemsize}").max() >= classes:
            bad = labels[(labels < 0) | (labels >= classes)][0]
            raise ValueError(f"cross_entropy: label {bad} is outside [0, {classes}) "
                             f"({classes} classes)")
        return labels
    if labels.dtype.kind in "fb":
        if labels.shape != logits_shape:
            raise ValueError(f"cross_entropy: one-hot labels must have the logits' shape "
                             f"{logits_shape}, got {labels.shape}")
        if labels.size and labels.min() < 0:
            raise ValueError(f"cross_entropy: target weights must be non-negative (one-hot, "
                             f"probabilities or counts), got {labels.min()}")
        return labels
    raise TypeError(f"cross_entropy: labels must be integer class indices or one-hot floats, "
                    f"got dtype {labels.dtype}")


@lru_cache(maxsize=16)
def _row_starts(rows: int, columns: int) -> np.ndarray:
    """Flat index of each row's first entry in a C-ordered (rows, columns) array: adding a
    column index per row gives flat positions for ``take``, cheaper than ``x[arange, cols]``."""
    starts = np.arange(0, rows * columns, columns)
    starts.flags.writeable = False  # shared between calls
    return starts


class SoftmaxWithLoss(Function):
    """Softmax followed by cross-entropy, fused: the book's SoftmaxWithLoss layer.

    Forward:  L = -(1/N) sum_n log softmax(x_n)[t_n]
                = (1/N) sum_n (log sum_j e^(z_nj) - z_n[t_n]),  z = x - max(x) per row
    (log-sum-exp: no ``+1e-7`` inside a log, so a hopeless prediction gives a large finite
    loss and gradient checks stay exact). For target weights t >= 0 (one-hot, probabilities,
    or rows that do not sum to 1, such as multi-hot labels),
    L = -(1/N) sum_nj t_nj log softmax(x_n)_j
      = (1/N) sum_n (sum_j t_nj) log sum_j e^(z_nj) - sum_j t_nj z_nj.
    Backward: dL/dx = (softmax(x) * sum_j t_nj - t) / N, which is the book's
    (softmax(x) - t) / N when t is one-hot (each row sums to 1). The division of softmax and
    the log cancel into this simple form, which is why the two are fused into one node.

    The fused backward works on arrays. Under ``create_graph`` it returns gy times
    `CrossEntropyGrad` of softmax(x) as a tensor instead: the same formula as a node whose
    own derivative is simple, so softmax's backward carries the second derivative.
    """

    saved_tensors = {"x": 0}

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        n, classes = x.shape
        starts = _row_starts(n, classes)
        # Each row's max, found by argmax: NumPy's max(axis=1) is ~3x slower on 10 columns.
        z = x - x.take(starts + x.argmax(axis=1))[:, None]
        e = np.exp(z)
        s = sum_columns(e)
        log_s = np.log(s)
        t = self.labels
        if t.dtype.kind in "iu":
            self.picked = starts + t  # flat positions of the true classes
            log_s -= z.take(self.picked)
            total = log_s.sum()
        else:
            self.t_sum = sum_columns(t)  # each row's total weight, 1 for probabilities
            total = (log_s @ self.t_sum) - np.vdot(z, t)
        self.e, self.s = e, s
        return np.asarray(total / n if n else np.nan, dtype=x.dtype)  # a mean over 0: nan

    def backward(self, gy: Any) -> tuple[Any]:
        if isinstance(gy, Tensor):  # create_graph: the formula as a node of the graph
            return (gy * CrossEntropyGrad.apply(softmax(self.x, axis=1), loss=self),)  # type: ignore[arg-type]  # x: a Tensor here
        if self.labels.dtype.kind in "iu":
            # softmax(x), C-ordered whatever the logits' layout, so that ravel() is a view
            g = np.divide(self.e, self.s[:, None], order="C")
        else:
            g = self.e * (self.t_sum / self.s)[:, None]  # softmax(x) * sum_j t_nj
        self.subtract_targets(g)
        g *= float(gy) / (g.shape[0] or 1)  # a Python float keeps g in its dtype
        return (g,)

    def subtract_targets(self, g: np.ndarray) -> None:
        """g -= t in place: 1 at each row's true class for class indices (g C-ordered)."""
        if self.labels.dtype.kind in "iu":
            g.ravel()[self.picked] -= 1
        else:
            g -= self.labels


class CrossEntropyGrad(Function):
    """SoftmaxWithLoss's gradient as a function of p = softmax(x), for ``create_graph``:
    G(p) = (p * sum_j t_nj - t) / N, linear in p, so dL/dp = gy * sum_j t_nj / N."""

    saved_tensors: dict[str, int | str] = {}  # the targets are constants

    def __init__(self, loss: SoftmaxWithLoss) -> None:
        t = loss.labels
        self.loss = loss
        self.weight = None if t.dtype.kind in "iu" else loss.t_sum[:, None]  # sum_j t_nj

    def forward(self, p: np.ndarray) -> np.ndarray:
        g = np.array(p, order="C") if self.weight is None else p * self.weight
        self.loss.subtract_targets(g)
        g /= g.shape[0] or 1
        return g

    def backward(self, gy: Any) -> tuple[Any]:
        scale = 1 / (np.shape(gy)[0] or 1)
        return (gy * scale if self.weight is None else gy * (self.weight * scale),)


class SquaredError(Function):
    """L = scale * sum((y - t)^2);  dL/dy = 2 scale (y - t),  dL/dt = -dL/dy."""

    saved_tensors = {"y": 0, "t": 1}

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def forward(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        self.y, self.t = y, t
        diff = y - t
        return np.asarray(self.scale * np.vdot(diff, diff), dtype=y.dtype)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        gy_ = (self.y - self.t) * (gy * (2 * self.scale))
        return gy_, (-gy_ if self.needs_input_grad[1] else None)


def cross_entropy(logits: Tensor, labels: Any, ignore_index: int = -100) -> Tensor:
    """Mean cross-entropy of softmax(logits) against ``labels``.

    ``logits``: (N, C) raw scores (no softmax first, as in PyTorch); a single (C,) row is a
    batch of one; (N, T, C) (or any (..., C)) for sequences, the class axis LAST, as the
    book's TimeSoftmaxWithLoss: every position is one more row. (PyTorch's ``cross_entropy``
    wants the classes on axis 1, (N, C, T): pass ``logits.transpose(1, 2)`` there for the
    same loss.) ``labels``: class indices of the logits' shape without the class axis, (N,)
    or (N, T), or target weights t >= 0 of the logits' shape: one-hot, probabilities, or
    unnormalised rows, giving -(1/N) sum t log softmax(logits).

    Rows whose class index is ``ignore_index`` (PyTorch's default -100; padding, in a batch
    of sequences of different lengths) take no part: the mean is over the other rows, and
    when every row is ignored the loss is nan (a mean over nothing, as PyTorch's).
    """
    logits, t = as_tensor(logits), _labels_array(labels)
    check_floating("cross_entropy", logits)
    if logits.ndim == 1:
        logits = reshape(logits, 1, -1)
        t = t.reshape(1, -1) if t.ndim == 1 and t.dtype.kind in "fb" else t.reshape(1)
    elif logits.ndim > 2:  # (N, T, C): one row per position
        classes = logits.shape[-1]
        wanted = logits.shape[:-1] if t.dtype.kind in "iu" else logits.shape
        if t.shape != wanted:
            raise ValueError(f"cross_entropy: labels must have shape {wanted} for logits of "
                             f"shape {logits.shape} (classes on the last axis), got {t.shape}")
        logits = reshape(logits, -1, classes)
        t = t.reshape(-1) if t.dtype.kind in "iu" else t.reshape(-1, classes)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    # Ignored rows are looked for only where they can be: among labels outside [0, C) (the
    # usual negative ignore_index), or everywhere if ignore_index is a class. So a batch
    # without them costs nothing more.
    try:
        t = _check_labels(t, logits.shape)
        ignored = (0 <= ignore_index < logits.shape[1] and t.dtype.kind in "iu"
                   and bool((t == ignore_index).any()))
    except ValueError:  # a label outside [0, C): an ignored row, or a mistake
        if t.dtype.kind not in "iu" or t.shape != logits.shape[:1] or not (
                t == ignore_index).any():
            raise
        ignored = True
    if ignored:
        keep = np.flatnonzero(t != ignore_index)
        logits = getitem(logits, keep)
        t = _check_labels(t[keep], logits.shape)
    if t.dtype.kind not in "iu" and t.dtype != logits.dtype:
        t = t.astype(logits.dtype)
    return SoftmaxWithLoss.apply(logits, labels=t)


def _squared_error(y: Tensor, t: Any, scale: float, name: str) -> Tensor:
    y = as_tensor(y)
    check_floating(name, y)
    t = t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t, dtype=y.dtype))
    if y.shape != t.shape:
        raise ValueError(f"{name}: prediction of shape {y.shape} and target of shape "
                         f"{t.shape} differ")
    return SquaredError.apply(y, t, scale=scale)


def mse_loss(y: Tensor, t: Any) -> Tensor:
    """Mean squared error: mean((y - t)^2) over all elements (PyTorch's ``mse_loss``); nan
    for empty tensors, as a mean over nothing (and PyTorch)."""
    return _squared_error(y, t, 1.0 / np.size(y) if np.size(y) else np.nan, "mse_loss")


def sum_squared_error(y: Tensor, t: Any) -> Tensor:
    """The book's sum of squared errors (chapter 4), E = 0.5 * sum((y - t)^2), over every
    element, a batch included: nothing is averaged. For a mean, use ``mse_loss``
    (mean((y - t)^2), without the 0.5)."""
    return _squared_error(y, t, 0.5, "sum_squared_error")


def accuracy(logits: Any, labels: Any) -> float:
    """Share of rows whose largest score is the true class. Inference needs no softmax:
    softmax keeps the order of the scores, so the argmax is the same."""
    scores = logits.data if isinstance(logits, Tensor) else np.asarray(logits)
    t = _labels_array(labels)
    if t.ndim == scores.ndim:
        t = t.argmax(axis=-1)
    if t.shape != scores.shape[:-1]:
        raise ValueError(f"accuracy: labels of shape {t.shape} do not fit scores of shape "
                         f"{scores.shape}")
    return float((scores.argmax(axis=-1) == t).mean()) if t.size else 0.0


def perplexity(logits: Any, labels: Any, ignore_index: int = -100) -> float:
    """exp(mean cross-entropy): the language models' measure (the sequel's chapter 5). The
    number of equally likely choices the model is as unsure as, on average: 1 for a perfect
    model, C for a uniform guess among C classes. Same arguments as `cross_entropy`; no
    gradient. From a loss already computed (in nats): ``math.exp(loss)``."""
    with no_grad():
        return float(np.exp(cross_entropy(logits, labels, ignore_index).item()))


# ------------------------------------------------------------------ binary cross-entropy
# One probability per element instead of a softmax over classes: a yes/no question per
# output (is this a cat? is this pixel on?), as in word2vec's negative sampling or a GAN's
# discriminator. Both forms take PyTorch's arguments: ``weight`` rescales each element's loss
# (broadcast to the input's shape), ``reduction`` is "mean" (over every element), "sum" or
# "none" (the elementwise losses). ``weight`` and ``pos_weight`` are constants, as PyTorch's
# ``binary_cross_entropy`` requires: a tensor that requires a gradient is refused.

_REDUCTIONS = ("mean", "sum", "none")


class BinaryCrossEntropy(Function):
    """L = -w [t log(y) + (1 - t) log(1 - y)] per element, y in [0, 1] a probability.

    Each log is clamped at -100 (as PyTorch does), so a confident wrong answer (y = 0 with
    t = 1) costs 100 instead of inf. Backward (PyTorch's formulas):
        dL/dy = w (y - t) / max(y (1 - y), 1e-12),
        dL/dt = w (log(1 - y) - log(y))     (unclamped: inf at y = 0 or 1).
    """

    saved_tensors = {"y": 0, "t": 1}

    def __init__(self, weight: np.ndarray | None, reduction: str) -> None:
        self.weight, self.reduction = weight, reduction

    def forward(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        self.y, self.t, self.size = y, t, y.size
        with np.errstate(divide="ignore"):
            log_y = np.maximum(np.log(y), -100)
            log_1my = np.maximum(np.log1p(-y), -100)
        loss = -(t * log_y + (1 - t) * log_1my)
        return _reduce(loss, self.weight, self.reduction)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        y, t = self.y, self.t  # arrays, or tensors under create_graph (then so is gy)
        scale = _upstream(gy, self.weight, self.reduction, self.size)
        floor = y * (1 - y)
        floor = maximum(floor, 1e-12) if isinstance(floor, Tensor) else np.maximum(floor, 1e-12)
        gy_ = scale * (y - t) / floor
        if not self.needs_input_grad[1]:
            return gy_, None
        with np.errstate(divide="ignore"):
            gt = scale * (on_either(Log, 1 - y) - on_either(Log, y))
        return gy_, gt


class BinaryCrossEntropyWithLogits(Function):
    """Sigmoid and binary cross-entropy fused, on logits x (so y = sigmoid(x)):

        L = -w [p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]
          = w [p t softplus(-x) + (1 - t) softplus(x)],

    with ``pos_weight`` p (1 by default) weighting the positive term, and
    softplus(±x) = log(1 + e^(±x)) = max(±x, 0) + log(1 + e^-|x|), which never overflows: for
    x = -1000, -log sigmoid(x) = 1000 exactly, where sigmoid then log would give -log(0).
    Both terms are >= 0, so nothing cancels (the shorter (1 - t) x + softplus(-x) loses every
    digit of e^-50 at x = -50). Backward:
        dL/dx = w [(1 - t) sigmoid(x) - p t sigmoid(-x)]   (w (sigmoid(x) - t) for p = 1: the
                book's "y - t" once more, written so that sigmoid(50) - 1 keeps its digits),
        dL/dt = w [p softplus(-x) - softplus(x)] = w [(p - 1) softplus(-x) - x].
    """

    saved_tensors = {"x": 0, "t": 1}

    def __init__(self, weight: np.ndarray | None, pos_weight: np.ndarray | None,
                 reduction: str) -> None:
        self.weight, self.pos_weight, self.reduction = weight, pos_weight, reduction

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        self.x, self.t, self.size = x, t, x.size
        self.tail = tail = np.log1p(np.exp(-np.abs(x)))
        self.softplus_neg = np.maximum(-x, 0) + tail
        positive = t * self.softplus_neg
        if self.pos_weight is not None:
            positive *= self.pos_weight
        loss = positive + (1 - t) * (np.maximum(x, 0) + tail)
        return _reduce(loss, self.weight, self.reduction)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        x, t, p = self.x, self.t, self.pos_weight  # x, t: tensors under create_graph
        scale = _upstream(gy, self.weight, self.reduction, self.size)
        if isinstance(x, Tensor):  # the same formula in ops of the graph
            sig, sig_neg = sigmoid(x), sigmoid(-x)
            softplus_neg = -on_either(Log, sig)
        else:  # sigmoid(±x) = e^(min(±x, 0) - log(1 + e^-|x|)): never an overflow
            sig = np.exp(np.minimum(x, 0) - self.tail)
            sig_neg = np.exp(np.minimum(-x, 0) - self.tail)
            softplus_neg = self.softplus_neg
        positive = t * sig_neg if p is None else t * sig_neg * p
        gx = scale * ((1 - t) * sig - positive)
        if not self.needs_input_grad[1]:
            return gx, None
        gt = -x if p is None else (p - 1) * softplus_neg - x
        return gx, scale * gt


def _reduce(loss: np.ndarray, weight: np.ndarray | None, reduction: str) -> np.ndarray:
    """The elementwise losses, weighted, then summed, averaged or left as they are."""
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        total = total / loss.size if loss.size else np.nan  # a mean over nothing, as torch
    return np.asarray(total, dtype=loss.dtype)


def _upstream(gy: Any, weight: np.ndarray | None, reduction: str, size: int) -> Any:
    """What each element's local derivative is multiplied by: dL/dloss_i = gy w_i (/ n)."""
    scale = gy / (size or 1) if reduction == "mean" else gy
    return scale if weight is None else scale * weight


def _binary_operands(name: str, input: Any, target: Any, weight: Any, reduction: str,
                     ) -> tuple[Tensor, Tensor, np.ndarray | None]:
    """Check the shapes, dtypes and reduction of a binary cross-entropy; return the input and
    target as tensors of one dtype and the weight as an array broadcast to the input."""
    x = as_tensor(input)
    check_floating(name, x)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    t = target if isinstance(target, Tensor) else Tensor._wrap(np.asarray(target, x.dtype))
    if t.shape != x.shape:
        raise ValueError(f"{name}: target of shape {t.shape} differs from input of shape "
                         f"{x.shape} (they must be the same, as in PyTorch)")
    if t.dtype != x.dtype:
        t = Tensor._wrap(t.data.astype(x.dtype))
    return x, t, _constant(name, "weight", weight, x)


def _constant(name: str, what: str, value: Any, x: Tensor) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, Tensor) and value.requires_grad:
        raise ValueError(f"{name}: {what} is a constant and cannot require a gradient")
    array = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=x.dtype)
    try:
        return np.broadcast_to(array, x.shape)
    except ValueError:
        raise ValueError(f"{name}: {what} of shape {array.shape} does not broadcast to the "
                         f"input's shape {x.shape}") from None


def binary_cross_entropy(input: Any, target: Any, weight: Any = None,
                         reduction: str = "mean") -> Tensor:
    """-w [t log(y) + (1 - t) log(1 - y)] of probabilities y = ``input`` in [0, 1] against
    targets t of the same shape (PyTorch's ``F.binary_cross_entropy``; each log clamped at
    -100). Prefer ``binary_cross_entropy_with_logits`` on raw scores: it is exact where
    sigmoid rounds to 0 or 1."""
    x, t, w = _binary_operands("binary_cross_entropy", input, target, weight, reduction)
    if x.size and not (x.data.min() >= 0 and x.data.max() <= 1):  # nan fails too
        bad = x.data[~((x.data >= 0) & (x.data <= 1))].flat[0]
        raise ValueError(f"binary_cross_entropy: input must be probabilities in [0, 1], got "
                         f"{bad} (for raw scores use binary_cross_entropy_with_logits)")
    return BinaryCrossEntropy.apply(x, t, weight=w, reduction=reduction)


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None,
                                     pos_weight: Any = None,
                                     reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(``input``) against ``target``, fused and stable for
    any logit (PyTorch's ``F.binary_cross_entropy_with_logits``). ``pos_weight`` weights the
    positive term per class (broadcast along the last axis: > 1 raises recall)."""
    name = "binary_cross_entropy_with_logits"
    x, t, w = _binary_operands(name, input, target, weight, reduction)
    p = _constant(name, "pos_weight", pos_weight, x)
    return BinaryCrossEntropyWithLogits.apply(x, t, weight=w, pos_weight=p,
                                              reduction=reduction)
