"""F.cat: np.concatenate with its backward (the gradient split back at the same places)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.numerical import gradcheck


@given(st.integers(0, 2), st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.booleans())
def test_cat_matches_numpy_and_passes_gradcheck(axis, sizes, negative):
    rng = np.random.default_rng(axis + 10 * len(sizes))
    shapes = [tuple(n if i == axis else 2 for i in range(3)) for n in sizes]
    xs = [mb.tensor(rng.standard_normal(s), dtype=np.float64, requires_grad=True)
          for s in shapes]
    dim = axis - 3 if negative else axis
    y = F.cat(xs, dim=dim)
    np.testing.assert_array_equal(y.data, np.concatenate([x.data for x in xs], axis=axis))
    gradcheck(lambda *a: F.cat(a, dim=dim), xs)


def test_cat_passes_gradient_to_the_inputs_that_need_it():
    a = mb.tensor(np.ones((2, 1)), requires_grad=True)
    b = np.zeros((2, 2), dtype=np.float32)
    (F.cat([a, b], dim=1) * mb.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad, [[1.0], [1.0]])


def test_cat_parity_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, n, 3)) for n in (1, 4)]
    ours = [mb.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    weights = rng.standard_normal((2, 5, 3))
    (F.cat(ours, dim=1) * mb.tensor(weights, dtype=np.float64)).sum().backward()
    (torch.cat(theirs, dim=1) * torch.tensor(weights)).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("tensors, dim", [([], 0), ([np.ones((2, 3)), np.ones((3, 3))], 1),
                                          ([np.ones((2, 3)), np.ones(3)], 0),
                                          ([np.ones((2, 3))], 2)])
def test_cat_refuses_what_does_not_join(tensors, dim):
    with pytest.raises(ValueError, match="cat: "):
        F.cat(tensors, dim=dim)
