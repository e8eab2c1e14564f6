"""Binary cross-entropy, on probabilities and on logits: values, gradients, torch parity."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.numerical import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def _operands(shape, seed, logits):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3.0, size=shape) if logits else rng.uniform(0.05, 0.95, size=shape)
    return x, rng.uniform(0, 1, size=shape), rng.uniform(0.5, 2, size=shape[-1:])


def _weighted(fn, reduction, w, pos_weight=None):
    def f(x, t):
        if pos_weight is None:
            return fn(x, t, weight=w, reduction=reduction)
        return fn(x, t, weight=w, pos_weight=pos_weight, reduction=reduction)
    return f


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@given(shape=shapes, seed=st.integers(0, 99), reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans())
def test_bce_gradcheck(shape, seed, reduction, weighted):
    x, t, w = _operands(shape, seed, logits=False)
    f = _weighted(F.binary_cross_entropy, reduction, w if weighted else None)
    gradcheck(f, [mb.tensor(x, dtype=np.float64, requires_grad=True),
                  mb.tensor(t, dtype=np.float64, requires_grad=True)])


@given(shape=shapes, seed=st.integers(0, 99), reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans(), pos=st.booleans())
def test_bce_with_logits_gradcheck(shape, seed, reduction, weighted, pos):
    x, t, w = _operands(shape, seed, logits=True)
    f = _weighted(F.binary_cross_entropy_with_logits, reduction, w if weighted else None,
                  2 * w if pos else None)
    gradcheck(f, [mb.tensor(x, dtype=np.float64, requires_grad=True),
                  mb.tensor(t, dtype=np.float64, requires_grad=True)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("logits", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(reduction, logits, weighted):
    torch = pytest.importorskip("torch")
    x, t, w = _operands((3, 4), 7, logits)
    if not logits:
        x[0, :2] = [0.0, 1.0]  # the clamped logs and the 1e-12 floor of the gradient
    weight = w if weighted else None
    ours_x = mb.tensor(x, dtype=np.float64, requires_grad=True)
    ours_t = mb.tensor(t, dtype=np.float64, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs_t = torch.tensor(t, requires_grad=True)
    tw = None if weight is None else torch.tensor(weight)
    if logits:
        ours = F.binary_cross_entropy_with_logits(ours_x, ours_t, weight=weight,
                                                  pos_weight=1.5 * w, reduction=reduction)
        theirs = torch.nn.functional.binary_cross_entropy_with_logits(
            theirs_x, theirs_t, weight=tw, pos_weight=torch.tensor(1.5 * w),
            reduction=reduction)
    else:
        ours = F.binary_cross_entropy(ours_x, ours_t, weight=weight, reduction=reduction)
        theirs = torch.nn.functional.binary_cross_entropy(theirs_x, theirs_t, weight=tw,
                                                          reduction=reduction)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
    v = np.random.default_rng(1).normal(size=ours.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (ours * mb.tensor(v, dtype=np.float64)).sum().backward()
    (theirs * torch.tensor(v)).sum().backward()
    # rtol 1e-8: torch's floor 1e-12 of y (1 - y) is a float32 constant (1e-12 (1 - 4e-9)).
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours_t.grad, theirs_t.grad.numpy(), rtol=1e-10)


def test_bce_clamps_log_at_minus_100():
    x = mb.tensor([0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(x, [1.0, 0.0], reduction="none")
    assert np.allclose(loss.data, [100, 100])
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad)) and x.grad[0] < 0 < x.grad[1]


def test_bce_with_logits_is_stable_for_large_logits():
    x = mb.tensor([-1000.0, 1000.0, -50.0, 50.0], dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in exp, no log(0)
        loss = F.binary_cross_entropy_with_logits(x, [1.0, 0.0, 0.0, 1.0], reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [1000, 1000, np.log1p(np.exp(-50)), np.exp(-50)],
                               rtol=1e-12)
    np.testing.assert_allclose(x.grad, [-1, 1, np.exp(-50), -np.exp(-50)], rtol=1e-12)


def test_bce_with_logits_equals_sigmoid_then_bce():
    rng = np.random.default_rng(3)
    x, t = rng.normal(size=(5, 3)), rng.uniform(size=(5, 3))
    fused = F.binary_cross_entropy_with_logits(mb.tensor(x, dtype=np.float64), t)
    composed = F.binary_cross_entropy(F.sigmoid(mb.tensor(x, dtype=np.float64)), t)
    assert fused.item() == pytest.approx(composed.item(), rel=1e-12)


def test_bce_keeps_float32_and_takes_a_constant_target():
    x = mb.tensor([[0.2, 0.7]], requires_grad=True)
    loss = F.binary_cross_entropy(x, np.array([[0, 1]]))  # integer targets become floats
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    z = mb.tensor([[0.2, -0.7]], requires_grad=True)
    F.binary_cross_entropy_with_logits(z, [[0.0, 1.0]], pos_weight=[2.0, 3.0]).backward()
    assert z.grad.dtype == np.float32


def test_bce_of_an_empty_input_is_nan():
    x = mb.tensor(np.zeros((0, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(x, np.zeros((0, 3)))
        loss.backward()
    assert np.isnan(loss.item()) and x.grad.shape == (0, 3)


@pytest.mark.parametrize("call, message", [
    (lambda: F.binary_cross_entropy(mb.tensor([0.5, 1.5]), [0.0, 1.0]),
     r"binary_cross_entropy: input must be probabilities in \[0, 1\], got 1.5"),
    (lambda: F.binary_cross_entropy(mb.tensor([0.5, np.nan]), [0.0, 1.0]), r"got nan"),
    (lambda: F.binary_cross_entropy(mb.tensor([0.5, 0.5]), [1.0]),
     r"target of shape \(1,\) differs from input of shape \(2,\)"),
    (lambda: F.binary_cross_entropy_with_logits(mb.tensor([0.5]), [1.0], reduction="avg"),
     r"reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: F.binary_cross_entropy_with_logits(mb.tensor([[0.5, 0.5]]), [[1.0, 0.0]],
                                                pos_weight=[1.0, 2.0, 3.0]),
     r"pos_weight of shape \(3,\) does not broadcast to the input's shape \(1, 2\)"),
    (lambda: F.binary_cross_entropy(mb.tensor([0.5]), [1.0],
                                    weight=mb.tensor([1.0], requires_grad=True)),
     r"weight is a constant and cannot require a gradient"),
])
def test_bce_bad_input_one_clear_line(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bce_refuses_integer_input():
    with pytest.raises(TypeError, match="binary_cross_entropy: expected a floating-point"):
        F.binary_cross_entropy(mb.tensor([0, 1]), [0.0, 1.0])
