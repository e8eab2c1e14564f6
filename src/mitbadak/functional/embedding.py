"""Embedding (the sequel's chapter 4): look up one row of a weight matrix per word id.

A word id t picks row t of W (V, D). Written as a one-hot vector times W this is a
matrix product, but the product would multiply V - 1 zeros per word; the book's Embedding
layer gathers the rows instead, and its backward adds each output gradient back into the
row it came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional._util import check_floating

ONE_HOT_LIMIT = 1 << 22  # elements of the one-hot matrix (16 MiB of float32) at most


class EmbeddingFunction(Function):
    """The book's Embedding layer: y = W[ids] (any integer shape of ids, y is ids.shape + (D,)).

    Backward: dW[t] += dy at every position holding id t, a scatter-add, so an id that
    occurs several times in the batch receives the sum of its gradients (the book's
    ``np.add.at(dW, self.idx, dout)``: plain ``dW[ids] = dy`` would keep only the last one).
    ``np.add.at`` goes element by element; here, for a small vocabulary (V * n <=
    ``ONE_HOT_LIMIT``, a character model's) the sum is the one-hot product dW = onehot(ids)^T
    dy, one GEMM (~4x faster), and for a large one the positions are sorted by id and each
    id's run of rows summed (``np.add.reduceat``, ~2x faster). Both only reorder the sums.
    The row ``padding_idx``, if given, gets no gradient, as PyTorch's: a padding token keeps
    its vector (zeros, as `nn.Embedding` starts it).
    """

    def __init__(self, ids: np.ndarray, padding_idx: int | None) -> None:
        self.ids, self.padding_idx = ids, padding_idx

    def forward(self, weight: np.ndarray) -> np.ndarray:
        self.weight_shape = weight.shape
        return weight.take(self.ids, axis=0)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        (v, d), ids = self.weight_shape, self.ids.ravel()
        gy = gy.reshape(ids.size, d)
        if v * ids.size <= ONE_HOT_LIMIT:
            one_hot = np.zeros((v, ids.size), dtype=gy.dtype)
            one_hot[ids, np.arange(ids.size)] = 1
            dW = one_hot @ gy
        else:
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            starts = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
            dW = np.zeros(self.weight_shape, dtype=gy.dtype)
            dW[sorted_ids[starts]] = np.add.reduceat(gy[order], starts, axis=0)
        if self.padding_idx is not None:
            dW[self.padding_idx] = 0
        return (dW,)


def normalize_padding_idx(padding_idx: int | None, num_embeddings: int,
                          op: str = "embedding") -> int | None:
    """``padding_idx`` as a row in [0, num_embeddings); a negative one counts from the end,
    as in PyTorch."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx {padding_idx} is outside [-{num_embeddings}, "
                         f"{num_embeddings}) for {num_embeddings} embeddings")
    return padding_idx % num_embeddings


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of ``weight`` (V, D) picked by the integer ids ``input`` (any shape): a tensor of
    shape input.shape + (D,). ``padding_idx``: a row that receives no gradient."""
    ids = np.asarray(input.data if isinstance(input, Tensor) else input)
    weight = as_tensor(weight)
    check_floating("embedding", weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must have shape (num_embeddings, embedding_dim), "
                         f"got {weight.shape}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype}; "
                        "convert them first, e.g. with .astype(np.int64)")
    n = weight.shape[0]
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        bad = ids[(ids < 0) | (ids >= n)].flat[0]
        raise IndexError(f"embedding: id {bad} is outside [0, {n}) ({n} embeddings)")
    return EmbeddingFunction.apply(weight, ids=ids,
                                   padding_idx=normalize_padding_idx(padding_idx, n))
