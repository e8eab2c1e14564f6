"""Softmax, cross-entropy and friends at the edges: overflow, underflow, bad labels."""

import warnings

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F


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
    # The book's 0.5 * sum of squares, averaged over the batch of 2.
    assert F.sum_squared_error(y, t).item() == pytest.approx(0.5 * 0.1 / 2)
    with pytest.raises(ValueError, match="shape"):
        F.mse_loss(y, np.zeros(3))


def test_accuracy_by_argmax():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert F.accuracy(logits, [1, 0, 0]) == pytest.approx(2 / 3)
    assert F.accuracy(mb.tensor(logits), np.eye(2)[[1, 0, 1]]) == 1.0
