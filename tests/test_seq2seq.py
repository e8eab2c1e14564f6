"""nn.seq2seq: the book's Seq2seq, PeekySeq2seq and AttentionSeq2seq."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import nn, optim
from mitbadak.nn.seq2seq import (
    AttentionSeq2seq,
    PeekySeq2seq,
    Seq2seq,
    reverse_input,
)
from mitbadak.numerical import gradcheck

MODELS = [Seq2seq, PeekySeq2seq, AttentionSeq2seq]
V, D, H = 7, 3, 4


def small(model_type, seed=0):
    mb.manual_seed(seed)
    model = model_type(V, D, H)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


def batch(seed=0, n=2, t_in=5, t_out=4):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (n, t_in)), rng.integers(0, V, (n, t_out))


@pytest.mark.parametrize("model_type", MODELS)
def test_loss_gradients_match_numerical_ones(model_type):
    model = small(model_type)
    xs, ts = batch()
    gradcheck(lambda *params: model.loss(xs, ts), list(model.parameters()), atol=1e-6)


def test_peeky_decoder_reads_h_at_every_step_and_in_the_output_layer():
    decoder = small(PeekySeq2seq).decoder
    assert decoder.lstm.input_size == D + H
    assert decoder.affine.in_features == 2 * H
    plain = small(Seq2seq).decoder
    assert plain.lstm.input_size == D and plain.affine.in_features == H


def test_attention_context_is_the_books_weighted_sum():
    """c_t = sum_s softmax_s(hs_s . h_t) hs_s: AttentionWeight then WeightSum, by hand."""
    model = small(AttentionSeq2seq)
    xs, ts = batch()
    with mb.no_grad():
        hs = model.encoder(xs)
        out, _ = model.decoder.hidden(ts, hs)
    scores = np.einsum("nsh,nth->nts", hs.data, out.data)
    a = np.exp(scores - scores.max(axis=-1, keepdims=True))
    a /= a.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(model.attention_weights(xs, ts), a, rtol=1e-10)
    context = np.einsum("nts,nsh->nth", a, hs.data)
    expected = np.concatenate([context, out.data], axis=-1) @ model.decoder.affine.W.data
    np.testing.assert_allclose(model(xs, ts).data, expected + model.decoder.affine.b.data,
                               rtol=1e-10)


@given(st.sampled_from(MODELS), st.integers(1, 3), st.integers(1, 6), st.integers(1, 5))
def test_greedy_generation_feeds_back_its_own_argmax(model_type, n, t_in, length):
    model = small(model_type)
    xs, _ = batch(n=n, t_in=t_in)
    ids = model.generate(xs, start_id=1, length=length)
    assert ids.shape == (n, length) and ids.dtype.kind == "i"
    assert ((0 <= ids) & (ids < V)).all()
    fed = np.concatenate([np.ones((n, 1), dtype=ids.dtype), ids[:, :-1]], axis=1)
    np.testing.assert_array_equal(model(xs, fed).data.argmax(axis=-1), ids)


def test_attention_weights_have_one_row_per_output_step():
    model = small(AttentionSeq2seq)
    xs, ts = batch(t_in=6, t_out=3)
    weights = model.attention_weights(xs, ts)
    assert weights.shape == (2, 3, 6)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)


def test_state_dict_names_follow_the_layers():
    names = set(small(PeekySeq2seq).state_dict())
    assert {"encoder.embed.weight", "encoder.lstm.weight_ih_l0", "decoder.lstm.weight_hh_l0",
            "decoder.affine.W", "decoder.affine.b"} <= names


def test_reverse_input_flips_each_question():
    xs = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(reverse_input(xs), [[2, 1, 0], [5, 4, 3]])
    with pytest.raises(ValueError, match=r"reverse_input: expected questions \(N, T\)"):
        reverse_input(np.arange(3))


def test_bad_input_is_one_clear_error():
    model = small(Seq2seq)
    xs, ts = batch()
    with pytest.raises(ValueError, match="Encoder: expected integer ids"):
        model(xs.astype(np.float32), ts)
    with pytest.raises(ValueError, match="start symbol"):
        model.loss(xs, ts[:, :1])
    with pytest.raises(ValueError, match="start_id must be in"):
        model.generate(xs, start_id=V, length=2)


def test_a_few_steps_learn_to_copy():
    """Quality sanity: 80 Adam steps on "copy the sequence" cut the loss well down."""
    rng = np.random.default_rng(0)
    xs = rng.integers(1, 6, (64, 5))
    ts = np.concatenate([np.zeros((64, 1), dtype=xs.dtype), xs], axis=1)  # 0: start
    mb.manual_seed(0)
    model = AttentionSeq2seq(6, 8, 32)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(80):
        loss = model.loss(reverse_input(xs), ts)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    assert isinstance(model.decoder.lstm, nn.LSTM)


def torch_loss(torch, model, xs, ts):
    """The same seq2seq written with torch's layers, from ``model``'s weights; returns the loss
    and a dict name -> torch parameter."""
    params = {name: torch.tensor(p.data, requires_grad=True)
              for name, p in model.named_parameters()}

    def lstm(prefix, x, state):
        layer = torch.nn.LSTM(x.shape[-1], H, batch_first=True).double()
        weights = {k: params[f"{prefix}.{k}"] for k in
                   ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
        return torch.func.functional_call(layer, weights, (x, state))

    embed = torch.nn.functional.embedding
    hs, _ = lstm("encoder.lstm", embed(torch.tensor(xs), params["encoder.embed.weight"]), None)
    h = hs[:, -1]
    x = embed(torch.tensor(ts[:, :-1]), params["decoder.embed.weight"])
    peeky = isinstance(model, PeekySeq2seq)
    if peeky:
        x = torch.cat([h[:, None].expand(-1, x.shape[1], -1), x], dim=-1)
    out, _ = lstm("decoder.lstm", x, (h[None], torch.zeros_like(h[None])))
    if peeky:
        out = torch.cat([h[:, None].expand(-1, out.shape[1], -1), out], dim=-1)
    elif isinstance(model, AttentionSeq2seq):
        weights = torch.softmax(out @ hs.transpose(1, 2), dim=-1)  # the book's, by hand
        out = torch.cat([weights @ hs, out], dim=-1)
    scores = out @ params["decoder.affine.W"] + params["decoder.affine.b"]
    loss = torch.nn.functional.cross_entropy(scores.reshape(-1, V),
                                             torch.tensor(ts[:, 1:]).reshape(-1))
    return loss, params


@pytest.mark.parametrize("model_type", MODELS)
def test_loss_and_every_gradient_match_torch(model_type):
    torch = pytest.importorskip("torch")
    model = small(model_type, seed=1)
    xs, ts = batch(seed=1, n=3, t_in=6, t_out=5)
    loss = model.loss(xs, ts)
    loss.backward()
    expected, params = torch_loss(torch, model, xs, ts)
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-10)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, params[name].grad.numpy(), rtol=1e-6, atol=1e-12,
                                   err_msg=name)
