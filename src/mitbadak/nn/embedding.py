"""`Embedding` (the sequel's chapter 4): a learned vector for each of V ids (words, chars)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional.embedding import normalize_padding_idx
from mitbadak.nn.init import normal
from mitbadak.nn.module import Module, Parameter, check_sizes


class Embedding(Module):
    """A table ``weight`` (num_embeddings, embedding_dim); ``embedding(ids)`` has shape
    ids.shape + (embedding_dim,). PyTorch's ``nn.Embedding``: same name, layout and init
    N(0, 1); the row ``padding_idx`` starts at zero and is never trained (its gradient is
    zero). The book's Embedding layer starts from ``0.01 * randn`` instead; its weight W is
    this ``weight`` (a torch state dict loads as is)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        super().__init__()
        check_sizes("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = normalize_padding_idx(padding_idx, num_embeddings, "Embedding")
        w = normal((num_embeddings, embedding_dim), 1.0, generator=generator)
        if self.padding_idx is not None:
            w[self.padding_idx] = 0
        self.weight = Parameter(w)

    def forward(self, ids: Any) -> Tensor:
        return F.embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
