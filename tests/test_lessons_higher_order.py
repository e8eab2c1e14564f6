"""The higher-order-gradient lessons: Newton's method by double backprop, tanh's derivatives."""

import numpy as np
import pytest

from mitbadak.experiments import compute, run_experiment


def test_newton_needs_a_handful_of_steps_where_gradient_descent_needs_hundreds():
    result = compute("newton", quick=True)
    assert result["check"] == {"f'(2)": 24.0, "f''(2)": 44.0}
    newton, gd = result["newton"], result["gradient descent"]
    assert newton["steps"] == 6 and abs(newton["final"] - 1) < 1e-6
    assert 100 <= gd["steps"] < 1000 and abs(gd["final"] - 1) < 1e-6
    assert abs(gd["path"][-2] - 1) >= 1e-6  # it stopped at the first step inside
    assert newton["path"][1] == pytest.approx(2 - 24 / 44)


def test_tanh_derivatives_and_their_growing_graphs():
    result = compute("tanh-derivatives", quick=True)
    x = np.array(result["x"])
    t = np.tanh(x)
    d = [np.array(c) for c in result["derivatives"]]
    assert len(d) == 7
    np.testing.assert_allclose(d[3], -2 * (1 - t**2) * (1 - 3 * t**2), atol=1e-12)
    assert result["graph_sizes"] == [1, 4, 7, 19, 49, 127, 337]
    assert all(e < 1e-12 for e in result["max_error_vs_closed_form"].values())
    assert "digraph" in result["dot"][2]


def test_the_lessons_draw(tmp_path):
    for name in ("newton", "tanh-derivatives"):
        report = run_experiment(name, quick=True, out=tmp_path)
        assert any(p.suffix == ".png" for p in report.files)
        assert (tmp_path / f"{name}.json").exists()
