"""Second derivatives of every op converted to run its backward on tensors (issue #15).

Each op is checked with `gradgradcheck` in float64 (double backprop against numerical
differentiation of the analytic gradient) on hypothesis-drawn shapes, squared so that the
gradient flowing into the op's backward depends on the inputs too; then against PyTorch's
``torch.autograd.grad(..., create_graph=True)`` applied twice; then third and higher
derivatives against closed forms.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mitbadak as mb
from helpers import away_from_zero, broadcast_pair, t64
from helpers import uniform as rand
from mitbadak import functional as F
from mitbadak.numerical import gradgradcheck

RTOL = 1e-5  # the bar for second derivatives

shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)


def distinct(shape, seed):
    """Values at least 0.1 apart (no ties for max/min), in [-2, 2]."""
    n = int(np.prod(shape))
    values = np.random.default_rng(seed).permutation(n) * 0.1 - 0.05 * n
    return values.reshape(shape).astype(np.float64)


def check(f, *inputs):
    """gradgradcheck of f and of f squared (so that the op's backward also receives a
    gradient that depends on the inputs)."""
    for g in (f, lambda *xs: f(*xs) * f(*xs)):
        result = gradgradcheck(g, inputs, raise_exception=False)
        assert max(result.max_rel_error) <= RTOL, result


@settings(max_examples=8)
@given(broadcast_pair(shapes), st.sampled_from(["add", "sub", "mul", "div", "pow", "minimum",
                                          "maximum"]), st.booleans())
def test_binary_ops(shapes_, op, swap):
    a_shape, b_shape = shapes_ if not swap else shapes_[::-1]
    if op == "pow":
        a, b = t64(rand(a_shape, 1, 0.5, 2.0)), t64(rand(b_shape, 2, -1.5, 1.5))
    elif op in ("minimum", "maximum"):  # no ties
        a, b = t64(away_from_zero(a_shape, 1, 1.0, 2.0)), t64(rand(b_shape, 2, -0.5, 0.5))
    else:
        a, b = t64(away_from_zero(a_shape, 1)), t64(away_from_zero(b_shape, 2))
    check(getattr(F, op), a, b)


@settings(max_examples=8)
@given(shapes, st.sampled_from(["neg", "exp", "log", "sqrt", "sin", "cos", "sigmoid", "tanh",
                                "relu", "leaky_relu", "clip", "abs_pow"]))
def test_unary_ops(shape, op):
    x = t64(away_from_zero(shape, 3) if op in ("relu", "leaky_relu", "neg", "sin", "cos",
                                                 "sigmoid", "tanh", "exp", "abs_pow")
            else rand(shape, 3, 0.5, 2.0))
    fns = {"clip": lambda x: F.clip(x, 0.4, 2.1),  # the bounds are outside the values
           "abs_pow": lambda x: x ** 3, "neg": lambda x: -x}
    check(fns.get(op) or getattr(F, op), x)


def test_pow_with_a_constant_exponent_and_base():
    x = t64(rand((3, 2), 4, 0.5, 2.0))
    check(lambda x: x ** 2.5, x)
    check(lambda x: 2.0 ** x, x)


@settings(max_examples=8)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.sampled_from(
    ["mm", "mv", "vm", "vv", "batched", "linear", "linear_nobias", "linear_3d"]))
def test_matmul_and_linear(n, k, m, kind):
    shapes_ = {"mm": ((n, k), (k, m)), "mv": ((n, k), (k,)), "vm": ((k,), (2, k, m)),
               "vv": ((k,), (k,)), "batched": ((2, n, k), (1, k, m)),
               "linear": ((n, k), (k, m), (m,)), "linear_nobias": ((n, k), (k, m)),
               "linear_3d": ((2, n, k), (k, m), (m,))}[kind]
    inputs = [t64(rand(s, i)) for i, s in enumerate(shapes_)]
    check(F.linear if kind.startswith("linear") else F.matmul, *inputs)


@settings(max_examples=8)
@given(shapes, st.sampled_from(["sum", "mean", "max", "min"]), st.data())
def test_reductions(shape, op, data):
    axis = data.draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    keepdims = data.draw(st.booleans())
    x = t64(distinct(shape, 5))
    check(lambda x: getattr(F, op)(x, axis=axis, keepdims=keepdims) * 1.5, x)


@settings(max_examples=8)
@given(shapes)
def test_shape_ops(shape):
    x = t64(rand(shape, 6))
    check(lambda x: F.reshape(x, -1), x)
    check(lambda x: F.transpose(x), x)
    check(lambda x: F.transpose(x, *reversed(range(x.ndim))) * x.T, x)
    check(lambda x: F.flatten(F.reshape(x, 1, *x.shape)), x)
    check(lambda x: F.broadcast_to(x, (2, *x.shape)), x)
    check(lambda x: F.sum_to(F.broadcast_to(x, (2, *x.shape)) * 2.0, x.shape), x)
    check(lambda x: F.sum_to(x, (1,) * x.ndim), x)


@settings(max_examples=8)
@given(shapes, st.data())
def test_concatenate(shape, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    other = tuple(n + 1 if i == axis else n for i, n in enumerate(shape))
    a, b = t64(rand(shape, 8)), t64(rand(other, 9))
    check(lambda a, b: F.concatenate([a, b, a], axis=axis) * 1.5, a, b)


def test_getitem_basic_and_repeated_indices():
    x = t64(rand((4, 3), 7))
    check(lambda x: x[1:3, ::2], x)
    check(lambda x: x[[0, 2, 0]], x)  # a repeated row adds up
    check(lambda x: x[..., None, 1:], x)
    check(lambda x: x[np.array([True, False, True, True])], x)


@settings(max_examples=8)
@given(st.integers(1, 3), st.integers(1, 4), st.sampled_from([0, 1, -1]))
def test_softmax_and_log_softmax(n, c, axis):
    x = t64(rand((n, c), 8))
    check(lambda x: F.softmax(x, axis=axis), x)
    check(lambda x: F.log_softmax(x, axis=axis), x)


@settings(max_examples=8)
@given(st.integers(1, 4), st.integers(2, 4), st.sampled_from(["index", "probs", "weights"]))
def test_losses(n, c, labels):
    rng = np.random.default_rng(9)
    t = {"index": rng.integers(0, c, n), "probs": rng.dirichlet(np.ones(c), n),
         "weights": rng.uniform(0, 2, (n, c))}[labels]
    x = t64(rand((n, c), 10))
    check(lambda x: F.cross_entropy(x, t), x)
    y, target = t64(rand((n, c), 11)), t64(rand((n, c), 12))
    check(F.mse_loss, y, target)
    check(F.sum_squared_error, y, target)


def test_dropout_with_a_fixed_mask():
    x = t64(rand((3, 4), 13))
    check(lambda x: F.dropout(x, 0.4, generator=np.random.default_rng(0)), x)


def test_where_and_astype():
    x, y = t64(rand((3, 4), 14)), t64(rand((4,), 15))
    cond = rand((3, 4), 16) > 0
    check(lambda x, y: F.where(cond, x * y, y), x, y)
    check(lambda x: F.astype(x, np.float64) * x, x)


def test_an_mlp_loss():
    x, t = rand((5, 4), 17), np.array([0, 2, 1, 1, 0])
    W1, b1, W2, b2 = (t64(rand(s, 18 + i, -1, 1)) for i, s in enumerate([(4, 3), (3,), (3, 3),
                                                                          (3,)]))

    def loss(W1, b1, W2, b2):  # noqa: N803
        h = F.sigmoid(F.linear(x, W1, b1))
        return F.cross_entropy(F.linear(F.tanh(h), W2, b2), t)

    result = gradgradcheck(loss, [W1, b1, W2, b2], raise_exception=False)
    assert max(result.max_rel_error) <= RTOL, result


# ------------------------------------------------------------------- closed-form derivatives
def nth_derivatives(f, x, n):
    """The first n derivatives of the elementwise f at the points x, by repeated grad."""
    x = t64(x)
    y, out = f(x), []
    for _ in range(n):
        (y,) = mb.autograd.grad(y.sum(), x, create_graph=True)
        out.append(y.data.copy())
    return out


def test_tanh_derivatives_match_their_polynomials():
    x = np.linspace(-3, 3, 13)
    t = np.tanh(x)
    d = nth_derivatives(F.tanh, x, 4)
    expected = [1 - t**2, -2 * t * (1 - t**2), -2 * (1 - t**2) * (1 - 3 * t**2),
                8 * t * (1 - t**2) * (2 - 3 * t**2)]
    for got, want in zip(d, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_sigmoid_derivatives():
    x = np.linspace(-4, 4, 11)
    s = 1 / (1 + np.exp(-x))
    d = nth_derivatives(F.sigmoid, x, 3)
    expected = [s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s**2)]
    for got, want in zip(d, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_exp_and_sin_derivatives():
    x = np.linspace(-2, 2, 9)
    for got in nth_derivatives(F.exp, x, 5):
        np.testing.assert_allclose(got, np.exp(x), rtol=1e-12)
    expected = [np.cos(x), -np.sin(x), -np.cos(x), np.sin(x)]
    for got, want in zip(nth_derivatives(F.sin, x, 4), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- torch parity
PAIRS = {
    "mul_div": (lambda a, b: a * b / (b * b + 1), lambda a, b: a * b / (b * b + 1)),
    "pow": (lambda a, b: (a * a + 1) ** b, lambda a, b: (a * a + 1) ** b),
    "matmul": (lambda a, b: F.tanh(a @ b.T), lambda a, b: (a @ b.T).tanh()),
    "exp_log_sqrt": (lambda a, b: F.log(F.exp(a) + F.sqrt(b * b + 1)),
                     lambda a, b: (a.exp() + (b * b + 1).sqrt()).log()),
    "sin_cos": (lambda a, b: F.sin(a) * F.cos(b), lambda a, b: a.sin() * b.cos()),
    "min_max": (lambda a, b: F.maximum(a, b) * F.minimum(a, b) + a.max(axis=1).sum()
                + F.min(b, axis=0).sum(),
                lambda a, b: (torch.maximum(a, b) * torch.minimum(a, b)
                              + a.amax(dim=1).sum() + b.amin(dim=0).sum())),
    "sigmoid_softmax": (lambda a, b: F.sigmoid(a) * F.softmax(b, axis=1),
                        lambda a, b: a.sigmoid() * b.softmax(dim=1)),
    "log_softmax": (lambda a, b: F.log_softmax(a * b, axis=0),
                    lambda a, b: (a * b).log_softmax(dim=0)),
    "relu_leaky": (lambda a, b: F.relu(a) * F.leaky_relu(b, 0.1) * a,
                   lambda a, b: torch.relu(a) * torch.nn.functional.leaky_relu(b, 0.1) * a),
    "shape": (lambda a, b: (a.reshape(-1)[1:5] * b.T.reshape(-1)[2:6]).sum() * a[0],
              lambda a, b: (a.reshape(-1)[1:5] * b.T.reshape(-1)[2:6]).sum() * a[0]),
    "mean_sum_broadcast": (lambda a, b: a.mean(axis=0) * F.sum_to(b * a, (1, 4)),
                           lambda a, b: a.mean(dim=0) * (b * a).sum(dim=0, keepdim=True)),
    "losses": (lambda a, b: F.cross_entropy(a * b, np.array([0, 3, 1]))
               + F.mse_loss(a, b * b),
               lambda a, b: torch.nn.functional.cross_entropy(a * b, torch.tensor([0, 3, 1]))
               + torch.nn.functional.mse_loss(a, b * b)),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_first_and_second_derivatives_match_torch(name):
    global torch
    torch = pytest.importorskip("torch")
    ours, theirs = PAIRS[name]
    rng = np.random.default_rng(20)
    a0, b0 = rng.uniform(-1.5, 1.5, (3, 4)), rng.uniform(0.3, 1.5, (3, 4))
    v = rng.standard_normal(ours(t64(a0), t64(b0)).shape)
    ua, ub = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    a, b = t64(a0), t64(b0)
    ga, gb = mb.autograd.grad((ours(a, b) * v).sum(), [a, b], create_graph=True)
    ha, hb = mb.autograd.grad((ga * ua).sum() + (gb * ub).sum(), [a, b])

    ta, tb = (torch.tensor(x, requires_grad=True) for x in (a0, b0))
    tga, tgb = torch.autograd.grad((theirs(ta, tb) * torch.tensor(v)).sum(), [ta, tb],
                                   create_graph=True)
    tha, thb = torch.autograd.grad((tga * torch.tensor(ua)).sum()
                                   + (tgb * torch.tensor(ub)).sum(), [ta, tb])
    for got, want in ((ga, tga), (gb, tgb), (ha, tha), (hb, thb)):
        np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-7, atol=1e-12)


def test_hessian_of_an_mlp_loss_matches_torch():
    global torch
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(21)
    x, t = rng.standard_normal((6, 3)), np.array([0, 1, 2, 1, 0, 2])
    params = [rng.uniform(-1, 1, s) for s in [(3, 4), (4,), (4, 3), (3,)]]

    def ours(W1, b1, W2, b2):  # noqa: N803
        h = F.tanh(F.linear(x, W1, b1))
        return F.cross_entropy(F.linear(F.sigmoid(h), W2, b2), t)

    def theirs(W1, b1, W2, b2):  # noqa: N803
        h = torch.tanh(torch.tensor(x) @ W1 + b1)
        return torch.nn.functional.cross_entropy(torch.sigmoid(h) @ W2 + b2, torch.tensor(t))

    H = mb.autograd.functional.hessian(ours, tuple(t64(p, False) for p in params))
    T = torch.autograd.functional.hessian(theirs, tuple(torch.tensor(p) for p in params))
    for i in range(4):
        for j in range(4):
            assert H[i][j].shape == tuple(T[i][j].shape)
            np.testing.assert_allclose(H[i][j].data, T[i][j].numpy(), rtol=1e-7, atol=1e-12)


def test_hvp_and_jacobian_match_torch():
    global torch
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(22)
    x0, v0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))

    def ours(x):
        return (F.tanh(x) ** 3).sum() + (x * x.T.sum()).sum()

    def theirs(x):
        return (x.tanh() ** 3).sum() + (x * x.T.sum()).sum()

    value, hv = mb.autograd.functional.hvp(ours, t64(x0, False), v0)
    tvalue, thv = torch.autograd.functional.hvp(theirs, torch.tensor(x0), torch.tensor(v0))
    np.testing.assert_allclose(value.data, tvalue.numpy(), rtol=1e-12)
    np.testing.assert_allclose(hv.data, thv.numpy(), rtol=1e-7, atol=1e-12)
    H = mb.autograd.functional.hessian(ours, t64(x0, False))
    np.testing.assert_allclose(H.data, torch.autograd.functional.hessian(
        theirs, torch.tensor(x0)).numpy(), rtol=1e-7, atol=1e-12)

    J = mb.autograd.functional.jacobian(lambda a, b: F.softmax(a * b, axis=1),
                                        (t64(x0, False), t64(v0, False)))
    TJ = torch.autograd.functional.jacobian(lambda a, b: (a * b).softmax(dim=1),
                                            (torch.tensor(x0), torch.tensor(v0)))
    for got, want in zip(J, TJ):
        assert got.shape == (2, 3, 2, 3)
        np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-7, atol=1e-12)
