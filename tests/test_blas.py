"""mitbadak.blas: OpenBLAS gets the cores the rest of the machine leaves free, or a pinned count.

The policy is tested on a recorded load (no real busy process: fast and deterministic); the
binding to OpenBLAS is tested on the library NumPy really loaded."""

import os
import subprocess
import sys

import numpy as np
import pytest

from mitbadak import blas


@pytest.fixture
def fake_blas(monkeypatch):
    """A 2-core machine whose OpenBLAS started with 2 threads; records what adapt() sets."""
    calls: list[int] = []
    samples: list[tuple[float, float, float]] = []
    monkeypatch.setattr(blas, "_initialized", True)
    monkeypatch.setattr(blas, "_set_num_threads", calls.append)
    monkeypatch.setattr(blas, "_start_threads", 2)
    monkeypatch.setattr(blas, "_threads", 2)
    monkeypatch.setattr(blas, "_cores", {0, 1})
    monkeypatch.setattr(blas, "_pinned", None)
    monkeypatch.setattr(blas, "_last", None)
    monkeypatch.setattr(blas, "_others", 0.0)
    monkeypatch.setattr(blas, "_read_load", lambda: samples.pop(0))

    def look(wall: float, busy: float, own: float) -> None:
        samples.append((wall, busy, own))
        monkeypatch.setattr(blas, "_next_look", 0.0)
        blas.adapt()

    return calls, look


def test_a_busy_neighbour_takes_a_thread_and_gives_it_back(fake_blas):
    calls, look = fake_blas
    look(0.0, 0.0, 0.0)
    look(1.0, 2.0, 1.9)  # quiet: our two threads used the two cores
    assert calls == []
    look(2.0, 4.0, 2.9)  # someone else took a whole core: smoothed load 0.5, still 2
    look(3.0, 6.0, 3.9)  # ... and keeps it: smoothed 0.75 cores -> 1 thread
    assert calls == [1]
    look(4.0, 7.0, 4.9)  # they left: load 0.375 -> 2 threads again
    assert calls == [1, 2]


def test_between_looks_adapt_reads_nothing(fake_blas, monkeypatch):
    calls, look = fake_blas
    look(0.0, 0.0, 0.0)
    monkeypatch.setattr(blas, "_next_look", float("inf"))
    blas.adapt()  # would pop from an empty list of samples if it looked
    assert calls == []


def test_pinned_threads_do_not_adapt(fake_blas):
    calls, look = fake_blas
    blas.set_threads(1)
    assert calls == [1]
    look(0.0, 0.0, 0.0)  # not read: pinned
    blas.set_threads(None)  # adapting again starts from the count OpenBLAS began with
    assert calls == [1, 2]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_threads_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match="positive integer or None"):
        blas.set_threads(bad)


def test_the_environment_variable_pins_or_is_refused_by_name():
    code = ("from mitbadak import blas; import numpy as np; blas.adapt(); print(blas.threads())")
    pinned = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "MITBADAK_BLAS_THREADS": "1"}, check=False)
    if pinned.stdout.strip() != "None":  # NumPy's BLAS is OpenBLAS here
        assert pinned.stdout.strip() == "1", pinned.stderr
    bad = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "MITBADAK_BLAS_THREADS": "many"}, check=False)
    assert "MITBADAK_BLAS_THREADS must be 'auto' or a positive integer, got 'many'" in bad.stderr


def test_the_real_openblas_takes_the_count():
    start = blas.threads()
    if start is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    a = np.random.default_rng(0).standard_normal((64, 64))
    try:
        blas.set_threads(1)
        assert blas.threads() == 1
        np.testing.assert_allclose(a @ a, (a[:, None, :] * a.T[None]).sum(-1), rtol=1e-10)
    finally:
        blas.set_threads(start)
    assert blas.threads() == start


def test_the_command_line_refuses_a_bad_setting_in_one_line(capsys, monkeypatch, tmp_path):
    from helpers import usage_error

    monkeypatch.setenv("MITBADAK_BLAS_THREADS", "0")
    usage_error(capsys, ["train", "--epochs", "1", "--out", str(tmp_path)],
                "MITBADAK_BLAS_THREADS must be 'auto' or a positive integer, got '0'")
    assert not any(tmp_path.iterdir())  # refused before any work
