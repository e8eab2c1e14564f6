"""The real Fashion-MNIST, from Debian's dataset-fashion-mnist package when it is installed."""

from pathlib import Path

import numpy as np
import pytest

from mitbadak.data import CLASSES, load_dataset

SYSTEM_COPY = Path("/usr/share/datasets/fashion-mnist")

pytestmark = pytest.mark.skipif(
    not SYSTEM_COPY.is_dir(),
    reason=f"{SYSTEM_COPY} not found (apt-get install dataset-fashion-mnist)",
)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """Loaded the default way, with no cache or MITBADAK_DATA: the system copy must be found."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        mp.delenv("MITBADAK_DATA", raising=False)
        return load_dataset("fashion-mnist", normalize=False, download=False)


def test_all_70000_images_and_labels(raw):
    (x, t), (xt, tt) = raw
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == xt.dtype == np.uint8
    assert t.shape == (60000,) and tt.shape == (10000,) and t.dtype == np.int64
    assert np.bincount(t, minlength=10).tolist() == [6000] * 10
    assert np.bincount(tt, minlength=10).tolist() == [1000] * 10
    assert x.min() == 0 and x.max() == 255
    # The first training example of Fashion-MNIST is an ankle boot, the first test one too.
    assert CLASSES["fashion-mnist"][t[0]] == CLASSES["fashion-mnist"][tt[0]] == "Ankle boot"


def test_normalized_images(raw):
    (x_raw, _), _ = raw
    (x, _), (xt, _) = load_dataset(
        "fashion-mnist", data_dir=SYSTEM_COPY, flatten=False, download=False
    )
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(x.reshape(60000, 784)[:100], x_raw[:100] / np.float32(255))
