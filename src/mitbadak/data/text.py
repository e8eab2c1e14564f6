"""Text corpora: `load_text` (the shipped corpora or any UTF-8 file), the book's `preprocess`
into word ids, and `train_valid_split`.

Two corpora ship inside the package, compressed with xz (stdlib ``lzma``), so the sequence
lessons work offline. Each is checked on every read against the SHA-256 of its text:

* ``"tinyshakespeare"``: 40,000 lines of Shakespeare's plays, concatenated (1,115,394 bytes,
  65 distinct characters); the "tiny shakespeare" corpus of the char-rnn project (A. Karpathy,
  2015). Shakespeare's text is in the public domain.
* ``"names"``: 32,032 lowercase first names, one per line (228,145 bytes); from the makemore
  project (A. Karpathy, 2022, MIT licence), taken from the U.S. Social Security
  Administration's baby-names data (public domain).

Neither is the Penn Treebank of *Deep Learning from Scratch 2*; for users who have its files,
`mitbadak.data.ptb.load_ptb` reads them.

Any other name is a path to a UTF-8 text file. Its problems are each one `TextFileError` line:
missing, a directory, empty, not UTF-8 (with the byte offset of the first bad byte), or larger
than ``max_bytes`` (`MAX_TEXT_BYTES`, 64 MiB, unless the caller raises it). That limit bounds
what a file can make us allocate: its text, and 8 bytes per character once encoded as int64 ids.
A shipped corpus is decompressed with the same bound, so a damaged archive cannot expand
without end either.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
from pathlib import Path
from typing import TypeVar

import numpy as np

from mitbadak.data.vocabulary import Vocabulary

MAX_TEXT_BYTES = 64 * 2**20

#: shipped corpus name -> SHA-256 of its UTF-8 text (as in shared/data/SHA256SUMS)
CORPORA: dict[str, str] = {
    "tinyshakespeare": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    "names": "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
}
_HERE = Path(__file__).parent


class TextFileError(ValueError):
    """A text that cannot be loaded: the message is one line naming the file and why."""


def corpus_path(name: str) -> Path:
    """Where the compressed copy of a shipped corpus lies inside the package."""
    return _HERE / f"{name}.txt.xz"


def load_text(name_or_path: str | os.PathLike, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The text of a shipped corpus (``"tinyshakespeare"``, ``"names"``) or of a UTF-8 file."""
    if isinstance(name_or_path, str) and name_or_path in CORPORA:
        return _load_corpus(name_or_path, max_bytes)
    path = Path(name_or_path)
    if not path.exists():
        raise TextFileError(f"{path}: no such file (and not a shipped corpus: "
                            f"{', '.join(CORPORA)})")
    if path.is_dir():
        raise TextFileError(f"{path}: is a directory, not a text file")
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as error:
        raise TextFileError(f"{path}: cannot read: {error.strerror or error}") from None
    return _decode(data, str(path), max_bytes)


def _load_corpus(name: str, max_bytes: int) -> str:
    path = corpus_path(name)
    try:
        with lzma.open(path, "rb") as file:
            data = file.read(max_bytes + 1)
    except (OSError, lzma.LZMAError, EOFError) as error:
        raise TextFileError(f"{path}: cannot read the shipped corpus {name!r}: {error}") from None
    if len(data) <= max_bytes and hashlib.sha256(data).hexdigest() != CORPORA[name]:
        raise TextFileError(f"{path}: the shipped corpus {name!r} is damaged (SHA-256 "
                            "mismatch); reinstall mitbadak")
    return _decode(data, str(path), max_bytes)


def _decode(data: bytes, where: str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise TextFileError(f"{where}: larger than the limit of {max_bytes:,} bytes "
                            "(pass max_bytes to raise it)")
    if not data:
        raise TextFileError(f"{where}: is empty")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TextFileError(f"{where}: not UTF-8 text: byte 0x{data[error.start]:02x} at offset "
                            f"{error.start} ({error.reason})") from None


_WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def words(text: str, lower: bool = True) -> list[str]:
    """The words of ``text``, punctuation marks as words of their own, lower-cased unless
    ``lower=False``: ``"You say goodbye."`` -> ``['you', 'say', 'goodbye', '.']`` (the book's
    ``preprocess`` splits off only ``.``; this splits off every mark, keeping ``don't`` whole)."""
    return _WORD.findall(text.lower() if lower else text)


def preprocess(text: str, lower: bool = True) -> tuple[np.ndarray, Vocabulary]:
    """The book's ``preprocess``: the text as a corpus of word ids, and its word vocabulary.
    ``corpus, vocab = preprocess("You say goodbye and I say hello.")`` gives
    ``vocab.decode(corpus) == "you say goodbye and i say hello ."``."""
    tokens = words(text, lower)
    vocab = Vocabulary.from_text(tokens, level="word")
    return vocab.encode(tokens), vocab


Sliceable = TypeVar("Sliceable", str, np.ndarray)


def train_valid_split(data: Sliceable, valid_fraction: float = 0.1
                      ) -> tuple[Sliceable, Sliceable]:
    """The first ``1 - valid_fraction`` of a text or id array for training, the rest for
    validation (nanoGPT's 90/10: the end of the text, unseen in training, not a random
    sample of characters that overlap the training windows)."""
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be between 0 and 1, got {valid_fraction}")
    cut = len(data) - int(round(len(data) * valid_fraction))
    if cut <= 0 or cut >= len(data):
        raise ValueError(f"cannot split {len(data)} items with valid_fraction "
                         f"{valid_fraction}: one side would be empty")
    return data[:cut], data[cut:]
