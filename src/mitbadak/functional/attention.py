"""Scaled dot-product attention (Vaswani et al. 2017), the Transformer's core, as one node.

For queries Q (..., L, E), keys K (..., S, E) and values V (..., S, Ev):

    S = Q K^T * scale + mask        scale = 1 / sqrt(E) unless given
    P = softmax(S) over the keys    (each query's weights over the S keys sum to 1)
    O = P V                          (..., L, Ev)

The sequel's attention (chapter 8) is this with scale = 1 and no mask. The mask, as PyTorch's
``attn_mask``: a bool mask says which keys each query may look at (True = take part); a float
mask is added to the scores (0 keeps, -inf removes); ``is_causal=True`` lets query i look at
keys 0..i only (the mask of a language model, which must not see the future). Leading batch
and head axes broadcast (K and V of shape (N, 1, S, E) serve every head).

A query whose keys are all masked has no distribution to take: PyTorch returns nan there. Here
its weights are all 0, so its output row is 0 and no gradient flows through it (a padded
query in a batch then stays harmless instead of poisoning the loss with nan).

The backward, with dO = dL/dO:

    dV = P^T dO,   dP = dO V^T,   dS = P * (dP - rowsum(dP * P)),
    dQ = dS K * scale,   dK = dS^T Q * scale.

rowsum(dP * P) equals rowsum(dO * O) (both are sum_j P_ij sum_d dO_id V_jd), which is
computed on the smaller (L, Ev) arrays instead of (L, S), as FlashAttention does.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.random import default_generator
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional._util import check_floating
from mitbadak.functional.arithmetic import matmul
from mitbadak.functional.dropout import dropout


def _transpose(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def masked_softmax_scores(q_scaled: np.ndarray, k: np.ndarray,
                          mask: np.ndarray | None) -> np.ndarray:
    """P = softmax(q_scaled K^T + mask) over the last axis, rows with every key masked all 0."""
    s = q_scaled @ _transpose(k)
    if mask is not None:
        s += mask
    m = s.max(axis=-1, keepdims=True)
    if mask is not None:  # a fully masked row has max -inf: shift it by 0 instead (exp -> 0)
        m[~np.isfinite(m)] = 0
    s -= m
    np.exp(s, out=s)
    total = (s @ np.ones(s.shape[-1], s.dtype))[..., None]  # row sums; BLAS beats .sum here
    if mask is not None:
        total[total == 0] = 1  # 0 / 1: the fully masked rows stay 0
    s /= total
    return s


def softmax_scores_backward(p: np.ndarray, dp: np.ndarray, rowsum: np.ndarray,
                            q_scaled: np.ndarray, k: np.ndarray, scale: float,
                            needs: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
    """dS = P * (dP - rowsum), then dQ = dS K * scale and dK = dS^T Q * scale (Q * scale is
    what was saved)."""
    ds = dp - rowsum
    ds *= p
    dq = ds @ k * scale if needs[0] else None
    dk = _transpose(ds) @ q_scaled if needs[1] else None
    return dq, dk


class ScaledDotProductAttention(Function):
    """O = softmax(Q K^T * scale + mask) V, fused; see the module docstring for the backward.

    With dropout (probability p, only while training, as PyTorch's ``dropout_p``) the weights
    are P * M / (1 - p) for a Bernoulli(1 - p) mask M; dP then picks up the same factor.
    """

    def __init__(self, mask: np.ndarray | None, scale: float, dropout_p: float,
                 generator: np.random.Generator | None) -> None:
        self.mask, self.scale, self.dropout_p, self.generator = mask, scale, dropout_p, generator

    def forward(self, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        self.q_scaled, self.k, self.v = q * np.asarray(self.scale, q.dtype), k, v
        p = masked_softmax_scores(self.q_scaled, k, self.mask)
        self.p = p
        if self.dropout_p:
            assert self.generator is not None
            keep = self.generator.random(p.shape, dtype=np.float32) >= self.dropout_p
            self.scaled_keep = keep * np.asarray(1.0 / (1.0 - self.dropout_p), dtype=p.dtype)
            p = p * self.scaled_keep
        self.o = p @ v
        return self.o

    def backward(self, go: np.ndarray) -> tuple[np.ndarray | None, ...]:
        need_q, need_k, need_v = self.needs_input_grad
        p = self.p if not self.dropout_p else self.p * self.scaled_keep
        dv = _transpose(p) @ go if need_v else None
        if not (need_q or need_k):
            return None, None, dv
        dp = go @ _transpose(self.v)
        if self.dropout_p:
            dp *= self.scaled_keep
        rowsum = (go * self.o).sum(axis=-1, keepdims=True)
        dq, dk = softmax_scores_backward(self.p, dp, rowsum, self.q_scaled, self.k,
                                         self.scale, (need_q, need_k))
        return dq, dk, dv


class AttentionWeights(Function):
    """P = softmax(Q K^T * scale + mask), the weights alone (for `attention_with_weights`);
    dS = P * (dP - rowsum(dP * P)), dQ = dS K * scale, dK = dS^T Q * scale."""

    def __init__(self, mask: np.ndarray | None, scale: float) -> None:
        self.mask, self.scale = mask, scale

    def forward(self, q: np.ndarray, k: np.ndarray) -> np.ndarray:
        self.q_scaled, self.k = q * np.asarray(self.scale, q.dtype), k
        self.p = masked_softmax_scores(self.q_scaled, k, self.mask)
        return self.p

    def backward(self, dp: np.ndarray) -> tuple[np.ndarray | None, ...]:
        rowsum = (dp * self.p).sum(axis=-1, keepdims=True)
        return softmax_scores_backward(self.p, dp, rowsum, self.q_scaled, self.k, self.scale,
                                       self.needs_input_grad)


# --------------------------------------------------------------------------------- masks
@lru_cache(maxsize=16)
def causal_mask(length: int, source_length: int, dtype: np.dtype) -> np.ndarray:
    """(L, S) additive mask: 0 where key j <= query i, -inf above the diagonal (PyTorch's
    ``ones(L, S).tril()``, aligned top-left). Cached and read-only: every step reuses it."""
    mask = np.zeros((length, source_length), dtype=dtype)
    mask[np.triu_indices(length, 1, source_length)] = -np.inf
    mask.flags.writeable = False
    return mask


def _additive_mask(op: str, attn_mask: object, is_causal: bool,
                   scores_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
    """The mask as an array added to the scores (bool True -> 0, False -> -inf), or None."""
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass attn_mask or is_causal=True, not both")
        return causal_mask(*scores_shape[-2:], np.dtype(dtype))
    if attn_mask is None:
        return None
    mask = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    if mask.dtype == np.bool_:
        mask = np.where(mask, np.zeros((), dtype), np.asarray(-np.inf, dtype))
    elif mask.dtype.kind == "f":
        mask = mask.astype(dtype, copy=False)
    else:
        raise TypeError(f"{op}: attn_mask must be bool (True = take part) or floating "
                        f"(added to the scores), got dtype {mask.dtype}")
    try:
        fits = np.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: attn_mask of shape {mask.shape} does not broadcast to the "
                         f"scores' shape {scores_shape} (..., query length, key length)")
    return mask


def _prepare(op: str, query: Tensor, key: Tensor, value: Tensor | None, attn_mask: object,
             is_causal: bool, scale: float | None) -> tuple[np.ndarray | None, float]:
    """Check shapes and dtypes; return the additive mask and the scale."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t is None:
            continue
        check_floating(op, t)
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have shape (..., length, features), "
                             f"got {t.shape}")
    lead = [query.shape[:-2], key.shape[:-2]]
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"{op}: query {query.shape} and key {key.shape} must have the same "
                         "last (feature) axis")
    if value is not None:
        lead.append(value.shape[:-2])
        if value.shape[-2] != key.shape[-2]:
            raise ValueError(f"{op}: key {key.shape} and value {value.shape} must have the "
                             "same number of positions (axis -2)")
    try:
        batch = np.broadcast_shapes(*lead)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in (query, key, value) if t is not None)
        raise ValueError(f"{op}: the leading (batch, head) axes of {shapes} do not "
                         "broadcast") from None
    scores_shape = (*batch, query.shape[-2], key.shape[-2])
    mask = _additive_mask(op, attn_mask, is_causal, scores_shape, query.dtype)
    return mask, 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)


def _check_dropout(op: str, dropout_p: float) -> None:
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: object = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 generator: np.random.Generator | None = None) -> Tensor:
    """softmax(Q K^T * scale + mask) V over the last two axes, as PyTorch's function of the
    same name (see the module docstring; fully masked rows give 0, not nan).

    ``dropout_p`` drops attention weights whenever it is > 0 (as PyTorch: pass 0 in
    evaluation); ``attn_mask`` takes no gradient.
    """
    op = "scaled_dot_product_attention"
    query = as_tensor(query)
    key, value = as_tensor(key, query), as_tensor(value, query)
    _check_dropout(op, dropout_p)
    mask, scale_ = _prepare(op, query, key, value, attn_mask, is_causal, scale)
    return ScaledDotProductAttention.apply(
        query, key, value, mask=mask, scale=scale_, dropout_p=dropout_p,
        generator=(generator or default_generator()) if dropout_p else None)


def attention_with_weights(query: Tensor, key: Tensor, value: Tensor,
                           attn_mask: object = None, dropout_p: float = 0.0,
                           is_causal: bool = False, scale: float | None = None,
                           generator: np.random.Generator | None = None
                           ) -> tuple[Tensor, Tensor]:
    """``(output, weights)``: the same output as `scaled_dot_product_attention`, and the
    attention weights P (..., L, S) that produced it, for drawing which keys each query looked
    at (``need_weights=True`` in `nn.MultiheadAttention`).

    Two nodes instead of one (P, then P V), so both results are differentiable; with dropout
    the weights returned are the ones used, after dropout (as PyTorch's MultiheadAttention).
    """
    op = "attention_with_weights"
    query = as_tensor(query)
    key, value = as_tensor(key, query), as_tensor(value, query)
    _check_dropout(op, dropout_p)
    mask, scale_ = _prepare(op, query, key, value, attn_mask, is_causal, scale)
    weights = AttentionWeights.apply(query, key, mask=mask, scale=scale_)
    if dropout_p:
        weights = dropout(weights, dropout_p, generator=generator)
    return matmul(weights, value), weights
