"""The datasets: `load_dataset("digits" | "mnist" | "fashion-mnist")`, as the book's `load_mnist`.

``digits`` ships inside the package, so everything works offline: the test set of the UCI
"Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak, UCI Machine Learning
Repository, 1998, https://doi.org/10.24432/C50P49, CC BY 4.0), 1,797 images of 8x8 with values
0..16, taken from scikit-learn's copy (``sklearn/datasets/data/digits.csv.gz``). The split is
fixed and stored in ``digits.npz``: 36 images of each class (chosen by a permutation from
``numpy.random.default_rng(0)``, drawn once at conversion) form the 360-image test set, the other
1,437 the training set; ``train_index``/``test_index`` give the rows of the csv. The file's
SHA-256 is checked on every load.

``mnist`` and ``fashion-mnist`` are the four standard IDX files (60,000 training and 10,000 test
images of 28x28), looked for, in order, in

1. ``data_dir`` (the argument),
2. ``$MITBADAK_DATA/<name>``,
3. the download cache ``~/.cache/mitbadak/<name>``,
4. ``/usr/share/datasets/<name>`` (Debian's ``dataset-fashion-mnist`` package installs there),

and otherwise downloaded into the cache from the first mirror that works. Files in the cache are
the official ones and are checked against their official SHA-256; files anywhere else are only
checked for structure (IDX header, 28x28 uint8 images, labels 0..9, matching counts), so you can
bring your own data of the same layout -- and Debian's files, which are recompressed, still load.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mitbadak.data.download import DownloadError, fetch, sha256_of
from mitbadak.data.idx import read_idx

DATASETS = ("digits", "mnist", "fashion-mnist")

_DIGIT_NAMES = tuple(str(d) for d in range(10))
CLASSES: dict[str, tuple[str, ...]] = {
    "digits": _DIGIT_NAMES,
    "mnist": _DIGIT_NAMES,
    "fashion-mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
}  # fmt: skip

DIGITS_PATH = Path(__file__).with_name("digits.npz")
DIGITS_SHA256 = "6ccb8ac2b353524a336ffaee2937ffa8aecc848c437bd9c3be6def69a1a8ced1"

# The four files, by role, without the ".gz" that the official copies carry.
FILES = {
    "x_train": "train-images-idx3-ubyte",
    "t_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "t_test": "t10k-labels-idx1-ubyte",
}

# SHA-256 of the official .gz files, by role, as published in TensorFlow Datasets'
# url_checksums/mnist.txt and url_checksums/fashion_mnist.txt.
SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "x_train": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "t_train": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "x_test": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t_test": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "x_train": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "t_train": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "x_test": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t_test": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

# Base URLs, tried in order; the file name is appended.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

SYSTEM_DIR = Path("/usr/share/datasets")
IMAGE_SIZE = (28, 28)


class DatasetNotFoundError(RuntimeError):
    """No usable copy of a dataset was found and none could be downloaded."""


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    normalize: bool = True,
    flatten: bool = True,
    one_hot: bool = False,
    *,
    mirrors: Sequence[str] | None = None,
    download: bool = True,
    progress: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return ``(x_train, t_train), (x_test, t_test)`` of dataset `name`.

    Images are float32 in [0, 1] when `normalize` (divided by 255, or by 16 for digits), else
    uint8; shaped (N, H*W) when `flatten`, else (N, 1, H, W). Labels are int64 of shape (N,), or
    float32 one-hot rows of shape (N, 10) when `one_hot`. `data_dir` is looked in first;
    `mirrors` replaces ``MIRRORS[name]``; ``download=False`` never touches the network.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    if name == "digits":
        arrays, scale = _load_digits(), 16.0
    else:
        urls = MIRRORS[name] if mirrors is None else tuple(mirrors)
        arrays, scale = _load_idx_dataset(name, data_dir, urls, download, progress), 255.0
    x_train, x_test = (_images(arrays[k], scale, normalize, flatten) for k in ("x_train", "x_test"))
    t_train, t_test = (_labels(arrays[k], one_hot) for k in ("t_train", "t_test"))
    return (x_train, t_train), (x_test, t_test)


def _images(x: np.ndarray, scale: float, normalize: bool, flatten: bool) -> np.ndarray:
    if normalize:
        x = np.divide(x, np.float32(scale), dtype=np.float32)
    n, *image = x.shape
    return x.reshape(n, int(np.prod(image))) if flatten else x.reshape(n, 1, *image)


def _labels(t: np.ndarray, one_hot: bool) -> np.ndarray:
    return np.eye(10, dtype=np.float32)[t] if one_hot else t.astype(np.int64)


def _load_digits() -> dict[str, np.ndarray]:
    blob = DIGITS_PATH.read_bytes()
    found = hashlib.sha256(blob).hexdigest()
    if found != DIGITS_SHA256:
        raise RuntimeError(
            f"{DIGITS_PATH} is damaged: SHA-256 {found}, expected {DIGITS_SHA256}; "
            "reinstall mitbadak"
        )
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return {k: npz[k] for k in FILES}


def _load_idx_dataset(
    name: str,
    data_dir: str | os.PathLike | None,
    urls: Sequence[str],
    allow_download: bool,
    progress: bool,
) -> dict[str, np.ndarray]:
    looked = []  # one line per place, for the error message

    def user_copy(directory: Path | None) -> dict[str, np.ndarray] | None:
        if directory is None:
            return None
        paths = _find_files(directory)
        if paths is None:
            looked.append(f"  {directory}: {_missing(directory)}")
            return None
        return _read_checked(paths)

    env = os.environ.get("MITBADAK_DATA")
    cache = Path.home() / ".cache" / "mitbadak" / name
    cached = {role: cache / f"{stem}.gz" for role, stem in FILES.items()}
    for directory in (
        Path(data_dir) if data_dir is not None else None,
        Path(env) / name if env else None,
    ):
        if (arrays := user_copy(directory)) is not None:
            return arrays

    bad = _unverified_cache_files(name, cache)
    if not bad:
        return _read_checked(cached)
    if cache.is_dir():
        looked.append(f"  {cache}: " + "; ".join(f"{f} {why}" for f, why in bad.items()))
    else:
        looked.append(f"  {cache}: no such directory")

    if (arrays := user_copy(SYSTEM_DIR / name)) is not None:
        return arrays

    failures = []
    if allow_download:
        for file in bad:
            try:
                file_urls = [u.rstrip("/") + "/" + file for u in urls]
                fetch(file_urls, cache / file, _cache_sha256(name)[file], progress=progress)
            except DownloadError as e:
                failures.append(str(e))
        if not failures:
            return _read_checked(cached)
    raise DatasetNotFoundError(_not_found_message(name, looked, failures, allow_download))


def _find_files(directory: Path) -> dict[str, Path] | None:
    """The four files in `directory` (``.gz`` or uncompressed), or None if any is missing."""
    found = {}
    for role, stem in FILES.items():
        path = next((p for p in (directory / f"{stem}.gz", directory / stem) if p.is_file()), None)
        if path is None:
            return None
        found[role] = path
    return found


def _missing(directory: Path) -> str:
    if not directory.is_dir():
        return "no such directory"
    present = {p.name for p in directory.iterdir()}
    absent = [s for s in FILES.values() if s not in present and f"{s}.gz" not in present]
    return "missing " + ", ".join(absent)


def _cache_sha256(name: str) -> dict[str, str]:
    """Expected SHA-256 of each file of the cache, by file name."""
    return {f"{FILES[role]}.gz": digest for role, digest in SHA256[name].items()}


def _unverified_cache_files(name: str, cache: Path) -> dict[str, str]:
    """Cache files that are absent or fail their checksum, each with the reason."""
    bad = {}
    for file, expected in _cache_sha256(name).items():
        path = cache / file
        if not path.is_file():
            bad[file] = "missing"
        elif sha256_of(path) != expected:
            bad[file] = "fails its SHA-256 check"
    return bad


def _read_checked(paths: dict[str, Path]) -> dict[str, np.ndarray]:
    """Read the four files and check they form an image-classification set of 28x28 images."""
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for split in ("train", "test"):
        x, t = arrays[f"x_{split}"], arrays[f"t_{split}"]
        xp, tp = paths[f"x_{split}"], paths[f"t_{split}"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != IMAGE_SIZE:
            raise ValueError(
                f"{xp}: expected uint8 images of shape (N, 28, 28), found {x.dtype} {x.shape}"
            )
        if t.dtype != np.uint8 or t.ndim != 1:
            raise ValueError(
                f"{tp}: expected uint8 labels of shape (N,), found {t.dtype} {t.shape}"
            )
        if len(x) != len(t):
            raise ValueError(f"{xp} holds {len(x)} images but {tp} holds {len(t)} labels")
        if len(t) and t.max() > 9:
            raise ValueError(f"{tp}: labels must be 0..9, found {t.max()}")
    return arrays


def _not_found_message(name: str, looked: list[str], failures: list[str], tried: bool) -> str:
    names = ", ".join(f"{stem}.gz" for stem in FILES.values())
    network = "\n".join(failures) if tried else "downloading was switched off (download=False)"
    return (
        f"{name}: no usable copy found. Looked in:\n" + "\n".join(looked) + "\n"
        f"Download: {network}\n"
        f"To provide the files, put {names} (gzip or uncompressed) in a directory and pass it "
        f"as data_dir, or set MITBADAK_DATA to a directory holding a {name!r} folder"
        + (", or install Debian's dataset-fashion-mnist package" if name == "fashion-mnist" else "")
        + "."
    )
