"""The perceptron gates, Rosenblatt's rule, and XOR learned by a two-layer network."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak.cli import main
from mitbadak.experiments.perceptron import (
    AND,
    NAND,
    OR,
    TRUTH_TABLE_INPUTS,
    XOR,
    Perceptron,
    train_perceptron,
)

X = TRUTH_TABLE_INPUTS  # (0,0), (1,0), (0,1), (1,1)
TABLES = {"AND": (AND, [0, 0, 0, 1]), "NAND": (NAND, [1, 1, 1, 0]), "OR": (OR, [0, 1, 1, 1]),
          "XOR": (XOR, [0, 1, 1, 0])}


@pytest.mark.parametrize("name", TABLES)
def test_truth_tables(name):
    gate, expected = TABLES[name]
    assert [gate(int(x1), int(x2)) for x1, x2 in X] == expected
    assert all(type(gate(int(x1), int(x2))) is int for x1, x2 in X)
    np.testing.assert_array_equal(gate(X[:, 0], X[:, 1]), expected)  # elementwise on arrays


def test_book_weights_and_row_input():
    assert (AND.weights, AND.bias) == ((0.5, 0.5), -0.7)
    assert (NAND.weights, NAND.bias) == ((-0.5, -0.5), 0.7)
    assert (OR.weights, OR.bias) == ((0.5, 0.5), -0.2)
    np.testing.assert_array_equal(AND(X), [0, 0, 0, 1])  # one array, a row per sample
    assert OR(np.array([0, 1])) == 1


def test_output_is_one_only_strictly_above_zero():
    p = Perceptron(weights=(1.0, 1.0), bias=-1.0)  # w.x + b == 0 at (1, 0): not > 0
    assert p(1, 0) == 0 and p(1, 1) == 1


def test_wrong_number_of_inputs_is_explained():
    with pytest.raises(ValueError, match="2 weights"):
        AND(np.zeros((4, 3)))


@pytest.mark.parametrize("name", ["AND", "NAND", "OR"])
@pytest.mark.parametrize("seed", [None, 0, 1, 2, 3])
def test_rule_converges_on_separable_gates(name, seed):
    gate, t = TABLES[name]
    result = train_perceptron(X, t, epochs=100, lr=0.1, seed=seed)
    assert result.converged
    assert result.errors_per_epoch[-1] == 0 and len(result.errors_per_epoch) < 100
    np.testing.assert_array_equal(result.perceptron(X), t)


@pytest.mark.parametrize("seed", [None, 0, 1, 2, 3, 4, 5])
def test_rule_never_converges_on_xor(seed):
    result = train_perceptron(X, TABLES["XOR"][1], epochs=60, lr=0.1, seed=seed)
    assert not result.converged
    assert len(result.errors_per_epoch) == 60 and min(result.errors_per_epoch) > 0
    # Whatever line it ends with misclassifies at least one row: no line separates XOR.
    assert (result.perceptron(X) != TABLES["XOR"][1]).sum() >= 1


def test_rule_is_deterministic_for_a_seed():
    t = TABLES["AND"][1]
    assert train_perceptron(X, t, seed=7) == train_perceptron(X, t, seed=7)


def test_rule_rejects_bad_inputs():
    with pytest.raises(ValueError, match="0 or 1"):
        train_perceptron(X, [0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        train_perceptron(X, [0, 1, 1])


def test_two_layer_network_learns_xor_by_backprop():
    """What the rule cannot do, a hidden layer trained by gradient descent can."""
    x = X.astype(np.float64)
    t = np.array(TABLES["XOR"][1])
    rng = np.random.default_rng(0)
    params = [mb.tensor(a, dtype=np.float64, requires_grad=True)
              for a in (rng.normal(0, 1, (2, 4)), np.zeros(4), rng.normal(0, 1, (4, 2)),
                        np.zeros(2))]
    W1, b1, W2, b2 = params

    def logits():
        return F.linear(F.tanh(F.linear(x, W1, b1)), W2, b2)

    first = F.cross_entropy(logits(), t).item()
    for _ in range(500):
        loss = F.cross_entropy(logits(), t)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= 0.5 * p.grad
    assert F.cross_entropy(logits(), t).item() < 0.05 < first
    np.testing.assert_array_equal(logits().data.argmax(axis=1), t)


def test_gates_command_prints_the_truth_tables(capsys):
    assert main(["gates"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["x1", "x2", "|", "AND", "NAND", "OR", "XOR"]
    rows = [line.split() for line in lines[2:]]
    assert rows == [["0", "0", "|", "0", "1", "0", "0"], ["1", "0", "|", "0", "1", "1", "1"],
                    ["0", "1", "|", "0", "1", "1", "1"], ["1", "1", "|", "1", "0", "1", "0"]]
