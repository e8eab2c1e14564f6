"""BatchNorm1d: parity with torch.nn.BatchNorm1d over several steps, gradient check, errors."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn
from mitbadak.numerical import gradcheck


def make_pair(num_features, torch):
    ours = nn.BatchNorm1d(num_features).to(np.float64)
    theirs = torch.nn.BatchNorm1d(num_features).double()
    return ours, theirs


@pytest.mark.parametrize("shape", [(8, 5), (6, 5, 3)])
def test_matches_torch_over_several_steps(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours, theirs = make_pair(shape[1], torch)
    for step in range(4):
        x_np = rng.standard_normal(shape) * (step + 1) + step
        v = rng.standard_normal(shape)  # loss = sum(y * v), so dL/dy = v
        x = mb.tensor(x_np, dtype=np.float64, requires_grad=True)
        xt = torch.tensor(x_np, requires_grad=True)
        y, yt = ours(x), theirs(xt)
        (y * v).sum().backward()
        (yt * torch.tensor(v)).sum().backward()

        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.beta.grad, theirs.bias.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)

        # the same plain gradient-descent step on both
        with torch.no_grad():
            for p, q in ((ours.gamma, theirs.weight), (ours.beta, theirs.bias)):
                p.data -= 0.1 * p.grad
                q -= 0.1 * q.grad
                p.grad, q.grad = None, None

    ours.eval()
    theirs.eval()
    x_np = rng.standard_normal(shape)
    x = mb.tensor(x_np, dtype=np.float64, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(training):
    rng = np.random.default_rng(1)
    bn = nn.BatchNorm1d(4).to(np.float64).train(training)
    bn.gamma.data[:] = rng.uniform(0.5, 2.0, 4)
    bn.beta.data[:] = rng.standard_normal(4)
    bn.running_mean[:] = rng.standard_normal(4)
    bn.running_var[:] = rng.uniform(0.5, 2.0, 4)
    x = mb.tensor(rng.standard_normal((5, 4)) * 3 + 1, dtype=np.float64, requires_grad=True)
    result = gradcheck(lambda x, *params: bn(x), [x, bn.gamma, bn.beta])
    assert max(result.max_rel_error) < 1e-7


def test_gradcheck_through_a_small_mlp_with_batchnorm():
    mb.manual_seed(2)
    model = nn.MLP(3, [6], 2, activation="tanh", batchnorm=True).to(np.float64)
    x = mb.tensor(np.random.default_rng(2).standard_normal((4, 3)), dtype=np.float64)
    params = list(model.parameters())
    gradcheck(lambda *_: mb.functional.cross_entropy(model(x), np.array([0, 1, 1, 0])), params)


def test_eval_uses_running_statistics():
    bn = nn.BatchNorm1d(3)
    bn.running_mean[:] = [1.0, 2.0, 3.0]
    bn.running_var[:] = [4.0, 1.0, 0.25]
    bn.gamma.data[:] = 2.0
    bn.beta.data[:] = 0.5
    bn.eval()
    x = np.array([[3.0, 2.0, 3.5]], dtype=np.float32)  # a batch of one is fine in eval
    expected = 2.0 * (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5) + 0.5
    np.testing.assert_allclose(bn(mb.tensor(x)).data, expected, rtol=1e-6)


def test_fresh_model_is_usable_in_eval_mode():
    bn = nn.BatchNorm1d(3).eval()  # running mean 0, running variance 1: nearly the identity
    x = mb.tensor(np.array([[1.0, -2.0, 3.0]]))
    np.testing.assert_allclose(bn(x).data, x.data, rtol=1e-4)


def test_training_statistics_and_running_update():
    bn = nn.BatchNorm1d(2)
    x = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 30.0]], dtype=np.float32)
    y = bn(mb.tensor(x)).data
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=0), 1, rtol=1e-4)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-6)


def test_batch_of_one_in_training_is_a_clear_error():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mb.tensor(np.ones((1, 3))))


def test_wrong_input_shape_names_the_layer():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3, .*\): expected input \(N, C\) or "
                                         r"\(N, C, L\) with C = 3, got \(4, 5\)"):
        bn(mb.tensor(np.ones((4, 5))))
    with pytest.raises(ValueError, match="got \\(2, 3, 4, 5\\)"):
        bn(mb.tensor(np.ones((2, 3, 4, 5))))


def test_without_affine():
    bn = nn.BatchNorm1d(3, affine=False)
    assert list(bn.parameters()) == [] and bn.gamma is None
    assert list(bn.state_dict()) == ["running_mean", "running_var"]
    y = bn(mb.tensor(np.random.default_rng(0).standard_normal((10, 3))))
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-6)


def test_names_and_repr():
    bn = nn.BatchNorm1d(50)
    assert [n for n, _ in bn.named_parameters()] == ["gamma", "beta"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var"]
    assert repr(bn) == "BatchNorm1d(50, eps=1e-05, momentum=0.1, affine=True)"


@pytest.mark.parametrize("make, shape", [(lambda: nn.BatchNorm1d(3), (0, 3)),
                                         (lambda: nn.BatchNorm2d(3), (0, 3, 4, 4))])
def test_an_empty_batch_in_training_is_refused_and_leaves_the_statistics(make, shape):
    """Once NaN, the running statistics stayed NaN for good; now the batch is refused."""
    bn = make()
    before = bn.state_dict()
    with pytest.raises(ValueError, match=r"more than 1 value per channel .*an empty batch"):
        bn(mb.tensor(np.zeros(shape)))
    for name, value in bn.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    y = bn.eval()(mb.tensor(np.zeros(shape)))  # eval mode has fixed statistics: fine
    assert y.shape == shape


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match=r"batch_norm: expected a floating-point .*int64"):
        nn.BatchNorm1d(3)(mb.tensor(np.ones((4, 3), dtype=np.int64)))


@pytest.mark.parametrize("given", ["running_mean", "running_var"])
def test_running_statistics_come_in_pairs(given):
    """One running statistic without the other is refused in one line, and the one given is
    left as it was (it used to be half-updated before a TypeError)."""
    stats = {"running_mean": np.zeros(3), "running_var": np.ones(3)}
    before = stats[given].copy()
    kwargs = {"running_mean": None, "running_var": None, given: stats[given]}
    x = mb.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    missing = "running_var" if given == "running_mean" else "running_mean"
    with pytest.raises(ValueError, match=rf"batch_norm: {given} is given without {missing}"):
        F.batch_norm(x, training=True, **kwargs)
    np.testing.assert_array_equal(stats[given], before)
