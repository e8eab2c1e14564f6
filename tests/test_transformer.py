"""MultiheadAttention, TransformerBlock and GPT: gradients in float64, parity with PyTorch (its
nn.MultiheadAttention, and a GPT-2 block written here in torch from the same weights), and a
tiny GPT that learns a 200-character string by heart."""

import numpy as np
import pytest

import mitbadak as mb
from helpers import assert_gradcheck, t64
from helpers import standard_normal as rand
from mitbadak import functional as F
from mitbadak import nn, optim

RTOL = 1e-6
E, H, N, T = 8, 2, 2, 5


def check(f, *inputs):
    assert_gradcheck(f, inputs, RTOL)


def randomized(module, seed=0):
    """The module in float64 with every parameter random (biases and gammas too), so that no
    gradient is trivially zero."""
    module.to(np.float64)
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.5 + (1.0 if p.ndim == 1 else 0.0)
    return module


def test_multihead_attention_gradcheck():
    mb.manual_seed(0)
    mha = randomized(nn.MultiheadAttention(E, H))
    x, kv = t64(rand((N, T, E), 1)), t64(rand((N, T + 1, E), 2))
    padding = np.zeros((N, T + 1), bool)
    padding[0, -2:] = True
    check(lambda a: mha(a, a, a, is_causal=True)[0], x)
    check(lambda a: mha(a, a, a, average_attn_weights=False)[1], x)
    check(lambda a, b: mha(a, b, b, key_padding_mask=padding)[0], x, kv)
    params = list(mha.parameters())
    check(lambda *ps: mha(x, x, x, need_weights=False, is_causal=True)[0], *params)


def test_transformer_block_gradcheck():
    mb.manual_seed(0)
    block = randomized(nn.TransformerBlock(E, H))
    x = t64(rand((N, T, E), 3))
    check(block, x)
    check(lambda *ps: block(x), *block.parameters())


def test_fully_masked_query_gives_zero_output_rows():
    mha = nn.MultiheadAttention(E, H, bias=False)
    x = mb.tensor(rand((1, 3, E), 4))
    mask = np.zeros((3, 3), bool)
    mask[1] = True  # query 1 may attend to nothing
    out, weights = mha(x, x, x, attn_mask=mask)
    assert np.all(out.data[0, 1] == 0) and np.all(weights.data[0, 1] == 0)
    assert np.all(np.isfinite(out.data))


def test_bad_input_names_the_problem():
    mha = nn.MultiheadAttention(E, H)
    x = rand((N, T, E), 0)
    with pytest.raises(ValueError, match="not divisible"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match=r"query must have shape \(N, L, E\) with E = 8") as error:
        mha(x[..., :4], x, x)
    assert "\n" not in str(error.value)  # one line, though the layer's repr spans several
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        mha(x, x, x, attn_mask=np.zeros((T, T + 1), bool))
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        mha(x, x, x, key_padding_mask=np.zeros((N, T + 1), bool))
    with pytest.raises(ValueError, match="is_causal=True with attn_mask"):
        mha(x, x, x, attn_mask=np.zeros((T, T), bool), is_causal=True)
    with pytest.raises(TypeError, match="must be bool"):
        mha(x, x, x, attn_mask=np.zeros((T, T), int))
    gpt = nn.GPT(10, 4, 1, 1, 4)
    with pytest.raises(ValueError, match="outside 1..block_size 4"):
        gpt(np.zeros((1, 5), int))
    with pytest.raises(ValueError, match="integer token ids"):
        gpt(np.zeros((1, 3)))


# ------------------------------------------------------------------------------ PyTorch
def torch_mha_from(mha, torch):
    """Ours -> torch.nn.MultiheadAttention: in_proj_weight (3E, E) is in_proj.W.T, and
    out_proj.weight is out_proj.W.T (the book's (in, out) layout against torch's (out, in))."""
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.tensor(mha.in_proj.W.data.T))
        theirs.in_proj_bias.copy_(torch.tensor(mha.in_proj.b.data))
        theirs.out_proj.weight.copy_(torch.tensor(mha.out_proj.W.data.T))
        theirs.out_proj.bias.copy_(torch.tensor(mha.out_proj.b.data))
    return theirs


@pytest.mark.parametrize("case", ["self_causal", "self_average", "cross_padding",
                                  "float_mask_per_head", "not_batch_first"])
def test_multihead_attention_matches_torch(case):
    torch = pytest.importorskip("torch")
    mb.manual_seed(1)
    batch_first = case != "not_batch_first"
    mha = randomized(nn.MultiheadAttention(E, H, batch_first=batch_first), seed=5)
    theirs = torch_mha_from(mha, torch)
    theirs.batch_first = batch_first
    q = rand((N, T, E) if batch_first else (T, N, E), 6)
    kv = rand((N, T + 2, E), 7) if case == "cross_padding" else q
    kwargs = {}
    if case == "self_causal":
        causal = np.triu(np.ones((T, T), bool), 1)  # True = may not attend (torch's module)
        kwargs = {"attn_mask": causal, "average_attn_weights": False}
    elif case == "cross_padding":
        padding = np.zeros((N, T + 2), bool)
        padding[1, -3:] = True
        kwargs = {"key_padding_mask": padding}
    elif case == "float_mask_per_head":
        kwargs = {"attn_mask": rand((N * H, T, T), 8)}
    ours_q = t64(q)
    ours_kv = ours_q if kv is q else t64(kv)
    out, weights = mha(ours_q, ours_kv, ours_kv, **kwargs)
    tq = torch.tensor(q, requires_grad=True)
    tkv = tq if kv is q else torch.tensor(kv, requires_grad=True)
    tkwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_out, t_weights = theirs(tq, tkv, tkv, **tkwargs)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(weights.data, t_weights.detach().numpy(), rtol=RTOL, atol=1e-12)
    g, gw = rand(out.shape, 9), rand(weights.shape, 10)
    ((out * g).sum() + (weights * gw).sum()).backward()
    ((t_out * torch.tensor(g)).sum() + (t_weights * torch.tensor(gw)).sum()).backward()
    pairs = [(ours_q.grad, tq.grad), (mha.in_proj.W.grad, theirs.in_proj_weight.grad.T),
             (mha.in_proj.b.grad, theirs.in_proj_bias.grad),
             (mha.out_proj.W.grad, theirs.out_proj.weight.grad.T),
             (mha.out_proj.b.grad, theirs.out_proj.bias.grad)]
    if kv is not q:
        pairs.append((ours_kv.grad, tkv.grad))
    for mine, ref in pairs:
        np.testing.assert_allclose(mine, ref.numpy(), rtol=RTOL, atol=1e-12)


def torch_block(x, p, torch):
    """GPT-2's pre-norm block in torch, from our parameters ``p`` (name -> torch tensor)."""
    TF = torch.nn.functional
    n, t, e = x.shape
    h = TF.layer_norm(x, (e,), p["ln1.gamma"], p["ln1.beta"])
    qkv = h @ p["attn.in_proj.W"] + p["attn.in_proj.b"]
    q, k, v = qkv.view(n, t, 3, H, e // H).permute(2, 0, 3, 1, 4)
    a = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
    a = a.transpose(1, 2).reshape(n, t, e) @ p["attn.out_proj.W"] + p["attn.out_proj.b"]
    x = x + a
    h = TF.layer_norm(x, (e,), p["ln2.gamma"], p["ln2.beta"])
    h = TF.gelu(h @ p["mlp.0.W"] + p["mlp.0.b"], approximate="tanh")
    return x + h @ p["mlp.2.W"] + p["mlp.2.b"]


def test_transformer_block_matches_torch_outputs_and_all_gradients():
    torch = pytest.importorskip("torch")
    mb.manual_seed(2)
    block = randomized(nn.TransformerBlock(E, H), seed=11)
    x = rand((N, T, E), 12)
    ours_x = t64(x)
    out = block(ours_x)
    params = {name: torch.tensor(p.data, requires_grad=True)
              for name, p in block.named_parameters()}
    tx = torch.tensor(x, requires_grad=True)
    theirs = torch_block(tx, params, torch)
    np.testing.assert_allclose(out.data, theirs.detach().numpy(), rtol=RTOL, atol=1e-12)
    g = rand(out.shape, 13)
    (out * g).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours_x.grad, tx.grad.numpy(), rtol=RTOL, atol=1e-12)
    for name, p in block.named_parameters():
        np.testing.assert_allclose(p.grad, params[name].grad.numpy(), rtol=RTOL, atol=1e-12,
                                   err_msg=name)


# --------------------------------------------------------------------------------- GPT
def test_gpt_init_parameters_and_tied_head():
    mb.manual_seed(0)
    gpt = nn.GPT(65, 128, 4, 4, 128)
    assert gpt.num_parameters() == 818_048  # the "about 0.8M"
    names = dict(gpt.named_parameters())
    assert not any("head" in name for name in names)  # the head is the token embedding
    assert abs(names["tok_emb.weight"].data.std() - 0.02) < 1e-3
    assert abs(names["blocks.0.attn.out_proj.W"].data.std() - 0.02 / np.sqrt(8)) < 1e-3
    small = nn.GPT(11, 6, 1, 2, 8)
    ids = np.random.default_rng(0).integers(0, 11, (2, 6))
    F.cross_entropy(F.reshape(small(ids), -1, 11), ids.reshape(-1)).backward()
    w = small.tok_emb.weight
    assert w.grad is not None and np.all(np.abs(w.grad).sum(1) > 0)  # every row, via the head


def test_tiny_gpt_learns_a_string_by_heart():
    text = ("First Citizen: Before we proceed any further, hear me speak. All: Speak, speak. "
            "First Citizen: You are all resolved rather to die than to famish? All: Resolved. "
            "resolved. First Citizen: First, you know Caius Marcius is chief enemy")[:200]
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    mb.manual_seed(0)
    block = 32
    gpt = nn.GPT(len(chars), block, n_layer=2, n_head=2, n_embd=32)
    opt = optim.AdamW(optim.param_groups(gpt.parameters(), 0.0), lr=1e-2)
    starts = np.arange(0, len(text) - block, 12)
    x = np.stack([ids[s:s + block] for s in starts])
    y = np.stack([ids[s + 1:s + block + 1] for s in starts])
    for _ in range(150):
        opt.zero_grad()
        loss = F.cross_entropy(F.reshape(gpt(x), -1, len(chars)), y.reshape(-1))
        loss.backward()
        opt.step()
    # near 0: what is left is each window's first characters, which have too little context
    assert loss.item() < 0.05, loss.item()


def test_attention_weights_are_each_heads_causal_distribution():
    mb.manual_seed(0)
    gpt = nn.GPT(11, 8, n_layer=2, n_head=2, n_embd=8)
    ids = np.random.default_rng(1).integers(0, 11, (3, 6))
    maps = gpt.attention_weights(ids)
    assert maps.shape == (2, 3, 2, 6, 6)
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    assert np.all(np.triu(maps, 1) == 0)  # no look at the future
    assert gpt.training  # the mode is left as it was
