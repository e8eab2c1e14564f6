"""Softmax, cross-entropy and friends at the edges: overflow, underflow, bad labels."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.numerical import gradcheck


def test_softmax_and_log_softmax_at_plus_minus_1000():
    x = mb.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning allowed
        p = F.softmax(x).data
        logp = F.log_softmax(x).data
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=1), 1)
    assert np.allclose(p[0], [1, 0, 0]) and np.allclose(p[1], 1 / 3)
    assert np.all(np.isfinite(logp)) and logp[0, 1] == pytest.approx(-2000)


def test_cross_entropy_finite_when_probability_underflows():
    logits = mb.tensor([[1000.0, -1000.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, [1])
        loss.backward()
    assert loss.item() == pytest.approx(2000.0)
    assert np.allclose(logits.grad, [[1.0, -1.0]])


def test_cross_entropy_values_and_fused_gradient():
    z = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    logits = mb.tensor(z, dtype=np.float64, requires_grad=True)
    loss = F.cross_entropy(logits, np.array([2, 0]))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert loss.item() == pytest.approx(-(np.log(p[0, 2]) + np.log(p[1, 0])) / 2)
    loss.backward()
    assert np.allclose(logits.grad, (p - np.eye(3)[[2, 0]]) / 2)


def test_cross_entropy_one_hot_equals_indices():
    z = mb.tensor(np.random.default_rng(0).normal(size=(4, 5)))
    labels = np.array([0, 4, 2, 2])
    assert F.cross_entropy(z, labels).item() == pytest.approx(
        F.cross_entropy(z, np.eye(5, dtype=np.float32)[labels]).item())


def test_cross_entropy_single_row():
    assert F.cross_entropy(mb.tensor([0.0, 0.0]), 1).item() == pytest.approx(np.log(2))


def test_cross_entropy_float32_stays_float32():
    logits = mb.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.cross_entropy(logits, [0, 1])
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32


def test_cross_entropy_label_out_of_range():
    with pytest.raises(ValueError, match=r"label 10 is outside \[0, 10\)"):
        F.cross_entropy(mb.tensor(np.zeros((2, 10))), [3, 10])
    with pytest.raises(ValueError, match=r"label -1"):
        F.cross_entropy(mb.tensor(np.zeros((2, 10))), [-1, 0])


def test_cross_entropy_one_hot_wrong_shape():
    with pytest.raises(ValueError, match=r"\(2, 10\).*\(2, 9\)"):
        F.cross_entropy(mb.tensor(np.zeros((2, 10))), np.zeros((2, 9), dtype=np.float32))


def test_cross_entropy_wrong_number_of_labels():
    with pytest.raises(ValueError, match=r"\(2,\)"):
        F.cross_entropy(mb.tensor(np.zeros((2, 10))), [1, 2, 3])


def test_sigmoid_no_overflow_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.sigmoid(mb.tensor([-1000.0, -710.0, 0.0, 710.0, 1000.0], dtype=np.float64)).data
    assert np.allclose(y, [0, 0, 0.5, 1, 1])


def test_mse_and_sum_squared_error():
    y = mb.tensor([[0.1, 0.9], [0.8, 0.2]])
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert F.mse_loss(y, t).item() == pytest.approx((0.01 + 0.01 + 0.04 + 0.04) / 4)
    # The book's 0.5 * sum of squares, over everything (the batch is not averaged).
    assert F.sum_squared_error(y, t).item() == pytest.approx(0.5 * 0.1)
    with pytest.raises(ValueError, match="shape"):
        F.mse_loss(y, np.zeros(3))


def test_accuracy_by_argmax():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert F.accuracy(logits, [1, 0, 0]) == pytest.approx(2 / 3)
    assert F.accuracy(mb.tensor(logits), np.eye(2)[[1, 0, 1]]) == 1.0


# ------------------------------------------------------------- soft targets, layouts, edges
def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("targets", [
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]],  # multi-hot, empty, half
    [[3.0, 0.5, 0.0, 2.0], [0.2, 0.2, 0.2, 0.2], [0.0, 0.0, 0.0, 7.0]],
])
def test_cross_entropy_unnormalised_targets(targets):
    """-sum_j t_j log softmax(z)_j for any t >= 0: gradient softmax(z) * sum(t) - t (over N)."""
    t = np.array(targets)
    z = np.random.default_rng(1).normal(size=t.shape)
    logits = mb.tensor(z, dtype=np.float64, requires_grad=True)
    loss = F.cross_entropy(logits, t)
    p = softmax_rows(z)
    assert loss.item() == pytest.approx(-(t * np.log(p)).sum() / 3, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad, (p * t.sum(axis=1, keepdims=True) - t) / 3,
                               rtol=1e-12, atol=1e-15)
    gradcheck(lambda x: F.cross_entropy(x, t), [logits])


def test_cross_entropy_refuses_negative_targets():
    with pytest.raises(ValueError, match="cross_entropy: .*non-negative.*-0.5"):
        F.cross_entropy(mb.tensor(np.zeros((2, 3))), np.array([[1.0, 0, 0], [-0.5, 1.5, 0]]))


def test_cross_entropy_on_transposed_logits():
    """Logits that are a transposed product (Fortran-ordered) get the same gradient, -1 included."""
    rng = np.random.default_rng(2)
    x, W = rng.normal(size=(4, 6)), rng.normal(size=(5, 4))
    labels = np.array([0, 3, 4, 1, 1, 2])
    grads = []
    for transposed in (True, False):
        Wt = mb.tensor(W, dtype=np.float64, requires_grad=True)
        logits = (Wt @ mb.tensor(x, dtype=np.float64)).T if transposed else \
            (mb.tensor(x.T.copy(), dtype=np.float64) @ Wt.T)
        assert logits.data.flags.c_contiguous != transposed
        F.cross_entropy(logits, labels).backward()
        grads.append(Wt.grad)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-15)
    ref = (softmax_rows(x.T @ W.T) - np.eye(5)[labels]) / 6
    np.testing.assert_allclose(grads[0], ref.T @ x.T, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("op", [
    lambda x: F.cross_entropy(x, [0]),
    lambda x: F.mse_loss(x, np.zeros((1, 3))),
    lambda x: F.sum_squared_error(x, np.zeros((1, 3))),
    F.softmax, F.log_softmax,
])
def test_losses_refuse_integer_inputs(op):
    with pytest.raises(TypeError, match=r"expected a floating-point .*int64.*astype\(np.float32\)"):
        op(mb.tensor([[1, 2, 3]]))


def test_cross_entropy_of_an_empty_batch_is_nan_with_an_empty_gradient():
    logits = mb.tensor(np.zeros((0, 4)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, np.zeros(0, dtype=np.int64))
        loss.backward()
    assert np.isnan(loss.item()) and logits.grad.shape == (0, 4)  # torch: nan for a mean over 0
    soft = mb.tensor(np.zeros((0, 4)), requires_grad=True)
    F.cross_entropy(soft, np.zeros((0, 4))).backward()
    assert soft.grad.shape == (0, 4)


def test_mse_of_empty_tensors_is_nan_and_sse_zero():
    y = mb.tensor(np.zeros((0, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(F.mse_loss(y, np.zeros((0, 3))).item())  # as torch: a mean over 0
        assert F.sum_squared_error(y, np.zeros((0, 3))).item() == 0.0  # a sum over 0
        F.mse_loss(y, np.zeros((0, 3))).backward()
    assert y.grad.shape == (0, 3)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_along_an_empty_axis(fn):
    x = mb.tensor(np.zeros((3, 0)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
        y.sum().backward()
    assert y.shape == (3, 0) and x.grad.shape == (3, 0)
    assert fn(mb.tensor(np.zeros((0, 4)))).shape == (0, 4)


def test_sum_squared_error_is_the_books():
    """The book's sum_squared_error(y, t) = 0.5 * np.sum((y - t)**2): summed over everything,
    batch included, with no averaging."""
    y = np.array([[0.1, 0.05, 0.6, 0.0], [0.1, 0.8, 0.1, 0.0]])
    t = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    yt = mb.tensor(y, dtype=np.float64, requires_grad=True)
    loss = F.sum_squared_error(yt, t)
    assert loss.item() == pytest.approx(0.5 * np.sum((y - t) ** 2), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(yt.grad, y - t, rtol=1e-12)
    # the book's example (chapter 4.2.1): 0.0975 for the "2" guessed with 0.6
    assert F.sum_squared_error(mb.tensor(y[0], dtype=np.float64), t[0]).item() == \
        pytest.approx(0.5 * (0.01 + 0.0025 + 0.16))


@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_cross_entropy_gradcheck_on_random_non_negative_targets(n, classes, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 3, (n, classes)) * (rng.random((n, classes)) < 0.7)  # some zeros
    logits = mb.tensor(rng.normal(size=(n, classes)), dtype=np.float64, requires_grad=True)
    gradcheck(lambda x: F.cross_entropy(x, t), [logits])


def test_cross_entropy_with_unnormalised_targets_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z, t = rng.normal(size=(5, 4)), rng.uniform(0, 2, (5, 4))
    ours = mb.tensor(z, dtype=np.float64, requires_grad=True)
    theirs = torch.tensor(z, requires_grad=True)
    loss = F.cross_entropy(ours, t)
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(t))
    loss.backward()
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-13)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-15)
