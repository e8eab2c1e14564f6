"""Progress bars only where someone watches: a notebook's kernel or a terminal; piped output
(a log, CI) gets the Trainer's plain per-epoch lines and no carriage-return bar text."""

import hashlib
import io
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import nn, optim, progress
from mitbadak.data.download import fetch
from mitbadak.training.trainer import Trainer
from test_data_download import Server


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def trainer(quiet=False):
    rng = np.random.default_rng(0)
    x, t = rng.random((40, 4), dtype=np.float32), rng.integers(0, 3, 40)
    mb.manual_seed(0)
    model = nn.MLP(4, [8], 3)
    return Trainer(model, optim.SGD(model.parameters(), lr=0.1), (x, t), (x, t),
                   batch_size=10, quiet=quiet)


@pytest.fixture
def bars(monkeypatch):
    """Records every bar made through tqdm.auto (and still draws it)."""
    import tqdm.auto

    made = []
    real = tqdm.auto.tqdm

    def record(**options):
        made.append(options)
        return real(**options)

    monkeypatch.setattr(tqdm.auto, "tqdm", record)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    return made


def test_piped_output_has_no_bar_only_epoch_lines(capsys, bars):
    trainer().fit(2)
    captured = capsys.readouterr()
    assert bars == []
    assert "\r" not in captured.out + captured.err and captured.err == ""
    assert [line.split(":")[0] for line in captured.out.splitlines()] == ["epoch 1", "epoch 2"]


def test_a_terminal_gets_a_bar(monkeypatch, capsys, bars):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    trainer().fit(1)
    assert len(bars) == 1 and bars[0]["desc"] == "epoch 1/1"
    assert "\r" in terminal.getvalue()  # tqdm drew on it
    assert capsys.readouterr().out.startswith("epoch 1: train loss ")


def test_quiet_makes_no_bar_even_in_a_terminal(monkeypatch, capsys, bars):
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    trainer(quiet=True).fit(1)
    assert bars == [] and capsys.readouterr().out == ""


def test_a_notebook_kernel_gets_a_bar_though_stderr_is_no_tty(monkeypatch, bars):
    assert not progress.shows_progress()
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert progress.shows_progress()
    progress.progress_bar(total=3, file=io.StringIO()).close()
    assert len(bars) == 1


def test_no_stderr_at_all_means_no_bar(monkeypatch, bars):
    monkeypatch.setattr(sys, "stderr", None)
    assert progress.progress_bar(total=3) is None


def test_a_piped_process_prints_no_carriage_returns():
    script = ("import sys; sys.path.insert(0, 'tests'); import test_progress; "
              "test_progress.trainer().fit(2)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["src", os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=os.path.dirname(os.path.dirname(__file__)), check=True)
    assert "\r" not in result.stdout + result.stderr and result.stderr == ""
    assert len(result.stdout.splitlines()) == 2


@pytest.mark.parametrize("terminal, expected", [(False, 0), (True, 1)])
def test_a_download_shows_a_bar_only_in_a_terminal(monkeypatch, tmp_path, bars, terminal,
                                                   expected):
    if terminal:
        monkeypatch.setattr(sys, "stderr", FakeTerminal())
    server = Server()
    try:
        server.routes["/f.bin"] = b"payload"
        fetch([server.url + "/f.bin"], tmp_path / "f.bin",
              hashlib.sha256(b"payload").hexdigest(), progress=True)
    finally:
        server.close()
    assert len(bars) == expected and (tmp_path / "f.bin").read_bytes() == b"payload"
