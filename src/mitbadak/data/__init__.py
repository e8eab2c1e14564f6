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
