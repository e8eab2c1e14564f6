"""A differential fuzzer: seeded random programs of the public ops, run in float64 by mitbadak
and by PyTorch side by side; the values and every leaf's gradient must agree.

Each program starts from one random leaf, applies a few random ops (elementwise functions,
arithmetic with new broadcast leaves, reductions over random axes with keepdims, reshape,
transpose with negative axes, indexing, softmax, matmul, linear) and ends in a loss (a
weighted sum, cross-entropy or mse). Skipped without torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F

torch = pytest.importorskip("torch")

PROGRAMS = 300


class Program:
    """Builds the same computation in both libraries, recording the leaves."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.leaves: list[tuple[mb.Tensor, torch.Tensor]] = []

    def leaf(self, shape: tuple[int, ...],
             positive: bool = False) -> tuple[mb.Tensor, torch.Tensor]:
        data = self.rng.uniform(0.5, 2.0, shape) if positive else self.rng.standard_normal(shape)
        pair = (mb.tensor(data, dtype=np.float64, requires_grad=True),
                torch.tensor(data, dtype=torch.float64, requires_grad=True))
        self.leaves.append(pair)
        return pair

    def broadcast_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A shape that broadcasts against ``shape``: some axes 1, maybe fewer leading axes."""
        out = tuple(1 if self.rng.random() < 0.3 else n for n in shape)
        return out[int(self.rng.integers(0, len(out) + 1)):] if self.rng.random() < 0.3 else out

    def step(self, m: mb.Tensor, t: torch.Tensor) -> tuple[mb.Tensor, torch.Tensor]:
        rng, shape, ndim = self.rng, m.shape, m.ndim
        op = rng.choice(OPS)
        if op == "unary":
            name = rng.choice(["exp", "tanh", "sigmoid", "relu", "leaky_relu", "neg", "log",
                               "sqrt", "square", "cube", "clip", "scale", "rdiv"])
            if name == "exp":
                return F.exp(F.tanh(m)), torch.exp(torch.tanh(t))
            if name == "log":
                return F.log(m * m + 0.5), torch.log(t * t + 0.5)
            if name == "sqrt":
                return F.sqrt(m * m + 0.1), torch.sqrt(t * t + 0.1)
            if name == "square":
                return m**2, t**2
            if name == "cube":
                return m**3.0, t**3.0
            if name == "clip":
                return m.clip(-0.5, 0.7), torch.clamp(t, -0.5, 0.7)
            if name == "scale":
                return 2.5 * m - 1.0, 2.5 * t - 1.0
            if name == "rdiv":
                return 1.0 / (m * m + 1.0), 1.0 / (t * t + 1.0)
            if name == "leaky_relu":
                return F.leaky_relu(m, 0.1), torch.nn.functional.leaky_relu(t, 0.1)
            if name == "neg":
                return -m, -t
            return getattr(F, name)(m), getattr(torch, name)(t)
        if op == "binary":
            other_m, other_t = self.leaf(self.broadcast_shape(shape), positive=True)
            name = rng.choice(["add", "sub", "mul", "div", "pow"])
            if rng.random() < 0.5:  # the new operand on the left
                m_args, t_args = (other_m, m), (other_t, t)
            else:
                m_args, t_args = (m, other_m), (t, other_t)
            if name == "div" and m_args[1] is m:  # a denominator away from 0
                m_args, t_args = (other_m, m * m + 1.0), (other_t, t * t + 1.0)
            if name == "pow":  # a positive base
                m_args = (F.exp(F.tanh(m_args[0])), m_args[1])
                t_args = (torch.exp(torch.tanh(t_args[0])), t_args[1])
            torch_op = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
                        "pow": torch.pow}[name]
            return getattr(F, name)(*m_args), torch_op(*t_args)
        if op == "reduce" and ndim:
            name = rng.choice(["sum", "mean", "max"])
            keepdims = bool(rng.random() < 0.5)
            axis = int(rng.integers(-ndim, ndim))
            if shape[axis] == 0:
                return m, t
            if name == "max":
                return m.max(axis, keepdims), torch.amax(t, dim=axis, keepdim=keepdims)
            return getattr(m, name)(axis, keepdims), getattr(t, name)(dim=axis, keepdim=keepdims)
        if op == "reshape" and ndim:
            new = (-1, *shape[:-2], shape[-1]) if ndim >= 2 else (1, -1)
            return m.reshape(*new), t.reshape(*new)
        if op == "transpose" and ndim >= 2:
            perm = [int(a) - (ndim if rng.random() < 0.5 else 0) for a in rng.permutation(ndim)]
            return m.transpose(*perm), t.permute(*perm)
        if op == "getitem" and ndim and shape[0] > 1:
            if rng.random() < 0.5:
                return m[1:], t[1:]
            index = rng.integers(0, shape[0], size=3)  # may repeat: gradients add up
            return m[index], t[torch.as_tensor(index)]
        if op == "softmax" and ndim:
            axis = int(rng.integers(-ndim, ndim))
            if rng.random() < 0.5:
                return F.softmax(m, axis), torch.softmax(t, dim=axis)
            return F.log_softmax(m, axis), torch.log_softmax(t, dim=axis)
        if op == "matmul" and ndim:
            w_m, w_t = self.leaf((shape[-1], int(rng.integers(1, 4))))
            if ndim >= 2 and rng.random() < 0.5:
                b_m, b_t = self.leaf((w_m.shape[1],))
                return F.linear(m, w_m, b_m), t @ w_t + b_t
            return m @ w_m, t @ w_t
        return m, t

    def loss(self, m: mb.Tensor, t: torch.Tensor) -> tuple[mb.Tensor, torch.Tensor]:
        rng = self.rng
        if m.ndim == 2 and m.shape[0] and m.shape[1] and rng.random() < 0.4:
            labels = rng.integers(0, m.shape[1], size=m.shape[0])
            return (F.cross_entropy(m, labels),
                    torch.nn.functional.cross_entropy(t, torch.as_tensor(labels)))
        target = rng.standard_normal(m.shape)
        if m.size and rng.random() < 0.4:
            return F.mse_loss(m, target), torch.nn.functional.mse_loss(t, torch.as_tensor(target))
        return (m * target).sum(), (t * torch.as_tensor(target)).sum()


OPS = ["unary", "unary", "binary", "reduce", "reshape", "transpose", "getitem", "softmax",
       "matmul"]


def run_program(seed: int) -> None:
    rng = np.random.default_rng(seed)
    program = Program(rng)
    ndim = int(rng.integers(0, 4))
    m, t = program.leaf(tuple(int(n) for n in rng.integers(1, 5, size=ndim)))
    for _ in range(int(rng.integers(1, 6))):
        m, t = program.step(m, t)
    loss_m, loss_t = program.loss(m, t)
    np.testing.assert_allclose(loss_m.data, loss_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    loss_m.backward()
    loss_t.backward()
    for i, (leaf_m, leaf_t) in enumerate(program.leaves):
        expected = leaf_t.grad.numpy() if leaf_t.grad is not None else np.zeros(leaf_t.shape)
        got = leaf_m.grad if leaf_m.grad is not None else np.zeros(leaf_m.shape)
        assert got.shape == leaf_m.shape, f"seed {seed}, leaf {i}: gradient shape {got.shape}"
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11,
                                   err_msg=f"seed {seed}, leaf {i}")


@pytest.mark.parametrize("block", range(10))
def test_random_programs_agree_with_torch(block):
    for seed in range(block * PROGRAMS // 10, (block + 1) * PROGRAMS // 10):
        run_program(seed)
