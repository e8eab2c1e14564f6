"""Pick the next token from a language model's logits: the one rule every text generator here
(`LSTMLanguageModel.generate`, `GPT.generate`, ``mitbadak sample``) draws with.

Given logits z over a vocabulary of V tokens, ``temperature`` T sharpens (T < 1) or flattens
(T > 1) the distribution and ``top_k`` keeps only the k most likely tokens::

    p_i = exp(z_i / T) / sum_j exp(z_j / T)      over the k largest z_i (others get p = 0)

T = 0 is the limit T -> 0: always the most likely token (greedy decoding). The draw uses
``generator`` (an ``np.random.Generator``) or, when it is None, the library's default generator
(``mb.manual_seed`` makes it reproducible), as dropout and the initialisers do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.autograd.random import default_generator
from mitbadak.autograd.tensor import Tensor


def next_token_probs(logits: Any, temperature: float = 1.0,
                     top_k: int | None = None) -> np.ndarray:
    """The distribution ``sample_next`` draws from, over the last axis of ``logits`` (shape
    (V,) or (N, V)); float64, each row summing to 1. At temperature 0 it is one-hot on the
    largest logit (the first of equal ones)."""
    z = _check(logits, temperature, top_k)
    if top_k is not None and top_k < z.shape[-1]:
        kth = np.partition(z, -top_k, axis=-1)[..., -top_k, None]   # the k-th largest
        z = np.where(z < kth, -np.inf, z)                    # keep the k largest (and ties)
    if temperature == 0:
        return np.eye(z.shape[-1])[np.argmax(z, axis=-1)]
    z = z / temperature
    z = z - z.max(axis=-1, keepdims=True)                    # exp never overflows
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def sample_next(logits: Any, temperature: float = 1.0, top_k: int | None = None,
                generator: np.random.Generator | None = None) -> np.ndarray:
    """The next token id drawn from ``logits`` (a Tensor or array of shape (V,) or (N, V)):
    an int64 array of shape () or (N,). See the module docstring for ``temperature`` and
    ``top_k``; a ValueError for a temperature below 0 or a top_k below 1."""
    p = next_token_probs(logits, temperature, top_k)
    if temperature == 0:
        return np.argmax(p, axis=-1).astype(np.int64)
    rng = default_generator() if generator is None else generator
    u = rng.random(p.shape[:-1] + (1,))
    cdf = np.cumsum(p, axis=-1)
    ids = (cdf < u * cdf[..., -1:]).sum(axis=-1)             # inverse-CDF draw, per row
    return np.minimum(ids, p.shape[-1] - 1).astype(np.int64)


def _check(logits: Any, temperature: float, top_k: int | None) -> np.ndarray:
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] == 0:
        raise ValueError(f"sampling: logits must have shape (V,) or (N, V) with V >= 1, "
                         f"got {z.shape}")
    if not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"sampling: temperature must be >= 0 (0 = greedy), got {temperature}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int | np.integer)
                              or top_k < 1):
        raise ValueError(f"sampling: top_k must be an integer >= 1 (or None), got {top_k!r}")
    if np.isnan(z).any() or np.isposinf(z).any() or np.isneginf(z).all(axis=-1).any():
        raise ValueError("sampling: the logits must be finite or -inf (masked), and not all "
                         "-inf in a row")
    return z
