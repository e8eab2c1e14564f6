"""LanguageModelLoader (the book's truncated-BPTT streams) and RandomWindows (nanoGPT)."""

import json

import numpy as np
import pytest

import mitbadak as mb
from mitbadak.data import LanguageModelLoader, RandomWindows


def test_streams_start_at_even_offsets_and_continue_batch_to_batch():
    corpus = np.arange(101)  # xs = 0..99, ts = 1..100
    loader = LanguageModelLoader(corpus, batch_size=4, seq_len=5)
    assert len(loader) == 5  # 100 // (4 * 5)
    batches = list(loader)
    x0, t0 = batches[0]
    assert x0.shape == t0.shape == (4, 5) and x0.dtype == np.int64
    np.testing.assert_array_equal(x0[:, 0], [0, 25, 50, 75])  # offsets b * (100 // 4)
    np.testing.assert_array_equal(t0, x0 + 1)  # the next id
    x1, _ = batches[1]
    np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)  # row b continues row b
    assert loader.epoch == 1 and loader.state_dict() == {"time_idx": 25, "epoch": 1,
                                                         "batch": 0}


def test_time_idx_runs_on_across_epochs_and_wraps_as_the_books():
    corpus = np.arange(23)  # 22 pairs, 2 streams of 11, seq_len 4: 2 batches an epoch
    loader = LanguageModelLoader(corpus, batch_size=2, seq_len=4)
    first = [x.copy() for x, _ in loader]
    second = [x.copy() for x, _ in loader]
    np.testing.assert_array_equal(first[0][0], [0, 1, 2, 3])
    np.testing.assert_array_equal(second[0][0], [8, 9, 10, 11])  # not restarted at 0
    np.testing.assert_array_equal(second[1][1], [(11 + 12 + j) % 22 for j in range(4)])


def reference_get_batch(xs, ts, batch_size, time_size, time_idx):
    """The book's RnnlmTrainer.get_batch, written out with loops."""
    data_size = len(xs)
    jump = data_size // batch_size
    offsets = [i * jump for i in range(batch_size)]
    batch_x = np.empty((batch_size, time_size), dtype="i")
    batch_t = np.empty((batch_size, time_size), dtype="i")
    for t in range(time_size):
        for i, offset in enumerate(offsets):
            batch_x[i, t] = xs[(offset + time_idx) % data_size]
            batch_t[i, t] = ts[(offset + time_idx) % data_size]
        time_idx += 1
    return batch_x, batch_t, time_idx


def test_matches_the_books_get_batch_over_three_epochs():
    corpus = np.random.default_rng(0).integers(0, 50, size=1000)
    loader = LanguageModelLoader(corpus, batch_size=7, seq_len=9)
    time_idx = 0
    for _ in range(3):
        for x, t in loader:
            bx, bt, time_idx = reference_get_batch(corpus[:-1], corpus[1:], 7, 9, time_idx)
            np.testing.assert_array_equal(x, bx)
            np.testing.assert_array_equal(t, bt)


def test_state_round_trips_through_json_and_resumes_exactly():
    corpus = np.random.default_rng(1).integers(0, 30, size=500)
    loader = LanguageModelLoader(corpus, batch_size=3, seq_len=10)
    it = iter(loader)
    for _ in range(6):
        next(it)
    state = json.loads(json.dumps(loader.state_dict()))
    assert all(type(v) is int for v in state.values())
    expected = [x.copy() for x, _ in it] + [x.copy() for x, _ in loader]
    fresh = LanguageModelLoader(corpus, batch_size=3, seq_len=10)
    fresh.load_state_dict(state)
    resumed = [x.copy() for x, _ in fresh] + [x.copy() for x, _ in fresh]
    assert len(resumed) == len(expected) == len(loader) * 2 - 6
    for a, b in zip(resumed, expected):
        np.testing.assert_array_equal(a, b)
    assert fresh.epoch == loader.epoch == 2


def test_loader_errors():
    with pytest.raises(ValueError, match="too few for batch_size 4 x seq_len 5"):
        LanguageModelLoader(np.arange(20), 4, 5)
    with pytest.raises(ValueError, match="one sequence of integer ids"):
        LanguageModelLoader(np.zeros(100), 2, 3)
    with pytest.raises(ValueError, match="seq_len must be >= 1"):
        LanguageModelLoader(np.arange(100), 2, 0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        LanguageModelLoader(np.arange(100), 2.0, 3)
    loader = LanguageModelLoader(np.arange(100), 2, 3)
    with pytest.raises(KeyError, match="missing keys"):
        loader.load_state_dict({"epoch": 0})
    with pytest.raises(ValueError, match="has batch 99, but this loader has 16"):
        loader.load_state_dict({"time_idx": 0, "epoch": 0, "batch": 99})
    with pytest.raises(ValueError, match="non-negative ints"):
        loader.load_state_dict({"time_idx": -3, "epoch": 0, "batch": 0})


def test_random_windows_are_shifted_slices_and_seeded():
    corpus = np.arange(50)
    windows = RandomWindows(corpus, batch_size=6, block_size=8, seed=3)
    x, t = windows.get_batch()
    assert x.shape == t.shape == (6, 8) and x.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:] - x[:, :-1], np.ones((6, 7)))  # contiguous
    np.testing.assert_array_equal(t, x + 1)
    assert x.min() >= 0 and t.max() <= 49
    again = RandomWindows(corpus, batch_size=6, block_size=8, seed=3).get_batch()[0]
    np.testing.assert_array_equal(x, again)
    starts = np.concatenate([next(iter(windows))[0][:, 0] for _ in range(200)])
    assert starts.min() == 0 and starts.max() == 50 - 8 - 1  # every start can be drawn


def test_random_windows_resume_and_default_seed():
    windows = RandomWindows(np.arange(100), 4, 5, seed=0)
    windows.get_batch()
    state = json.loads(json.dumps(windows.state_dict()))
    expected = [windows.get_batch()[0] for _ in range(3)]
    fresh = RandomWindows(np.arange(100), 4, 5, seed=123)
    fresh.load_state_dict(state)
    for a in expected:
        np.testing.assert_array_equal(fresh.get_batch()[0], a)
    mb.manual_seed(5)
    a = RandomWindows(np.arange(100), 4, 5).get_batch()[0]
    mb.manual_seed(5)
    np.testing.assert_array_equal(RandomWindows(np.arange(100), 4, 5).get_batch()[0], a)
    with pytest.raises(ValueError, match="too few for block_size 10"):
        RandomWindows(np.arange(10), 1, 10)
