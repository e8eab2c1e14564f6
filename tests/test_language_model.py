"""`nn.LSTMLanguageModel` (the sequel's better RNNLM): its gradients, the state it carries for
truncated BPTT, weight tying, generation, and its training through the one `Trainer` (exact
resume, checkpoints that carry the vocabulary)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.data import Vocabulary
from mitbadak.numerical import gradcheck
from mitbadak.training import checkpoint
from mitbadak.training.language import language_model_data, perplexity
from mitbadak.training.trainer import Trainer

TEXT = ("To be, or not to be, that is the question:\n"
        "Whether 'tis nobler in the mind to suffer\n"
        "The slings and arrows of outrageous fortune,\n") * 12


def _model(vocab=7, dim=5, layers=2, dropout=0.0, tie=True, seed=0):
    mb.manual_seed(seed)
    return nn.LSTMLanguageModel(vocab, dim, dim, layers, dropout, tie_weights=tie)


# ------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("tie", [True, False])
@settings(max_examples=6)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 2))
def test_gradients_of_every_parameter_match_numerical_ones(tie, batch, steps, layers):
    model = _model(layers=layers, tie=tie).to(np.float64)
    ids = np.random.default_rng(batch * 10 + steps).integers(0, 7, (batch, steps))
    params = list(model.parameters())

    def loss(*_):
        model.reset_state()
        return F.cross_entropy(model(ids), (ids + 1) % 7)

    gradcheck(loss, params)


def test_the_gradient_flows_through_the_carried_state_only_within_a_batch():
    """Truncated BPTT: the second batch starts from the first one's state, detached."""
    model = _model().to(np.float64)
    ids = np.random.default_rng(0).integers(0, 7, (2, 6))
    model(ids[:, :3])
    h, c = model.state
    assert h.creator is None and c.creator is None and not h.requires_grad
    F.cross_entropy(model(ids[:, 3:]), ids[:, 3:]).backward()  # reaches no earlier graph


# ------------------------------------------------------------------------------- the state
def test_consecutive_batches_continue_one_sequence():
    model = _model().eval()
    ids = np.random.default_rng(1).integers(0, 7, (3, 8))
    whole = model(ids).data
    model.reset_state()
    parts = np.concatenate([model(ids[:, :5]).data, model(ids[:, 5:]).data], axis=1)
    np.testing.assert_allclose(parts, whole, rtol=1e-5, atol=1e-6)


def test_reset_state_and_a_new_batch_size_start_from_zeros():
    model = _model().eval()
    ids = np.random.default_rng(2).integers(0, 7, (2, 4))
    fresh = model(ids).data
    assert not np.allclose(model(ids).data, fresh)  # carried on from the first call
    model.reset_state()
    np.testing.assert_array_equal(model(ids).data, fresh)
    model(ids[:1])  # another batch size: zeros, not the carried state
    np.testing.assert_array_equal(model(ids[:1]).data.shape, (1, 4, 7))
    model.reset_state()
    np.testing.assert_allclose(model(ids[:1]).data, fresh[:1], rtol=1e-6)


# -------------------------------------------------------------------------- weight tying
def test_tied_weights_are_the_embedding_and_save_vocab_times_dim_parameters():
    tied, untied = _model(vocab=11, dim=6), _model(vocab=11, dim=6, tie=False)
    count = lambda m: sum(p.data.size for p in m.parameters())  # noqa: E731
    assert count(untied) - count(tied) == 11 * 6
    assert "W" not in dict(tied.named_parameters())
    ids = np.array([[3, 4]])
    emb = tied.embedding.weight.data
    tied.eval()
    h = tied.lstm(tied.embedding(ids))[0].data
    np.testing.assert_allclose(tied(ids).data, h @ emb.T + tied.b.data, rtol=1e-5, atol=1e-6)


def test_tying_needs_equal_sizes_and_bad_input_is_named():
    with pytest.raises(ValueError, match="weight tying needs hidden_size == embed_dim"):
        nn.LSTMLanguageModel(10, 8, 16)
    with pytest.raises(ValueError, match="integer token ids of shape"):
        _model()(np.zeros((2, 3), np.float32))


# ---------------------------------------------------------------------------- generation
def test_generate_keeps_the_prompt_draws_length_tokens_and_is_seeded():
    model = _model(dropout=0.3)
    a = model.generate([1, 2, 3], 20, 1.0, generator=np.random.default_rng(5))
    b = model.generate(np.array([[1, 2, 3]]), 20, 1.0, generator=np.random.default_rng(5))
    assert a.shape == (23,) and a.dtype == np.int64 and list(a[:3]) == [1, 2, 3]
    np.testing.assert_array_equal(a, b)
    assert model.training and model.state is None  # mode and state left as they were


def test_generate_at_temperature_zero_follows_the_argmax():
    model = _model().eval()
    ids = model.generate([4], 6, temperature=0)
    for i in range(1, len(ids)):
        model.reset_state()
        assert ids[i] == model(ids[None, :i]).data[0, -1].argmax()


@pytest.mark.parametrize("prompt, length, message", [
    ([], 5, "at least one token"), ([9], 5, r"prompt ids must be in \[0, 7\)"),
    ([1], -1, "length must be an integer >= 0")])
def test_generate_refuses_bad_input(prompt, length, message):
    with pytest.raises(ValueError, match=message):
        _model().generate(prompt, length)


# ------------------------------------------------------------------- training and resume
def _trainer(out_dir=None, seed=0):
    data = language_model_data(TEXT, batch_size=4, seq_len=8)
    mb.manual_seed(seed)
    model = nn.LSTMLanguageModel(len(data.vocabulary), 16, 16, 2, 0.1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    meta = {"vocabulary": data.vocabulary.to_dict()}
    return Trainer(model, opt, data.train, data.valid, train_eval_data=data.train_eval,
                   metric="perplexity", max_norm=1.0, out_dir=out_dir, quiet=True, meta=meta)


def test_training_lowers_the_perplexity():
    trainer = _trainer()
    history = trainer.fit(3)
    ppl = [perplexity(v) for v in history.test_loss]
    assert ppl[-1] < ppl[0] < len(trainer.loader.xs)
    assert ppl[-1] < 0.8 * perplexity(np.log(len(set(TEXT))))  # better than uniform


def test_resume_is_bit_for_bit_and_the_checkpoint_carries_the_vocabulary(tmp_path):
    straight = _trainer(tmp_path / "a")
    straight.fit(2)
    first = _trainer(tmp_path / "b")
    first.fit(1)
    resumed = _trainer(tmp_path / "c", seed=99)  # other weights until resume replaces them
    resumed.resume(tmp_path / "b" / "last.npz")
    resumed.fit(2)
    for (name, a), b in zip(straight.model.named_parameters(), resumed.model.parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    without_time = lambda h: {k: v for k, v in h.to_dict().items() if k != "seconds"}  # noqa: E731
    assert without_time(resumed.history) == without_time(straight.history)

    saved = checkpoint.load(tmp_path / "a" / "best.npz")
    assert saved.model_config["type"] == "LSTMLanguageModel"
    vocab = Vocabulary.from_dict(saved.meta["vocabulary"])
    assert vocab == Vocabulary.from_text(TEXT)
    ids = vocab.encode("To be")[None, :]
    straight.model.eval().reset_state()
    saved.model.eval()
    np.testing.assert_array_equal(saved.model(ids).data, straight.model(ids).data)


def test_best_checkpoint_is_the_lowest_validation_perplexity(tmp_path):
    trainer = _trainer(tmp_path)
    history = trainer.fit(3)
    best = int(np.argmin(history.test_loss)) + 1
    assert checkpoint.read_meta(tmp_path / "best.npz")["training"]["epoch"] == best


def test_too_short_a_text_says_so():
    with pytest.raises(ValueError, match="too few for batches of 32 x 100"):
        language_model_data(TEXT, batch_size=32, seq_len=100)
