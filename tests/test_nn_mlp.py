"""MLP and TwoLayerNet: structure, initialisation, config, and learning XOR by backprop."""

import json

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn


def layer_types(model):
    return [type(m).__name__ for m in model.layers]


def test_layers_per_hidden_size():
    assert layer_types(nn.MLP(4, [8, 6], 3)) == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    model = nn.MLP(4, [8, 6], 3, activation="tanh", batchnorm=True, dropout=0.2)
    assert layer_types(model) == ["Linear", "BatchNorm1d", "Tanh", "Dropout"] * 2 + ["Linear"]
    assert [(m.in_features, m.out_features) for m in model.layers
            if isinstance(m, nn.Linear)] == [(4, 8), (8, 6), (6, 3)]
    assert model(np.ones((5, 4))).shape == (5, 3)


def test_no_hidden_layers_is_a_linear_model():
    assert layer_types(nn.MLP(4, [], 3)) == ["Linear"]


def test_named_parameters():
    names = [n for n, _ in nn.MLP(2, [3], 1, batchnorm=True).named_parameters()]
    assert names == ["layers.0.W", "layers.0.b", "layers.1.gamma", "layers.1.beta",
                     "layers.3.W", "layers.3.b"]


@pytest.mark.parametrize("activation, init, std", [
    ("relu", "auto", np.sqrt(2 / 1000)),
    ("sigmoid", "auto", np.sqrt(2 / 2000)),
    ("relu", "lecun", np.sqrt(1 / 1000)),
    ("tanh", 0.05, 0.05),
])
def test_init_rule(activation, init, std):
    mb.manual_seed(0)
    model = nn.MLP(1000, [1000], 1000, activation=activation, init=init)
    for layer in (model.layers[0], model.layers[2]):
        assert layer.W.data.std() == pytest.approx(std, rel=0.02)


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown activation 'swish'; expected one of relu"):
        nn.MLP(2, [2], 2, activation="swish")
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        nn.MLP(2, [2], 2, init="glorot")


def test_bad_dropout():
    with pytest.raises(ValueError, match="p must be in"):
        nn.MLP(2, [2], 2, dropout=1.0)


def test_manual_seed_makes_creation_reproducible():
    mb.manual_seed(11)
    a = nn.MLP(5, [7], 3).state_dict()
    mb.manual_seed(11)
    b = nn.MLP(5, [7], 3).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_config_is_json_friendly_and_rebuilds_the_model():
    model = nn.MLP(784, (100, 100), 10, activation="relu", init="he", batchnorm=True,
                   dropout=0.1)
    config = json.loads(json.dumps(model.config))
    assert config == {"input_size": 784, "hidden_sizes": [100, 100], "output_size": 10,
                      "activation": "relu", "init": "he", "batchnorm": True, "dropout": 0.1}
    rebuilt = nn.MLP(**config)
    assert repr(rebuilt) == repr(model)
    rebuilt.load_state_dict(model.state_dict())


def test_two_layer_net_is_the_books_network():
    mb.manual_seed(0)
    net = nn.TwoLayerNet()
    assert isinstance(net, nn.MLP)
    assert layer_types(net) == ["Linear", "Sigmoid", "Linear"]
    assert net.layers[0].W.shape == (784, 50) and net.layers[2].W.shape == (50, 10)
    assert net.layers[0].W.data.std() == pytest.approx(0.01, rel=0.03)
    assert np.all(net.layers[0].b.data == 0)
    rebuilt = nn.MLP(**net.config)
    rebuilt.load_state_dict(net.state_dict())
    x = np.random.default_rng(0).random((3, 784))
    np.testing.assert_array_equal(rebuilt(x).data, net(x).data)


def test_repr():
    assert repr(nn.MLP(784, [50], 10)) == (
        "MLP(\n"
        "  (layers): Sequential(\n"
        "    (0): Linear(in_features=784, out_features=50, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=50, out_features=10, bias=True)\n"
        "  )\n"
        ")"
    )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_learns_xor_by_gradient_descent(activation):
    mb.manual_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    t = np.array([0, 1, 1, 0])
    model = nn.MLP(2, [8], 2, activation=activation)
    for _ in range(500):
        model.zero_grad()
        F.cross_entropy(model(x), t).backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad
    logits = model(x)
    assert F.accuracy(logits, t) == 1.0
    assert F.cross_entropy(logits, t).item() < 0.05
