"""The gradient-penalty lesson: double backprop pulls the critic's gradient norm to 1."""

import numpy as np

import mitbadak as mb
from mitbadak.experiments import compute
from mitbadak.experiments.gradient_penalty import critic, gradient_norms


def test_quick_run_moves_the_gradient_norm_to_one():
    result = compute("gradient-penalty", quick=True)
    with_penalty, without = result["runs"]["penalty"], result["runs"]["none"]
    assert with_penalty["initial_grad_norm"] == without["initial_grad_norm"]  # same start
    assert abs(with_penalty["final_grad_norm"] - 1) < 0.25
    assert abs(with_penalty["final_grad_norm"] - 1) < abs(with_penalty["initial_grad_norm"] - 1)
    assert without["final_grad_norm"] > 3  # unconstrained, the critic scales itself up
    assert abs(with_penalty["final_gap"] - result["true_distance"]) < 0.5
    assert len(with_penalty["curves"]["loss"]) == result["steps"]


def test_gradient_norms_match_finite_differences():
    model = critic(0).to(np.float64)
    x = np.random.default_rng(1).normal(size=(3, 2))
    norms = gradient_norms(model, mb.tensor(x, dtype=np.float64), create_graph=False).data
    h, grads = 1e-6, np.zeros_like(x)
    for j in range(2):
        step = np.zeros(2)
        step[j] = h
        with mb.no_grad():
            grads[:, j] = (model(x + step).data - model(x - step).data)[:, 0] / (2 * h)
    np.testing.assert_allclose(norms, np.linalg.norm(grads, axis=1), rtol=1e-6)
