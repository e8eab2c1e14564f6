"""Data: the datasets (digits built in; MNIST and Fashion-MNIST found, downloaded, verified),
IDX file reading and writing, and a reproducible, resumable `DataLoader`."""

from mitbadak.data.datasets import CLASSES, DATASETS, DatasetNotFoundError, load_dataset
from mitbadak.data.download import DownloadError
from mitbadak.data.idx import read_idx, write_idx
from mitbadak.data.loader import DataLoader

__all__ = [
    "CLASSES",
    "DATASETS",
    "DataLoader",
    "DatasetNotFoundError",
    "DownloadError",
    "load_dataset",
    "read_idx",
    "write_idx",
]

# Text (issue #16): vocabulary, corpora, the seq2seq toy tasks, PTB, language-model batches.
from mitbadak.data.lm_loader import LanguageModelLoader, RandomWindows  # noqa: E402
from mitbadak.data.ptb import load_ptb  # noqa: E402
from mitbadak.data.text import (  # noqa: E402
    CORPORA,
    MAX_TEXT_BYTES,
    TextFileError,
    load_text,
    preprocess,
    train_valid_split,
    words,
)
from mitbadak.data.toy_tasks import ToyTask, addition, addition_pairs, date_pairs, dates  # noqa: E402
from mitbadak.data.vocabulary import UnknownTokenError, Vocabulary  # noqa: E402

__all__ += [
    "CORPORA",
    "LanguageModelLoader",
    "MAX_TEXT_BYTES",
    "RandomWindows",
    "TextFileError",
    "ToyTask",
    "UnknownTokenError",
    "Vocabulary",
    "addition",
    "addition_pairs",
    "date_pairs",
    "dates",
    "load_ptb",
    "load_text",
    "preprocess",
    "train_valid_split",
    "words",
]
