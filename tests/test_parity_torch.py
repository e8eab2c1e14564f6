"""Values and gradients against PyTorch's autograd (float64, rtol 1e-7); skipped without torch."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(0)
X = rng.uniform(0.5, 2.0, (4, 5)) * rng.choice([-1, 1], (4, 5))
POS = rng.uniform(0.5, 2.0, (4, 5))
Y = rng.normal(size=(4, 5))
ROW = rng.normal(size=(5,))
W = rng.normal(size=(5, 3))
B = rng.normal(size=(3,))
LABELS = np.array([0, 4, 2, 1])

# name: (mitbadak function, torch function, inputs)
CASES = {
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [X, ROW]),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [X, Y]),
    "mul_broadcast": (lambda a, b: a * b, lambda a, b: a * b, [X, ROW]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [Y, X]),
    "neg": (lambda a: -a, lambda a: -a, [X]),
    "pow": (lambda a, b: a**b, lambda a, b: a**b, [POS, Y]),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [X, W]),
    "linear": (F.linear, lambda x, w, b: x @ w + b, [X, W, B]),
    "exp": (F.exp, torch.exp, [X]),
    "log": (F.log, torch.log, [POS]),
    "sqrt": (F.sqrt, torch.sqrt, [POS]),
    "clip": (lambda a: F.clip(a, -1.0, 1.0), lambda a: torch.clamp(a, -1.0, 1.0), [X]),
    "sum_axis": (lambda a: F.sum(a, 0), lambda a: a.sum(0), [X]),
    "mean_keepdims": (lambda a: F.mean(a, 1, True), lambda a: a.mean(1, keepdim=True), [X]),
    "max_axis": (lambda a: F.max(a, 1), lambda a: torch.amax(a, 1), [X]),
    "reshape": (lambda a: a.reshape(5, 4), lambda a: a.reshape(5, 4), [X]),
    "transpose": (lambda a: a.T, lambda a: a.T, [X]),
    "getitem": (lambda a: a[np.array([0, 0, 2]), 1:3], lambda a: a[[0, 0, 2], 1:3], [X]),
    "sigmoid": (F.sigmoid, torch.sigmoid, [X * 3]),
    "tanh": (F.tanh, torch.tanh, [X]),
    "relu": (F.relu, torch.relu, [X]),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1), lambda a: TF.leaky_relu(a, 0.1), [X]),
    "softmax": (lambda a: F.softmax(a, -1), lambda a: torch.softmax(a, -1), [X]),
    "log_softmax": (lambda a: F.log_softmax(a, 0), lambda a: torch.log_softmax(a, 0), [X]),
    "cross_entropy": (lambda a: F.cross_entropy(a, LABELS),
                      lambda a: TF.cross_entropy(a, torch.tensor(LABELS)), [X]),
    "cross_entropy_one_hot": (lambda a: F.cross_entropy(a, np.eye(5)[LABELS]),
                              lambda a: TF.cross_entropy(a, torch.tensor(np.eye(5)[LABELS])),
                              [X]),
    "mse_loss": (F.mse_loss, TF.mse_loss, [X, Y]),
    "batch_norm_train": (
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
        lambda x, g, b: TF.batch_norm(x, None, None, g, b, training=True), [X, POS[0], Y[0]]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    ours_fn, torch_fn, arrays = CASES[name]
    ours_in = [mb.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    torch_in = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    ours, theirs = ours_fn(*ours_in), torch_fn(*torch_in)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-7, atol=1e-12)
    upstream = np.random.default_rng(1).normal(size=ours.shape)
    ours.backward(upstream)
    theirs.backward(torch.tensor(upstream))
    for a, b in zip(ours_in, torch_in):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-7, atol=1e-12)
