"""Word vectors without training, and queries on any word vectors (the sequel's chapter 2).

This module sits in ``nn/`` beside `mitbadak.nn.word2vec` because its queries (`most_similar`,
`analogy`) serve both: vectors counted here and vectors that CBOW or skip-gram learnt. It is
plain NumPy (no gradients): the count-based method is counting and linear algebra.

The count-based method, in the book's steps:

1. `create_co_matrix`: ``C[i, j]`` = how often word j occurs within ``window_size`` words of
   word i (the distributional hypothesis: a word is known by the company it keeps);
2. `ppmi`: positive pointwise mutual information, which discounts frequent words such as
   "the" that co-occur with everything::

       PMI(i, j) = log2( C[i, j] * N / (S[i] * S[j]) + eps ),   PPMI = max(0, PMI)

   with ``N = sum C`` and ``S[i] = sum_j C[i, j]`` (the book's formula, ``eps = 1e-8`` so a
   zero count gives a large negative PMI, clipped to 0, rather than log(0));
3. `truncated_svd`: the ``k`` leading singular directions of the (V, V) PPMI matrix, a dense
   (V, k) word matrix, ``U_k * s_k``. The book calls ``np.linalg.svd`` for its toy corpus and
   scikit-learn's ``randomized_svd`` for PTB; this is the same randomized method (Halko,
   Martinsson and Tropp, 2011) in NumPy.

`most_similar` ranks words by cosine similarity ``x . y / (|x| |y|)``; `analogy` answers "a is
to b as c is to ?" with the words nearest to ``b - a + c`` (all vectors normalised first).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.data.vocabulary import Vocabulary


def create_co_matrix(corpus: Any, vocab_size: int, window_size: int = 1) -> np.ndarray:
    """The co-occurrence matrix (vocab_size, vocab_size), int32, of a corpus of word ids."""
    corpus = np.asarray(corpus)
    if corpus.ndim != 1 or corpus.dtype.kind not in "iu":
        raise ValueError(f"corpus must be one sequence of integer word ids, got shape "
                         f"{corpus.shape} and dtype {corpus.dtype}")
    if window_size < 1:
        raise ValueError(f"window_size must be >= 1, got {window_size}")
    if len(corpus) and corpus.max() >= vocab_size:
        raise ValueError(f"corpus holds id {corpus.max()}, outside a vocabulary of {vocab_size}")
    C = np.zeros((vocab_size, vocab_size), dtype=np.int32)
    for offset in range(1, window_size + 1):  # each pair (w, w + offset), both ways
        left, right = corpus[:-offset], corpus[offset:]
        np.add.at(C, (left, right), 1)
        np.add.at(C, (right, left), 1)
    return C


def ppmi(C: np.ndarray, eps: float = 1e-8) -> np.ndarray:  # noqa: N803
    """The positive PMI matrix (float32) of a co-occurrence matrix, the book's formula,
    computed in place in one (V, V) float32 array (a vocabulary of 10,000 takes 400 MB)."""
    M = np.array(C, dtype=np.float32)  # a copy, to work in
    N = M.sum(dtype=np.float64)
    S = M.sum(axis=0, dtype=np.float64)
    inverse = np.divide(1.0, S, out=np.zeros_like(S), where=S > 0).astype(np.float32)
    M *= np.float32(N)
    M *= inverse[:, None]  # C N / (S_i S_j); a word that co-occurs with nothing gives 0
    M *= inverse[None, :]
    M += np.float32(eps)
    np.log2(M, out=M)
    return np.maximum(M, 0, out=M)


def truncated_svd(M: np.ndarray, k: int, n_iter: int = 5, oversample: int = 10,  # noqa: N803
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``U (n, k), s (k,), Vt (k, m)`` with ``M ~ U @ diag(s) @ Vt``, the ``k`` largest
    singular values, by the randomized range finder with ``n_iter`` power iterations."""
    M = np.asarray(M)
    if M.ndim != 2 or not 1 <= k <= min(M.shape):
        raise ValueError(f"truncated_svd: need a matrix and 1 <= k <= {min(M.shape, default=0)},"
                         f" got shape {M.shape} and k={k}")
    rng = np.random.default_rng(seed)
    width = min(k + oversample, min(M.shape))
    Q, _ = np.linalg.qr(M @ rng.standard_normal((M.shape[1], width)).astype(M.dtype))
    for _ in range(n_iter):  # power iterations sharpen the gap between s_k and s_k+1
        Q, _ = np.linalg.qr(M.T @ Q)
        Q, _ = np.linalg.qr(M @ Q)
    U_small, s, Vt = np.linalg.svd(Q.T @ M, full_matrices=False)
    return (Q @ U_small)[:, :k], s[:k], Vt[:k]


def count_based_vectors(corpus: Any, vocab_size: int, window_size: int = 2,
                        dim: int = 100, seed: int = 0) -> np.ndarray:
    """Word vectors (vocab_size, dim) by co-occurrence, PPMI and truncated SVD (``U * s``)."""
    M = ppmi(create_co_matrix(corpus, vocab_size, window_size))
    U, s, _ = truncated_svd(M, min(dim, vocab_size), seed=seed)
    return (U * s).astype(np.float32)


def cos_similarity(x: np.ndarray, y: np.ndarray, eps: float = 1e-8) -> float:
    """The book's ``cos_similarity``: x . y / (|x| |y|), with eps against a zero vector."""
    nx = x / (np.sqrt(np.sum(x**2)) + eps)
    ny = y / (np.sqrt(np.sum(y**2)) + eps)
    return float(np.dot(nx, ny))


def _normalized(matrix: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    return matrix / (np.linalg.norm(matrix, axis=-1, keepdims=True) + eps)


def _ranked(similarity: np.ndarray, vocab: Vocabulary, exclude: set[int],
            top: int) -> list[tuple[str, float]]:
    order = np.argsort(-similarity, kind="stable")
    kept = [i for i in order[: top + len(exclude)].tolist() if i not in exclude][:top]
    return [(vocab.id_to_token[i], float(similarity[i])) for i in kept]


def _check(vocab: Vocabulary, word_matrix: np.ndarray) -> None:
    if np.ndim(word_matrix) != 2 or len(word_matrix) != len(vocab):
        raise ValueError(f"word_matrix must have one row per word ({len(vocab)}), got shape "
                         f"{np.shape(word_matrix)}")


def most_similar(query: str, vocab: Vocabulary, word_matrix: np.ndarray,
                 top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` words nearest to ``query`` by cosine similarity, as (word, similarity),
    the query itself left out (the book's ``most_similar``, returning what it prints)."""
    _check(vocab, word_matrix)
    i = vocab[query]
    unit = _normalized(word_matrix)
    return _ranked(unit @ unit[i], vocab, {i}, top)


def analogy(a: str, b: str, c: str, vocab: Vocabulary, word_matrix: np.ndarray,
            top: int = 5) -> list[tuple[str, float]]:
    """"``a`` is to ``b`` as ``c`` is to ?": the ``top`` words nearest to ``b - a + c``
    (unit vectors), leaving out a, b and c (the book's ``analogy``)."""
    _check(vocab, word_matrix)
    ids = [vocab[a], vocab[b], vocab[c]]
    unit = _normalized(word_matrix)
    query = _normalized(unit[ids[1]] - unit[ids[0]] + unit[ids[2]])
    return _ranked(unit @ query, vocab, set(ids), top)
