"""`LSTMLanguageModel`: the sequel's "better RNNLM" (chapter 6), a model of the next token.

Given the tokens x_1 .. x_t so far it scores every token of the vocabulary as x_{t+1}::

    e_t = E[x_t]                                   Embedding, E of shape (V, D)
    h_t = LSTM(dropout(e_t), h_{t-1})              num_layers LSTM layers, dropout between
    y_t = dropout(h_t) @ E^T + b                   weight tying: the output layer is E^T

trained with the cross-entropy of y_t against x_{t+1} (its exp is the perplexity). The book's
three improvements over the plain RNNLM: stacked LSTM layers, dropout between the layers
(not along the time axis), and **weight tying** (Press and Wolf 2017; Inan et al. 2017): the
output layer reuses the embedding matrix, which needs ``hidden_size == embed_dim`` and
removes V x D parameters. The book's better RNNLM reaches a test perplexity of about 75.8 on
PTB (words, V = 10,000); character-level perplexities (V ~ 65) are not comparable with it.

**Truncated BPTT.** The model is stateful, as the book's ``TimeLSTM(stateful=True)``: each
``forward`` starts from the (h, c) the previous one ended in, *detached*, so the gradient
flows back through one batch of ``T`` steps only while the state carries the whole stream's
context. ``reset_state()`` forgets it (the `Trainer` calls it at the start of every epoch and
of every evaluation); a batch of another size than the state's starts from zeros too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.grad_mode import no_grad
from mitbadak.autograd.random import default_generator
from mitbadak.autograd.tensor import Tensor
from mitbadak.nn.dropout import Dropout
from mitbadak.nn.embedding import Embedding
from mitbadak.nn.module import Module, Parameter, check_sizes
from mitbadak.nn.recurrent import LSTM
from mitbadak.nn.sampling import sample_next

State = tuple[Tensor, Tensor]


class LSTMLanguageModel(Module):
    """Embedding -> ``num_layers`` LSTM layers -> Linear over the vocabulary, with dropout
    ``dropout`` after the embedding, between the LSTM layers and before the output layer, and
    the output weight tied to the embedding (``tie_weights``). Input: token ids (N, T); output:
    logits (N, T, vocab_size). See the module docstring for the formulas and the state.

    ``model.config`` holds the constructor's arguments, so ``LSTMLanguageModel(**config)``
    rebuilds it (the checkpoint's architecture)."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int = 2,
                 dropout: float = 0.5, tie_weights: bool = True) -> None:
        super().__init__()
        check_sizes("LSTMLanguageModel", vocab_size=vocab_size, embed_dim=embed_dim,
                    hidden_size=hidden_size, num_layers=num_layers)
        if tie_weights and hidden_size != embed_dim:
            raise ValueError(f"LSTMLanguageModel: weight tying needs hidden_size == embed_dim "
                             f"(the output layer is the embedding's transpose), got "
                             f"{hidden_size} and {embed_dim}")
        self.config: dict[str, Any] = {
            "vocab_size": vocab_size, "embed_dim": embed_dim, "hidden_size": hidden_size,
            "num_layers": num_layers, "dropout": dropout, "tie_weights": tie_weights}
        self.embedding = Embedding(vocab_size, embed_dim)
        self.drop = Dropout(dropout)
        self.lstm = LSTM(embed_dim, hidden_size, num_layers, dropout=dropout, batch_first=True)
        # U(-0.1, 0.1), as PyTorch's word_language_model: with tied weights the embedding is
        # also the output layer, and N(0, 1) rows would start the logits far from uniform.
        rng = default_generator()
        self.embedding.weight.data = rng.uniform(-0.1, 0.1, (vocab_size, embed_dim)).astype(
            np.float32)
        self.W = None if tie_weights else Parameter(
            rng.uniform(-0.1, 0.1, (hidden_size, vocab_size)).astype(np.float32))
        self.b = Parameter(np.zeros(vocab_size, np.float32))
        self.state: State | None = None

    def reset_state(self) -> None:
        """Forget the carried (h, c): the next batch starts from zeros (a new stream)."""
        self.state = None

    def forward(self, x: Any) -> Tensor:
        ids = np.asarray(x.data if isinstance(x, Tensor) else x)
        carried = self.state
        if carried is not None and carried[0].shape[1] != ids.shape[0]:
            carried = None
        logits, (h, c) = self.run(ids, carried)
        self.state = (h.detach(), c.detach())  # truncated BPTT: the graph stops here
        return logits

    def run(self, ids: np.ndarray, state: State | None = None) -> tuple[Tensor, State]:
        """The logits (N, T, V) for token ids (N, T) and the state (h_n, c_n) after them,
        starting from ``state`` (zeros when None); the model's own state is left alone."""
        if ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(f"LSTMLanguageModel: expected integer token ids of shape (N, T), "
                             f"got {ids.dtype} of shape {ids.shape}")
        e = self.drop(self.embedding(ids))
        h, state = self.lstm(e, state)
        W = self.W if self.W is not None else F.transpose(self.embedding.weight)  # noqa: N806
        return F.linear(self.drop(h), W, self.b), state

    def generate(self, prompt_ids: Sequence[int] | np.ndarray, length: int,
                 temperature: float = 1.0, top_k: int | None = None,
                 generator: np.random.Generator | None = None) -> np.ndarray:
        """The prompt followed by ``length`` tokens drawn one at a time (`nn.sampling`): the
        prompt is read in one pass, then each drawn token is fed back in. Runs in eval mode
        without a graph; leaves the carried training state and the mode as they were."""
        prompt = np.asarray(prompt_ids, dtype=np.int64).reshape(-1)
        if prompt.size == 0:
            raise ValueError("generate: the prompt must hold at least one token")
        if not 0 <= prompt.min() <= prompt.max() < self.config["vocab_size"]:
            raise ValueError(f"generate: prompt ids must be in [0, {self.config['vocab_size']})")
        if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 0:
            raise ValueError(f"generate: length must be an integer >= 0, got {length!r}")
        was_training, out = self.training, [prompt]
        self.eval()
        try:
            with no_grad():
                logits, state = self.run(prompt[None, :])
                for i in range(length):
                    token = sample_next(logits.data[0, -1], temperature, top_k, generator)
                    out.append(token.reshape(1))
                    if i + 1 < length:  # the last token needs no successor
                        logits, state = self.run(token.reshape(1, 1), state)
        finally:
            self.train(was_training)
        return np.concatenate(out)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())
