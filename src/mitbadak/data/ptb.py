"""`load_ptb`: the Penn Treebank language-modelling files, read as the sequel's ``ptb.py`` does,
for users who have them (the book downloads them at run time; mitbadak never does).

The files are Mikolov's ``ptb.train.txt``, ``ptb.valid.txt`` and ``ptb.test.txt`` (929k, 73k
and 82k words, a vocabulary of 10,000 with rare words already replaced by ``<unk>``). As in
the book, each line's words are followed by ``<eos>``, so the corpus is one long id array.

The vocabulary is always the training file's (its words in sorted order), so ids agree across
the three splits; a validation or test word missing from it raises `UnknownTokenError`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mitbadak.data.text import MAX_TEXT_BYTES, TextFileError, load_text
from mitbadak.data.vocabulary import Vocabulary

SPLITS = ("train", "valid", "test")
EOS = "<eos>"


def ptb_words(text: str) -> list[str]:
    """The words of a PTB file with ``<eos>`` after every line."""
    words: list[str] = []
    for line in text.splitlines():
        words.extend(line.split())
        words.append(EOS)
    return words


def load_ptb(directory: str | os.PathLike, split: str = "train",
             max_bytes: int = MAX_TEXT_BYTES) -> tuple[np.ndarray, Vocabulary]:
    """``(corpus, vocab)``: the word ids of ``ptb.<split>.txt`` in ``directory`` (int64) and
    the word `Vocabulary` of ``ptb.train.txt``. The book's ``load_data(data_type)``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    directory = Path(directory)
    paths = {s: directory / f"ptb.{s}.txt" for s in {"train", split}}
    for path in paths.values():
        if not path.is_file():
            raise TextFileError(f"{path}: no such file; load_ptb needs the Penn Treebank files "
                                "ptb.train.txt, ptb.valid.txt, ptb.test.txt in one directory")
    train = ptb_words(load_text(paths["train"], max_bytes))
    vocab = Vocabulary.from_text(train, level="word")
    words = train if split == "train" else ptb_words(load_text(paths[split], max_bytes))
    return vocab.encode(words), vocab
