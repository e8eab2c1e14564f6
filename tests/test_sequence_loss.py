"""cross_entropy over sequences (N, T, C) with ignore_index, and perplexity."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.numerical import gradcheck


@given(st.integers(1, 3), st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**16))
def test_gradcheck_sequence_cross_entropy_with_ignored_positions(n, t, c, seed):
    rng = np.random.default_rng(seed)
    x = mb.tensor(rng.standard_normal((n, t, c)), dtype=np.float64, requires_grad=True)
    labels = rng.integers(0, c, (n, t))
    labels[rng.random((n, t)) < 0.3] = -100
    kept = labels != -100
    loss = F.cross_entropy(x, labels)
    if not kept.any():
        assert np.isnan(loss.item())  # a mean over nothing, as PyTorch
        return
    z = x.data - x.data.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    expected = -np.mean(np.take_along_axis(logp, np.where(kept, labels, 0)[..., None],
                                           -1)[..., 0][kept])
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    gradcheck(lambda x: F.cross_entropy(x, labels), [x])
    x.grad = None
    F.cross_entropy(x, labels).backward()
    assert np.all(x.grad[~kept] == 0)


def test_matches_torch_with_classes_on_axis_one():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 7))
    labels = rng.integers(0, 7, (2, 5))
    labels[0, 3:] = 3
    ours = mb.tensor(x, dtype=np.float64, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    labels[1, 1] = -1
    with pytest.raises(ValueError, match="label -1 is outside"):  # only 3 is ignored
        F.cross_entropy(ours, labels, ignore_index=3)
    labels[1, 1] = 6
    loss = F.cross_entropy(ours, labels, ignore_index=3)
    ref = torch.nn.functional.cross_entropy(theirs.transpose(1, 2), torch.from_numpy(labels),
                                            ignore_index=3)
    loss.backward()
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_one_hot_sequences_and_shape_errors():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4))
    labels = rng.integers(0, 4, (2, 3))
    one_hot = np.eye(4)[labels]
    xt = mb.tensor(x, dtype=np.float64)
    np.testing.assert_allclose(F.cross_entropy(xt, one_hot).item(),
                               F.cross_entropy(xt, labels).item(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"labels must have shape \(2, 3\) for logits of shape"):
        F.cross_entropy(xt, labels.T)
    with pytest.raises(ValueError, match=r"label 4 is outside \[0, 4\)"):
        F.cross_entropy(xt, labels + 1)


def test_perplexity_is_exp_of_the_loss():
    assert F.perplexity(np.zeros((3, 4, 10), dtype=np.float32),
                        np.zeros((3, 4), dtype=np.int64)) == pytest.approx(10.0)
    rng = np.random.default_rng(2)
    x = mb.tensor(rng.standard_normal((5, 6)), requires_grad=True)
    labels = np.array([0, 1, -100, 2, 3])
    ppl = F.perplexity(x, labels)
    assert ppl == pytest.approx(math.exp(F.cross_entropy(x, labels).item()), rel=1e-6)
