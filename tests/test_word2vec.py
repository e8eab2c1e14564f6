"""word2vec: contexts/target, the unigram sampler, the negative-sampling loss (gradcheck and
torch parity), CBOW and skip-gram; the count-based method against the book's printed tables."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import nn
from mitbadak.data import UnknownTokenError
from mitbadak.nn.word2vec import create_contexts_target, negative_sampling_loss
from mitbadak.nn.word_vectors import (
    analogy,
    cos_similarity,
    count_based_vectors,
    create_co_matrix,
    most_similar,
    ppmi,
    truncated_svd,
)
from mitbadak.numerical import gradcheck
from mitbadak.training import train_step

TEXT = "You say goodbye and I say hello."
BOOK_ORDER = ["you", "say", "goodbye", "and", "i", "hello", "."]  # the book's word ids


def toy():
    corpus, vocab = mb.data.preprocess(TEXT)
    return corpus, vocab, [vocab[w] for w in BOOK_ORDER]


def test_create_contexts_target_is_the_books():
    corpus, vocab, _ = toy()
    contexts, target = create_contexts_target(corpus, window_size=1)
    words = [[vocab.id_to_token[i] for i in row] for row in contexts]
    assert [vocab.id_to_token[i] for i in target] == ["say", "goodbye", "and", "i", "say",
                                                      "hello"]
    assert words[0] == ["you", "goodbye"] and words[-1] == ["say", "."]
    contexts, target = create_contexts_target(np.arange(10), window_size=2)
    assert contexts.shape == (6, 4) and target.tolist() == list(range(2, 8))
    assert contexts[0].tolist() == [0, 1, 3, 4]
    with pytest.raises(ValueError, match="no target with 3 context words"):
        create_contexts_target(np.arange(6), 3)


def test_unigram_sampler_follows_count_to_the_075_and_never_draws_the_target():
    corpus = np.array([0] * 80 + [1] * 15 + [2] * 5)
    sampler = nn.UnigramSampler(corpus, power=0.75, sample_size=3, seed=0)
    expected = np.array([80, 15, 5]) ** 0.75
    np.testing.assert_allclose(sampler.word_p, expected / expected.sum())
    target = np.array([0, 1, 2] * 4000)
    negatives = sampler.get_negative_sample(target)
    assert negatives.shape == (12000, 3) and negatives.dtype == np.int64
    assert not (negatives == target[:, None]).any()
    # given target 0, the negatives follow p restricted to {1, 2}
    share = np.mean(negatives[target == 0] == 1)
    assert abs(share - expected[1] / (expected[1] + expected[2])) < 0.02
    again = nn.UnigramSampler(corpus, 0.75, 3, seed=0).get_negative_sample(target)
    np.testing.assert_array_equal(negatives, again)
    with pytest.raises(ValueError, match="at least two distinct words"):
        nn.UnigramSampler(np.zeros(5, dtype=int))


@given(st.integers(1, 4), st.integers(1, 3), st.integers(2, 5), st.integers(0, 2**16))
def test_negative_sampling_loss_gradcheck(batch, k, dim, seed):
    rng = np.random.default_rng(seed)
    V = 6
    h = mb.tensor(rng.standard_normal((batch, dim)), dtype=np.float64, requires_grad=True)
    W = mb.tensor(rng.standard_normal((V, dim)), dtype=np.float64, requires_grad=True)
    target = rng.integers(V, size=batch)
    negatives = rng.integers(V, size=(batch, k))  # repeats: scatter-add in W's gradient
    gradcheck(lambda h, W: negative_sampling_loss(h, W, target, negatives), [h, W])


def test_negative_sampling_loss_value_is_the_books_formula():
    rng = np.random.default_rng(0)
    h, W = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    target, negatives = np.array([0, 4, 2]), np.array([[1, 2], [3, 3], [0, 1]])
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    expected = np.mean([-np.log(sig(h[b] @ W[target[b]]))
                        - sum(np.log(1 - sig(h[b] @ W[n])) for n in negatives[b])
                        for b in range(3)])
    loss = negative_sampling_loss(mb.tensor(h, dtype=np.float64),
                                  mb.tensor(W, dtype=np.float64), target, negatives)
    np.testing.assert_allclose(float(loss.data), expected, rtol=1e-12)


def test_negative_sampling_loss_parity_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    h0, W0 = rng.standard_normal((4, 3)), rng.standard_normal((7, 3))
    target, negatives = rng.integers(7, size=4), rng.integers(7, size=(4, 5))
    h = mb.tensor(h0, dtype=np.float64, requires_grad=True)
    W = mb.tensor(W0, dtype=np.float64, requires_grad=True)
    loss = negative_sampling_loss(h, W, target, negatives)
    loss.backward()
    th = torch.tensor(h0, requires_grad=True)
    tW = torch.tensor(W0, requires_grad=True)
    words = torch.tensor(np.concatenate([target[:, None], negatives], axis=1))
    scores = (torch.nn.functional.embedding(words, tW) * th[:, None, :]).sum(-1)
    labels = torch.zeros_like(scores)
    labels[:, 0] = 1
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(scores, labels,
                                                                 reduction="sum") / 4
    tloss.backward()
    np.testing.assert_allclose(float(loss.data), tloss.item(), rtol=1e-10)
    np.testing.assert_allclose(h.grad, th.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W.grad, tW.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("model_class", [nn.CBOW, nn.SkipGram])
def test_word2vec_models_start_at_the_chance_loss_and_learn(model_class):
    corpus, vocab, _ = toy()
    contexts, target = create_contexts_target(corpus, 1)
    model = model_class(len(vocab), 5, corpus, sample_size=2, seed=0)
    assert sorted(model.state_dict()) == ["in_embed.weight", "ns_loss.embedding.weight"]
    assert model.word_vecs.shape == (7, 5) and np.abs(model.word_vecs).max() < 0.1
    optimizer = mb.optim.Adam(model.parameters(), lr=0.01)
    x, t = (contexts, target) if model_class is nn.CBOW else (target, contexts)
    losses = [train_step(model, optimizer, x, t, model.loss)[0] for _ in range(300)]
    contexts_per_example = 1 if model_class is nn.CBOW else 2
    # all scores near 0 at first: (1 + k) log 2 per predicted word
    assert abs(losses[0] - contexts_per_example * 3 * np.log(2)) < 0.01
    assert np.mean(losses[-20:]) < 0.6 * losses[0]  # negatives often hit true contexts here


def test_word2vec_is_reproducible_by_seed():
    corpus, vocab, _ = toy()
    contexts, target = create_contexts_target(corpus, 1)
    a = nn.CBOW(len(vocab), 4, corpus, seed=3)
    b = nn.CBOW(len(vocab), 4, corpus, seed=3)
    np.testing.assert_array_equal(a.word_vecs, b.word_vecs)
    assert float(a.loss(a(contexts), target).data) == float(b.loss(b(contexts), target).data)
    with pytest.raises(ValueError, match=r"contexts must have shape \(batch, 2 \* window\)"):
        a(target)
    with pytest.raises(TypeError, match="ids must be integers"):
        a(contexts.astype(np.float32))


# --- the count-based method -----------------------------------------------------------------

def test_co_matrix_and_ppmi_are_the_books_tables():
    corpus, vocab, book = toy()
    C = create_co_matrix(corpus, len(vocab), window_size=1)
    expected_C = [[0, 1, 0, 0, 0, 0, 0], [1, 0, 1, 0, 1, 1, 0], [0, 1, 0, 1, 0, 0, 0],
                  [0, 0, 1, 0, 1, 0, 0], [0, 1, 0, 1, 0, 0, 0], [0, 1, 0, 0, 0, 0, 1],
                  [0, 0, 0, 0, 0, 1, 0]]  # the book's print(C), its ids
    np.testing.assert_array_equal(C[np.ix_(book, book)], expected_C)
    expected_W = [[0, 1.807, 0, 0, 0, 0, 0], [1.807, 0, 0.807, 0, 0.807, 0.807, 0],
                  [0, 0.807, 0, 1.807, 0, 0, 0], [0, 0, 1.807, 0, 1.807, 0, 0],
                  [0, 0.807, 0, 1.807, 0, 0, 0], [0, 0.807, 0, 0, 0, 0, 2.807],
                  [0, 0, 0, 0, 0, 2.807, 0]]  # the book's print(W) with precision 3
    W = ppmi(C)
    assert W.dtype == np.float32
    np.testing.assert_allclose(W[np.ix_(book, book)], expected_W, atol=5e-4)


def test_most_similar_is_the_books_you():
    corpus, vocab, _ = toy()
    C = create_co_matrix(corpus, len(vocab))
    assert cos_similarity(C[vocab["you"]], C[vocab["i"]]) == pytest.approx(0.70710678, 1e-7)
    ranked = most_similar("you", vocab, C, top=5)
    assert [w for w, _ in ranked[:3]] == ["goodbye", "hello", "i"]  # 0.707 each (ties by id)
    assert [s for _, s in ranked] == pytest.approx([0.70710678] * 3 + [0, 0], abs=1e-7)
    assert {w for w, _ in ranked[3:]} <= {"say", "and", "."} and "you" not in dict(ranked)
    with pytest.raises(UnknownTokenError, match="unknown word 'cat'"):
        most_similar("cat", vocab, C)
    with pytest.raises(ValueError, match="one row per word"):
        most_similar("you", vocab, C[:3])


def test_truncated_svd_finds_the_leading_singular_values():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((60, 8)) @ np.diag([9, 7, 5, 3, 2, 1, 0.5, 0.2]) @ \
        rng.standard_normal((8, 40))
    U, s, Vt = truncated_svd(M, 3)
    exact = np.linalg.svd(M, compute_uv=False)[:3]
    np.testing.assert_allclose(s, exact, rtol=1e-6)
    assert U.shape == (60, 3) and Vt.shape == (3, 40)
    np.testing.assert_allclose(U.T @ U, np.eye(3), atol=1e-8)
    full = np.linalg.svd(M, full_matrices=False)
    best = full[0][:, :3] * full[1][:3] @ full[2][:3]
    np.testing.assert_allclose(U * s @ Vt, best, atol=1e-6)  # the best rank-3 approximation
    with pytest.raises(ValueError, match="1 <= k <= 8"):
        truncated_svd(np.ones((8, 9)), 9)


def test_count_based_vectors_and_analogy_on_a_structured_corpus():
    # two "families" of words used in the same slots: the vectors must group them
    rng = np.random.default_rng(0)
    sentences = []
    for _ in range(400):
        king, man = ("king", "man") if rng.random() < 0.5 else ("queen", "woman")
        sentences.append(f"the {king} rules the land . a {man} walks the road .")
    corpus, vocab = mb.data.preprocess(" ".join(sentences))
    vectors = count_based_vectors(corpus, len(vocab), window_size=2, dim=6)
    assert vectors.shape == (len(vocab), 6) and vectors.dtype == np.float32
    assert most_similar("king", vocab, vectors, top=1)[0][0] == "queen"
    assert most_similar("man", vocab, vectors, top=1)[0][0] == "woman"
    answer = analogy("man", "king", "woman", vocab, vectors, top=3)
    assert answer[0][0] == "queen" and {"man", "king", "woman"}.isdisjoint(dict(answer))
