"""word2vec (the sequel's chapters 3 and 4): CBOW and skip-gram, trained with negative sampling.

Both models learn two tables of word vectors, ``W_in`` (the word vectors kept afterwards) and
``W_out``, from (contexts, target) pairs that `create_contexts_target` cuts out of a corpus:

* **CBOW** predicts the target from its contexts: ``h = mean_j W_in[context_j]``;
* **skip-gram** predicts each context from the target: ``h = W_in[target]``, one loss per
  context word, summed.

Predicting the word among all V words (a softmax over V) costs O(V) per example. Negative
sampling (the book's chapter 4) asks instead a yes/no question for a few words: is the true
word ``w+`` next to ``h``, and are ``k`` words drawn at random (the negatives ``w-``) not?
With the score ``s(w) = h . W_out[w]`` (the book's EmbeddingDot) and sigmoid cross-entropy::

    L = -log sigmoid(s(w+)) - sum_i log(1 - sigmoid(s(w-_i)))       (averaged over the batch)

which is `F.binary_cross_entropy_with_logits` with labels 1 for ``w+`` and 0 for the negatives,
summed over the 1 + k words. `UnigramSampler` draws the negatives from the corpus' word
frequencies raised to the power 0.75 (``P(w) ~ count(w)^0.75``), which lifts rare words a
little, never drawing the example's own target.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.random import default_generator
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.nn.embedding import Embedding
from mitbadak.nn.module import Module


def _ids(corpus: Any, name: str = "corpus") -> np.ndarray:
    ids = np.asarray(corpus)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"{name} must be one sequence of integer word ids, got shape "
                         f"{ids.shape} and dtype {ids.dtype}")
    return ids.astype(np.int64, copy=False)


def create_contexts_target(corpus: Any, window_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The book's ``create_contexts_target``: for every position with ``window_size`` words on
    each side, the target id (N,) and its context ids (N, 2 * window_size), left then right."""
    corpus = _ids(corpus)
    if window_size < 1:
        raise ValueError(f"window_size must be >= 1, got {window_size}")
    n = len(corpus) - 2 * window_size
    if n < 1:
        raise ValueError(f"a corpus of {len(corpus)} words has no target with "
                         f"{window_size} context words on each side")
    offsets = [o for o in range(-window_size, window_size + 1) if o != 0]
    contexts = np.stack([corpus[window_size + o : window_size + o + n] for o in offsets], axis=1)
    return contexts, corpus[window_size : window_size + n].copy()


class UnigramSampler:
    """Negative samples: ``sample_size`` word ids per target drawn from ``P(w) ~
    count(w)^power``, never the target itself (drawn with replacement; a draw equal to its
    target is drawn again). Seeded by ``seed``, or from mitbadak's default generator."""

    def __init__(self, corpus: Any, power: float = 0.75, sample_size: int = 5,
                 seed: int | None = None, vocab_size: int | None = None) -> None:
        corpus = _ids(corpus)
        counts = np.bincount(corpus, minlength=vocab_size or 0).astype(np.float64)
        if np.count_nonzero(counts) < 2:
            raise ValueError("negative sampling needs a corpus of at least two distinct words")
        if sample_size < 1:
            raise ValueError(f"sample_size must be >= 1, got {sample_size}")
        self.vocab_size, self.sample_size, self.power = len(counts), int(sample_size), power
        p = counts**power
        self.word_p = p / p.sum()
        self._cumulative = np.cumsum(self.word_p)
        self._cumulative[-1] = 1.0
        if seed is None:
            seed = int(default_generator().integers(2**63))
        self._rng = np.random.default_rng(seed)

    def _draw(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.searchsorted(self._cumulative, self._rng.random(shape), side="right")

    def get_negative_sample(self, target: Any) -> np.ndarray:
        """Negative ids (batch, sample_size), int64, for target ids (batch,)."""
        target = _ids(target, "target")
        negatives = self._draw((len(target), self.sample_size))
        clash = negatives == target[:, None]
        while clash.any():
            negatives[clash] = self._draw((int(clash.sum()),))
            clash = negatives == target[:, None]
        return negatives.astype(np.int64, copy=False)


def negative_sampling_loss(h: Tensor, W_out: Tensor, target: Any,  # noqa: N803
                           negatives: Any) -> Tensor:
    """The negative-sampling loss of hidden vectors ``h`` (B, D) for true words ``target``
    (B,) and sampled words ``negatives`` (B, k), with output vectors ``W_out`` (V, D):
    ``mean_b [ -log sigmoid(h_b . W_out[t_b]) - sum_i log sigmoid(-h_b . W_out[n_bi]) ]``."""
    h = as_tensor(h)
    target, negatives = _ids(target, "target"), np.asarray(negatives)
    if h.ndim != 2 or negatives.ndim != 2 or not (len(h) == len(target) == len(negatives)):
        raise ValueError(f"negative_sampling_loss: h (B, D), target (B,) and negatives (B, k) "
                         f"must agree, got {h.shape}, {target.shape}, {negatives.shape}")
    words = np.concatenate([target[:, None], negatives], axis=1)  # (B, 1 + k): w+ first
    w = F.embedding(words, W_out)  # (B, 1 + k, D)
    scores = (w * h.reshape(h.shape[0], 1, h.shape[1])).sum(axis=2)  # EmbeddingDot
    labels = np.zeros(words.shape, dtype=scores.dtype)
    labels[:, 0] = 1
    return F.binary_cross_entropy_with_logits(scores, labels, reduction="sum") / len(words)


class NegativeSamplingLoss(Module):
    """The book's NegativeSamplingLoss layer: the output vectors ``W_out`` (an `Embedding`)
    and a `UnigramSampler`; ``loss(h, target)`` draws the negatives and returns
    `negative_sampling_loss`."""

    def __init__(self, embedding: Embedding, sampler: UnigramSampler) -> None:
        super().__init__()
        self.embedding = embedding
        self.sampler = sampler

    def forward(self, h: Tensor, target: Any) -> Tensor:
        negatives = self.sampler.get_negative_sample(target)
        return negative_sampling_loss(h, self.embedding.weight, target, negatives)


def _book_embedding(vocab_size: int, hidden_size: int,
                    generator: np.random.Generator) -> Embedding:
    """An Embedding initialised as the book's word2vec: 0.01 * randn."""
    embedding = Embedding(vocab_size, hidden_size, generator=generator)
    embedding.weight.data *= 0.01
    return embedding


class _Word2vec(Module):
    """What CBOW and skip-gram share: ``in_embed`` (W_in, the word vectors) and the
    negative-sampling loss ``ns_loss`` over the corpus' unigram distribution, which holds
    W_out (``ns_loss.embedding``). ``model(x)`` is the hidden vector h and ``model.loss(h, t)``
    the loss, so one step is ``mb.training.train_step(model, optimizer, x, t, model.loss)``:
    for CBOW x = contexts and t = target, for skip-gram the other way round."""

    def __init__(self, vocab_size: int, hidden_size: int, corpus: Any, sample_size: int = 5,
                 power: float = 0.75, seed: int | None = None) -> None:
        super().__init__()
        if seed is None:
            seed = int(default_generator().integers(2**63))
        rng = np.random.default_rng(seed)
        self.in_embed = _book_embedding(vocab_size, hidden_size, rng)
        sampler = UnigramSampler(corpus, power, sample_size, seed=int(rng.integers(2**63)),
                                 vocab_size=vocab_size)
        self.ns_loss = NegativeSamplingLoss(_book_embedding(vocab_size, hidden_size, rng),
                                            sampler)

    @property
    def word_vecs(self) -> np.ndarray:
        """The learnt word vectors (V, D): W_in, as the book keeps them."""
        return self.in_embed.weight.data


class CBOW(_Word2vec):
    """Continuous bag of words: ``h = model(contexts)`` (B, D), the mean of the context
    vectors, and ``model.loss(h, target)`` for the target words (B,)."""

    def forward(self, contexts: Any) -> Tensor:
        contexts = as_tensor(contexts)
        if contexts.ndim != 2:
            raise ValueError(f"CBOW: contexts must have shape (batch, 2 * window), got "
                             f"{contexts.shape}")
        return self.in_embed(contexts).mean(axis=1)

    def loss(self, h: Tensor, target: Any) -> Tensor:
        return self.ns_loss(h, np.asarray(as_tensor(target).data))


class SkipGram(_Word2vec):
    """Skip-gram: ``h = model(target)`` (B, D), the target's vector, and ``model.loss(h,
    contexts)`` for its context words (B, 2w): the sum of one loss per context position."""

    def forward(self, target: Any) -> Tensor:
        return self.in_embed(target)

    def loss(self, h: Tensor, contexts: Any) -> Tensor:
        contexts = np.asarray(as_tensor(contexts).data)
        if contexts.ndim != 2:
            raise ValueError(f"SkipGram: contexts must have shape (batch, 2 * window), got "
                             f"{contexts.shape}")
        loss = self.ns_loss(h, contexts[:, 0])
        for j in range(1, contexts.shape[1]):
            loss = loss + self.ns_loss(h, contexts[:, j])
        return loss
