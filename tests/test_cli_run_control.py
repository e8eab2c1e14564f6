"""``mitbadak train`` run control and the CLI's edges (issue 13): training a run further, never
overwriting a later checkpoint, one best epoch, what Ctrl-C and a full disk leave and say, and
one line with exit status 2 (no traceback, no usage block) for every mistake; ``predict`` on
huge, hostile, broken and blank images."""

import errno
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from PIL import Image

from mitbadak import optim
from mitbadak.cli import main
from mitbadak.data import load_dataset
from mitbadak.training import checkpoint
from mitbadak.training import trainer as training
from mitbadak.training.trainer import Trainer

TINY = ["--hidden", "16", "--quiet"]
ONE_BATCH = [*TINY, "--batch-size", "2000", "--lr", "0.01"]  # one update per epoch on digits


def status_and_err(capsys, argv):
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    return status, capsys.readouterr().err


def one_line_error(capsys, argv, expected):
    """``argv`` must exit with status 2 and print exactly one line holding ``expected``."""
    status, err = status_and_err(capsys, argv)
    assert status == 2, err
    assert expected in err and "Traceback" not in err and "usage:" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err


def epoch_of(path):
    return checkpoint.load(path).meta["training"]["epoch"]


def learning_rates(monkeypatch):
    """The learning rate of every update from now on (Adam's step records it)."""
    seen = []
    step = optim.Adam.step

    def recording(self):
        seen.append(self.param_groups[0]["lr"])
        step(self)

    monkeypatch.setattr(optim.Adam, "step", recording)
    return seen


def fixed_accuracies(monkeypatch, accuracies):
    """Make the evaluation after epoch k report accuracy ``accuracies[k - 1]`` (ties on
    purpose), on both sets."""
    monkeypatch.setattr(Trainer, "evaluate",
                        lambda self, x, t: (1.0, accuracies[self.epoch]))


def interrupt_after_saving(monkeypatch, epoch):
    """Ctrl-C right after the checkpoint of ``epoch`` is written."""
    save = Trainer._save

    def saving(self):
        save(self)
        if self.epoch == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_save", saving)


# ------------------------------------------------------------- 1. training a run further
def test_a_finished_cosine_run_trained_further_restarts_its_cosine(tmp_path, capsys,
                                                                   monkeypatch):
    """Its lr is 0 after epoch 2 of 2; epochs 3 and 4 run a new cosine from --lr."""
    assert main(["train", *ONE_BATCH, "--schedule", "cosine", "--epochs", "2",
                 "--out", str(tmp_path)]) == 0
    lrs = learning_rates(monkeypatch)
    assert main(["train", "--resume", str(tmp_path / "last.npz"), "--epochs", "4",
                 "--quiet"]) == 0
    assert lrs == pytest.approx([0.01, 0.005])


def test_an_unfinished_cosine_run_trained_further_anneals_from_where_it_is(tmp_path, capsys,
                                                                          monkeypatch):
    """Stopped after epoch 1 of 4, continued to 6: from the lr of epoch 2 down to 0 at 6; the
    re-planned schedule is saved, so a second stop and resume changes nothing."""
    options = [*ONE_BATCH, "--schedule", "cosine", "--epochs", "4"]
    split, straight = tmp_path / "split", tmp_path / "straight"
    for out in (split, straight):
        interrupt_after_saving(monkeypatch, 1)
        assert main(["train", *options, "--out", str(out)]) == 130
        monkeypatch.undo()
    lrs = learning_rates(monkeypatch)
    assert main(["train", "--resume", str(straight / "last.npz"), "--epochs", "6",
                 "--quiet"]) == 0
    now = 0.01 * (1 + math.cos(math.pi / 4)) / 2  # epoch 2's lr on the old cosine
    assert lrs == pytest.approx([now * (1 + math.cos(math.pi * k / 5)) / 2 for k in range(5)])
    interrupt_after_saving(monkeypatch, 3)
    assert main(["train", "--resume", str(split / "last.npz"), "--epochs", "6",
                 "--quiet"]) == 130
    monkeypatch.undo()
    assert main(["train", "--resume", str(split / "last.npz"), "--quiet"]) == 0
    a, b = (checkpoint.load(d / "last.npz").model.state_dict() for d in (split, straight))
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_constant_run_trained_further_keeps_its_lr(tmp_path, capsys, monkeypatch):
    assert main(["train", *ONE_BATCH, "--epochs", "1", "--out", str(tmp_path)]) == 0
    lrs = learning_rates(monkeypatch)
    assert main(["train", "--resume", str(tmp_path / "last.npz"), "--epochs", "3",
                 "--quiet"]) == 0
    assert lrs == [0.01, 0.01]


# ------------------------------------------------- 2. a later checkpoint is never destroyed
def test_resuming_an_earlier_checkpoint_refuses_to_overwrite_a_later_one(tmp_path, capsys):
    run, other = tmp_path / "run", tmp_path / "other"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(run)]) == 0
    shutil.copy(run / "last.npz", run / "epoch1.npz")
    assert main(["train", "--resume", str(run / "last.npz"), "--epochs", "3", "--quiet"]) == 0
    later = (run / "last.npz").read_bytes()
    err = one_line_error(capsys, ["train", "--resume", str(run / "epoch1.npz"), "--epochs", "2",
                                  "--quiet"], f"{run / 'last.npz'} (epoch 3) would be overwritten")
    assert "--out NEW_DIR" in err and "--overwrite" in err
    assert (run / "last.npz").read_bytes() == later
    assert main(["train", "--resume", str(run / "epoch1.npz"), "--epochs", "2", "--quiet",
                 "--out", str(other)]) == 0
    assert epoch_of(other / "last.npz") == 2 and epoch_of(run / "last.npz") == 3
    one_line_error(capsys, ["train", "--resume", str(run / "epoch1.npz"), "--epochs", "2",
                            "--quiet", "--out", str(other)], "(epoch 2) would be overwritten")
    assert main(["train", "--resume", str(run / "epoch1.npz"), "--epochs", "2", "--quiet",
                 "--overwrite"]) == 0
    assert epoch_of(run / "last.npz") == 2


def test_a_new_run_replaces_another_only_with_overwrite(tmp_path, capsys):
    assert main(["train", *TINY, "--epochs", "1", "--out", str(tmp_path)]) == 0
    one_line_error(capsys, ["train", *TINY, "--epochs", "2", "--out", str(tmp_path)],
                   "or replace it with --overwrite")
    assert main(["train", *TINY, "--epochs", "2", "--out", str(tmp_path), "--overwrite"]) == 0
    assert epoch_of(tmp_path / "last.npz") == 2


# ------------------------------------------------ 3. and 5. the best epoch, said truly
def test_ties_name_the_first_best_epoch_in_the_summary_and_best_npz(tmp_path, capsys,
                                                                   monkeypatch):
    fixed_accuracies(monkeypatch, [0.5, 0.7, 0.7, 0.6])
    assert main(["train", *TINY, "--epochs", "4", "--out", str(tmp_path)]) == 0
    assert "best 0.7000 at epoch 2\n" in capsys.readouterr().out
    assert epoch_of(tmp_path / "best.npz") == 2


def continued_elsewhere(tmp_path, capsys, monkeypatch, accuracies):
    """Train 2 epochs into first/, then resume to 3 epochs into other/: (first, other, the
    second run's output)."""
    fixed_accuracies(monkeypatch, accuracies)
    first, other = tmp_path / "first", tmp_path / "other"
    assert main(["train", *TINY, "--epochs", "2", "--out", str(first)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(first / "last.npz"), "--epochs", "3", "--quiet",
                 "--out", str(other)]) == 0
    out = capsys.readouterr().out
    return first, other, out


def test_a_run_continued_elsewhere_has_its_best_there_when_the_best_is_the_resumed_epoch(
        tmp_path, capsys, monkeypatch):
    first, other, out = continued_elsewhere(tmp_path, capsys, monkeypatch, [0.5, 0.9, 0.7])
    assert "best 0.9000 at epoch 2\n" in out
    assert f"run saved in {other}/: last.npz, best.npz, history.json, history.csv" in out
    assert epoch_of(other / "best.npz") == 2


def test_a_run_continued_elsewhere_says_where_an_earlier_best_is(tmp_path, capsys,
                                                                 monkeypatch):
    first, other, out = continued_elsewhere(tmp_path, capsys, monkeypatch, [0.9, 0.5, 0.7])
    assert f"best 0.9000 at epoch 1 (its checkpoint: {first / 'best.npz'})" in out
    assert f"run saved in {other}/: last.npz, history.json, history.csv\n" in out
    assert not (other / "best.npz").exists()


# -------------------------------------------------------- 6. what Ctrl-C leaves and says
def test_ctrl_c_in_the_first_epoch_says_nothing_was_saved(tmp_path, capsys, monkeypatch):
    def interrupted(self, x, t):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "evaluate", interrupted)
    argv = ["train", *TINY, "--epochs", "3", "--out", str(tmp_path)]
    status, err = status_and_err(capsys, argv)
    assert status == 130
    assert err == ("interrupted: nothing was saved (no epoch finished); run the same command "
                   f"again: mitbadak train --hidden 16 --quiet --epochs 3 --out {tmp_path}\n")


def test_ctrl_c_after_the_last_checkpoint_draws_the_curves_and_says_it_is_complete(
        tmp_path, capsys, monkeypatch):
    fit = Trainer.fit

    def interrupted(self, epochs):
        fit(self, epochs)
        raise KeyboardInterrupt  # before the summary and the figure

    monkeypatch.setattr(Trainer, "fit", interrupted)
    status, err = status_and_err(capsys, ["train", *TINY, "--epochs", "2", "--out",
                                          str(tmp_path)])
    assert status == 130
    assert "the run is complete" in err and "nothing is left to do" in err
    assert "--resume" not in err
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_ctrl_c_between_last_npz_and_the_history_leaves_them_in_line(tmp_path, capsys,
                                                                     monkeypatch):
    write, calls = training.History.write, []

    def interrupted_once(self, directory):
        calls.append(directory)
        if len(calls) == 1:
            raise KeyboardInterrupt
        write(self, directory)

    monkeypatch.setattr(training.History, "write", interrupted_once)
    status, err = status_and_err(capsys, ["train", *TINY, "--epochs", "3", "--out",
                                          str(tmp_path)])
    assert status == 130
    last = tmp_path / "last.npz"
    assert err.startswith(f"interrupted: epoch 1 of 3 is saved in {last}; continue with: "
                          f"mitbadak train --resume {last}; figure: {tmp_path / 'curves.png'}")
    assert json.loads((tmp_path / "history.json").read_text())["epoch"] == [1]
    assert (tmp_path / "curves.png").exists()


def test_ctrl_c_before_a_resumed_run_saves_repeats_the_command(tmp_path, capsys, monkeypatch):
    assert main(["train", *TINY, "--epochs", "1", "--out", str(tmp_path)]) == 0
    def interrupted(self, x, t):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "evaluate", interrupted)
    last = str(tmp_path / "last.npz")
    status, err = status_and_err(capsys, ["train", "--resume", last, "--epochs", "3", "--quiet"])
    assert status == 130
    assert err == (f"interrupted: nothing new was saved ({last} holds epoch 1); run the same "
                   f"command again: mitbadak train --resume {last} --epochs 3 --quiet\n")


def test_a_real_sigint_after_an_epoch_names_the_checkpoint_that_continues(tmp_path):
    """A subprocess, interrupted by a real SIGINT once it has printed epoch 1's line."""
    code = "import sys; from mitbadak.cli import main; sys.exit(main())"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    # Ctrl-C's default action in the child even when pytest itself ignores SIGINT (as a shell
    # makes a job started with `&` do), since an ignored signal is inherited through exec
    process = subprocess.Popen(
        [sys.executable, "-c", code, "train", "--hidden", "16", "--epochs", "1000", "--out",
         str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in process.stdout:
            if line.startswith("epoch 1:"):
                break
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert f"continue with: mitbadak train --resume {tmp_path / 'last.npz'}" in err
    assert "Traceback" not in err
    saved = int(err.split("interrupted: epoch ")[1].split()[0])
    assert epoch_of(tmp_path / "last.npz") == saved >= 1
    assert json.loads((tmp_path / "history.json").read_text())["epoch"][-1] == saved


# ------------------------------------------- 8. one line and status 2, never a traceback
@pytest.mark.parametrize(("argv", "expected"), [
    (["train", "--seed", "-1"], "argument --seed: expected an integer >= 0, got '-1'"),
    (["experiment", "gradient-check", "--seed", "-3"], "expected an integer >= 0"),
    (["train", "--dataset", "cifar"], "(see `mitbadak train --help`)"),
    (["evaluate"], "(see `mitbadak evaluate --help`)"),
    (["bogus"], "(see `mitbadak --help`)"),
    (["train", "--batch-size", "1", "--epochs", "1"], "BatchNorm cannot train on batches of one"),
    (["train", "--hidden", "1000000,1000000"], "the model would have 1,000,084,000,010 "
                                               "parameters and need about 16001.3 GB to train"),
])  # fmt: skip
def test_mistakes_are_one_line(capsys, tmp_path, argv, expected):
    one_line_error(capsys, [*argv, "--out", str(tmp_path / "o")], expected)


def test_an_out_that_cannot_hold_a_run(tmp_path, capsys, monkeypatch):
    file = tmp_path / "file"
    file.write_text("not a directory")
    one_line_error(capsys, ["train", *TINY, "--out", str(file)], f"{file}: a file, not a dir")
    one_line_error(capsys, ["train", *TINY, "--out", str(file / "run")],
                   f"{file / 'run'}: cannot create the directory (Not a directory)")
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # read-only, even for root
    one_line_error(capsys, ["train", *TINY, "--out", str(tmp_path / "ro")],
                   "cannot write in this directory (permission denied)")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_out(tmp_path, capsys):
    tmp_path.chmod(0o555)
    try:
        one_line_error(capsys, ["train", *TINY, "--out", str(tmp_path)],
                       "cannot write in this directory")
    finally:
        tmp_path.chmod(0o755)


def test_a_full_disk_while_saving_says_what_is_saved(tmp_path, capsys, monkeypatch):
    save = checkpoint.save

    def filling(path, *args, **meta):
        if meta["training"]["epoch"] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return save(path, *args, **meta)

    monkeypatch.setattr(checkpoint, "save", filling)
    last = tmp_path / "last.npz"
    err = one_line_error(capsys, ["train", *TINY, "--epochs", "3", "--out", str(tmp_path)],
                         f"cannot save the run in {tmp_path}: ")
    assert "No space left on device" in err
    assert f"epoch 1 of 3 is saved in {last}; continue with: mitbadak train --resume {last}" in err
    assert epoch_of(last) == 1


def test_evaluate_in_a_directory_it_cannot_write(tmp_path, capsys, monkeypatch):
    assert main(["train", *TINY, "--epochs", "1", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    one_line_error(capsys, ["evaluate", str(tmp_path / "last.npz")], "cannot write in this dir")
    assert capsys.readouterr().out == ""  # refused before the work, not after it
    monkeypatch.undo()

    def denied(matrix, names, path, title=""):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr("mitbadak.viz.figures.confusion_matrix", denied)
    one_line_error(capsys, ["evaluate", str(tmp_path / "last.npz")],
                   f"{tmp_path / 'confusion.png'}: Permission denied")


def test_a_bug_keeps_its_traceback(tmp_path, monkeypatch):
    def bug(self, epochs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(Trainer, "fit", bug)
    with pytest.raises(ZeroDivisionError):
        main(["train", *TINY, "--out", str(tmp_path)])


# ------------------------------------------------------------------------ 11. predict
@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", *TINY, "--epochs", "2", "--out", str(out)]) == 0
    return out


def test_a_long_thin_image_costs_what_its_output_does(tmp_path):
    from mitbadak.cli.predict import prepare_image

    line = np.full((2, 3000), 255, np.uint8)
    line[:, 1000:2000] = 0  # a dark dash on white
    Image.fromarray(line).save(tmp_path / "line.png")
    tracemalloc.start()
    try:
        pixels = prepare_image(tmp_path / "line.png", 28)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # padding first made a 3000x3000 float64 square: 72 MB
    assert pixels.shape == (28, 28) and pixels.max() == 1
    Image.fromarray(np.repeat(np.uint8([[0], [255]]), 50_000, axis=0)).save(tmp_path / "tall.png")
    assert prepare_image(tmp_path / "tall.png", 28).shape == (28, 28)


def test_predict_refuses_a_decompression_bomb(digits_run, tmp_path, capsys, monkeypatch):
    picture = np.zeros((40, 40), np.uint8)
    picture[10:30, 18:22] = 255
    Image.fromarray(picture).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 1,600 pixels: Pillow only warns
    one_line_error(capsys, ["predict", str(digits_run / "last.npz"), str(tmp_path / "bomb.png")],
                   "exceeds limit of 1000 pixels")


def test_predict_reports_each_image_and_exits_2_if_any_failed(digits_run, tmp_path, capsys):
    _, (x, _) = load_dataset("digits")
    good, bad, blank = tmp_path / "good.png", tmp_path / "bad.png", tmp_path / "blank.png"
    matplotlib.image.imsave(good, np.kron(x[0].reshape(8, 8), np.ones((4, 4))), cmap="gray")
    bad.write_text("not an image")
    Image.new("L", (30, 30), 255).save(blank)
    status = main(["predict", str(digits_run / "last.npz"), str(good), str(bad), str(blank)])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out.startswith(f"{good}: ") and captured.out.count("\n") == 1
    errors = captured.err.splitlines()
    assert len(errors) == 2 and "Traceback" not in captured.err
    assert errors[0].startswith(f"mitbadak predict: error: cannot read image {bad}")
    assert errors[1] == (f"mitbadak predict: error: {blank}: the image carries no ink (it is "
                         "blank: its grey levels span 0.0%)")


def test_predict_reads_16_bit_and_palette_images(tmp_path):
    from mitbadak.cli.predict import prepare_image

    _, (x, _) = load_dataset("digits")
    ink = np.kron(x[3].reshape(8, 8), np.ones((4, 4)))
    Image.fromarray((65535 * ink).astype(np.uint16)).save(tmp_path / "deep.png")
    Image.fromarray((255 * ink).astype(np.uint8)).convert("P").save(tmp_path / "palette.png")
    for name in ("deep.png", "palette.png"):
        assert np.abs(prepare_image(tmp_path / name, 8).reshape(-1) - x[3]).max() < 0.01
