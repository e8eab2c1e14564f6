"""The sequel's two seq2seq toy tasks (chapter 7 and 8), generated here by a seeded generator
(the book downloads ``addition.txt`` and ``date.txt``; these are our own draws of the same
formats, so numbers are comparable but not the very same examples).

* `addition`: ``"16+75  "`` -> ``"_91  "``: the question ``a+b`` (``a, b < 1000``) left-justified
  to 7 characters, the answer ``"_"`` (the decoder's start symbol) + the sum left-justified to 4.
  Each operand draws its number of digits (1, 2 or 3) uniformly, then its value, so short sums
  are as common as in the book's file.
* `dates`: ``"september 27, 1994           "`` -> ``"_1994-09-27"``: a day between 1970-01-01
  and 2020-12-31 in one of `DATE_FORMATS` (lower, upper or title case) left-justified to 29
  characters, the answer ``"_"`` + ISO ``YYYY-MM-DD``. Two-digit years are 1970-2020 read as
  ``%y`` does (``70``-``99`` -> 19xx, ``00``-``20`` -> 20xx), so every question has one answer.

Questions are distinct (a repeated question would sit in both the training and the test set).
The split is the book's 90/10: the first 90% of the draws train, the last 10% test. Every
character is an id of a fixed character `Vocabulary` per task (the same for any ``n`` and
``seed``) whose padding token is the space, id 0.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mitbadak.data.vocabulary import Vocabulary

ADDITION_QUESTION, ADDITION_ANSWER = 7, 5
DATE_QUESTION, DATE_ANSWER = 29, 11
START = "_"

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FIRST_DAY, LAST_DAY = datetime.date(1970, 1, 1), datetime.date(2020, 12, 31)


def _fields(d: datetime.date) -> dict[str, str]:
    return {"d": str(d.day), "dd": f"{d.day:02d}", "m": str(d.month), "mm": f"{d.month:02d}",
            "Y": str(d.year), "yy": f"{d.year % 100:02d}", "month": MONTHS[d.month - 1],
            "mon": MONTHS[d.month - 1][:3], "weekday": WEEKDAYS[d.weekday()]}


#: the human formats of the date task (fields: d, dd, m, mm, Y, yy, month, mon, weekday)
DATE_FORMATS = (
    "{month} {d}, {Y}", "{m}/{d}/{yy}", "{weekday}, {month} {d}, {Y}", "{mon} {d}, {Y}",
    "{d} {mon} {Y}", "{d} {month} {Y}", "{dd} {mon} {Y}", "{d} {mon}, {Y}", "{d} {month}, {Y}",
    "{dd}, {mon} {Y}", "{d} {mm} {yy}", "{month} {d} {Y}", "{dd}.{mm}.{yy}",
    "{weekday} {d} {month} {Y}", "{m}/{d}/{Y}",
)
_CASES: tuple[Callable[[str], str], ...] = (str.lower, str.upper, str.title)

ADDITION_VOCAB = Vocabulary.from_text(" +0123456789" + START, pad=" ")
DATE_VOCAB = Vocabulary.from_text(
    " ,-./0123456789" + START + "".join(MONTHS + WEEKDAYS)
    + "".join(MONTHS + WEEKDAYS).upper(), pad=" ")


@dataclass(frozen=True)
class ToyTask:
    """A toy task as id arrays: questions ``x`` (N, question length) and answers ``t``
    (N, answer length), int64, split 90/10 into train and test, with their `Vocabulary`."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    vocab: Vocabulary


def _distinct(draw: Callable[[np.random.Generator, int], list[str]], n: int,
              rng: np.random.Generator) -> list[str]:
    """``n`` distinct questions from ``draw(rng, k)`` (k at a time), in the order first drawn."""
    seen: dict[str, None] = {}
    while len(seen) < n:
        for question in draw(rng, n - len(seen) + 64):
            seen.setdefault(question)
    return list(seen)[:n]


def _operands(rng: np.random.Generator, k: int) -> np.ndarray:
    digits = rng.integers(1, 4, size=k)
    low = np.where(digits == 1, 0, 10 ** (digits - 1))
    return low + (rng.random(k) * (10**digits - low)).astype(np.int64)


def _addition_questions(rng: np.random.Generator, k: int) -> list[str]:
    a, b = _operands(rng, k).tolist(), _operands(rng, k).tolist()
    return [f"{x}+{y}".ljust(ADDITION_QUESTION) for x, y in zip(a, b)]


def addition_answer(question: str) -> str:
    """The answer string of an addition question: ``"16+75  "`` -> ``"_91  "``."""
    a, b = question.split("+")
    return (START + str(int(a) + int(b))).ljust(ADDITION_ANSWER)


def _date_questions(rng: np.random.Generator, k: int) -> list[str]:
    """Questions with their ISO answer appended (split off by `date_pairs`)."""
    days = rng.integers((LAST_DAY - FIRST_DAY).days + 1, size=k).tolist()
    formats = rng.integers(len(DATE_FORMATS), size=k).tolist()
    cases = rng.integers(len(_CASES), size=k).tolist()
    questions = []
    for offset, f, c in zip(days, formats, cases):
        day = FIRST_DAY + datetime.timedelta(offset)
        text = _CASES[c](DATE_FORMATS[f].format(**_fields(day)))
        questions.append(text.ljust(DATE_QUESTION) + day.isoformat())
    return questions


def addition_pairs(n: int = 50000, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct (question, answer) strings of the addition task."""
    _check_n(n, 500_000)
    rng = np.random.default_rng(seed)
    return [(q, addition_answer(q)) for q in _distinct(_addition_questions, n, rng)]


def date_pairs(n: int = 50000, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct (question, answer) strings of the date task."""
    _check_n(n, 500_000)
    rng = np.random.default_rng(seed)
    drawn = _distinct(_date_questions, n, rng)
    return [(q[:DATE_QUESTION], START + q[DATE_QUESTION:]) for q in drawn]


def _check_n(n: int, most: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 2 <= n <= most:
        raise ValueError(f"n must be an int from 2 to {most:,} (distinct questions), got {n!r}")


def to_task(pairs: list[tuple[str, str]], vocab: Vocabulary,
            test_fraction: float = 0.1) -> ToyTask:
    """(question, answer) strings as a `ToyTask`: the first ``1 - test_fraction`` train."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    x = vocab.encode("".join(q for q, _ in pairs)).reshape(len(pairs), -1)  # one call, not N
    t = vocab.encode("".join(a for _, a in pairs)).reshape(len(pairs), -1)
    cut = len(pairs) - max(1, int(round(len(pairs) * test_fraction)))
    return ToyTask(x[:cut], t[:cut], x[cut:], t[cut:], vocab)


def addition(n: int = 50000, seed: int = 0, test_fraction: float = 0.1) -> ToyTask:
    """The addition task (the book's ``sequence.load_data('addition.txt')``), as id arrays:
    ``x`` (N, 7), ``t`` (N, 5), vocabulary of 13 characters."""
    return to_task(addition_pairs(n, seed), ADDITION_VOCAB, test_fraction)


def dates(n: int = 50000, seed: int = 0, test_fraction: float = 0.1) -> ToyTask:
    """The date task (the book's ``sequence.load_data('date.txt')``), as id arrays:
    ``x`` (N, 29), ``t`` (N, 11)."""
    return to_task(date_pairs(n, seed), DATE_VOCAB, test_fraction)
