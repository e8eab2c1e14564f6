"""Smoke test of benchmarks/bench_peers.py: a quick run of one tiny workload with mitbadak and
the NumPy floor, a peer that is missing, and bad arguments. No timing is asserted."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench_peers  # noqa: E402


def test_quick_run_prints_a_table_and_reports_a_missing_peer(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mygrad", None)  # importing it now raises ImportError
    monkeypatch.delitem(sys.modules, "peers.mygrad_peer", raising=False)
    bench_peers.main(["--quick", "--rounds", "2", "--workloads", "b", "--peers", "floor,mygrad"])
    out = capsys.readouterr().out
    assert "mygrad: not installed" in out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    ratio_header, ratio_row, loss_header, loss_row = rows
    assert ratio_header.split(" | ")[1:] == ["mitbadak ms", "NumPy floor |"]
    assert ratio_row.startswith("| b. 784-100x4-10")
    median, spread = ratio_row.split(" | ")[-1].rstrip(" |").split(" ", 1)
    low, high = (float(v) for v in spread.strip("()").split("–"))
    assert 0 < low <= float(median) <= high
    assert loss_header.split(" | ")[1:] == ["mitbadak", "NumPy floor |"]
    # the same weights, batches and steps: the same loss on the fixed batch, before and after
    ours, floor = ([float(v) for v in cell.split(",")[0].split(" → ")]
                   for cell in loss_row.split(" | ")[1:])
    assert ours == pytest.approx(floor, abs=1e-4)
    assert ours[1] < ours[0]
    assert "NOT TRAINING" not in out


def test_a_workload_the_floor_does_not_cover_is_a_dash():
    result = bench_peers.Result(covered=False)
    assert bench_peers.ratio_cell([1.0], result) == "—"


@pytest.mark.parametrize("args, message", [
    (["--workloads", "z"], "unknown workload z"),
    (["--peers", "keras"], "unknown peer keras"),
    (["--rounds", "0"], "--rounds must be >= 1"),
])
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench_peers.main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_docs_show_the_command_without_the_note():
    line = bench_peers.command_line(["--threads", "1", "--write-docs", "--note", "loaded",
                                     "--rounds", "3"])
    assert line == "python benchmarks/bench_peers.py --threads 1 --rounds 3"


BOOK_ENV = "MITBADAK_BOOK_DIR"
BOOK_DIR = os.environ.get(BOOK_ENV, "")  # read before a fixture clears it
FAKE_LAYERS = '''
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x.reshape(len(x), -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
        return dout @ self.W.T


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0, x)

    def backward(self, dout):
        return np.where(self.mask, 0, dout)


class SoftmaxWithLoss:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y, self.t = e / e.sum(axis=1, keepdims=True), t
        return -np.log(self.y[np.arange(len(t)), t]).mean()

    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx / len(self.t)
'''
FAKE_OPTIMIZER = '''
from peers.base import NumpyAdam


class Adam:
    def __init__(self, lr):
        self.lr, self.adam = lr, None

    def update(self, params, grads):
        if self.adam is None:
            self.adam = NumpyAdam(list(params.values()), self.lr)
        self.adam.step([grads[key] for key in params])
'''


@pytest.fixture
def fresh_book(monkeypatch):
    """The book peer and a `common` package imported anew, sys.path and the variable restored."""
    for name in ("peers.book_peer", "common", "common.layers", "common.optimizer",
                 "common.functions", "common.util"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(BOOK_ENV, raising=False)
    return monkeypatch


def loss_cells(out: str) -> dict[str, tuple[float, ...]]:
    """The loss table's one row: each column's (before, after)."""
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    header, row = rows[2].split(" | ")[1:], rows[3].split(" | ")[1:]
    return {name.rstrip(" |"): tuple(float(v) for v in cell.split(",")[0].split(" → "))
            for name, cell in zip(header, row)}


def test_the_book_peer_without_a_directory_is_skipped_with_one_line(fresh_book, capsys):
    bench_peers.main(["--quick", "--rounds", "1", "--workloads", "b", "--peers", "book"])
    out = capsys.readouterr().out
    skipped = [line for line in out.splitlines() if line.startswith("book:")]
    assert len(skipped) == 1 and "--book-dir DIR or MITBADAK_BOOK_DIR" in skipped[0]
    assert "| book's code" not in out  # no column


def test_a_directory_without_the_books_code_exits_2_with_one_line(fresh_book, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench_peers.main(["--quick", "--workloads", "b", "--peers", "book",
                          "--book-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "has no common/layers.py" in err and str(tmp_path) in err


def test_the_book_peer_composes_a_stand_in_common_package_as_mitbadak_trains(
        fresh_book, tmp_path, capsys):
    """Our own few-line Affine/Relu/SoftmaxWithLoss/Adam with the book's interface: the peer
    wires layers, dW/db and params so that it trains exactly as mitbadak does."""
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("")
    (tmp_path / "common" / "layers.py").write_text(FAKE_LAYERS)
    (tmp_path / "common" / "optimizer.py").write_text(FAKE_OPTIMIZER)
    bench_peers.main(["--quick", "--rounds", "1", "--workloads", "b", "--peers", "book",
                      "--book-dir", str(tmp_path)])
    cells = loss_cells(capsys.readouterr().out)
    assert cells["book's code"] == pytest.approx(cells["mitbadak"], abs=1e-3)
    assert cells["mitbadak"][1] < cells["mitbadak"][0]


@pytest.mark.skipif(not BOOK_DIR, reason=f"{BOOK_ENV} (the book's code) not set")
def test_the_books_own_code_trains_as_mitbadak_does(fresh_book, capsys):
    fresh_book.setenv(BOOK_ENV, BOOK_DIR)
    bench_peers.main(["--quick", "--rounds", "1", "--workloads", "b", "--peers", "book"])
    cells = loss_cells(capsys.readouterr().out)
    assert cells["book's code"][1] < cells["book's code"][0]
    assert cells["book's code"] == pytest.approx(cells["mitbadak"], abs=0.01)
