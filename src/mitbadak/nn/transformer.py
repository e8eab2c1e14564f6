"""The Transformer (Vaswani et al. 2017) and a small GPT (Radford et al. 2018, 2019), built from
the ops of `mitbadak.functional`: scaled dot-product attention, layer norm, GELU.

* `MultiheadAttention`: h heads, each attending over its own d = E / h wide slice of
  learned projections of the query, key and value; the heads' outputs are concatenated and
  projected back to E (PyTorch's ``nn.MultiheadAttention``, ``batch_first=True`` by default).
* `TransformerBlock`: GPT-2's pre-norm residual block,
  x = x + attn(ln1(x));  x = x + mlp(ln2(x)),  mlp = Linear(E, 4E), GELU, Linear(4E, E).
* `GPT`: token and learned position embeddings, n_layer blocks, a final layer norm and a
  language-model head that shares its matrix with the token embedding (weight tying).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.grad_mode import no_grad
from mitbadak.autograd.random import default_generator
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.nn.activation import GELU
from mitbadak.nn.container import Sequential
from mitbadak.nn.dropout import Dropout
from mitbadak.nn.embedding import Embedding
from mitbadak.nn.linear import Linear
from mitbadak.nn.module import Module, check_sizes
from mitbadak.nn.normalization import LayerNorm
from mitbadak.nn.sampling import sample_next


class MultiheadAttention(Module):
    """Multi-head attention: ``attn(query, key, value)`` returns ``(output, weights)``.

    Shapes (``batch_first=True``): query (N, L, E), key and value (N, S, E), output (N, L, E);
    the weights (N, L, S), averaged over the heads, or (N, h, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False`` (then the heads run in
    one fused `F.scaled_dot_product_attention` node, the fast path a model uses).

    Masks follow PyTorch's module (which differ from its function's): ``attn_mask`` (L, S) or
    (N * h, L, S) is bool with **True = may not attend**, or float, added to the scores;
    ``key_padding_mask`` (N, S) is bool with True = a padding key to ignore. ``is_causal=True``
    alone applies the causal mask (PyTorch wants the mask given as well, as a hint). A query
    that may attend to no key gets all-zero weights and output (PyTorch: nan).

    Weights, in the book's layout (``Linear.W`` is (in, out)): ``in_proj.W`` (E, 3E) holds the
    query, key and value projections side by side, so PyTorch's ``in_proj_weight`` (3E, E) is
    ``in_proj.W.T`` and ``in_proj_bias`` is ``in_proj.b``; ``out_proj.W`` is PyTorch's
    ``out_proj.weight.T``. Key and value have the query's width E (no ``kdim``/``vdim``).
    Initialisation: Xavier for both projections, zero biases (PyTorch: Xavier for
    ``in_proj``).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = True) -> None:
        super().__init__()
        check_sizes("MultiheadAttention", embed_dim=embed_dim, num_heads=num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} is not divisible by "
                             f"num_heads {num_heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        self.in_proj = Linear(embed_dim, 3 * embed_dim, bias=bias, init="xavier")
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, init="xavier")

    def forward(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
        if not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = (F.transpose(t, 1, 0, 2) for t in (query, key, value))
        e = self.embed_dim
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != 3 or t.shape[-1] != e:
                layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
                raise ValueError(f"{self._name}: {name} must have shape {layout} with E = {e}, "
                                 f"got {tuple(t.shape)}")
        n, length, source = query.shape[0], query.shape[1], key.shape[1]
        # three (E, E) products with column blocks of in_proj rather than one (E, 3E) product
        # split afterwards: as fast, and the backward then adds three (N * T, E) gradients
        # instead of scattering each head's slice into a zero (N * T, 3E) array
        w, b = self.in_proj.W, self.in_proj.b
        q, k, v = (self._heads(F.linear(_rows(t), w[:, i * e:(i + 1) * e],
                                        None if b is None else b[i * e:(i + 1) * e]),
                               n, t.shape[1])
                   for i, t in enumerate((query, key, value)))
        mask = self._mask(attn_mask, key_padding_mask, n, length, source)
        if is_causal and mask is not None:
            raise ValueError(f"{self._name}: is_causal=True with attn_mask or key_padding_mask: "
                             "put the causal mask into attn_mask instead")
        p = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = F.attention_with_weights(q, k, v, attn_mask=mask, dropout_p=p,
                                                    is_causal=is_causal)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p,
                                                 is_causal=is_causal)
        out = F.reshape(F.transpose(out, 0, 2, 1, 3), n * length, e)  # concatenate the heads
        out = F.reshape(self.out_proj(out), n, length, e)
        if not self.batch_first:
            out = F.transpose(out, 1, 0, 2)
        if not need_weights:
            return out, None
        return out, (F.mean(weights, 1) if average_attn_weights else weights)

    @property
    def _name(self) -> str:
        """The layer in one line, for error messages (its repr spans several)."""
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def _heads(self, projected: Tensor, n: int, t: int) -> Tensor:
        """(N * T, E) -> (N, h, T, d): split E into h heads of d (a view)."""
        return F.transpose(F.reshape(projected, n, t, self.num_heads, self.head_dim), 0, 2, 1, 3)

    def _mask(self, attn_mask: Any, key_padding_mask: Any, n: int, length: int,
              source: int) -> np.ndarray | None:
        """One float mask (0 / -inf, or the given values), broadcastable to (N, h, L, S)."""
        dtype = self.in_proj.W.dtype
        mask = None
        if attn_mask is not None:
            mask = _to_additive(np.asarray(attn_mask.data if isinstance(attn_mask, Tensor)
                                           else attn_mask), dtype, f"{self._name}: attn_mask")
            if mask.shape == (n * self.num_heads, length, source):
                mask = mask.reshape(n, self.num_heads, length, source)
            elif mask.shape != (length, source):
                raise ValueError(f"{self._name}: attn_mask must have shape (L, S) = "
                                 f"({length}, {source}) or (N * num_heads, L, S) = "
                                 f"({n * self.num_heads}, {length}, {source}), "
                                 f"got {mask.shape}")
        if key_padding_mask is not None:
            pad = _to_additive(np.asarray(key_padding_mask.data
                                          if isinstance(key_padding_mask, Tensor)
                                          else key_padding_mask), dtype,
                               f"{self._name}: key_padding_mask")
            if pad.shape != (n, source):
                raise ValueError(f"{self._name}: key_padding_mask must have shape (N, S) = "
                                 f"({n}, {source}), got {pad.shape}")
            pad = pad[:, None, None, :]
            mask = pad if mask is None else mask + pad
        return mask

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")


def _rows(x: Tensor) -> Tensor:
    """(N, T, E) -> (N * T, E): a linear layer over one matrix of rows is one plain matrix
    product (NumPy multiplies a stack of matrices one by one, and ~30% slower)."""
    return F.reshape(x, x.shape[0] * x.shape[1], x.shape[2])


def _to_additive(mask: np.ndarray, dtype: np.dtype, what: str) -> np.ndarray:
    """PyTorch's module masks: bool True = masked out (-inf), False = kept (0); float as is."""
    if mask.dtype == np.bool_:
        return np.where(mask, np.asarray(-np.inf, dtype), np.zeros((), dtype))
    if mask.dtype.kind == "f":
        return mask.astype(dtype, copy=False)
    raise TypeError(f"{what} must be bool (True = masked out) or floating, got dtype "
                    f"{mask.dtype}")


class TransformerBlock(Module):
    """GPT-2's block (pre-norm): ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))``.

    Normalising the input of each branch rather than the sum (the original Transformer's
    post-norm) leaves the residual path an identity from the embeddings to the head, which is
    what lets deep stacks train without a warm-up-sensitive start. ``causal=True`` lets each
    position attend only to itself and earlier ones (a language model); the MLP is
    Linear(E, 4E), GELU (GPT-2's tanh form), Linear(4E, E); ``dropout`` applies to the
    attention weights and to each branch's output before it is added.
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0,
                 causal: bool = True) -> None:
        super().__init__()
        self.causal = causal
        self.ln1 = LayerNorm(n_embd)
        self.attn = MultiheadAttention(n_embd, n_head, dropout=dropout)
        self.drop1 = Dropout(dropout)
        self.ln2 = LayerNorm(n_embd)
        self.mlp = Sequential(Linear(n_embd, 4 * n_embd, init="xavier"), GELU("tanh"),
                              Linear(4 * n_embd, n_embd, init="xavier"), Dropout(dropout))

    def forward(self, x: Any) -> Tensor:
        h = self.ln1(x)
        a, _ = self.attn(h, h, h, need_weights=False, is_causal=self.causal)
        x = x + self.drop1(a)
        return x + F.reshape(self.mlp(_rows(self.ln2(x))), *x.shape)

    def extra_repr(self) -> str:
        return f"causal={self.causal}"


class GPT(Module):
    """A decoder-only Transformer language model (GPT-2's layout, nanoGPT's sizes).

    ``model(idx)`` maps token ids (N, T), T <= block_size, to next-token logits (N, T, V):
    token embedding + position embedding, ``n_layer`` causal `TransformerBlock`\\ s, a final
    `LayerNorm`, and the head ``x @ tok_emb.weight.T`` (tied: one matrix both reads tokens in
    and scores them out, which saves V * E parameters and helps small data).

    Initialisation as GPT-2: every weight N(0, 0.02), biases 0, and the two projections that
    write into the residual stream (``attn.out_proj``, the MLP's second layer) N(0, 0.02 /
    sqrt(2 n_layer)), so the stream's variance does not grow with depth.
    """

    def __init__(self, vocab_size: int, block_size: int, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.0) -> None:
        super().__init__()
        check_sizes("GPT", vocab_size=vocab_size, block_size=block_size, n_layer=n_layer,
                    n_head=n_head, n_embd=n_embd)
        self.vocab_size, self.block_size = vocab_size, block_size
        self.n_layer, self.n_head, self.n_embd, self.dropout = n_layer, n_head, n_embd, dropout
        self.config: dict[str, Any] = {  # the constructor's arguments: a checkpoint rebuilds it
            "vocab_size": vocab_size, "block_size": block_size, "n_layer": n_layer,
            "n_head": n_head, "n_embd": n_embd, "dropout": dropout}
        self.tok_emb = Embedding(vocab_size, n_embd)
        self.pos_emb = Embedding(block_size, n_embd)
        self.drop = Dropout(dropout)
        self.blocks = Sequential(*(TransformerBlock(n_embd, n_head, dropout)
                                   for _ in range(n_layer)))
        self.ln_f = LayerNorm(n_embd)
        self._init_weights()

    def _init_weights(self) -> None:
        rng = default_generator()
        residual_std = 0.02 / math.sqrt(2 * self.n_layer)
        for name, p in self.named_parameters():
            if p.ndim < 2:  # biases 0; layer norms' gamma 1 and beta 0 as built
                continue
            std = residual_std if name.endswith(("out_proj.W", "mlp.2.W")) else 0.02
            p.data[...] = rng.standard_normal(p.shape, dtype=np.float32) * np.float32(std)

    def forward(self, idx: Any) -> Tensor:
        ids = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        if ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(f"GPT: expected integer token ids of shape (N, T), got "
                             f"{ids.dtype} {ids.shape}")
        t = ids.shape[1]
        if not 0 < t <= self.block_size:
            raise ValueError(f"GPT: sequence length {t} is outside 1..block_size "
                             f"{self.block_size}; crop the context to the last "
                             f"{self.block_size} tokens")
        x = self.tok_emb(ids) + self.pos_emb.weight[:t]
        x = self.ln_f(self.blocks(self.drop(x)))
        logits = F.linear(_rows(x), F.transpose(self.tok_emb.weight))  # tied: x @ W_tok^T
        return F.reshape(logits, *ids.shape, self.vocab_size)

    def attention_weights(self, idx: Any) -> np.ndarray:
        """Every head's attention weights over the tokens ``idx`` (N, T), for drawing: an
        array (n_layer, N, n_head, T, T) whose [l, n, h, i, j] is how much position i of
        sample n looks at position j in head h of layer l (0 for j > i: causal). Eval mode,
        no graph; the mode is left as it was."""
        ids = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        self(ids[:, :1])  # the same checks as the forward pass, on a cheap prefix
        was_training, maps = self.training, []
        self.eval()
        try:
            with no_grad():
                t = ids.shape[1]
                x = self.tok_emb(ids) + self.pos_emb.weight[:t]
                for block in self.blocks:
                    assert isinstance(block, TransformerBlock)
                    h = block.ln1(x)
                    _, weights = block.attn(h, h, h, average_attn_weights=False,
                                            is_causal=block.causal)
                    maps.append(weights.data)
                    x = block(x)
        finally:
            self.train(was_training)
        return np.stack(maps)

    def generate(self, idx: Any, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None,
                 generator: np.random.Generator | None = None) -> np.ndarray:
        """``idx`` (N, T) followed by ``max_new_tokens`` tokens, drawn one at a time from the
        logits of the last position (`nn.sampling.sample_next`: ``temperature``, ``top_k``,
        ``generator``), each fed back in; the context is cropped to the last ``block_size``
        tokens. Runs in eval mode without a graph and leaves the mode as it was."""
        ids = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        if ids.ndim == 1:
            ids = ids[None, :]
        if ids.ndim != 2 or ids.shape[1] == 0 or ids.dtype.kind not in "iu":
            raise ValueError(f"generate: expected a prompt of integer token ids (N, T) with "
                             f"T >= 1, got {ids.dtype} {ids.shape}")
        if not 0 <= ids.min() <= ids.max() < self.vocab_size:
            raise ValueError(f"generate: prompt ids must be in [0, {self.vocab_size})")
        if (isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int | np.integer)
                or max_new_tokens < 0):
            raise ValueError(f"generate: max_new_tokens must be an integer >= 0, got "
                             f"{max_new_tokens!r}")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    logits = self(ids[:, -self.block_size:])
                    token = sample_next(logits.data[:, -1], temperature, top_k, generator)
                    ids = np.concatenate([ids, token[:, None]], axis=1)
        finally:
            self.train(was_training)
        return ids

    def num_parameters(self) -> int:
        """Trainable numbers, the tied matrix counted once."""
        return sum(p.size for p in self.parameters())

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, block_size={self.block_size}, "
                f"n_layer={self.n_layer}, n_head={self.n_head}, n_embd={self.n_embd}, "
                f"dropout={self.dropout}")
