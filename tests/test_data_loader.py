"""DataLoader: true epochs, reproducible shuffling, bit-exact resume, validation."""

import json

import numpy as np
import pytest

import mitbadak as mb
from mitbadak.data import DataLoader


def data(n=10):
    """x rows that encode their own index, so pairing with t can be checked."""
    t = np.arange(n)
    x = (t[:, None, None] * 100 + np.arange(6).reshape(1, 2, 3)).astype(np.float32)
    return x, t


def epoch(loader):
    return [(xb.copy(), tb.copy()) for xb, tb in loader]


@pytest.mark.parametrize(("n", "b", "drop_last", "expected"), [
    (10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3), (2, 5, False, 1),
    (2, 5, True, 0), (0, 4, False, 0),
])  # fmt: skip
def test_len(n, b, drop_last, expected):
    x, t = data(n)
    loader = DataLoader(x, t, b, drop_last=drop_last, seed=0)
    assert len(loader) == expected
    assert len(epoch(loader)) == expected


def test_each_epoch_is_a_permutation_and_pairs_stay_together():
    x, t = data(10)
    loader = DataLoader(x, t, batch_size=3, seed=1)
    seen = []
    for _ in range(3):
        batches = epoch(loader)
        assert [len(tb) for _, tb in batches] == [3, 3, 3, 1]
        for xb, tb in batches:
            assert xb.shape == (len(tb), 2, 3) and xb.dtype == np.float32
            np.testing.assert_array_equal(xb[:, 0, 0], tb * 100)
        order = np.concatenate([tb for _, tb in batches])
        assert sorted(order.tolist()) == list(range(10))
        seen.append(order.tolist())
    assert seen[0] != seen[1] != seen[2]  # a new permutation each epoch
    assert loader.epoch == 3


def test_drop_last_drops_only_the_short_batch():
    x, t = data(10)
    batches = epoch(DataLoader(x, t, batch_size=3, drop_last=True, seed=0))
    assert [len(tb) for _, tb in batches] == [3, 3, 3]


def test_no_shuffle_is_in_order():
    x, t = data(7)
    batches = epoch(DataLoader(x, t, batch_size=3, shuffle=False))
    assert [tb.tolist() for _, tb in batches] == [[0, 1, 2], [3, 4, 5], [6]]


def test_same_seed_same_batches_and_global_rng_untouched():
    x, t = data(50)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = [tb.tolist() for _ in range(2) for _, tb in DataLoader(x, t, 8, seed=7)]
    b = [tb.tolist() for _ in range(2) for _, tb in DataLoader(x, t, 8, seed=7)]
    c = [tb.tolist() for _ in range(2) for _, tb in DataLoader(x, t, 8, seed=8)]
    assert a == b and a != c
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_unseeded_loaders_follow_manual_seed():
    x, t = data(50)

    def orders():
        return [tb.tolist() for _, tb in DataLoader(x, t, 8)]

    mb.manual_seed(5)
    first = orders()
    mb.manual_seed(5)
    assert orders() == first
    assert orders() != first  # the next loader gets a different stream


@pytest.mark.parametrize("stop_after", [0, 1, 3, 4])
def test_resume_is_bit_exact(stop_after):
    x, t = data(10)
    reference = DataLoader(x, t, batch_size=3, seed=42)
    expected = [tb.tolist() for _ in range(3) for _, tb in reference]

    first = DataLoader(x, t, batch_size=3, seed=42)
    got = [tb.tolist() for _, tb in first]  # one whole epoch
    it = iter(first)
    for _ in range(stop_after):  # part of the second
        got.append(next(it)[1].tolist())
    state = json.loads(json.dumps(first.state_dict()))  # as a checkpoint would store it
    assert state["epoch"] == 1 and state["batch"] == stop_after

    resumed = DataLoader(x, t, batch_size=3, seed=None)  # the seed must not matter
    resumed.load_state_dict(state)
    got += [tb.tolist() for _, tb in resumed]  # the rest of the second epoch
    got += [tb.tolist() for _, tb in resumed]  # the third
    assert got == expected
    assert resumed.epoch == 3


def test_state_between_epochs_continues_with_the_next_permutation():
    x, t = data(10)
    a = DataLoader(x, t, 4, seed=3)
    epoch(a)
    b = DataLoader(x, t, 4)
    b.load_state_dict(a.state_dict())
    assert [tb.tolist() for _, tb in a] == [tb.tolist() for _, tb in b]


def test_validation():
    x, t = data(5)
    with pytest.raises(ValueError, match=r"x has 5 samples \(shape \(5, 2, 3\)\), t has 4"):
        DataLoader(x, t[:4], 2)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        DataLoader(x, t, 0)
    with pytest.raises(TypeError, match="batch_size must be an int, got float"):
        DataLoader(x, t, 2.0)
    with pytest.raises(ValueError, match="need a sample axis"):
        DataLoader(np.float32(1), t, 2)
    loader = DataLoader(x, t, 2)
    with pytest.raises(KeyError, match=r"missing keys: \['batch', 'rng'\]"):
        loader.load_state_dict({"epoch": 0})
    with pytest.raises(ValueError, match="batch 9, but this loader has 3 batches per epoch"):
        loader.load_state_dict({"epoch": 0, "batch": 9, "rng": loader.state_dict()["rng"]})
