"""Module: registration, the tree, state_dict round trips and strict loading, modes, dtype, repr."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import nn


class Block(nn.Module):
    """A module with a parameter, a buffer and a child, in that order."""

    def __init__(self, width):
        super().__init__()
        self.scale = nn.Parameter(np.ones(width))
        self.register_buffer("count", np.zeros(1))
        self.inner = nn.Linear(width, width)

    def forward(self, x):
        return self.inner(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.block = Block(4)
        self.layers = nn.Sequential(nn.ReLU(), nn.Linear(4, 2, bias=False))

    def forward(self, x):
        return self.layers(self.block(self.first(x)))


def test_named_parameters_in_registration_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["first.W", "first.b", "block.scale", "block.inner.W", "block.inner.b",
                     "layers.1.W"]


def test_parameters_are_the_registered_objects():
    net = Net()
    params = list(net.parameters())
    assert params[0] is net.first.W and params[-1] is net.layers[1].W
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)


def test_children_modules_and_buffers():
    net = Net()
    assert [type(m).__name__ for m in net.children()] == ["Linear", "Block", "Sequential"]
    assert [name for name, _ in net.named_modules()] == [
        "", "first", "block", "block.inner", "layers", "layers.0", "layers.1"]
    assert [name for name, _ in net.named_buffers()] == ["block.count"]
    assert next(net.buffers()) is net.block.count
    assert "block.count" not in dict(net.named_parameters())


def test_shared_parameters_are_listed_once():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    net[1].W = net[0].W
    assert len(list(net.parameters())) == 3


def test_reassignment_keeps_order_and_type_decides_registration():
    lin = nn.Linear(2, 3)
    lin.W = nn.Parameter(np.zeros((2, 3)))
    assert [name for name, _ in lin.named_parameters()] == ["W", "b"]
    lin.b = None  # no longer a parameter
    assert [name for name, _ in lin.named_parameters()] == ["W"]
    del lin.W
    assert list(lin.parameters()) == []


def test_buffer_assignment_must_be_an_array():
    block = Block(2)
    block.count = np.array([5.0])
    assert block.state_dict()["count"][0] == 5.0
    with pytest.raises(TypeError, match="buffer 'count'"):
        block.count = 5.0


def test_assignment_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.W = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_state_dict_holds_copies_of_parameters_and_buffers():
    net = Net()
    state = net.state_dict()
    assert list(state) == ["first.W", "first.b", "block.scale", "block.count", "block.inner.W",
                           "block.inner.b", "layers.1.W"]
    state["first.W"][:] = 123.0
    assert not np.any(net.first.W.data == 123.0)


def test_state_dict_round_trip_gives_identical_outputs():
    mb.manual_seed(0)
    model = nn.MLP(5, [8, 8], 3, batchnorm=True)
    x = np.random.default_rng(0).standard_normal((16, 5)).astype(np.float32)
    model(x)  # move the running statistics away from their initial values
    model.eval()
    expected = model(x).data

    fresh = nn.MLP(**model.config)
    params_before = list(fresh.parameters())
    result = fresh.load_state_dict(model.state_dict())
    assert result == ([], [])
    fresh.eval()
    np.testing.assert_array_equal(fresh(x).data, expected)
    # loaded in place: the same Parameter objects, dtype kept
    assert all(a is b for a, b in zip(params_before, fresh.parameters()))
    assert all(p.dtype == np.float32 for p in fresh.parameters())


def test_load_keeps_dtype_of_model():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"W": np.eye(2, dtype=np.float64), "b": np.ones(2, dtype=np.float64)})
    assert lin.W.dtype == np.float32
    np.testing.assert_array_equal(lin.W.data, np.eye(2))


def test_strict_load_lists_every_problem_at_once():
    net = Net()
    state = net.state_dict()
    del state["first.b"], state["block.count"]
    state["extra.W"] = np.zeros(3)
    state["first.W"] = np.zeros((4, 3))
    before = net.state_dict()
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "for Net" in message
    assert "missing keys: 'first.b', 'block.count'" in message
    assert "unexpected keys: 'extra.W'" in message
    assert "size mismatch for first.W: the state has shape (4, 3), the model (3, 4)" in message
    # nothing was loaded
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_non_strict_load_returns_missing_and_unexpected():
    lin = nn.Linear(2, 2)
    result = lin.load_state_dict({"W": np.ones((2, 2)), "bogus": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["b"] and result.unexpected_keys == ["bogus"]
    np.testing.assert_array_equal(lin.W.data, np.ones((2, 2)))


def test_non_strict_load_still_rejects_shape_mismatch():
    lin = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for W"):
        lin.load_state_dict({"W": np.ones((2, 3))}, strict=False)


def test_load_rejects_values_that_cannot_be_stored():
    lin = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="type mismatch for b: cannot store <U1 in float32"):
        lin.load_state_dict({"W": np.ones((2, 2)), "b": np.array(["a", "b"])})
    assert not np.any(lin.W.data == 1)


def test_train_eval_propagate():
    net = Net()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_grads_to_none():
    net = Net()
    net(mb.tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_float64_converts_parameters_grads_and_buffers():
    model = nn.MLP(3, [4], 2, batchnorm=True)
    model(np.ones((2, 3))).sum().backward()
    params = list(model.parameters())
    assert model.to(np.float64) is model
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert all(b.dtype == np.float64 for b in model.buffers())
    assert all(a is b for a, b in zip(params, model.parameters()))
    assert model(np.ones((2, 3))).dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        model.to(np.int32)


def test_apply_visits_every_module():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Net", "Linear", "Block", "Linear", "Sequential", "ReLU", "Linear"]


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(1)


def test_repr_is_nested_like_pytorch():
    assert repr(Net()) == (
        "Net(\n"
        "  (first): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (block): Block(\n"
        "    (inner): Linear(in_features=4, out_features=4, bias=True)\n"
        "  )\n"
        "  (layers): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Linear(in_features=4, out_features=2, bias=False)\n"
        "  )\n"
        ")"
    )


def test_parameter_repr_and_dtype():
    p = nn.Parameter(np.zeros(2))
    assert p.dtype == np.float32 and p.requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_a_tensor_that_requires_grad_cannot_be_dropped_silently():
    """It would be in neither parameters() nor state_dict(): refused, naming the fix."""
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"Linear\.scale: .*requires grad.*nn\.Parameter"):
        model.scale = mb.tensor(np.ones(2), requires_grad=True)
    model.scale = nn.Parameter(np.ones(2))
    assert "scale" in model.state_dict()
    model.constant = mb.tensor(np.ones(2))  # no gradient wanted: a plain attribute, as before
    assert "constant" not in model.state_dict()


def test_a_parameter_can_only_be_replaced_by_a_parameter_or_none():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign ndarray as parameter 'W' of Linear "
                                        r"\(nn\.Parameter or None expected\)"):
        model.W = np.ones((2, 2))
    assert list(model.state_dict()) == ["W", "b"]  # nothing changed
    model.b = None
    assert list(model.state_dict()) == ["W"]


@pytest.mark.parametrize("bad", [[1, 2], "W", None, np.ones(3)])
def test_load_state_dict_wants_a_mapping(bad):
    with pytest.raises(TypeError, match=r"load_state_dict: expected a dict of arrays by name "
                                        r"\(what state_dict\(\) returns\), got "):
        nn.Linear(2, 2).load_state_dict(bad)


def test_graph_nodes_and_modules_do_not_share_names():
    """A stack trace through `nn.Linear` and its graph node names two different classes."""
    import inspect

    from mitbadak import functional
    from mitbadak.autograd.function import Function

    nodes = {name for module in vars(functional).values() if inspect.ismodule(module)
             for name, obj in vars(module).items()
             if inspect.isclass(obj) and issubclass(obj, Function)}
    layers = {name for module in [nn, *[m for m in vars(nn).values() if inspect.ismodule(m)]]
              for name, obj in vars(module).items()
              if inspect.isclass(obj) and issubclass(obj, nn.Module)}
    assert {"Affine", "SoftmaxWithLoss", "ReLUFunction", "Convolution"} <= nodes
    assert {"Linear", "ReLU", "Conv2d", "Module"} <= layers
    assert nodes & layers == set()
