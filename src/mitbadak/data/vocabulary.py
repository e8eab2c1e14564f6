"""`Vocabulary`: tokens (characters or words) <-> integer ids, the book's ``word_to_id`` and
``id_to_word`` in one object.

A vocabulary built from a text (`Vocabulary.from_text`) holds the text's distinct tokens in
sorted order (code-point order), after any special tokens, so the same text gives the same ids
on every machine and run. (The book numbers words in order of first appearance instead; any
order works, sorted is simply the one that does not depend on how the text was read.)

* ``level="char"``: a string is a sequence of characters; ``decode`` joins with ``""``.
* ``level="word"``: a string is split at whitespace; ``decode`` joins with ``" "``.

A list of strings is always a list of tokens, which is how a special token such as ``"<pad>"``
or ``"<eos>"`` is encoded at the character level. A token that is not in the vocabulary raises
`UnknownTokenError` naming it and its position; there is no silent ``<unk>``.

`to_dict` / `from_dict` give a JSON-friendly form (plain lists and strings), so a checkpoint's
header can carry the vocabulary its model was trained with, without pickle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

Level = Literal["char", "word"]
LEVELS: tuple[Level, ...] = ("char", "word")
FORMAT = "mitbadak-vocabulary"


class UnknownTokenError(ValueError):
    """A token that is not in the vocabulary, named with its position."""


class Vocabulary:
    """The tokens of a text, each with an id: ``tokens[i]`` has id ``i``.

    ``specials`` are the leading tokens that are not text (``"<pad>"``, ``"<eos>"``...); ``pad``
    names the token that pads sequences to one length (a special, or an ordinary token such as
    the toy tasks' space), or is None.
    """

    def __init__(self, tokens: Sequence[str], level: Level = "char",
                 specials: Sequence[str] = (), pad: str | None = None) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be 'char' or 'word', got {level!r}")
        tokens = list(tokens)
        if not all(isinstance(t, str) and t for t in tokens):
            raise TypeError("a vocabulary's tokens must be non-empty strings")
        if len(set(tokens)) != len(tokens):
            twice = next(t for i, t in enumerate(tokens) if t in tokens[:i])
            raise ValueError(f"vocabulary lists the token {twice!r} twice")
        if list(specials) != tokens[: len(specials)]:
            raise ValueError(f"specials {list(specials)} must be the first tokens")
        if pad is not None and pad not in tokens:
            raise ValueError(f"pad token {pad!r} is not in the vocabulary")
        self.level: Level = level
        self.id_to_token: list[str] = tokens
        self.token_to_id: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.specials: tuple[str, ...] = tuple(specials)
        self.pad = pad
        # characters by code point, for encoding a whole string with one searchsorted
        chars = sorted((ord(t), i) for i, t in enumerate(tokens) if len(t) == 1)
        self._codes = np.array([c for c, _ in chars], dtype=np.int64)
        self._code_ids = np.array([i for _, i in chars], dtype=np.int64)

    @classmethod
    def from_text(cls, text: str | Iterable[str], level: Level = "char",
                  specials: Sequence[str] = (), pad: str | None = None) -> Vocabulary:
        """The vocabulary of ``text``: ``specials`` first, then its distinct tokens, sorted.
        ``text`` is a string (split by `level`) or an iterable of tokens."""
        if level not in LEVELS:
            raise ValueError(f"level must be 'char' or 'word', got {level!r}")
        if isinstance(text, str):
            distinct = set(text) if level == "char" else set(text.split())
        else:
            distinct = set(text)
        return cls(list(specials) + sorted(distinct - set(specials)), level, specials, pad)

    def __len__(self) -> int:
        return len(self.id_to_token)

    def __contains__(self, token: object) -> bool:
        return token in self.token_to_id

    def __getitem__(self, token: str) -> int:
        """The id of one token."""
        try:
            return self.token_to_id[token]
        except KeyError:
            raise self._unknown(token) from None

    @property
    def pad_id(self) -> int:
        """The id of the padding token (ValueError if this vocabulary has none)."""
        if self.pad is None:
            raise ValueError("this vocabulary has no padding token")
        return self.token_to_id[self.pad]

    def encode(self, text: str | Sequence[str]) -> np.ndarray:
        """The ids (int64, one dimension) of a string (characters or whitespace-split words,
        by `level`) or of a list of tokens."""
        if isinstance(text, str) and self.level == "char":
            return self._encode_chars(text)
        tokens = text.split() if isinstance(text, str) else list(text)
        ids = np.empty(len(tokens), dtype=np.int64)
        lookup = self.token_to_id
        for i, token in enumerate(tokens):
            found = lookup.get(token)
            if found is None:
                raise self._unknown(str(token), i)
            ids[i] = found
        return ids

    def _encode_chars(self, text: str) -> np.ndarray:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes.astype(np.int64)
        known = np.append(self._codes, -1)  # -1: no character, so a vocabulary of words finds none
        where = np.minimum(np.searchsorted(self._codes, codes), len(known) - 1)
        unknown = np.flatnonzero(known[where] != codes)
        if len(unknown):
            i = int(unknown[0])
            raise self._unknown(text[i], i)
        return self._code_ids[where]

    def _unknown(self, token: str, position: int | None = None) -> UnknownTokenError:
        if self.level == "word":
            what = f"word {token!r}"
        elif len(token) == 1:
            what = f"character {token!r} (U+{ord(token):04X})"
        else:
            what = f"token {token!r}"
        at = "" if position is None else f" at position {position}"
        return UnknownTokenError(f"unknown {what}{at}: not in this vocabulary of "
                                 f"{len(self)} tokens")

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """The text of a sequence of ids: tokens joined by ``""`` (char) or ``" "`` (word)."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or not (ids.dtype.kind in "iu" or ids.size == 0):
            raise ValueError(f"decode takes one sequence of integer ids, got an array of "
                             f"shape {ids.shape} and dtype {ids.dtype}")
        bad = np.flatnonzero((ids < 0) | (ids >= len(self)))
        if len(bad):
            raise UnknownTokenError(f"id {int(ids[bad[0]])} at position {int(bad[0])} is out "
                                    f"of range for this vocabulary of {len(self)} tokens")
        separator = "" if self.level == "char" else " "
        return separator.join(self.id_to_token[i] for i in ids.tolist())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form; `from_dict` rebuilds the same vocabulary from it."""
        return {"format": FORMAT, "level": self.level, "tokens": list(self.id_to_token),
                "specials": list(self.specials), "pad": self.pad}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        """The vocabulary `to_dict` described (ValueError naming what is wrong otherwise)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a vocabulary: expected a dict with format {FORMAT!r}")
        missing = {"level", "tokens", "specials", "pad"} - set(data)
        if missing:
            raise ValueError(f"vocabulary is missing keys: {sorted(missing)}")
        if not isinstance(data["tokens"], list) or not isinstance(data["specials"], list):
            raise ValueError("vocabulary's tokens and specials must be lists")
        return cls(data["tokens"], data["level"], data["specials"], data["pad"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(repr(t) for t in self.id_to_token[:8])
        more = ", ..." if len(self) > 8 else ""
        return f"Vocabulary({len(self)} {self.level}s: [{shown}{more}])"
