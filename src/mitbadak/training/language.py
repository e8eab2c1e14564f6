"""A text made ready for language modelling, the way ``mitbadak train --task language-model``
and the ``language-model`` lesson both train on it.

`language_model_data` builds the vocabulary (characters by default) of the whole text, encodes
it, keeps the last 10% as the validation stream (`data.train_valid_split`: the end of the
text, never seen in training) and batches both into ``batch_size`` parallel streams of
``seq_len`` steps (`data.LanguageModelLoader`, the book's truncated-BPTT batches).

The validation stream is evaluated the same way after every epoch (its batches are made once,
in order, from position 0), and so is a prefix of the training stream of the same length
(``train_eval``): the per-epoch "train perplexity" in eval mode, without dropout, comparable
with the validation one. The loss is the mean cross-entropy per token in nats;
`perplexity` = exp(loss), the number of equally likely tokens the model is as unsure as.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mitbadak.data import LanguageModelLoader, Vocabulary, train_valid_split
from mitbadak.data.vocabulary import Level

Batch = tuple[np.ndarray, np.ndarray]
VALID_FRACTION = 0.1


@dataclass
class LanguageModelData:
    """The vocabulary, the training batches (a stateful loader, saved with each checkpoint),
    and the batches the training and validation perplexities are measured on."""

    vocabulary: Vocabulary
    train: LanguageModelLoader
    train_eval: list[Batch]
    valid: list[Batch]


def language_model_data(text: str, batch_size: int, seq_len: int,
                        vocabulary: Vocabulary | None = None, level: Level = "char",
                        valid_fraction: float = VALID_FRACTION) -> LanguageModelData:
    """``text`` split, encoded and batched (see the module docstring). ``vocabulary``: the one
    to encode with (a resumed run's); by default the text's own. A ValueError names what
    does not fit: a token the vocabulary lacks, a text too short for the batches."""
    if vocabulary is None:
        vocabulary = Vocabulary.from_text(text, level=level)
    ids = vocabulary.encode(text)
    train_ids, valid_ids = train_valid_split(ids, valid_fraction)
    shape = f"batches of {batch_size} x {seq_len}"
    if len(valid_ids) < batch_size * seq_len + 1:
        raise ValueError(f"the text's {len(ids):,} tokens leave {len(valid_ids):,} for "
                         f"validation, too few for {shape} (at least {batch_size * seq_len + 1:,}"
                         "): use a longer text or a smaller --batch-size or --seq-len")
    train = LanguageModelLoader(train_ids, batch_size, seq_len)
    return LanguageModelData(
        vocabulary, train,
        train_eval=list(LanguageModelLoader(train_ids[:len(valid_ids)], batch_size, seq_len)),
        valid=list(LanguageModelLoader(valid_ids, batch_size, seq_len)))


def perplexity(loss: float) -> float:
    """exp(loss): the perplexity of a mean cross-entropy per token (nats); inf past ~709."""
    return math.exp(loss) if loss < 709 else math.inf
