"""Next-token sampling (`nn.sampling`): the drawn frequencies follow softmax(z / T) over the
top k, temperature 0 is greedy, the generator makes draws reproducible, bad settings say so."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak.nn.sampling import next_token_probs, sample_next

LOGITS = np.array([2.0, 1.0, 0.0, -1.0, 0.5])


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_draws_follow_softmax_over_temperature(temperature):
    rng = np.random.default_rng(0)
    n = 40_000
    ids = sample_next(np.tile(LOGITS, (n, 1)), temperature, generator=rng)
    freq = np.bincount(ids, minlength=5) / n
    expected = _softmax(LOGITS / temperature)
    # 5 standard errors of a binomial frequency: fails only if the rule is wrong
    assert np.all(np.abs(freq - expected) < 5 * np.sqrt(expected * (1 - expected) / n) + 1e-9)


def test_top_k_draws_only_the_k_largest_renormalised():
    p = next_token_probs(LOGITS, 1.0, top_k=2)
    expected = np.zeros(5)
    expected[:2] = _softmax(LOGITS[:2])
    np.testing.assert_allclose(p, expected)
    ids = sample_next(np.tile(LOGITS, (2000, 1)), 1.0, top_k=2,
                      generator=np.random.default_rng(1))
    assert set(np.unique(ids)) == {0, 1}


def test_top_k_of_one_and_temperature_zero_are_greedy():
    rows = np.array([[0.1, 3.0, 2.9], [5.0, -1.0, 4.0]])
    np.testing.assert_array_equal(sample_next(rows, 0.0), [1, 0])
    np.testing.assert_array_equal(sample_next(rows, 1.5, top_k=1,
                                              generator=np.random.default_rng(2)), [1, 0])


def test_top_k_at_least_the_vocabulary_changes_nothing():
    np.testing.assert_allclose(next_token_probs(LOGITS, 0.7, top_k=50),
                               next_token_probs(LOGITS, 0.7))


def test_one_row_gives_a_scalar_id_and_tensors_are_accepted():
    out = sample_next(mb.tensor(LOGITS), 1.0, generator=np.random.default_rng(3))
    assert out.shape == () and out.dtype == np.int64 and 0 <= int(out) < 5


def test_seeded_draws_repeat_and_default_generator_follows_manual_seed():
    a = sample_next(np.tile(LOGITS, (50, 1)), generator=np.random.default_rng(7))
    b = sample_next(np.tile(LOGITS, (50, 1)), generator=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    mb.manual_seed(11)
    c = sample_next(np.tile(LOGITS, (50, 1)))
    mb.manual_seed(11)
    np.testing.assert_array_equal(c, sample_next(np.tile(LOGITS, (50, 1))))


def test_masked_logits_are_never_drawn():
    z = np.array([0.0, -np.inf, 1.0])
    ids = sample_next(np.tile(z, (500, 1)), 3.0, generator=np.random.default_rng(4))
    assert 1 not in ids


@given(st.lists(st.floats(-30, 30), min_size=1, max_size=12),
       st.floats(0.05, 5.0), st.integers(1, 15))
def test_probabilities_are_a_distribution_on_at_most_k_tokens(z, temperature, k):
    p = next_token_probs(np.array(z), temperature, top_k=k)
    assert np.isclose(p.sum(), 1.0) and np.all(p >= 0)
    assert np.argmax(p) == np.argmax(z)
    # ties at the k-th value are kept, so more than k can survive only through ties
    assert (p > 0).sum() <= max(k, int((np.array(z) >= np.sort(z)[-min(k, len(z))]).sum()))


@pytest.mark.parametrize("kwargs, message", [
    ({"temperature": -0.1}, "temperature must be >= 0"),
    ({"temperature": float("nan")}, "temperature must be >= 0"),
    ({"top_k": 0}, "top_k must be an integer >= 1"),
    ({"top_k": 2.5}, "top_k must be an integer >= 1"),
    ({"top_k": True}, "top_k must be an integer >= 1"),
])
def test_bad_settings_are_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_next(LOGITS, **kwargs)


@pytest.mark.parametrize("logits", [np.zeros((2, 3, 4)), np.zeros(0), np.array([np.nan, 1.0]),
                                    np.array([-np.inf, -np.inf])])
def test_bad_logits_are_one_clear_error(logits):
    with pytest.raises(ValueError, match="sampling: "):
        sample_next(logits)
