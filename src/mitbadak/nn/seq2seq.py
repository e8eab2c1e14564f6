"""Seq2seq: the sequel's encoder-decoder LSTM (chapter 7), its two improvements, and attention
(chapter 8).

The encoder reads the question ``xs`` (N, T_in) of character ids: ``Embedding`` then ``LSTM``
give its hidden states ``hs`` (N, T_in, H); the last one, ``h = hs[:, -1]``, is the whole
question squeezed into one vector. The decoder writes the answer: its ``LSTM`` starts from
the state (h, 0) and, at training time, reads the answer shifted right by one (the start
symbol ``_`` first: *teacher forcing*); a ``Linear`` layer turns each of its hidden states into
scores over the vocabulary for the next character, and the loss is the softmax cross-entropy
averaged over every position of every answer (the book's TimeSoftmaxWithLoss).

The book's improvements:

* **reversed input** (`reverse_input`, a transform of the data, not of the model): ``"16+75"``
  is read as ``"57+61"``, so the first characters of the answer sit close (in time steps) to
  the characters they depend on, and gradients reach them through fewer steps;
* **peeky decoder** (`PeekyDecoder`): the encoder's h is not only the decoder's initial state
  but is concatenated to every decoder input, ``[h, embed(y_t)]`` (size H + D), and to every
  input of the output layer, ``[h, h_t]`` (size 2H), so every step "peeks" at the question;
* **attention** (`AttentionDecoder`): instead of squeezing the question into one h, the
  decoder looks back at all of ``hs`` at every step. With the decoder's hidden state h_t
  (the book's AttentionWeight and WeightSum layers)::

      a_t = softmax_s(hs_s . h_t)          (N, T_in)   which input steps to look at
      c_t = sum_s a_ts hs_s                (N, H)      the context vector

  and the output layer reads ``[c_t, h_t]``. This is scaled dot-product attention with query
  h_t, keys and values hs and a scale of 1 (no 1/sqrt(H)): ``softmax(q k^T * scale) v``, so it
  is computed by `F.scaled_dot_product_attention` (one fused op for all T_out steps at once,
  since the decoder's LSTM does not depend on the context), not by a second implementation.

`Seq2seq.generate` decodes greedily: start from the start symbol, feed back the most likely
character, ``length`` times. The layers are `nn.Embedding`, `nn.LSTM` (weights named and laid
out as there: ``encoder.lstm.weight_ih_l0``, ...) and `nn.Linear` (the book's Affine, named
``affine``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.grad_mode import no_grad
from mitbadak.autograd.tensor import Tensor
from mitbadak.nn.embedding import Embedding
from mitbadak.nn.linear import Linear
from mitbadak.nn.module import Module, check_sizes
from mitbadak.nn.recurrent import LSTM

LSTMState = tuple[Tensor, Tensor]


def reverse_input(xs: Any) -> np.ndarray:
    """The book's first improvement, as a data transform: each question read back to front,
    ``xs[:, ::-1]`` (N, T). Apply it to the training and test questions alike."""
    xs = np.asarray(xs)
    if xs.ndim != 2:
        raise ValueError(f"reverse_input: expected questions (N, T), got shape {xs.shape}")
    return np.ascontiguousarray(xs[:, ::-1])


def _ids(xs: Any, what: str) -> np.ndarray:
    ids = np.asarray(xs.data if isinstance(xs, Tensor) else xs)
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise ValueError(f"{what}: expected integer ids (N, T), got {ids.dtype} of shape "
                         f"{ids.shape}")
    return ids


def _repeat(h: Tensor, steps: int) -> Tensor:
    """h (N, H) repeated along time, (N, steps, H): the book's Repeat node, as a broadcast
    add (whose backward sums the gradient over time, as Repeat's does)."""
    return h.reshape(h.shape[0], 1, h.shape[1]) + np.zeros((1, steps, 1), dtype=h.dtype)


class Encoder(Module):
    """``Embedding`` then ``LSTM``: question ids (N, T_in) -> hidden states hs (N, T_in, H).

    The book's Encoder returns ``hs[:, -1]`` and its AttentionEncoder all of ``hs``; this one
    returns ``hs`` and each decoder takes what it needs.
    """

    def __init__(self, vocab_size: int, wordvec_size: int, hidden_size: int) -> None:
        super().__init__()
        check_sizes("Encoder", vocab_size=vocab_size, wordvec_size=wordvec_size,
                    hidden_size=hidden_size)
        self.embed = Embedding(vocab_size, wordvec_size)
        self.lstm = LSTM(wordvec_size, hidden_size, batch_first=True)

    def forward(self, xs: Any) -> Tensor:
        hs, _ = self.lstm(self.embed(_ids(xs, "Encoder")))
        return hs


class Decoder(Module):
    """``Embedding``, ``LSTM`` started from (h, 0), ``Linear``: the book's Decoder.

    ``forward(ys, hs, state)`` reads the decoder inputs ``ys`` (N, T_out) given the encoder's
    states ``hs`` (N, T_in, H) and returns the scores (N, T_out, V) and the LSTM's last state;
    ``state`` None starts from the encoder's last hidden state and a zero cell. Subclasses change
    only what the LSTM and the output layer read (`_lstm_input`, `_affine_input`).
    """

    # How many vectors of size H are joined to each LSTM input and to each output-layer input
    # (the peeky decoder's h; the attention decoder's context).
    joined_to_lstm_input = 0
    joined_to_affine_input = 0

    def __init__(self, vocab_size: int, wordvec_size: int, hidden_size: int) -> None:
        super().__init__()
        check_sizes(type(self).__name__, vocab_size=vocab_size, wordvec_size=wordvec_size,
                    hidden_size=hidden_size)
        self.embed = Embedding(vocab_size, wordvec_size)
        self.lstm = LSTM(wordvec_size + self.joined_to_lstm_input * hidden_size, hidden_size,
                         batch_first=True)
        self.affine = Linear((1 + self.joined_to_affine_input) * hidden_size, vocab_size,
                             init="lecun")  # the book's randn / sqrt(fan_in)

    def forward(self, ys: Any, hs: Tensor,
                state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        out, state = self.hidden(ys, hs, state)
        return self.affine(self._affine_input(out, hs)), state

    def hidden(self, ys: Any, hs: Tensor,
               state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """The LSTM's hidden states (N, T_out, H) for the inputs ``ys``, and its last state."""
        h = hs[:, -1]
        if state is None:
            state = (h.reshape(1, *h.shape), Tensor(np.zeros((1, *h.shape), dtype=h.dtype)))
        x = self.embed(_ids(ys, type(self).__name__))
        return self.lstm(self._lstm_input(x, h), state)

    def _lstm_input(self, x: Tensor, h: Tensor) -> Tensor:
        return x

    def _affine_input(self, out: Tensor, hs: Tensor) -> Tensor:
        return out

    def generate(self, hs: Tensor, start_id: int, length: int) -> np.ndarray:
        """Greedy decoding: ``length`` ids (N, length), each the most likely one given the
        ones before, starting from ``start_id``."""
        ids = np.full((hs.shape[0], 1), start_id, dtype=np.int64)
        state: LSTMState | None = None
        sampled = []
        with no_grad():
            for _ in range(length):
                scores, state = self(ids, hs, state)
                ids = scores.data.argmax(axis=-1)
                sampled.append(ids)
        return np.concatenate(sampled, axis=1)


class PeekyDecoder(Decoder):
    """The book's PeekyDecoder: the encoder's h joins every LSTM input, ``[h, embed(y_t)]``,
    and every output-layer input, ``[h, h_t]``."""

    joined_to_lstm_input = joined_to_affine_input = 1

    def _lstm_input(self, x: Tensor, h: Tensor) -> Tensor:
        return F.concatenate([_repeat(h, x.shape[1]), x], axis=-1)

    def _affine_input(self, out: Tensor, hs: Tensor) -> Tensor:
        return F.concatenate([_repeat(hs[:, -1], out.shape[1]), out], axis=-1)


class AttentionDecoder(Decoder):
    """The book's AttentionDecoder: at every step the context c_t = sum_s a_ts hs_s with
    a_t = softmax(hs @ h_t) (`attention` below), and the output layer reads ``[c_t, h_t]``."""

    joined_to_affine_input = 1

    def _affine_input(self, out: Tensor, hs: Tensor) -> Tensor:
        return F.concatenate([attention(out, hs), out], axis=-1)


def attention(queries: Tensor, hs: Tensor) -> Tensor:
    """The book's Attention layer (AttentionWeight then WeightSum) for all decoder steps at
    once: queries (N, T_out, H), encoder states hs (N, T_in, H) -> contexts (N, T_out, H).

    AttentionWeight scores each input step by a dot product, ``s_ts = hs_s . h_t``, and
    normalises over the input, ``a_t = softmax_s(s_t)``; WeightSum averages the states with
    those weights, ``c_t = sum_s a_ts hs_s``. Together, ``C = softmax(Q hs^T) hs``: scaled
    dot-product attention with keys = values = hs and scale 1.
    """
    return F.scaled_dot_product_attention(queries, hs, hs, scale=1.0)


class Seq2seq(Module):
    """The book's Seq2seq: an `Encoder` and a `Decoder` (sizes V, D = wordvec, H = hidden).

    ``model(xs, ys)`` -> scores (N, T_out, V) for the decoder inputs ``ys`` (teacher forcing);
    ``model.loss(xs, ts)`` is the book's ``forward``: ``ts`` holds the answers with their start
    symbol, the decoder reads ``ts[:, :-1]`` and is scored on predicting ``ts[:, 1:]``;
    ``model.generate(xs, start_id, length)`` -> ids (N, length).
    """

    decoder_type: type[Decoder] = Decoder

    def __init__(self, vocab_size: int, wordvec_size: int = 16, hidden_size: int = 128) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.encoder = Encoder(vocab_size, wordvec_size, hidden_size)
        self.decoder = self.decoder_type(vocab_size, wordvec_size, hidden_size)

    def forward(self, xs: Any, ys: Any) -> Tensor:
        scores, _ = self.decoder(ys, self.encoder(xs))
        return scores

    def loss(self, xs: Any, ts: Any) -> Tensor:
        ts = _ids(ts, "loss")
        if ts.shape[1] < 2:
            raise ValueError(f"loss: answers need a start symbol and at least one character, "
                             f"got shape {ts.shape}")
        return F.cross_entropy(self(xs, ts[:, :-1]), ts[:, 1:])  # mean over N and T

    def generate(self, xs: Any, start_id: int, length: int) -> np.ndarray:
        if not 0 <= start_id < self.vocab_size or length < 1:
            raise ValueError(f"generate: start_id must be in [0, {self.vocab_size}) and length "
                             f">= 1, got {start_id} and {length}")
        with no_grad():
            hs = self.encoder(xs)
        return self.decoder.generate(hs, start_id, length)


class PeekySeq2seq(Seq2seq):
    """`Seq2seq` with the `PeekyDecoder` (the book's PeekySeq2seq)."""

    decoder_type = PeekyDecoder


class AttentionSeq2seq(Seq2seq):
    """`Seq2seq` with the `AttentionDecoder` (the book's AttentionSeq2seq).

    ``attention_weights(xs, ys)`` -> (N, T_out, T_in): for each decoder step (reading ``ys``),
    how much it looked at each input step; for a generated answer, pass ``ys`` = the start
    symbol followed by all but the last generated id (greedy decoding makes the same steps).
    """

    decoder_type = AttentionDecoder

    def attention_weights(self, xs: Any, ys: Any) -> np.ndarray:
        with no_grad():
            hs = self.encoder(xs)
            out, _ = self.decoder.hidden(ys, hs)
            _, weights = F.attention_with_weights(out, hs, hs, scale=1.0)
        return weights.data
