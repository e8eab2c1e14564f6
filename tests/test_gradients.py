"""Every differentiable op: backprop against numerical gradients in float64.

Shapes (broadcasting included) are drawn by hypothesis; inputs are kept away from kinks and
singularities so that the central difference is exact to O(h^2).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from helpers import away_from_zero, broadcast_pair, t64
from helpers import uniform as rand
from mitbadak import functional as F
from mitbadak.numerical import gradcheck

RTOL = 1e-6  # the bar: relative error <= 1e-6

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def check(f, *inputs):
    result = gradcheck(f, inputs, raise_exception=False)
    assert max(result.max_rel_error) <= RTOL, result


@given(broadcast_pair(shapes), st.sampled_from(["add", "sub", "mul", "div"]), st.booleans())
def test_binary_ops_with_broadcasting(shapes_, op, swap):
    a_shape, b_shape = shapes_ if not swap else shapes_[::-1]
    a = t64(away_from_zero(a_shape, 1))
    b = t64(away_from_zero(b_shape, 2))
    check(getattr(F, op), a, b)


@given(shapes)
def test_pow_both_arguments(shape):
    a = t64(rand(shape, 3, 0.5, 2.0))
    b = t64(rand(shape, 4, -1.5, 1.5))
    check(lambda a, b: a**b, a, b)
    check(lambda a: a**3, t64(rand(shape, 5)))


@given(shapes)
def test_neg_exp_log_sqrt(shape):
    check(lambda x: -x, t64(rand(shape, 6)))
    check(F.exp, t64(rand(shape, 7)))
    check(F.log, t64(rand(shape, 8, 0.5, 3.0)))
    check(F.sqrt, t64(rand(shape, 9, 0.5, 3.0)))


@given(shapes)
def test_clip(shape):
    check(lambda x: F.clip(x, -1.0, 1.0), t64(away_from_zero(shape, 10) * 1.3))
    check(lambda x: F.clip(x, min=0.0), t64(away_from_zero(shape, 11)))


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 3))
def test_matmul_shapes(n, k, m, batch):
    check(lambda a, b: a @ b, t64(rand((n, k), 12)), t64(rand((k, m), 13)))
    check(lambda a, b: a @ b, t64(rand((k,), 14)), t64(rand((k, m), 15)))
    check(lambda a, b: a @ b, t64(rand((n, k), 16)), t64(rand((k,), 17)))
    check(lambda a, b: a @ b, t64(rand((k,), 18)), t64(rand((k,), 19)))
    if batch:  # a stack of matrices times one matrix: the batch axis is broadcast
        check(lambda a, b: a @ b, t64(rand((batch, n, k), 20)), t64(rand((k, m), 21)))


@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.booleans())
def test_linear(n, fan_in, fan_out, bias):
    x, W, b = t64(rand((n, fan_in), 22)), t64(rand((fan_in, fan_out), 23)), t64(rand(fan_out, 24))
    if bias:
        check(F.linear, x, W, b)
    else:
        check(F.linear, x, W)
    check(F.linear, t64(rand((2, n, fan_in), 25)), W, b)  # extra leading axes


@given(shapes, st.booleans(), st.data())
def test_reductions(shape, keepdims, data):
    axis = data.draw(st.sampled_from([None, *range(len(shape)), tuple(range(len(shape)))]))
    x = t64(np.random.default_rng(26).permutation(np.prod(shape)).reshape(shape) / 3.0)
    check(lambda x: F.sum(x, axis, keepdims), x)
    check(lambda x: F.mean(x, axis, keepdims), x)
    check(lambda x: F.max(x, axis, keepdims), x)  # distinct values: no ties


def test_max_splits_gradient_between_ties():
    x = t64(np.array([1.0, 3.0, 3.0]))
    F.max(x).backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


@given(shapes)
def test_shape_ops(shape):
    x = t64(rand(shape, 27))
    check(lambda x: x.reshape(-1), x)
    check(lambda x: x.T * 1.0, x)
    axes = tuple(reversed(range(len(shape))))
    check(lambda x: x.transpose(*axes) * 1.0, x)
    check(lambda x: x[..., :1] * 2.0, x)
    check(lambda x: x[np.array([0, 0])] * 1.0, x)  # repeated index: gradients add up


@given(shapes)
def test_activations(shape):
    x = t64(away_from_zero(shape, 28) * 2)
    check(F.sigmoid, x)
    check(F.tanh, x)
    check(F.relu, x)
    check(lambda x: F.leaky_relu(x, 0.1), x)
    check(lambda x: F.softmax(x, axis=-1), x)
    check(lambda x: F.log_softmax(x, axis=0), x)


@pytest.mark.parametrize("slope", [0.01, 0.1, -0.5, 3.0])
def test_leaky_relu_is_exact_for_any_slope(slope):
    x = mb.tensor(np.array([-3.0, -0.1, 0.0, 0.1, 2.5], dtype=np.float32), requires_grad=True)
    y = F.leaky_relu(x, slope)
    expected = np.where(x.data > 0, x.data, x.data * np.float32(slope))
    assert y.dtype == np.float32 and np.array_equal(y.data, expected)
    y.backward(np.full(5, 2.0, dtype=np.float32))
    assert np.array_equal(x.grad, np.where(x.data > 0, 2.0, 2.0 * np.float32(slope)))


def test_leaky_relu_needs_floats():
    with pytest.raises(TypeError, match="leaky_relu: expected a floating-point tensor.*int64"):
        F.leaky_relu(mb.tensor(np.array([1, -2])))


def test_step_has_zero_gradient():
    x = t64(np.array([-1.0, 0.5, 2.0]))
    y = F.step(x)
    assert y.data.tolist() == [0.0, 1.0, 1.0]
    y.sum().backward()
    assert np.all(x.grad == 0)


@given(st.integers(1, 6), st.integers(2, 5), st.booleans())
def test_cross_entropy(n, classes, one_hot):
    logits = t64(rand((n, classes), 29, -3, 3))
    labels = np.random.default_rng(30).integers(0, classes, n)
    target = np.eye(classes)[labels] if one_hot else labels
    check(lambda z: F.cross_entropy(z, target), logits)


@given(shapes)
def test_squared_errors(shape):
    y, t = t64(rand(shape, 31)), t64(rand(shape, 32))
    check(F.mse_loss, y, t)
    check(F.sum_squared_error, y, t)


def test_batch_norm_training_and_eval():
    x = t64(rand((5, 3), 33))
    gamma, beta = t64(rand(3, 34, 0.5, 1.5)), t64(rand(3, 35))
    check(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), x, gamma, beta)
    mean, var = np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0])
    check(lambda x, g, b: F.batch_norm(x, mean, var, g, b, training=False), x, gamma, beta)
    x4 = t64(rand((3, 2, 2, 3), 36))
    g2, b2 = t64(rand(2, 37, 0.5, 1.5)), t64(rand(2, 38))
    check(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), x4, g2, b2)


def test_dropout_gradient_uses_the_same_mask():
    x = t64(rand((4, 5), 39))
    gen = np.random.default_rng(0)
    y = F.dropout(x, 0.5, training=True, generator=gen)
    y.backward(np.ones((4, 5)))
    kept = y.data != 0
    assert np.allclose(x.grad[kept], 2.0) and np.all(x.grad[~kept] == 0)
