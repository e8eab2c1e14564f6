"""layer_norm, gelu (both forms) and erf: gradients in float64, PyTorch parity, bad input;
and the batched matmul the Transformer relies on (leading axes broadcast)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from helpers import assert_gradcheck, t64
from helpers import standard_normal as rand
from mitbadak import functional as F
from mitbadak.functional.special import erf

RTOL = 1e-6


def check(f, *inputs):
    assert_gradcheck(f, inputs, RTOL)


def test_erf_matches_math_erf_to_the_last_place():
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, -0.0, 1e-300, 0.84375, 1.25,
                                                    1 / 0.35, 6.0, np.inf, -np.inf]])
    reference = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), reference, rtol=4e-16, atol=2e-16)
    assert np.isnan(erf(np.array([np.nan]))).all()
    assert erf(x.astype(np.float32)).dtype == np.float32


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), st.integers(1, 2),
       st.sampled_from(["both", "weight", "bias", "none"]))
def test_layer_norm_gradcheck(lead, k, affine):
    shape = (*lead, *(5, 3)[:k])  # normalise over the last k axes
    normalized = shape[-k:]
    x = t64(rand(shape, 10) * 2 + 1)  # not seed 0: gradcheck's v is drawn from it
    w = t64(rand(normalized, 1)) if affine in ("both", "weight") else None
    b = t64(rand(normalized, 2)) if affine in ("both", "bias") else None
    params = [p for p in (w, b) if p is not None]

    def f(x_, *ps):
        it = iter(ps)
        return F.layer_norm(x_, normalized, next(it) if w is not None else None,
                            next(it) if b is not None else None)

    check(f, x, *params)


@given(st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
       st.sampled_from(["none", "tanh"]))
def test_gelu_gradcheck(shape, approximate):
    x = t64(rand(shape, 13) * 3)
    check(lambda a: F.gelu(a, approximate=approximate), x)


def test_gelu_tails_and_float32():
    x = mb.tensor(np.array([-40.0, -8.0, -1.0, 0.0, 1.0, 8.0, 40.0], np.float32),
                  requires_grad=True)
    for approximate in ("none", "tanh"):
        y = F.gelu(x, approximate=approximate)
        assert y.dtype == np.float32 and np.all(np.isfinite(y.data))
        np.testing.assert_allclose(y.data[[0, -1]], [0.0, 40.0], atol=1e-6)
        x.grad = None
        y.sum().backward()
        np.testing.assert_allclose(x.grad[[0, 3, -1]], [0.0, 0.5, 1.0], atol=1e-6)


def test_bad_input_names_the_problem():
    x = t64(rand((2, 3), 0))
    with pytest.raises(ValueError, match="does not end in normalized_shape"):
        F.layer_norm(x, (4,))
    with pytest.raises(ValueError, match="weight has shape"):
        F.layer_norm(x, 3, weight=t64(np.ones(4)))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="fast")
    with pytest.raises(TypeError, match="floating"):
        F.layer_norm(mb.tensor([[1, 2]]), 2)


@given(st.sampled_from([((2, 3, 4, 5), (5, 2)), ((2, 1, 4, 5), (3, 5, 2)), ((4, 5), (2, 3, 5, 2)),
                        ((3, 4, 5), (1, 5, 2))]))
def test_batched_matmul_broadcast_gradients(shapes):
    a_shape, b_shape = shapes
    check(F.matmul, t64(rand(a_shape, 4)), t64(rand(b_shape, 5)))


# ------------------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("case", ["layer_norm", "layer_norm_2d", "layer_norm_plain",
                                  "gelu", "gelu_tanh", "matmul_broadcast",
                                  "layer_norm_pieces", "gelu_pieces", "gelu_tanh_pieces"])
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    arrays = {
        "layer_norm": [rand((4, 3, 8), 0) * 3 + 2, rand(8, 1), rand(8, 2)],
        "layer_norm_2d": [rand((4, 3, 8), 0), rand((3, 8), 1), rand((3, 8), 2)],
        "layer_norm_plain": [rand((5, 8), 0)],
        "gelu": [rand((6, 7), 0) * 3], "gelu_tanh": [rand((6, 7), 0) * 3],
        "matmul_broadcast": [rand((2, 1, 4, 5), 0), rand((3, 5, 2), 1)],
        # more elements (rows) than one cache-sized piece (CHUNK), and the last piece short
        "layer_norm_pieces": [rand((2, 350, 128), 0), rand(128, 1), rand(128, 2)],
        "gelu_pieces": [rand((300, 250), 0) * 3], "gelu_tanh_pieces": [rand((300, 250), 0) * 3],
    }[case]
    ours_fn, torch_fn = {
        "layer_norm": (lambda x, w, b: F.layer_norm(x, 8, w, b),
                       lambda x, w, b: TF.layer_norm(x, (8,), w, b)),
        "layer_norm_2d": (lambda x, w, b: F.layer_norm(x, (3, 8), w, b),
                          lambda x, w, b: TF.layer_norm(x, (3, 8), w, b)),
        "layer_norm_plain": (lambda x: F.layer_norm(x, (8,)), lambda x: TF.layer_norm(x, (8,))),
        "gelu": (F.gelu, TF.gelu),
        "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                      lambda x: TF.gelu(x, approximate="tanh")),
        "matmul_broadcast": (F.matmul, torch.matmul),
        "layer_norm_pieces": (lambda x, w, b: F.layer_norm(x, 128, w, b),
                              lambda x, w, b: TF.layer_norm(x, (128,), w, b)),
        "gelu_pieces": (F.gelu, TF.gelu),
        "gelu_tanh_pieces": (lambda x: F.gelu(F.transpose(x), approximate="tanh"),  # strided
                             lambda x: TF.gelu(x.T, approximate="tanh")),
    }[case]
    ours_in = [t64(a) for a in arrays]
    torch_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours, theirs = ours_fn(*ours_in), torch_fn(*torch_in)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=RTOL, atol=1e-12)
    g = rand(ours.shape, 9)
    (ours * g).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    for mine, ref in zip(ours_in, torch_in):
        np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=RTOL, atol=1e-12)
