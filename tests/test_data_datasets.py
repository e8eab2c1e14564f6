"""load_dataset: embedded digits, the IDX lookup order, structure checks, the not-found error.

Nothing here touches the network: every test that could download passes ``download=False`` or
points the mirrors nowhere (see test_data_download.py for the download path itself).
"""

import hashlib
import shutil

import numpy as np
import pytest

from mitbadak.data import CLASSES, DATASETS, DatasetNotFoundError, load_dataset, write_idx
from mitbadak.data import datasets as ds


def make_idx_set(directory, n_train=6, n_test=4, seed=0, gz=True, size=(28, 28), top_label=9):
    """Write a tiny four-file MNIST-layout set; return its arrays by role."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, *size), dtype=np.uint8),
        "t_train": rng.integers(0, top_label + 1, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, *size), dtype=np.uint8),
        "t_test": rng.integers(0, top_label + 1, n_test, dtype=np.uint8),
    }
    for role, stem in ds.FILES.items():
        write_idx(directory / (stem + (".gz" if gz else "")), arrays[role])
    return arrays


def sha256_by_role(directory):
    """The SHA-256 of each .gz file of a set, keyed like `datasets.SHA256[name]`."""
    return {
        role: hashlib.sha256((directory / f"{stem}.gz").read_bytes()).hexdigest()
        for role, stem in ds.FILES.items()
    }


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real cache, environment directory or system datasets; return tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MITBADAK_DATA", raising=False)
    monkeypatch.setattr(ds, "SYSTEM_DIR", tmp_path / "system")
    return tmp_path


# --- names -------------------------------------------------------------------------------


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'; expected one of digits, mnist"):
        load_dataset("cifar")


def test_class_names():
    assert set(CLASSES) == set(DATASETS)
    assert all(len(names) == 10 for names in CLASSES.values())
    assert CLASSES["fashion-mnist"][0] == "T-shirt/top"
    assert CLASSES["fashion-mnist"][9] == "Ankle boot"
    assert CLASSES["mnist"][3] == "3"


# --- digits ------------------------------------------------------------------------------


def test_digits_defaults_follow_load_mnist():
    (x, t), (xt, tt) = load_dataset("digits")
    assert x.shape == (1437, 64) and xt.shape == (360, 64)
    assert x.dtype == xt.dtype == np.float32
    assert t.dtype == tt.dtype == np.int64 and t.shape == (1437,)
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(tt).tolist() == [36] * 10
    assert set(t.tolist()) == set(range(10))


def test_digits_raw_and_shaped():
    (x_raw, t_raw), _ = load_dataset("digits", normalize=False, flatten=False)
    assert x_raw.dtype == np.uint8 and x_raw.shape == (1437, 1, 8, 8) and x_raw.max() == 16
    (x, t), _ = load_dataset("digits")
    np.testing.assert_array_equal(x, x_raw.reshape(1437, 64) / np.float32(16))
    np.testing.assert_array_equal(t, t_raw)


def test_digits_one_hot():
    (_, t), (_, tt) = load_dataset("digits", one_hot=True)
    (_, labels), _ = load_dataset("digits")
    assert t.shape == (1437, 10) and tt.shape == (360, 10) and t.dtype == np.float32
    np.testing.assert_array_equal(t.sum(axis=1), 1.0)
    np.testing.assert_array_equal(t.argmax(axis=1), labels)


def test_digits_split_is_stored_and_disjoint():
    with np.load(ds.DIGITS_PATH, allow_pickle=False) as npz:
        train, test = npz["train_index"], npz["test_index"]
        assert "Alpaydin" in str(npz["attribution"]) and "CC BY 4.0" in str(npz["attribution"])
    assert len(train) == 1437 and len(test) == 360
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(1797))


def test_digits_checksum_is_verified(tmp_path, monkeypatch):
    damaged = tmp_path / "digits.npz"
    blob = bytearray(ds.DIGITS_PATH.read_bytes())
    blob[-100] ^= 0xFF
    damaged.write_bytes(bytes(blob))
    monkeypatch.setattr(ds, "DIGITS_PATH", damaged)
    with pytest.raises(
        RuntimeError, match=r"digits\.npz is damaged: SHA-256 [0-9a-f]{64}, expected"
    ):
        load_dataset("digits")


# --- IDX datasets found on disk ----------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_data_dir_is_read_with_book_semantics(isolated, gz):
    arrays = make_idx_set(isolated / "mine", gz=gz)
    (x, t), (xt, tt) = load_dataset("mnist", data_dir=isolated / "mine", download=False)
    assert x.shape == (6, 784) and xt.shape == (4, 784) and x.dtype == np.float32
    np.testing.assert_array_equal(x, arrays["x_train"].reshape(6, 784) / np.float32(255))
    np.testing.assert_array_equal(tt, arrays["t_test"])
    assert tt.dtype == np.int64

    (x, _), _ = load_dataset(
        "mnist", data_dir=isolated / "mine", normalize=False, flatten=False, download=False
    )
    assert x.dtype == np.uint8 and x.shape == (6, 1, 28, 28)
    np.testing.assert_array_equal(x[:, 0], arrays["x_train"])


def test_data_dir_needs_no_checksum(isolated):
    # Fashion-MNIST with made-up content: a user's own data of the same layout is accepted.
    make_idx_set(isolated / "own")
    (x, _), _ = load_dataset("fashion-mnist", data_dir=isolated / "own", download=False)
    assert x.shape == (6, 784)


def test_lookup_order(isolated, monkeypatch):
    monkeypatch.setenv("MITBADAK_DATA", str(isolated / "env"))
    first = {
        "data_dir": make_idx_set(isolated / "given", seed=1),
        "env": make_idx_set(isolated / "env" / "mnist", seed=2),
        "system": make_idx_set(isolated / "system" / "mnist", seed=3),
    }

    def loaded_labels(**kwargs):
        _, (_, tt) = load_dataset("mnist", normalize=False, download=False, **kwargs)
        return tt

    given = loaded_labels(data_dir=isolated / "given")
    np.testing.assert_array_equal(given, first["data_dir"]["t_test"])
    np.testing.assert_array_equal(loaded_labels(), first["env"]["t_test"])
    shutil.rmtree(isolated / "env")
    np.testing.assert_array_equal(loaded_labels(), first["system"]["t_test"])


def test_verified_cache_comes_before_system_dir(isolated, monkeypatch):
    cache = isolated / "home" / ".cache" / "mitbadak" / "mnist"
    cached = make_idx_set(cache, seed=4)
    make_idx_set(isolated / "system" / "mnist", seed=5)
    monkeypatch.setitem(ds.SHA256, "mnist", sha256_by_role(cache))
    _, (_, tt) = load_dataset("mnist", download=False)
    np.testing.assert_array_equal(tt, cached["t_test"])


def test_cache_failing_its_checksum_is_not_used(isolated, monkeypatch):
    make_idx_set(isolated / "home" / ".cache" / "mitbadak" / "mnist")
    monkeypatch.setitem(ds.SHA256, "mnist", dict.fromkeys(ds.SHA256["mnist"], "0" * 64))
    with pytest.raises(DatasetNotFoundError, match="fails its SHA-256 check"):
        load_dataset("mnist", download=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": (27, 28)}, r"train-images-idx3-ubyte\.gz: expected uint8 images of shape"),
        ({"top_label": 10}, r"labels-idx1-ubyte\.gz: labels must be 0\.\.9, found 10"),
    ],
)
def test_structure_is_checked(isolated, kwargs, message):
    make_idx_set(isolated / "bad", n_train=50, n_test=50, **kwargs)
    with pytest.raises(ValueError, match=message):
        load_dataset("mnist", data_dir=isolated / "bad", download=False)


def test_count_mismatch_is_reported(isolated):
    make_idx_set(isolated / "bad")
    write_idx(isolated / "bad" / "t10k-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"holds 4 images but .*t10k-labels.* holds 3 labels"):
        load_dataset("mnist", data_dir=isolated / "bad", download=False)


def test_not_found_lists_every_place_and_the_remedy(isolated, monkeypatch):
    monkeypatch.setenv("MITBADAK_DATA", str(isolated / "env"))
    partial = isolated / "partial"
    make_idx_set(partial)
    (partial / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashion-mnist", data_dir=partial, download=False)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert f"{partial}: missing t10k-images-idx3-ubyte" in message
    for place in (
        "env/fashion-mnist",
        "home/.cache/mitbadak/fashion-mnist",
        "system/fashion-mnist",
    ):
        assert f"{isolated / place}: no such directory" in message
    assert "download=False" in message
    assert (
        "data_dir" in message and "MITBADAK_DATA" in message and "dataset-fashion-mnist" in message
    )
