"""Each experiment's quick form computes numbers that show its lesson."""

import math

import numpy as np
import pytest

from mitbadak.experiments import compute


@pytest.fixture(scope="module")
def perceptron():
    return compute("perceptron", quick=True)


def test_a_line_separates_and_nand_or(perceptron):
    for name in ("AND", "NAND", "OR"):
        gate = perceptron["gates"][name]
        assert gate["best_line_accuracy"] == 1.0
        assert gate["learned"]["converged"] and gate["learned"]["misclassified"] == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_line_separates_xor(seed):
    xor = compute("perceptron", quick=True, seed=seed)["gates"]["XOR"]
    assert xor["truth_table"] == [0, 1, 1, 0]
    assert xor["best_line_accuracy"] == 0.75  # 3 of 4 rows at best, for every line on the grid
    assert not xor["learned"]["converged"]
    assert xor["learned"]["misclassified"] >= 1
    assert min(xor["learned"]["errors_per_epoch"]) >= 1


def test_naive_softmax_overflows_where_the_stable_one_sums_to_one():
    softmax = compute("activations", quick=True)["softmax"]
    assert all(math.isnan(v) for v in softmax["naive"])
    assert all(math.isinf(v) for v in softmax["exp"])
    stable = np.array(softmax["stable"])
    assert np.isfinite(stable).all() and stable.sum() == pytest.approx(1.0)
    assert stable[0] == pytest.approx(1 / (1 + np.exp(-10) + np.exp(-20)))


def test_autograd_slopes_match_the_known_derivatives():
    result = compute("activations", quick=True)
    x = np.array(result["x"])
    curves = {name: (np.array(c["y"]), np.array(c["slope"]))
              for name, c in result["curves"].items()}
    y, slope = curves["sigmoid"]
    np.testing.assert_allclose(slope, y * (1 - y), atol=1e-12)
    y, slope = curves["tanh"]
    np.testing.assert_allclose(slope, 1 - y**2, atol=1e-12)
    np.testing.assert_array_equal(curves["relu"][1], (x > 0).astype(float))
    np.testing.assert_array_equal(curves["step"][1], 0.0)


def test_gradient_field_and_learning_rates():
    result = compute("gradient", quick=True)
    points, grads = np.array(result["field"]["points"]), np.array(result["field"]["gradients"])
    np.testing.assert_allclose(grads, 2 * points, atol=1e-6)  # grad (x0^2 + x1^2) = 2x
    good, large, small = (result["descents"][k] for k in ("good", "too large", "too small"))
    assert good["final_f"] < 1e-15
    np.testing.assert_allclose(good["final"], good["book_final"], rtol=1e-6)
    assert large["final_f"] > 1e20
    np.testing.assert_allclose(large["final"], large["book_final"], rtol=1e-6)
    assert 23 < small["final_f"] < 25  # from f = 25 it barely moved


def test_gradient_check_agrees_and_accuracy_gives_no_gradient():
    result = compute("gradient-check", quick=True, dataset="digits")
    assert result["dataset"] == "digits" and result["network"] == [64, 50, 10]
    for name, p in result["per_param"].items():
        assert p["max_abs_diff"] < 1e-7, name
        assert p["max_abs_grad"] > 100 * p["max_abs_diff"], name  # a real gradient, not ~0
    timing = result["timing"]
    assert timing["extrapolated"] and timing["entries_checked"] < result["parameters"]
    assert timing["numerical_seconds_full"] > timing["backprop_seconds"]
    acc = result["accuracy_as_loss"]
    size = int(np.prod(acc["shape"]))
    assert acc["accuracy_grad_nonzero"] <= 0.05 * size
    assert acc["cross_entropy_grad_nonzero"] >= 0.95 * size


def test_apple_example_gradients_equal_the_books():
    shopping = compute("graph", quick=True)["shopping"]
    assert shopping["price"] == pytest.approx(715.0)
    for name, expected in {"apple": 2.2, "apple_num": 110.0, "orange": 3.3,
                           "orange_num": 165.0, "tax": 650.0}.items():
        assert shopping["autograd"][name] == pytest.approx(expected, rel=1e-12), name
        assert shopping["by_hand"][name] == shopping["autograd"][name], name


def test_one_mlp_step_lowers_the_loss():
    step = compute("graph", quick=True)["mlp_step"]
    assert step["loss_after"] < step["loss_before"]
    assert set(step["grad_norms"]) == {"W1", "b1", "W2", "b2"}
