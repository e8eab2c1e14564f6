"""F.embedding and nn.Embedding: gathered rows, scatter-add gradients, padding, torch parity."""

import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn
from mitbadak.numerical import gradcheck


@given(st.integers(1, 6), st.integers(1, 4), st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.integers(0, 2**16), st.booleans())
def test_gradcheck_any_id_shape_with_repeats_and_padding(v, d, id_shape, seed, pad):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, v, id_shape)  # few rows: ids repeat
    w = mb.tensor(rng.standard_normal((v, d)), dtype=np.float64, requires_grad=True)
    padding_idx = int(ids.flat[0]) if pad else None
    y = F.embedding(ids, w, padding_idx)
    assert y.shape == (*id_shape, d)
    np.testing.assert_array_equal(y.data, w.data[ids])
    gradcheck(lambda w: F.embedding(ids, w), [w])
    if pad:
        y = F.embedding(ids, w, padding_idx)
        w.grad = None
        y.sum().backward()
        assert np.all(w.grad[padding_idx] == 0)


def test_repeated_ids_accumulate():
    w = mb.tensor(np.zeros((3, 2)), dtype=np.float64, requires_grad=True)
    F.embedding(np.array([[1, 1], [1, 2]]), w).sum().backward()
    np.testing.assert_array_equal(w.grad, [[0, 0], [3, 3], [1, 1]])


def test_bad_ids_and_weights_name_the_problem():
    w = mb.tensor(np.zeros((4, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="ids must be integers, got dtype float64"):
        F.embedding(np.array([1.0]), w)
    with pytest.raises(IndexError, match=r"id 4 is outside \[0, 4\)"):
        F.embedding(np.array([0, 4]), w)
    with pytest.raises(IndexError, match=r"id -1 is outside"):
        F.embedding(np.array([-1]), w)
    with pytest.raises(ValueError, match="weight must have shape"):
        F.embedding(np.array([0]), mb.tensor(np.zeros(4)))
    with pytest.raises(ValueError, match="padding_idx 4 is outside"):
        nn.Embedding(4, 2, padding_idx=4)


def test_module_init_padding_row_and_state_dict_names():
    mb.manual_seed(0)
    emb = nn.Embedding(1000, 8, padding_idx=-1)
    assert emb.padding_idx == 999 and emb.weight.dtype == np.float32
    assert np.all(emb.weight.data[999] == 0)
    assert abs(emb.weight.data.std() - 1.0) < 0.05  # N(0, 1), as torch
    assert list(emb.state_dict()) == ["weight"]
    assert emb(np.array([[3, 999]])).shape == (1, 2, 8)
    assert repr(emb) == "Embedding(1000, 8, padding_idx=999)"


def test_matches_torch_values_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 7, (3, 5))
    gy = rng.standard_normal((3, 5, 4))
    emb = nn.Embedding(7, 4, padding_idx=2).to(np.float64)
    ref = torch.nn.Embedding(7, 4, padding_idx=2).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(emb.weight.data))
    y = emb(ids)
    (y * gy).sum().backward()
    y_ref = ref(torch.from_numpy(ids))
    (y_ref * torch.from_numpy(gy)).sum().backward()
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(emb.weight.grad, ref.weight.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("path", ["one-hot", "sorted"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_equals_the_books_scatter_add(path, dtype, monkeypatch):
    """Both ways of summing the rows (a one-hot GEMM, sorted runs) give np.add.at's dW, up to
    the order of the additions, and the same dW on every run (deterministic)."""
    if path == "sorted":  # (the module, not F.embedding: the package exports the function)
        monkeypatch.setattr(importlib.import_module("mitbadak.functional.embedding"),
                            "ONE_HOT_LIMIT", 0)
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 50, (8, 33))
    ids[0, :5] = 49  # the last row repeated, and rows 40..48 never used
    ids[ids == 44] = 43
    gy = rng.standard_normal((8, 33, 6)).astype(dtype)
    expected = np.zeros((50, 6), dtype)
    np.add.at(expected, ids.ravel(), gy.reshape(-1, 6))
    grads = []
    for _ in range(2):
        w = mb.tensor(np.zeros((50, 6)), dtype=dtype, requires_grad=True)
        F.embedding(ids, w, padding_idx=7).backward(mb.tensor(gy, dtype=dtype))
        grads.append(w.grad)
    expected[7] = 0
    assert grads[0].dtype == dtype and np.all(grads[0][44] == 0)
    np.testing.assert_allclose(grads[0], expected, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6)
    np.testing.assert_array_equal(grads[0], grads[1])
