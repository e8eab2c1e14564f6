"""One weight-decay policy (optim.param_groups): weights decayed; biases, BatchNorm's gamma and
beta not -- in the experiments and on the command line alike."""

import numpy as np
import pytest

from mitbadak import nn, optim
from mitbadak.cli.train import DEFAULTS, _build
from mitbadak.experiments._training import make_optimizer


def decay_one_step(optimizer, model):
    """One step with every gradient 0, so whatever moves was moved by weight decay alone
    (every parameter made non-zero first: a zero bias would not move under decay either)."""
    for p in model.parameters():
        p.data += 1.0
        p.grad = np.zeros_like(p.data)
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    optimizer.step()
    return {name: not np.array_equal(before[name], p.data)
            for name, p in model.named_parameters()}


@pytest.mark.parametrize("rule", [optim.SGD, optim.Momentum, optim.Adam, optim.AdamW])
def test_only_weights_decay(rule):
    model = nn.MLP(4, [3], 2, batchnorm=True)
    moved = decay_one_step(rule(optim.param_groups(model.parameters(), 0.5), lr=0.1), model)
    params = dict(model.named_parameters())
    assert any(p.ndim == 1 for p in params.values())  # biases, gamma, beta are there
    assert all(moved[name] == (p.ndim >= 2) for name, p in params.items()), moved


def test_groups_weights_first_and_one_group_without_decay():
    model = nn.SimpleConvNet(input_dim=(1, 8, 8), conv_channels=2, hidden_size=5)
    decayed, plain = optim.param_groups(model.parameters(), 1e-4)
    assert decayed["weight_decay"] == 1e-4 and {p.ndim for p in decayed["params"]} == {2, 4}
    assert plain["weight_decay"] == 0.0 and {p.ndim for p in plain["params"]} == {1}
    (group,) = optim.param_groups(model.parameters(), 0.0)
    assert [id(p) for p in group["params"]] == [id(p) for p in model.parameters()]


def settings(**changes):
    return {**DEFAULTS, "epochs": 2, "batch_size": 32, "weight_decay_on": "weights",
            "weight_decay": 0.5, **changes}


def test_the_cli_and_the_experiments_decay_the_same_parameters():
    model, optimizer, _ = _build(settings(optimizer="sgd", lr=0.1), (64,))
    moved = decay_one_step(optimizer, model)
    assert all(moved[name] == (p.ndim >= 2) for name, p in model.named_parameters()), moved
    assert not all(moved.values()) and any(moved.values())
    ours = make_optimizer("sgd", model, 0.1, weight_decay=0.5).param_groups
    assert [[id(p) for p in g["params"]] for g in optimizer.param_groups] == [
        [id(p) for p in g["params"]] for g in ours]


def test_runs_saved_before_the_policy_resume_as_they_ran():
    old = settings(optimizer="sgd", lr=0.1)
    del old["weight_decay_on"]
    model, optimizer, _ = _build(old, (64,))
    (group,) = optimizer.param_groups
    assert group["weight_decay"] == 0.5 and len(group["params"]) == len(list(model.parameters()))
