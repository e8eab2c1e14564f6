"""Text data: Vocabulary, the shipped corpora and text files, the split, the toy tasks, PTB."""

import datetime
import hashlib
import json
import lzma
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak.data import TextFileError, UnknownTokenError, Vocabulary
from mitbadak.data import text as text_module
from mitbadak.data.toy_tasks import DATE_FORMATS

# --- Vocabulary -----------------------------------------------------------------------------

def test_char_vocabulary_is_sorted_and_round_trips():
    vocab = Vocabulary.from_text("hello world")
    assert vocab.id_to_token == [" ", "d", "e", "h", "l", "o", "r", "w"]
    ids = vocab.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [3, 2, 4, 4, 5]
    assert vocab.decode(ids) == "hello"
    assert len(vocab) == 8 and "h" in vocab and vocab["w"] == 7


@given(st.text(min_size=1, max_size=60))
def test_any_text_round_trips_through_its_vocabulary(text):
    vocab = Vocabulary.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text
    assert vocab.encode(text).tolist() == [vocab.token_to_id[c] for c in text]


def test_word_vocabulary_with_specials_and_padding():
    vocab = Vocabulary.from_text("the cat sat on the mat", level="word", specials=["<pad>"],
                                 pad="<pad>")
    assert vocab.id_to_token == ["<pad>", "cat", "mat", "on", "sat", "the"]
    assert vocab.pad_id == 0
    assert vocab.encode("the cat").tolist() == [5, 1]
    assert vocab.encode(["<pad>", "mat"]).tolist() == [0, 2]
    assert vocab.decode([5, 1, 0]) == "the cat <pad>"


def test_specials_at_char_level_are_tokens_in_a_list():
    vocab = Vocabulary.from_text("ab", specials=["<eos>"])
    assert vocab.encode(["a", "<eos>"]).tolist() == [1, 0]
    with pytest.raises(UnknownTokenError, match=r"'<'"):  # a string is characters
        vocab.encode("a<eos>")


def test_unknown_token_is_one_line_naming_it():
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(UnknownTokenError, match=r"unknown character 'é' \(U\+00E9\) at "
                                                r"position 2: not in this vocabulary of 3"):
        vocab.encode("abéa")
    words = Vocabulary.from_text("a b", level="word")
    with pytest.raises(UnknownTokenError, match=r"unknown word 'dog' at position 1"):
        words.encode("a dog")
    with pytest.raises(UnknownTokenError, match="unknown word 'x'"):
        words.encode(["a", "x"])
    with pytest.raises(UnknownTokenError, match="unknown token '<eos>'"):
        vocab.encode(["a", "<eos>"])
    with pytest.raises(UnknownTokenError, match="id 3 at position 1 is out of range"):
        vocab.decode([0, 3])
    with pytest.raises(UnknownTokenError, match="id -1"):
        vocab.decode([-1])
    with pytest.raises(ValueError, match="no padding token"):
        vocab.pad_id  # noqa: B018


def test_vocabulary_to_dict_is_json_and_rebuilds_the_same():
    vocab = Vocabulary.from_text("to be or not", level="word", specials=["<pad>"], pad="<pad>")
    data = json.loads(json.dumps(vocab.to_dict()))
    again = Vocabulary.from_dict(data)
    assert again == vocab and again.encode("not to be").tolist() == vocab.encode(
        "not to be").tolist()
    assert again.level == "word" and again.pad_id == 0


@pytest.mark.parametrize(("data", "message"), [
    ({"format": "other"}, "not a vocabulary"),
    ({"format": "mitbadak-vocabulary", "tokens": ["a"]}, "missing keys"),
    ({"format": "mitbadak-vocabulary", "level": "char", "tokens": ["a", "a"], "specials": [],
      "pad": None}, "token 'a' twice"),
    ({"format": "mitbadak-vocabulary", "level": "byte", "tokens": ["a"], "specials": [],
      "pad": None}, "level must be"),
    ({"format": "mitbadak-vocabulary", "level": "char", "tokens": ["a"], "specials": [],
      "pad": "b"}, "pad token 'b'"),
    ({"format": "mitbadak-vocabulary", "level": "char", "tokens": ["a"], "specials": ["b"],
      "pad": None}, "must be the first tokens"),
])  # fmt: skip
def test_a_bad_vocabulary_dict_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary.from_dict(data)


# --- corpora and files ----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "size", "chars"), [("tinyshakespeare", 1115394, 65),
                                                     ("names", 228145, 27)])
def test_shipped_corpora_load_and_match_their_checksum(name, size, chars):
    text = mb.data.load_text(name)
    assert len(text.encode()) == size and len(set(text)) == chars
    assert hashlib.sha256(text.encode()).hexdigest() == mb.data.CORPORA[name]


def test_a_damaged_shipped_corpus_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "names.txt.xz"
    fake.write_bytes(lzma.compress(b"alice\nbob\n"))
    monkeypatch.setattr(text_module, "corpus_path", lambda name: fake)
    with pytest.raises(TextFileError, match="'names' is damaged"):
        mb.data.load_text("names")


def test_a_user_text_file_loads(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("나는 밑바닥부터\nstart again\n", encoding="utf-8")
    assert mb.data.load_text(path) == "나는 밑바닥부터\nstart again\n"
    assert mb.data.load_text(str(path)) == "나는 밑바닥부터\nstart again\n"


def test_text_file_errors_are_one_line(tmp_path):
    with pytest.raises(TextFileError, match=r"nope\.txt: no such file \(and not a shipped "
                                            r"corpus: tinyshakespeare, names\)"):
        mb.data.load_text(tmp_path / "nope.txt")
    with pytest.raises(TextFileError, match="is a directory"):
        mb.data.load_text(tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(TextFileError, match="empty.txt: is empty"):
        mb.data.load_text(tmp_path / "empty.txt")
    (tmp_path / "latin1.txt").write_bytes("abc café".encode("latin-1"))
    with pytest.raises(TextFileError, match=r"latin1.txt: not UTF-8 text: byte 0xe9 at offset 7"):
        mb.data.load_text(tmp_path / "latin1.txt")
    (tmp_path / "big.txt").write_bytes(b"x" * 101)
    with pytest.raises(TextFileError, match="larger than the limit of 100 bytes"):
        mb.data.load_text(tmp_path / "big.txt", max_bytes=100)
    assert mb.data.load_text(tmp_path / "big.txt", max_bytes=101) == "x" * 101
    with pytest.raises(TextFileError, match="larger than the limit"):  # decompression bounded
        mb.data.load_text("names", max_bytes=1000)


def test_preprocess_is_the_books():
    corpus, vocab = mb.data.preprocess("You say goodbye and I say hello.")
    assert vocab.decode(corpus) == "you say goodbye and i say hello ."
    assert len(vocab) == 7 and corpus.tolist().count(vocab["say"]) == 2
    assert mb.data.words("Don't stop, ROMEO!", lower=False) == ["Don't", "stop", ",", "ROMEO",
                                                                "!"]


def test_train_valid_split_keeps_the_end_for_validation():
    train, valid = mb.data.train_valid_split("abcdefghij")
    assert (train, valid) == ("abcdefghi", "j")
    ids = np.arange(1000)
    train, valid = mb.data.train_valid_split(ids, 0.25)
    assert len(train) == 750 and valid[0] == 750 and valid[-1] == 999
    with pytest.raises(ValueError, match="between 0 and 1"):
        mb.data.train_valid_split(ids, 1.0)
    with pytest.raises(ValueError, match="one side would be empty"):
        mb.data.train_valid_split("ab", 0.1)


# --- toy tasks ------------------------------------------------------------------------------

def decoded(task, split):
    x, t = (task.x_train, task.t_train) if split == "train" else (task.x_test, task.t_test)
    return [(task.vocab.decode(q), task.vocab.decode(a)) for q, a in zip(x, t)]


def test_addition_format_and_every_answer():
    task = mb.data.addition(n=2000, seed=3)
    assert task.x_train.shape == (1800, 7) and task.t_train.shape == (1800, 5)
    assert task.x_test.shape == (200, 7) and task.x_train.dtype == np.int64
    assert len(task.vocab) == 13 and task.vocab.pad_id == 0 and task.vocab.pad == " "
    pairs = decoded(task, "train") + decoded(task, "test")
    assert len({q for q, _ in pairs}) == 2000  # distinct, so no test question was trained on
    for question, answer in pairs:
        match = re.fullmatch(r"(\d{1,3})\+(\d{1,3}) *", question)
        assert match and len(question) == 7, question
        assert not re.match(r"0\d", match[1]) and not re.match(r"0\d", match[2])
        assert re.fullmatch(r"_\d+ *", answer) and len(answer) == 5
        assert int(answer[1:]) == int(match[1]) + int(match[2])
    lengths = {len(q.split("+")[0]) for q, _ in pairs}
    assert lengths == {1, 2, 3}


def test_addition_example_format_of_the_book():
    from mitbadak.data.toy_tasks import addition_answer

    assert addition_answer("16+75  ") == "_91  "
    assert addition_answer("999+999") == "_1998"


STRPTIME = [re.sub(r"\{(\w+)\}", lambda m: {"d": "%d", "dd": "%d", "m": "%m", "mm": "%m",
                                            "Y": "%Y", "yy": "%y", "month": "%B", "mon": "%b",
                                            "weekday": "%A"}[m[1]], f) for f in DATE_FORMATS]


def test_dates_format_and_every_answer():
    task = mb.data.dates(n=3000, seed=1)
    assert task.x_train.shape == (2700, 29) and task.t_test.shape == (300, 11)
    assert task.vocab.pad_id == 0
    pairs = decoded(task, "train") + decoded(task, "test")
    assert len({q for q, _ in pairs}) == 3000
    used = set()
    for question, answer in pairs:
        assert len(question) == 29 and len(answer) == 11 and answer[0] == "_"
        text = question.rstrip(" ")
        parsed = set()
        for i, pattern in enumerate(STRPTIME):
            try:
                parsed.add(datetime.datetime.strptime(text, pattern).date())
                used.add(i)
            except ValueError:
                pass
        assert len(parsed) == 1, (question, parsed)  # every question has exactly one reading
        day = parsed.pop()
        assert answer[1:] == day.isoformat()
        assert datetime.date(1970, 1, 1) <= day <= datetime.date(2020, 12, 31)
        if "day" in text.lower():  # a weekday, when written, is the right one
            assert day.strftime("%A").lower() in text.lower()
    assert used == set(range(len(DATE_FORMATS)))  # every format occurs
    cases = {"lower": any(q.strip() == q.strip().lower() and q.strip()[0].isalpha()
                          for q, _ in pairs),
             "upper": any(q.strip() == q.strip().upper() and q.strip()[0].isalpha()
                          for q, _ in pairs)}
    assert all(cases.values())


@pytest.mark.parametrize("make", [mb.data.addition, mb.data.dates])
def test_toy_tasks_are_deterministic_by_seed(make):
    a, b, c = make(n=500, seed=7), make(n=500, seed=7), make(n=500, seed=8)
    for field in ("x_train", "t_train", "x_test", "t_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.vocab == c.vocab  # the vocabulary is fixed per task


def test_toy_task_bad_n():
    with pytest.raises(ValueError, match="n must be an int from 2"):
        mb.data.addition(n=1)
    with pytest.raises(ValueError, match="test_fraction"):
        mb.data.dates(n=10, test_fraction=0)


# --- PTB ------------------------------------------------------------------------------------

def write_ptb(directory):
    (directory / "ptb.train.txt").write_text(" the cat sat \n the dog <unk> \n")
    (directory / "ptb.valid.txt").write_text(" the dog sat \n")
    (directory / "ptb.test.txt").write_text(" a cat \n")


def test_ptb_reads_words_with_eos_and_the_training_vocabulary(tmp_path):
    write_ptb(tmp_path)
    corpus, vocab = mb.data.load_ptb(tmp_path)
    assert vocab.decode(corpus) == "the cat sat <eos> the dog <unk> <eos>"
    assert vocab.id_to_token == ["<eos>", "<unk>", "cat", "dog", "sat", "the"]
    valid, valid_vocab = mb.data.load_ptb(tmp_path, "valid")
    assert valid_vocab == vocab and vocab.decode(valid) == "the dog sat <eos>"
    with pytest.raises(UnknownTokenError, match="unknown word 'a' at position 0"):
        mb.data.load_ptb(tmp_path, "test")  # "a" is not a training word


def test_ptb_missing_file_is_named(tmp_path):
    with pytest.raises(TextFileError, match=r"ptb\.train\.txt: no such file; load_ptb needs"):
        mb.data.load_ptb(tmp_path)
    write_ptb(tmp_path)
    (tmp_path / "ptb.valid.txt").unlink()
    with pytest.raises(TextFileError, match=r"ptb\.valid\.txt: no such file"):
        mb.data.load_ptb(tmp_path, "valid")
    with pytest.raises(ValueError, match="split must be one of train, valid, test"):
        mb.data.load_ptb(tmp_path, "dev")
