"""The autograd core's promises (issue 13): one conversion path for every op, ``__array__``,
dtype promotion, the ownership of leaf gradients, in-place changes caught at backward, and
the edge cases a differential fuzzer found (negative transpose axes, 0-d and empty tensors,
d(x**0)/dx at 0)."""

from __future__ import annotations

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.autograd.function import Function

ROWS = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]

OPS = {
    "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh, "step": F.step,
    "softmax": F.softmax, "log_softmax": F.log_softmax, "leaky_relu": F.leaky_relu,
    "dropout": F.dropout, "dropout-eval": lambda x: F.dropout(x, training=False),
    "cross_entropy": lambda x: F.cross_entropy(x, [0, 1]),
    "mse_loss": lambda x: F.mse_loss(x, np.zeros((2, 3))),
    "sum_squared_error": lambda x: F.sum_squared_error(x, np.zeros((2, 3))),
    "batch_norm": lambda x: F.batch_norm(x, None, None, training=True),
    "exp": F.exp, "log": lambda x: F.log(F.exp(x)), "sqrt": lambda x: F.sqrt(F.exp(x)),
    "clip": lambda x: F.clip(x, 0, 1), "sum": F.sum, "mean": F.mean, "max": F.max,
    "reshape": lambda x: F.reshape(x, 3, 2), "transpose": F.transpose,
    "flatten": F.flatten, "getitem": lambda x: F.getitem(x, 0), "neg": F.neg,
    "add": lambda x: F.add(x, 1.0), "matmul": lambda x: F.matmul(x, np.ones((3, 1))),
    "linear": lambda x: F.linear(x, np.ones((3, 2)), np.zeros(2)),
    "nn.Linear": nn.Linear(3, 2), "nn.ReLU": nn.ReLU(), "nn.Dropout": nn.Dropout(),
    "nn.Flatten": nn.Flatten(), "nn.BatchNorm1d": nn.BatchNorm1d(3),
    "conv2d": lambda x: F.conv2d(np.reshape(x, (1, 1, 2, 3)), np.ones((1, 1, 2, 2))),
    "nn.BatchNorm2d": lambda x: nn.BatchNorm2d(1)(np.reshape(x, (2, 1, 3, 1))),
    "max_pool2d": lambda x: F.max_pool2d(np.reshape(x, (1, 1, 2, 3)), 2),
    "avg_pool2d": lambda x: F.avg_pool2d(np.reshape(x, (1, 1, 2, 3)), 2),
}


# ------------------------------------------------------------------- item 12: one conversion
@pytest.mark.parametrize("kind", ["ndarray", "list"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_takes_arrays_and_lists_as_mb_tensor_does(name, kind):
    x = np.array(ROWS) if kind == "ndarray" else ROWS  # float64 data: float32, as mb.tensor
    mb.manual_seed(0)
    y = OPS[name](x)
    mb.manual_seed(0)
    expected = OPS[name](mb.tensor(ROWS))
    assert isinstance(y, mb.Tensor)
    assert y.dtype == np.float32 == expected.dtype
    np.testing.assert_array_equal(y.data, expected.data)


def test_function_apply_converts_numbers_and_arrays():
    class Twice(Function):
        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return (2 * gy,)

    assert Twice.apply(1.5).item() == 3.0
    assert Twice.apply(np.ones(2)).dtype == np.float32
    assert Twice.apply([1, 2]).dtype == np.int64  # integer lists stay integer, as mb.tensor


# -------------------------------------------------------------------- item 13: __array__
def test_forward_is_told_whether_a_backward_can_follow():
    """`Function.for_backward`: False only when apply knows no backward will follow."""
    seen = []

    class Probe(Function):
        def forward(self, x):
            seen.append(self.for_backward)
            return x * 2

        def backward(self, gy):
            return (gy * 2,)

    x = mb.tensor([1.0, 2.0], requires_grad=True)
    Probe.apply(x)
    Probe.apply(mb.tensor([1.0, 2.0]))  # no input requires a gradient
    with mb.no_grad():
        Probe.apply(x)
    Probe().forward(np.ones(2))  # called directly: a backward may follow
    assert seen == [True, False, False, True]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_inference_without_what_only_backward_needs_gives_the_same_values(approximate):
    """GELU (no dy/dx) and max pooling (no argmax, a separable max) when no backward can
    follow: the values of the training path."""
    x = mb.tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)), requires_grad=True)
    trained = F.gelu(x, approximate=approximate), F.max_pool2d(x, 2)
    with mb.no_grad():
        inferred = F.gelu(x, approximate=approximate), F.max_pool2d(x, 2)
    assert trained[0].creator.dy_dx is not None
    for a, b in zip(trained, inferred):
        np.testing.assert_array_equal(a.data, b.data)


def test_asarray_gives_the_data_without_graph_nodes():
    x = mb.tensor(np.random.default_rng(0).random((200, 50)), requires_grad=True)
    y = x * 2
    array = np.asarray(y)
    assert array is y.data  # no copy, no object array of 0-d tensors, no getitem nodes
    assert np.asarray(y, dtype=np.float64).dtype == np.float64
    assert np.array(y) is not y.data  # np.array copies by default
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(y, dtype=np.float64, copy=False)
    assert np.asarray([mb.tensor(1.0), mb.tensor(2.0)]).dtype == np.float32


def test_ndarray_with_tensor_stays_a_tensor_that_tracks_gradients():
    x = mb.tensor([1.0, 2.0], requires_grad=True)
    for y in (np.ones(2) + x, np.ones(2) * x, np.ones(2) - x, np.ones(2) / x):
        assert isinstance(y, mb.Tensor) and y.creator is not None and y.dtype == np.float32
    (np.ones((3, 2)) @ x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


# ------------------------------------------------------------------- item 14: dtype promotion
F32, F64, I64 = np.float32, np.float64, np.int64


@pytest.mark.parametrize(("a", "b", "expected"), [
    (mb.tensor([1, 2]), 2.0, F32),                        # int tensor, Python float: default
    (mb.tensor([1, 2]), 2, I64),                          # int tensor, Python int: stays int
    (mb.tensor([1, 2], dtype=np.int32), 2, np.int32),     # a Python int never widens
    (mb.tensor([1.0]), 2.0, F32),                         # a Python float never widens
    (mb.tensor([1.0], dtype=F64), 2.0, F64),              # ... nor narrows
    (mb.tensor([1.0]), np.ones(1), F32),                  # an array takes the tensor's dtype
    (mb.tensor([1.0]), np.float64(2.0), F32),             # a NumPy scalar too
    (mb.tensor([1, 2]), mb.tensor([1.0, 2.0]), F32),      # int with float: the float's dtype
    (mb.tensor([1, 2]), mb.tensor([1.0, 2.0], dtype=F64), F64),
    (mb.tensor([True, False]), mb.tensor([1.0, 2.0]), F32),
    (mb.tensor([1.0]), mb.tensor([1.0], dtype=F64), F64),  # float32 with float64: float64
])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "pow"])
def test_binary_promotion(a, b, expected, op):
    assert getattr(F, op)(a, b).dtype == expected
    assert getattr(F, op)(b, a).dtype == expected


def test_division_of_integers_is_float32_and_mixed_float_matmul_is_float64():
    assert (mb.tensor([1, 2]) / mb.tensor([2, 2])).dtype == F32
    np.testing.assert_array_equal((mb.tensor([1, 3]) / 2).data, [0.5, 1.5])
    w64 = mb.tensor(np.ones((2, 2)), dtype=F64, requires_grad=True)
    x32 = mb.tensor(np.ones((1, 2)), requires_grad=True)
    y = x32 @ w64
    assert y.dtype == F64
    y.sum().backward()
    assert x32.grad.dtype == F32 and w64.grad.dtype == F64  # each gradient in its own dtype
    assert F.linear(mb.tensor([[1, 2]]), mb.tensor(np.ones((2, 3)))).dtype == F32


@pytest.mark.parametrize("op", [F.exp, F.log, F.sqrt, F.mean, F.sigmoid, F.tanh])
def test_floating_ops_refuse_integer_input(op):
    with pytest.raises(TypeError, match="expected a floating-point tensor, got dtype int64"):
        op(mb.tensor([1, 2]))


# ------------------------------------------------------------ item 16: gradient ownership
class SameArrayTwice(Function):
    """A user's op breaking the old contract: y = a + b, returning one new array twice."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        g = gy * 1.0
        return g, g


def test_one_array_returned_for_two_inputs_gives_each_leaf_its_own_grad():
    a = mb.tensor([1.0, 2.0], requires_grad=True)
    b = mb.tensor([3.0, 4.0], requires_grad=True)
    SameArrayTwice.apply(a, b).sum().backward()
    assert a.grad is not b.grad
    (a * 5).sum().backward()  # accumulates into a.grad in place
    np.testing.assert_array_equal(a.grad, [6.0, 6.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_one_array_for_a_leaf_and_an_inner_node():
    a = mb.tensor([1.0, 2.0], requires_grad=True)
    b = mb.tensor([3.0, 4.0], requires_grad=True)
    h = a * 1.0  # an inner node: its gradient is pending while a's is accumulated
    SameArrayTwice.apply(a, h).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    assert b.grad is None


# -------------------------------------------------------------- item 19: in-place changes
def test_inplace_change_of_a_kept_input_raises_naming_the_op():
    x = mb.tensor(1.0, requires_grad=True)
    y = x * x  # Mul keeps x for its backward: dy/dx = 2x
    x.data += 4  # x is now 5: the gradient would be 10 instead of 2
    with pytest.raises(RuntimeError, match="Mul: .* modified in place"):
        y.backward()


def test_inplace_change_of_a_kept_output_raises():
    x = mb.tensor([1.0, 2.0], requires_grad=True)
    y = F.exp(x)  # Exp keeps its output y
    z = y.sum()  # Sum keeps nothing
    y.data *= 3
    with pytest.raises(RuntimeError, match="Exp: "):
        z.backward()


def test_optimizer_step_between_forward_and_backward_raises():
    layer = nn.Linear(3, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    loss = layer(np.ones((4, 3))).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="Affine: .* optimizer step"):
        loss.backward()


def test_changes_the_backward_does_not_read_are_allowed():
    x = mb.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1.0).sum()  # Add keeps nothing
    x.data += 1
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    x.grad = None
    z = (x * x).sum()
    x.data = x.data + 1  # a new array: the node still has the values it used
    z.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 6.0])


def test_mark_modified_after_an_element_write():
    x = mb.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data[0] = 7.0  # NumPy writes cannot be seen ...
    x.mark_modified()  # ... unless they are declared
    with pytest.raises(RuntimeError, match="Mul"):
        y.backward()


# --------------------------------------------------------------------- fuzzer's core findings
@pytest.mark.parametrize(("shape", "axes"), [((2, 3), (-1, -2)), ((3, 3, 3), (1, -1, 0)),
                                             ((2, 3, 4), (-3, 2, -2)), ((2, 3, 4), (2, 0, 1))])
def test_transpose_with_negative_axes(shape, axes):
    data = np.random.default_rng(0).random(shape)
    x = mb.tensor(data, dtype=np.float64, requires_grad=True)
    weights = np.random.default_rng(1).random(np.transpose(data, axes).shape)
    (x.transpose(*axes) * weights).sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(np.transpose(x.grad, axes), weights)  # dL/dy moved back


def test_transpose_refuses_a_non_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        mb.tensor(np.ones((2, 3))).transpose(0, -2)


@pytest.mark.parametrize("op", [F.sigmoid, F.tanh, F.relu, F.exp, F.sqrt, F.neg,
                                lambda x: x * 2, lambda x: x**2, lambda x: 1 / x,
                                lambda x: x.clip(0, 1), F.sum, F.mean])
def test_ops_on_0d_tensors_give_0d_arrays(op):
    x = mb.tensor(0.5, requires_grad=True)
    y = op(x)
    assert type(y.data) is np.ndarray and y.shape == ()
    y.data[...] = y.data  # writable 0-d array, not a NumPy scalar
    y.backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == ()


def test_pow_gradient_at_zero_follows_pytorch():
    x = mb.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # was nan at x = 0
    b = mb.tensor(2.0, dtype=np.float64, requires_grad=True)
    (mb.tensor([0.0, 3.0], dtype=np.float64) ** b).sum().backward()
    np.testing.assert_allclose(b.grad, 9 * np.log(3))  # 0 ** b contributes 0, not nan


def test_reductions_and_linear_on_empty_tensors():
    e = mb.tensor(np.zeros((0, 3)), requires_grad=True)
    assert e.sum().item() == 0.0
    with np.errstate(all="raise"):  # no warnings either
        m = e.mean()
        assert np.isnan(m.item())  # a mean over nothing, as torch
        m.backward()
    assert e.grad.shape == (0, 3)
    assert e.sum(axis=0).shape == (3,) and e.max(axis=1).shape == (0,)
    with pytest.raises(ValueError, match="max: the reduced axes .* are empty"):
        e.max(axis=0)
    x = mb.tensor(np.zeros((2, 5, 0)), requires_grad=True)
    W = mb.tensor(np.zeros((0, 3)), requires_grad=True)  # noqa: N806
    F.linear(x, W).sum().backward()
    assert x.grad.shape == (2, 5, 0) and W.grad.shape == (0, 3)
