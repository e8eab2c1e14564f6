"""The Tensor API, dtype rules, the graph walk and its error messages."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F


def test_dtype_rules():
    assert mb.tensor([1.0, 2.0]).dtype == np.float32
    assert mb.tensor(np.zeros(3)).dtype == np.float32  # float64 input -> float32 by default
    assert mb.tensor(3).dtype == np.float32  # Python numbers -> float32
    assert mb.tensor(2.5).dtype == np.float32
    assert mb.tensor(np.zeros(3), dtype=np.float64).dtype == np.float64
    assert mb.tensor(np.arange(3)).dtype.kind == "i"  # integer arrays stay integer
    assert mb.tensor([1, 2, 3]).dtype.kind == "i"


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        mb.tensor(np.arange(3), requires_grad=True)


def test_attributes():
    x = mb.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert x.T.shape == (3, 2)
    assert x.numpy() is x.data
    assert mb.tensor([[4.0]]).item() == 4.0
    d = x.detach()
    assert d.data is x.data and not d.requires_grad and d.creator is None
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=Mul" in repr(x * 2)


def test_float64_stays_float64_through_forward_and_backward():
    x = mb.tensor(np.ones((3, 4)), dtype=np.float64, requires_grad=True)
    W = mb.tensor(np.ones((4, 2)), dtype=np.float64, requires_grad=True)
    y = (F.sigmoid(x @ W) * 2.0 + 1).sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64 and W.grad.dtype == np.float64


def test_float32_stays_float32_with_python_scalars_and_float64_arrays():
    x = mb.tensor(np.ones((3,)), requires_grad=True)
    y = x * 2.5 + np.ones(3, dtype=np.float64) - 1 / (x + 1) ** 2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (3,)


def test_item_needs_one_element():
    with pytest.raises(ValueError, match="one element"):
        mb.tensor([1.0, 2.0]).item()


def test_tensor_used_twice_accumulates():
    x = mb.tensor(3.0, requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1 = 7
    y.backward()
    assert x.grad == pytest.approx(7.0)


def test_diamond_graph():
    x = mb.tensor(2.0, dtype=np.float64, requires_grad=True)
    a = x * 3
    b = x**2
    y = a * b + a  # 3x^3 + 3x -> 9x^2 + 3 = 39
    y.backward()
    assert x.grad == pytest.approx(39.0)


def test_gradients_accumulate_across_backward_calls():
    x = mb.tensor(1.0, requires_grad=True)
    (x * 2).backward()
    (x * 3).backward()
    assert x.grad == pytest.approx(5.0)


def test_shared_gradient_arrays_are_not_aliased_between_leaves():
    a = mb.tensor(np.ones(3), requires_grad=True)
    b = mb.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad += 10
    assert np.array_equal(b.grad, np.ones(3))


def test_user_gradient_array_is_not_aliased():
    x = mb.tensor(np.ones(3), requires_grad=True)
    g = np.ones(3, dtype=np.float32)
    (x + 1).backward(g)
    x.grad += 1
    assert np.array_equal(g, np.ones(3))


def test_long_chain_has_no_recursion_error():
    x = mb.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000)


def test_backward_twice_raises_and_retain_graph_allows_it():
    x = mb.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    assert x.grad == pytest.approx(4.0)  # unchanged: never silently doubled

    x.grad = None
    z = x * x
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad == pytest.approx(8.0)


def test_backward_on_non_scalar_needs_grad():
    x = mb.tensor(np.ones(3), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="pass grad="):
        y.backward()
    y.backward(np.array([1.0, 2.0, 3.0]))
    assert np.allclose(x.grad, [2, 4, 6])


def test_backward_grad_shape_checked():
    x = mb.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(4))


def test_backward_without_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mb.tensor(1.0).backward()


def test_only_a_leaf_can_stop_requiring_grad():
    x = mb.tensor(np.ones(2), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf tensors only.*detach"):
        y.requires_grad_(False)
    x.requires_grad_(False)
    assert not x.requires_grad
    z = y.detach().requires_grad_(False) * 3  # the detached copy is a leaf
    assert not z.requires_grad


def test_an_input_switched_off_by_hand_does_not_stall_the_walk():
    x = mb.tensor(np.ones(2), requires_grad=True)
    h = x * 3
    cut = h * 1
    cut.requires_grad = False  # set by hand on a non-leaf: later ops pass it no gradient
    (h * 2 + cut * x).sum().backward()  # cut is a constant here: d/dx = 2 * 3 + cut
    assert np.allclose(x.grad, [9, 9])


def test_backward_on_a_leaf():
    x = mb.tensor(np.ones(2), requires_grad=True)
    x.backward(np.array([1.0, 2.0]))
    assert np.allclose(x.grad, [1, 2])


def test_no_grad_context_and_decorator():
    x = mb.tensor(1.0, requires_grad=True)
    with mb.no_grad():
        y = x * 2
        assert not mb.is_grad_enabled()
        with mb.enable_grad():
            assert (x * 2).requires_grad
    assert mb.is_grad_enabled()
    assert not y.requires_grad and y.creator is None

    @mb.no_grad()
    def infer(t):
        return t * 3

    assert not infer(x).requires_grad
    assert (x * 3).requires_grad


def test_graph_is_freed_after_backward():
    x = mb.tensor(np.ones(3), requires_grad=True)
    y = (x * 2).sum()
    fn = y.creator
    y.backward()
    assert fn.inputs is None


def test_comparisons_give_boolean_tensors_without_grad():
    x = mb.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert result.dtype == bool and not result.requires_grad
    assert (x > 1.5).data.tolist() == [False, True, True]


def test_ndarray_on_the_left_gives_a_tensor():
    x = mb.tensor(np.ones(3), requires_grad=True)
    y = np.full(3, 2.0, dtype=np.float32) * x
    assert isinstance(y, mb.Tensor)
    y.sum().backward()
    assert np.allclose(x.grad, 2)


def test_indexing_scatter_adds_repeated_indices():
    x = mb.tensor(np.arange(5.0), requires_grad=True)
    x[np.array([0, 0, 3])].sum().backward()
    assert x.grad.tolist() == [2, 0, 0, 1, 0]


def test_matmul_shape_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(4, 3\).*\(5, 2\)"):
        mb.tensor(np.ones((4, 3))) @ mb.tensor(np.ones((5, 2)))


def test_linear_shape_error():
    W = mb.tensor(np.ones((784, 50)))
    with pytest.raises(ValueError, match=r"\(100, 783\).*\(784, 50\)"):
        F.linear(mb.tensor(np.ones((100, 783))), W)


def test_reshape_error():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, -1\)"):
        mb.tensor(np.ones((2, 3))).reshape(4, -1)
    assert mb.tensor(np.ones((2, 3))).reshape(-1).shape == (6,)
    assert mb.tensor(np.ones((2, 3))).reshape((3, 2)).shape == (3, 2)


def test_retain_graph_backward_twice_gives_the_same_gradients():
    x = mb.tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    W = mb.tensor(np.random.default_rng(1).normal(size=(3, 5)), requires_grad=True)
    loss = F.cross_entropy(F.sigmoid(F.relu(x @ W)), [0, 1, 2, 3])
    loss.backward(retain_graph=True)
    first = (x.grad.copy(), W.grad.copy())
    x.grad = W.grad = None
    loss.backward()
    assert np.array_equal(x.grad, first[0]) and np.array_equal(W.grad, first[1])
