"""Linear, activation modules, Sequential and Dropout."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn


def test_linear_is_x_at_w_plus_b():
    lin = nn.Linear(4, 3)
    lin.b.data[:] = [1.0, 2.0, 3.0]
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(lin(x).data, x @ lin.W.data + lin.b.data, rtol=1e-6)
    assert lin.W.shape == (4, 3) and lin.b.shape == (3,)


def test_linear_gradients():
    lin = nn.Linear(4, 3)
    x = mb.tensor(np.random.default_rng(1).standard_normal((5, 4)), requires_grad=True)
    lin(x).sum().backward()
    ones = np.ones((5, 3), dtype=np.float32)
    np.testing.assert_allclose(lin.W.grad, x.data.T @ ones, rtol=1e-6)
    np.testing.assert_allclose(lin.b.grad, ones.sum(axis=0))
    np.testing.assert_allclose(x.grad, ones @ lin.W.data.T, rtol=1e-6)


def test_linear_initial_weights():
    mb.manual_seed(0)
    lin = nn.Linear(1000, 1000)
    assert lin.W.data.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    assert np.all(lin.b.data == 0)
    assert nn.Linear(1000, 100, init=0.01).W.data.std() == pytest.approx(0.01, rel=0.03)
    gen_a, gen_b = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(nn.Linear(3, 2, generator=gen_a).W.data,
                                  nn.Linear(3, 2, generator=gen_b).W.data)


def test_linear_without_bias():
    lin = nn.Linear(2, 3, bias=False)
    assert lin.b is None and [n for n, _ in lin.named_parameters()] == ["W"]
    np.testing.assert_allclose(lin(np.ones((1, 2))).data, np.ones((1, 2)) @ lin.W.data)


def test_linear_wrong_width_names_the_layer():
    lin = nn.Linear(784, 50)
    with pytest.raises(ValueError) as info:
        lin(np.zeros((100, 783)))
    assert str(info.value) == ("Linear(in_features=784, out_features=50, bias=True): "
                               "expected input (..., 784), got (100, 783)")
    with pytest.raises(ValueError, match="expected input"):
        lin(mb.tensor(3.0))


def test_linear_unknown_init():
    with pytest.raises(ValueError, match="unknown init 'gaussian'"):
        nn.Linear(2, 2, init="gaussian")


@pytest.mark.parametrize("module, function", [
    (nn.ReLU(), F.relu), (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)), (nn.Identity(), lambda x: x),
    (nn.Softmax(axis=0), lambda x: F.softmax(x, axis=0)),
])
def test_activation_modules_match_functions(module, function):
    x = mb.tensor(np.linspace(-3, 3, 12).reshape(3, 4))
    np.testing.assert_array_equal(module(x).data, function(x).data)
    assert list(module.parameters()) == []


def test_activation_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax()) == "Softmax(axis=-1)"


def test_get_activation():
    assert isinstance(nn.get_activation("Leaky-ReLU"), nn.LeakyReLU)
    with pytest.raises(ValueError, match="unknown activation 'gelu'.*relu, sigmoid, tanh"):
        nn.get_activation("gelu")


def test_sequential_behaves_like_a_list():
    a, b, c = nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    x = np.ones((4, 2), dtype=np.float32)
    np.testing.assert_array_equal(seq(x).data, c(b(a(x))).data)
    assert [n for n, _ in seq.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="element 1 is a ufunc, not a Module"):
        nn.Sequential(nn.ReLU(), np.tanh)


def test_dropout_preserves_expectation():
    drop = nn.Dropout(0.3, generator=np.random.default_rng(0))
    x = mb.tensor(np.full((2000, 500), 2.0))
    y = drop(x).data
    assert y.mean() == pytest.approx(2.0, rel=0.01)
    assert np.mean(y == 0) == pytest.approx(0.3, abs=0.01)
    np.testing.assert_allclose(y[y != 0], 2.0 / 0.7, rtol=1e-6)


def test_dropout_gradient_uses_the_same_mask():
    drop = nn.Dropout(0.5, generator=np.random.default_rng(1))
    x = mb.tensor(np.ones((10, 10)), requires_grad=True)
    y = drop(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)


def test_dropout_eval_is_identity():
    drop = nn.Dropout(0.5).eval()
    x = mb.tensor(np.arange(6.0))
    assert drop(x) is x


def test_dropout_seeded_generator_reproducible():
    x = mb.tensor(np.ones((50, 50)))
    a = nn.Dropout(0.5, generator=np.random.default_rng(42))(x).data
    b = nn.Dropout(0.5, generator=np.random.default_rng(42))(x).data
    np.testing.assert_array_equal(a, b)
    mb.manual_seed(3)
    c = nn.Dropout(0.5)(x).data  # the default generator, drawn at call time
    mb.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).data, c)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match="p must be in \\[0, 1\\)"):
        nn.Dropout(p)


def test_dropout_repr():
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)"


def test_dropout_refuses_integer_input():
    """Scaling kept integers by 1 / (1 - p) would truncate them (1 / 0.7 -> 1)."""
    with pytest.raises(TypeError, match=r"dropout: expected a floating-point .*int64"):
        nn.Dropout(0.3)(mb.tensor([[1, 2, 3]]))


def test_sequential_slices_keep_the_layer_names():
    """As PyTorch: seq[1:] holds "1" and "2", so its state_dict keys match the original's."""
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    tail = seq[1:]
    assert [n for n, _ in tail.named_parameters()] == ["2.W", "2.b"]
    assert tail.state_dict().keys() <= seq.state_dict().keys()
    assert "(1): Tanh()" in repr(tail)
    tail.append(nn.ReLU())  # a new layer takes the next free number, not a taken one
    assert [n for n, _ in tail.named_children()] == ["1", "2", "3"]
    assert [n for n, _ in seq[::2].named_children()] == ["0", "2"]


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Linear(0, 5), r"Linear: in_features must be a positive int, got 0"),
    (lambda: nn.Linear(-1, 5), r"Linear: in_features must be a positive int, got -1"),
    (lambda: nn.Linear(3, 0), r"Linear: out_features must be a positive int, got 0"),
    (lambda: nn.Conv2d(0, 4, 3), r"Conv2d: in_channels must be a positive int, got 0"),
    (lambda: nn.BatchNorm1d(-2), r"BatchNorm1d: num_features must be a positive int, got -2"),
    (lambda: nn.MLP(4, [8, 0], 3), r"Linear: out_features must be a positive int, got 0"),
])
def test_layer_sizes_must_be_positive(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_layer_sizes_must_be_ints():
    with pytest.raises(TypeError, match=r"Linear: in_features must be a positive int, got 2.5"):
        nn.Linear(2.5, 3)
    assert nn.Linear(np.int64(2), 3).W.shape == (2, 3)  # NumPy's ints are ints
