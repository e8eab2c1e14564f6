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

Three savings make this fast on NumPy, none of which changes the formulas:

* The scores are held transposed, S^T (..., S, L), one column per query: NumPy reduces
  across rows (max over axis -2) about 3x faster than along them, and BLAS multiplies a
  transposed operand at no cost.
* P = E / t with E = exp(S - max) and t = rowsum(E) (a product with a ones vector), and the
  division by t is never done on the (L, S) matrix: it scales the (L, Ev) rows instead,
  O = (E V) / t; and in the backward dO / t stands for dO with E for P, since
  dV = E^T (dO / t),  dS = E * (dP' - rowsum(dO / t * O)),  dP' = (dO / t) V^T.
* Causal attention (``is_causal=True``) runs in tiles of query rows: the tile of queries
  a..b-1 multiplies only against the keys 0..b-1 it may see, the causal mask added to its
  diagonal block alone, so the scores, the softmax, P V and the backward all skip most of
  the masked upper triangle (FlashAttention's causal saving; each tile's rows are whole, so
  no online softmax is needed). The result is the full matrix's, tile by tile.

And the batch (axis 0, when Q, K, V share it) is cut into one share per free core, run in
threads side by side (`mitbadak.parallel`): the tiles' products are too small for OpenBLAS
to split, and each sequence's attention is independent of the others'.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from mitbadak import parallel
from mitbadak.autograd.function import Function
from mitbadak.autograd.random import default_generator
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional._util import _ones, check_floating
from mitbadak.functional.arithmetic import matmul
from mitbadak.functional.dropout import dropout


def _transpose(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def exp_scores(q_scaled: np.ndarray, k: np.ndarray, mask_t: np.ndarray | None,
               masked_from: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """E^T = exp(S - m)^T (..., S, L) for the scores S = q_scaled K^T + mask shifted by each
    query's max m, and 1 / t (..., 1, L) for t = rowsum(E): P^T = E^T / t. ``mask_t``, the
    mask transposed, is added to the keys from ``masked_from`` on (a causal tile masks only
    its diagonal block). A query whose keys are all masked gets E = 0 and 1 / t = 1."""
    e = k @ _transpose(q_scaled)
    if mask_t is not None:
        e[..., masked_from:, :] += mask_t
    m = e.max(axis=-2, keepdims=True)
    if mask_t is not None:  # a fully masked query has max -inf: shift it by 0 instead
        m[~np.isfinite(m)] = 0
    e -= m
    np.exp(e, out=e)
    total = (_ones(e.shape[-2], e.dtype) @ e)[..., None, :]  # BLAS beats .sum here
    if mask_t is not None:
        total[total == 0] = 1  # E / 1: the fully masked queries stay 0
    return e, np.reciprocal(total, out=total)


def scores_backward(p_t: np.ndarray, ds_t: np.ndarray, q_scaled: np.ndarray, k: np.ndarray,
                    scale: float, needs: tuple[bool, ...],
                    dq_out: np.ndarray | None = None) -> tuple[np.ndarray | None, ...]:
    """dS^T = P^T * (dP^T - rowsum), given dP^T - rowsum as ``ds_t`` (overwritten), then
    dQ = dS K * scale (into ``dq_out``, if given) and dK = dS^T Q * scale (Q * scale is what
    was saved); transposed as `exp_scores` has them."""
    ds_t *= p_t
    dq = None
    if needs[0]:
        dq = np.matmul(_transpose(ds_t), k, out=dq_out)
        dq *= scale
    dk = ds_t @ q_scaled if needs[1] else None
    return dq, dk


CAUSAL_TILE = 32  # query rows per tile of causal attention (T = 128: 4 tiles)


def causal_tiles(length: int, source: int, tile: int) -> list[tuple[int, int, int]]:
    """(first, stop, keys) per tile: the queries first..stop-1 of a causal attention see only
    the keys 0..keys-1, keys = min(stop, source) (query i sees the keys j <= i)."""
    return [(a, min(a + tile, length), min(a + tile, length, source))
            for a in range(0, length, tile)]


class ScaledDotProductAttention(Function):
    """O = softmax(Q K^T * scale + mask) V, fused; see the module docstring for the backward.
    ``causal_tile`` (set for ``is_causal``, whose mask ``mask`` then is): the queries run in
    tiles of that many rows (the module docstring's third saving); None: one full matrix.

    With dropout (probability p, only while training, as PyTorch's ``dropout_p``) the weights
    are P * M / (1 - p) for a Bernoulli(1 - p) mask M; dP then picks up the same factor.
    """

    def __init__(self, mask: np.ndarray | None, scale: float, dropout_p: float,
                 generator: np.random.Generator | None, causal_tile: int | None = None) -> None:
        self.mask, self.scale, self.dropout_p, self.generator = mask, scale, dropout_p, generator
        self.causal_tile = causal_tile

    def forward(self, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        self.q_scaled, self.k, self.v = q * np.asarray(self.scale, q.dtype), k, v
        length, source = q.shape[-2], k.shape[-2]
        self.tiles = ([(0, length, source)] if self.causal_tile is None
                      else causal_tiles(length, source, self.causal_tile))
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        if self.dropout_p:  # drawn for the whole (..., L, S), as F.dropout draws its mask
            assert self.generator is not None
            keep = self.generator.random((*batch, length, source), dtype=np.float32)
            self.keep_t = (_transpose(keep) >= self.dropout_p) * np.asarray(
                1 / (1 - self.dropout_p), q.dtype)
        self.o = np.empty((*batch, length, v.shape[-1]), np.result_type(q, k, v))
        split = (q.ndim == k.ndim == v.ndim > 2 and q.shape[0] == k.shape[0] == v.shape[0]
                 and (self.mask is None or self.mask.ndim < q.ndim or self.mask.shape[0] == 1))
        self.batch = range(q.shape[0] if split else 1)  # what may be cut into shares
        self.shares = parallel.split(self.batch)  # the backward keeps the same shares
        self.saved = parallel.run(self._forward_share, self.shares)
        return self.o

    def _rows(self, share: Sequence[int]) -> slice:
        """The batch rows (axis 0) of a share of ``self.batch``: all of them if not split."""
        assert isinstance(share, range)
        return slice(share.start, share.stop) if len(self.batch) > 1 else slice(None)

    def _forward_share(self, share: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        """O of a share of the batch, tile by tile; returns each tile's E^T and 1 / t."""
        rows = self._rows(share)
        q_scaled, k, v, o = self.q_scaled[rows], self.k[rows], self.v[rows], self.o[rows]
        saved = []
        for a, b, keys in self.tiles:
            e, inv_total = exp_scores(q_scaled[..., a:b, :], k[..., :keys, :],
                                      *self._tile_mask(a, b, keys))
            saved.append((e, inv_total))
            if self.dropout_p:
                e = e * self.keep_t[rows][..., :keys, a:b]
            out = np.matmul(_transpose(e), v[..., :keys, :], out=o[..., a:b, :])
            out *= _transpose(inv_total)
        return saved

    def _tile_mask(self, first: int, stop: int, keys: int) -> tuple[np.ndarray | None, int]:
        """A tile's mask, transposed, and the key it starts at."""
        if self.mask is None:
            return None, 0
        if self.causal_tile is None:
            return _transpose(self.mask), 0
        if first >= keys:  # queries past the last key see every key
            return None, 0
        return _causal_block_t(self.causal_tile, self.k.dtype)[:keys - first, :stop - first], first

    def backward(self, go: np.ndarray) -> tuple[np.ndarray | None, ...]:
        need_q, need_k, need_v = self.needs_input_grad
        lead, source = go.shape[:-2], self.k.shape[-2]
        dq = (_gradient_of(self.q_scaled, (*go.shape[:-1], self.q_scaled.shape[-1]), go.dtype)
              if need_q else None)
        dk = _gradient_of(self.k, (*lead, source, self.k.shape[-1]), go.dtype) if need_k else None
        dv = _gradient_of(self.v, (*lead, source, self.v.shape[-1]), go.dtype) if need_v else None
        parallel.run(lambda share: self._backward_share(share, go, dq, dk, dv), self.shares)
        return dq, dk, dv

    def _backward_share(self, share: Sequence[int], go: np.ndarray, dq: np.ndarray | None,
                        dk: np.ndarray | None, dv: np.ndarray | None) -> None:
        """dQ, dK, dV of a share of the batch, tile by tile, into its rows of dq, dk, dv."""
        rows = self._rows(share)
        saved = self.saved[self.shares.index(share)]
        grads = [self._tile_backward(rows, go[rows], tile, e, inv_total,
                                     None if dq is None else dq[rows])
                 for tile, (e, inv_total) in zip(self.tiles, saved)]
        for i, out in ((0, dk), (1, dv)):
            if out is not None:
                _sum_over_keys([g[i] for g in grads], out[rows])

    def _tile_backward(self, rows: slice, go: np.ndarray, tile: tuple[int, int, int],
                       e: np.ndarray, inv_total: np.ndarray,
                       dq: np.ndarray | None) -> tuple[np.ndarray | None, ...]:
        """dQ of the tile's queries (into ``dq``), and dK, dV of the keys 0..keys-1 it saw
        (its share), for the batch ``rows`` (``go`` and ``dq`` are those rows already)."""
        need_q, need_k, need_v = self.needs_input_grad
        a, b, keys = tile
        v = self.v[rows][..., :keys, :]
        go = go[..., a:b, :] * _transpose(inv_total)  # dO / t
        if self.dropout_p:
            keep_t = self.keep_t[rows][..., :keys, a:b]
            e_kept = e * keep_t
        dv = (e_kept if self.dropout_p else e) @ go if need_v else None
        if not (need_q or need_k):
            return None, dv
        dp_t = v @ _transpose(go)
        if self.dropout_p:
            dp_t *= keep_t
        dp_t -= np.einsum("...ld,...ld->...l", go, self.o[rows][..., a:b, :])[..., None, :]
        _, dk = scores_backward(e, dp_t, self.q_scaled[rows][..., a:b, :],
                                self.k[rows][..., :keys, :], self.scale, (need_q, need_k),
                                None if dq is None else dq[..., a:b, :])
        return dk, dv


def _sum_over_keys(parts: list[np.ndarray | None], out: np.ndarray) -> None:
    """The tiles' gradients of keys 0..keys_i-1 (each (..., keys_i, E)) summed into ``out``
    (..., S, E), all S keys; keys no query sees get 0."""
    last = parts[-1]  # the last tile's keys: all of them, unless the queries are fewer
    assert last is not None
    out[..., :last.shape[-2], :] = last
    out[..., last.shape[-2]:, :] = 0
    for part in parts[:-1]:
        assert part is not None
        out[..., :part.shape[-2], :] += part


def _gradient_of(a: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An empty gradient for ``a``, in ``a``'s memory layout where it has ``a``'s shape.
    Multi-head attention's Q, K, V are transposed views (N, h, T, d) of (N, T, h, d) arrays:
    a gradient laid out as they are is contiguous again once transposed back, so the heads'
    backward reshapes it without a copy."""
    return np.empty_like(a, dtype) if a.shape == shape else np.empty(shape, dtype)


class AttentionWeights(Function):
    """P = softmax(Q K^T * scale + mask), the weights alone (for `attention_with_weights`);
    dS = P * (dP - rowsum(dP * P)), dQ = dS K * scale, dK = dS^T Q * scale."""

    def __init__(self, mask: np.ndarray | None, scale: float) -> None:
        self.mask, self.scale = mask, scale

    def forward(self, q: np.ndarray, k: np.ndarray) -> np.ndarray:
        self.q_scaled, self.k = q * np.asarray(self.scale, q.dtype), k
        mask_t = None if self.mask is None else _transpose(self.mask)
        e, inv_total = exp_scores(self.q_scaled, k, mask_t)
        e *= inv_total
        self.p_t = e
        return _transpose(e)

    def backward(self, dp: np.ndarray) -> tuple[np.ndarray | None, ...]:
        dp_t = _transpose(dp)
        rowsum = (_ones(dp_t.shape[-2], dp.dtype) @ (dp_t * self.p_t))[..., None, :]
        return scores_backward(self.p_t, dp_t - rowsum, self.q_scaled, self.k, self.scale,
                               self.needs_input_grad)


# --------------------------------------------------------------------------------- masks
@lru_cache(maxsize=16)
def _causal_block_t(size: int, dtype: np.dtype) -> np.ndarray:
    """A causal tile's diagonal block of the mask, transposed (keys down, queries across:
    -inf below the diagonal), contiguous; cached and read-only."""
    mask = np.ascontiguousarray(_transpose(causal_mask(size, size, np.dtype(dtype))))
    mask.flags.writeable = False
    return mask


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
        generator=(generator or default_generator()) if dropout_p else None,
        causal_tile=CAUSAL_TILE if is_causal and query.shape[-2] else None)


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
