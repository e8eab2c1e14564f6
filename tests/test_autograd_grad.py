"""The create_graph engine and `mb.autograd.grad`: what ``.grad`` holds, argument errors,
Functions that have not opted in, and that the recorded backward graphs are freed."""

import gc

import numpy as np
import pytest

import mitbadak as mb
from helpers import t64
from mitbadak import functional as F
from mitbadak.autograd import Function


def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x = t64([1.0, 2.0])
    (g,) = mb.autograd.grad((x * x).sum(), x)
    assert isinstance(g, mb.Tensor) and not g.requires_grad
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    assert x.grad is None


def test_grad_is_a_tuple_for_a_list_of_inputs_and_sums_over_outputs():
    a, b = t64(3.0), t64(4.0)
    ga, gb = mb.autograd.grad([a * b, a + b], [a, b])
    assert (ga.item(), gb.item()) == (5.0, 4.0)
    ga, gb = mb.autograd.grad([a * b, a * a], [a, b], grad_outputs=[2.0, 1.0])
    assert (ga.item(), gb.item()) == (2 * 4.0 + 6.0, 2 * 3.0)


def test_grad_of_an_intermediate_tensor():
    x = t64([1.0, -2.0])
    h = x * 3.0
    y = (h * h).sum()
    gh, gx = mb.autograd.grad(y, [h, x])
    np.testing.assert_allclose(gh.data, 2 * h.data)
    np.testing.assert_allclose(gx.data, 18 * x.data)


def test_backward_keeps_grad_an_array_and_create_graph_makes_it_a_tensor():
    x = t64([0.5, 1.5])
    F.exp(x).sum().backward()
    assert type(x.grad) is np.ndarray
    x.grad = None
    F.exp(x).sum().backward(create_graph=True)
    assert isinstance(x.grad, mb.Tensor) and x.grad.requires_grad
    x.grad.sum().backward()  # d/dx of d/dx e^x, added to the tensor-valued grad
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(x.data))


def test_create_graph_retains_the_graph_and_plain_backward_frees_it():
    x = t64(2.0)
    y = x ** 3
    y.backward(create_graph=True)  # retain_graph defaults to create_graph
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * 12.0)
    with pytest.raises(RuntimeError, match="a second time"):
        y.backward()


def test_second_derivative_of_x4_minus_2x2():
    x = t64(2.0)
    (g,) = mb.autograd.grad(x ** 4 - 2 * x ** 2, x, create_graph=True)
    (h,) = mb.autograd.grad(g, x)
    assert (g.item(), h.item()) == (24.0, 44.0)


def test_differentiable_grad_outputs():
    x, v = t64([1.0, 2.0]), t64([3.0, 5.0])
    (g,) = mb.autograd.grad(x * x, x, grad_outputs=v, create_graph=True)  # 2 x v
    gx, gv = mb.autograd.grad(g.sum(), [x, v])
    np.testing.assert_allclose(gx.data, 2 * v.data)
    np.testing.assert_allclose(gv.data, 2 * x.data)


def test_unused_inputs():
    x, z = t64(1.0), t64(2.0)
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*not used.*allow_unused=True"):
        mb.autograd.grad(x * 2, [x, z])
    gx, gz = mb.autograd.grad(x * 2, [x, z], allow_unused=True)
    assert gx.item() == 2.0 and gz is None


@pytest.mark.parametrize("call, error, message", [
    (lambda x: mb.autograd.grad(x * 2, t64(1.0, grad=False)), RuntimeError,
     r"inputs\[0\].*does not require grad"),
    (lambda x: mb.autograd.grad(mb.tensor(3.0), x), RuntimeError,
     r"outputs\[0\].*does not require grad"),
    (lambda x: mb.autograd.grad(x * np.ones(3), x), RuntimeError, r"needs a scalar"),
    (lambda x: mb.autograd.grad(x * 2, x, grad_outputs=[1.0, 2.0]), ValueError,
     r"2 grad_outputs for 1 outputs"),
    (lambda x: mb.autograd.grad(x * np.ones(3), x, grad_outputs=np.ones(2)), ValueError,
     r"grad has shape \(2,\) but the tensor has shape \(3,\)"),
    (lambda x: mb.autograd.grad(2.0, x), TypeError, r"outputs\[0\] is a float, not a Tensor"),
    (lambda x: mb.autograd.grad(x * 2, [x, np.ones(2)]), TypeError,
     r"inputs\[1\] is a ndarray"),
    (lambda x: mb.autograd.grad([], x), ValueError, r"outputs is empty"),
])
def test_grad_argument_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(t64(1.0))


def test_accuracy_has_no_gradient():
    logits = t64([[1.0, 2.0], [3.0, 0.0]])
    with pytest.raises(TypeError, match="accuracy"):
        mb.autograd.grad(F.accuracy(logits, [1, 0]), logits)


def test_step_refuses_a_second_derivative():
    x = t64([0.5, -1.0])
    y = (F.step(x) * x).sum()
    (g,) = mb.autograd.grad(y, x)  # first order still works
    np.testing.assert_array_equal(g.data, [1.0, 0.0])
    with pytest.raises(RuntimeError, match=r"Step is not twice differentiable: its derivative "
                                           r"is 0 wherever it exists"):
        mb.autograd.grad((F.step(x) * x).sum(), x, create_graph=True)


class Cube(Function):
    """A Function written in the first-order style only: no saved_tensors."""

    def forward(self, x):
        self.x = x
        return x ** 3

    def backward(self, gy):
        return (3 * gy * self.x ** 2,)


def test_a_function_that_has_not_opted_in_works_once_and_says_why_not_twice():
    x = t64([1.0, 2.0])
    Cube.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 12.0])
    with pytest.raises(RuntimeError, match=r"^Cube is not twice differentiable: its backward "
                                           r"works on arrays only .*saved_tensors"):
        Cube.apply(x).sum().backward(create_graph=True)
    x.grad = None
    with pytest.raises(RuntimeError, match="Cube is not twice differentiable"):
        (x * 2 + Cube.apply(x)).sum().backward(create_graph=True)
    assert x.grad is None  # refused before the walk wrote anything


class OptedInCube(Cube):
    saved_tensors = {"x": 0}  # the same backward, now also run on tensors


def test_opting_in_takes_one_line_when_backward_uses_operators():
    x = t64([1.0, 2.0])
    (g,) = mb.autograd.grad(OptedInCube.apply(x).sum(), x, create_graph=True)
    (h,) = mb.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.data, 6 * x.data)


def _live_functions():
    gc.collect()
    return sum(issubclass(type(o), Function) for o in gc.get_objects())


def newton(x, steps):
    for _ in range(steps):
        y = x ** 4 - 2 * x ** 2
        (g,) = mb.autograd.grad(y, x, create_graph=True)
        (h,) = mb.autograd.grad(g, x)
        x = t64(x.data - g.data / h.data)
    return x


def test_graphs_made_under_create_graph_are_freed():
    x = newton(t64(2.0), 10)
    before = _live_functions()
    x = newton(x, 1000)
    assert _live_functions() <= before
    np.testing.assert_allclose(x.data, 1.0)


def test_a_tensor_valued_grad_is_freed_with_its_graph():
    x = t64([1.0, 2.0])
    before = _live_functions()
    for _ in range(50):
        F.tanh(x).sum().backward(create_graph=True)
        x.grad = None
    assert _live_functions() <= before
