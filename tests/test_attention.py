"""Scaled dot-product attention: gradients in float64, PyTorch parity, masks, fully masked rows."""

import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from helpers import t64
from mitbadak import functional as F
from mitbadak.numerical import gradcheck

RTOL = 1e-6


def qkv(lead_q=(2, 3), lead_kv=(2, 3), length=4, source=5, e=3, ev=2, seed=0):
    rng = np.random.default_rng(seed)
    return (t64(rng.standard_normal((*lead_q, length, e))),
            t64(rng.standard_normal((*lead_kv, source, e))),
            t64(rng.standard_normal((*lead_kv, source, ev))))


def check(f, *inputs):
    """Relative error <= 1e-6 per input, or an absolute one at rounding level where the true
    gradient is 0 (one key: the softmax is constant, so dQ = dK = 0)."""
    result = gradcheck(f, inputs, raise_exception=False)
    assert result.passed, result
    assert all(r <= RTOL or a <= 1e-12
               for a, r in zip(result.max_abs_error, result.max_rel_error)), result


def bool_mask(shape, seed=1, fully_masked_row=None):
    mask = np.random.default_rng(seed).random(shape) < 0.6
    mask[..., 0] = True  # every query sees at least one key ...
    if fully_masked_row is not None:
        mask[..., fully_masked_row, :] = False  # ... except this one
    return mask


@given(st.sampled_from([(2, 3), (1, 3), (3,), ()]), st.integers(1, 5), st.integers(1, 5),
       st.sampled_from(["none", "bool", "float", "causal"]))
def test_gradcheck(lead_kv, length, source, mask_kind):
    q, k, v = qkv((2, 3), lead_kv, length, source)
    kwargs = {}
    if mask_kind == "bool":
        kwargs["attn_mask"] = bool_mask((length, source))
    elif mask_kind == "float":
        kwargs["attn_mask"] = np.random.default_rng(2).standard_normal((3, length, source))
    elif mask_kind == "causal":
        kwargs["is_causal"] = True
    check(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **kwargs), q, k, v)
    check(lambda a, b, c: F.attention_with_weights(a, b, c, **kwargs)[0], q, k, v)
    check(lambda a, b, c: F.attention_with_weights(a, b, c, **kwargs)[1], q, k, v)


def test_fully_masked_row_gives_zeros_and_zero_gradients():
    q, k, v = qkv()
    mask = bool_mask((4, 5), fully_masked_row=2)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.all(np.isfinite(out.data)) and np.all(out.data[..., 2, :] == 0)
    out.sum().backward()
    assert np.all(q.grad[..., 2, :] == 0) and np.all(np.isfinite(k.grad))
    check(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), q, k, v)
    float_mask = np.where(mask, 0.0, -np.inf)
    _, weights = F.attention_with_weights(q, k, v, attn_mask=float_mask)
    assert np.all(weights.data[..., 2, :] == 0)
    np.testing.assert_allclose(weights.data.sum(-1)[..., [0, 1, 3]], 1.0)
    check(lambda a, b: F.attention_with_weights(a, b, v, attn_mask=float_mask)[1], q, k)


def fused(a, b, c):
    """Causal attention with dropout, a fresh generator per call: the same mask every time."""
    return F.scaled_dot_product_attention(a, b, c, dropout_p=0.3, is_causal=True,
                                          generator=np.random.default_rng(5))


def two_nodes(a, b, c):
    """The same as `fused`, as the full matrix P and then F.dropout."""
    return F.attention_with_weights(a, b, c, dropout_p=0.3, is_causal=True,
                                    generator=np.random.default_rng(5))[0]


def test_dropout_gradcheck_and_both_forms_agree():
    q, k, v = qkv()
    check(fused, q, k, v)
    np.testing.assert_allclose(fused(q, k, v).data, two_nodes(q, k, v).data, rtol=1e-12)
    assert not np.allclose(fused(q, k, v).data, F.scaled_dot_product_attention(
        q, k, v, is_causal=True).data)


@pytest.fixture
def tile_of_3(monkeypatch):
    """Causal attention in tiles of 3 query rows (the library's tile is 32: these tests' short
    sequences would be one tile)."""
    monkeypatch.setattr(importlib.import_module("mitbadak.functional.attention"),
                        "CAUSAL_TILE", 3)


@pytest.mark.parametrize(("length", "source", "lead_kv"),
                         [(1, 1, (2, 3)), (7, 7, (2, 3)), (9, 9, (2, 1)), (7, 4, (2, 3)),
                          (4, 8, (3,)), (6, 6, (2, 3))])
def test_causal_tiles_equal_the_full_matrix_and_gradcheck(tile_of_3, length, source, lead_kv):
    """Tiles of 3 (T not a multiple of the tile, T = 1, more or fewer queries than keys, keys
    broadcast over heads) against the full matrix with the same mask given explicitly."""
    q, k, v = qkv((2, 3), lead_kv, length, source)
    tril = np.tril(np.ones((length, source), bool))  # is_causal's mask, as a plain bool mask
    tiled = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    full = F.scaled_dot_product_attention(q, k, v, attn_mask=tril)
    np.testing.assert_allclose(tiled.data, full.data, rtol=1e-12, atol=1e-15)
    g = np.random.default_rng(4).standard_normal(tiled.shape)
    grads = []
    for out in (tiled, full):
        for t in (q, k, v):
            t.grad = None
        (out * g).sum().backward()
        grads.append([t.grad.copy() for t in (q, k, v)])
    for mine, ref in zip(*grads):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-15)
    if source - length > 0:  # keys no query may see get no gradient
        assert np.all(grads[0][1][..., length:, :] == 0)
    check(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), q, k, v)


def test_causal_tiles_with_dropout_and_float32(tile_of_3):
    """Dropout draws one mask for the whole (..., L, S) matrix: the tiled node keeps exactly
    the weights that attention_with_weights (the full P, then F.dropout) keeps."""
    q, k, v = qkv(length=8, source=8)
    check(fused, q, k, v)  # tiled: causal attention over more than one tile of queries
    np.testing.assert_allclose(fused(q, k, v).data, two_nodes(q, k, v).data, rtol=1e-12)
    q32, k32, v32 = (mb.tensor(t.data.astype(np.float32), requires_grad=True) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q32, k32, v32, is_causal=True)
    out.sum().backward()
    assert out.dtype == q32.grad.dtype == k32.grad.dtype == v32.grad.dtype == np.float32
    full = F.attention_with_weights(q, k, v, is_causal=True)[0]
    np.testing.assert_allclose(out.data, full.data, rtol=2e-6, atol=1e-6)


def test_scale_and_float32():
    q, k, v = qkv()
    check(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, scale=1.0), q, k, v)
    q32 = mb.tensor(q.data.astype(np.float32), requires_grad=True)
    out = F.scaled_dot_product_attention(q32, k.data.astype(np.float32), v.data, is_causal=True)
    assert out.dtype == np.float32
    out.sum().backward()
    assert q32.grad.dtype == np.float32


def test_bad_input_names_the_problem():
    q, k, v = qkv()
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 5), bool), is_causal=True)
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 5), int))
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((5, 4), bool))
    with pytest.raises(ValueError, match="same last"):
        F.scaled_dot_product_attention(q, v, v)
    with pytest.raises(ValueError, match="number of positions"):
        F.scaled_dot_product_attention(q, k, v[..., :3, :])
    with pytest.raises(ValueError, match="do not broadcast"):
        F.scaled_dot_product_attention(q, k.data[:, :2], v.data[:, :2])
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)


# ------------------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("case", ["none", "bool", "float", "causal", "broadcast", "scale"])
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    lead_kv = (2, 1) if case == "broadcast" else (2, 3)
    q, k, v = qkv((2, 3), lead_kv, 4, 5 if case != "causal" else 4)
    kwargs = {}
    if case == "bool":
        kwargs["attn_mask"] = bool_mask((4, 5))
    elif case == "float":
        kwargs["attn_mask"] = np.random.default_rng(2).standard_normal((3, 4, 5))
    elif case == "causal":
        kwargs["is_causal"] = True
    elif case == "scale":
        kwargs["scale"] = 0.7
    ours = F.scaled_dot_product_attention(q, k, v, **kwargs)
    tq, tk, tv = (torch.tensor(t.data, requires_grad=True) for t in (q, k, v))
    tkw = {key: torch.tensor(val) if isinstance(val, np.ndarray) else val
           for key, val in kwargs.items()}
    theirs = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **tkw)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=RTOL, atol=1e-12)
    g = np.random.default_rng(3).standard_normal(ours.shape)
    (ours * g).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    for mine, ref in ((q, tq), (k, tk), (v, tv)):
        np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=RTOL, atol=1e-12)


def test_gradients_come_in_the_layout_of_the_heads_views():
    """Multi-head attention's Q, K, V are (N, h, T, d) views of (N, T, h, d) arrays; their
    gradients are laid out the same way, so that the heads' backward reshapes them without a
    copy (transposed back, they are contiguous)."""
    from mitbadak.functional.attention import CAUSAL_TILE, ScaledDotProductAttention
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 40, 3, 4)).transpose(0, 2, 1, 3) for _ in range(3))
    node = ScaledDotProductAttention(mask=None, scale=0.5, dropout_p=0.0, generator=None,
                                     causal_tile=CAUSAL_TILE)
    node.mask = F.attention.causal_mask(40, 40, np.dtype(np.float64))
    go = rng.standard_normal((2, 3, 40, 4))

    def gradients(*inputs):
        node.forward(*inputs)
        node.needs_input_grad = (True, True, True)
        return node.backward(go)

    views = gradients(q, k, v)
    for g, g_contiguous in zip(views, gradients(*map(np.ascontiguousarray, (q, k, v)))):
        assert g.shape == (2, 3, 40, 4)
        assert g.transpose(0, 2, 1, 3).flags.c_contiguous
        np.testing.assert_allclose(g, g_contiguous, rtol=1e-12, atol=1e-12)
