"""``mitbadak train``, ``evaluate`` and ``predict``: the files they write, what they print, and
one clear line with exit status 2 for each kind of user error."""

import json

import matplotlib.image
import numpy as np
import pytest

from helpers import usage_error
from mitbadak.cli import main
from mitbadak.data import load_dataset
from mitbadak.training import checkpoint
from mitbadak.training.trainer import Trainer, predict

TINY = ["--hidden", "16", "--epochs", "2", "--quiet"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny digits run, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("run")
    assert main(["train", *TINY, "--out", str(out)]) == 0
    return out




# ---------------------------------------------------------------------------------- train
def test_train_writes_the_run_and_summarises_it(run_dir, capsys):
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == ["best.npz", "curves.png", "history.csv", "history.json", "last.npz"]
    history = json.loads((run_dir / "history.json").read_text())
    assert history["epoch"] == [1, 2]
    assert (run_dir / "curves.png").read_bytes().startswith(b"\x89PNG")
    saved = checkpoint.load(run_dir / "last.npz")
    assert saved.model_config["hidden_sizes"] == [16]
    assert saved.meta["settings"]["dataset"] == "digits"


def test_train_default_reaches_97_percent_on_digits(tmp_path, capsys):
    """What `make demo` runs: the defaults, on the built-in digits."""
    assert main(["train", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["test_accuracy"][-1] >= 0.97
    assert f"test accuracy {history['test_accuracy'][-1]:.4f}" in out
    assert f"figure: {tmp_path / 'curves.png'}" in out


def test_resume_continues_bit_for_bit(tmp_path, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    options = ["--hidden", "16", "--dropout", "0.2", "--quiet"]
    assert main(["train", *options, "--epochs", "3", "--out", str(straight)]) == 0
    assert main(["train", *options, "--epochs", "1", "--out", str(split)]) == 0
    assert main(["train", "--resume", str(split / "last.npz"), "--epochs", "3", "--quiet"]) == 0
    a, b = (checkpoint.load(d / "last.npz").model.state_dict() for d in (straight, split))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert json.loads((split / "history.json").read_text())["epoch"] == [1, 2, 3]


def test_an_interrupted_run_resumes_to_its_epochs(tmp_path, capsys, monkeypatch):
    """Ctrl-C after epoch 1 of 3 of a cosine schedule; --resume alone finishes it exactly."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    options = ["--hidden", "16", "--schedule", "cosine", "--epochs", "3", "--quiet"]
    assert main(["train", *options, "--out", str(straight)]) == 0
    report = Trainer._report

    def interrupted(self, *args):
        report(self, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_report", interrupted)
    assert main(["train", *options, "--out", str(split)]) == 130
    assert f"continue with: mitbadak train --resume {split / 'last.npz'}" in (
        capsys.readouterr().err)
    monkeypatch.undo()
    assert main(["train", "--resume", str(split / "last.npz"), "--quiet"]) == 0
    a, b = (checkpoint.load(d / "last.npz").model.state_dict() for d in (straight, split))
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_resume_refuses_new_settings_and_finished_runs(run_dir, capsys):
    last = str(run_dir / "last.npz")
    usage_error(capsys, ["train", "--resume", last, "--epochs", "3", "--lr", "0.1",
                         "--hidden", "5"], "drop --hidden, --lr")
    usage_error(capsys, ["train", "--resume", last, "--quiet"],
                "has completed 2 epochs already")


def test_train_refuses_to_overwrite_a_run(run_dir, capsys):
    usage_error(capsys, ["train", *TINY, "--out", str(run_dir)], "already holds a run")


@pytest.mark.parametrize(("argv", "expected"), [
    (["--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["--hidden", "100,x"], "expected positive layer sizes separated by commas"),
    (["--hidden", "0"], "expected positive layer sizes"),
    (["--dropout", "1"], "expected a probability in [0, 1)"),
    (["--lr", "-1"], "expected a positive number"),
    (["--epochs", "0"], "expected a positive integer"),
    (["--init", "bogus"], "unknown init 'bogus'"),
    (["--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
    (["--dataset", "mnist", "--data-dir", "/nonexistent"], "mnist: no usable copy found"),
])  # fmt: skip
def test_train_bad_arguments(capsys, tmp_path, monkeypatch, argv, expected):
    monkeypatch.setenv("HOME", str(tmp_path))  # no cached MNIST
    monkeypatch.setattr("mitbadak.data.datasets.SYSTEM_DIR", tmp_path)
    monkeypatch.setattr("mitbadak.data.datasets.MIRRORS", {"mnist": ("http://127.0.0.1:9/",)})
    usage_error(capsys, ["train", *argv, "--quiet", "--out", str(tmp_path / "o")], expected,
                one_line="no usable copy" not in expected)  # that one lists where it looked


def test_diverging_run_stops_with_status_1(tmp_path, capsys):
    status = main(["train", "--optimizer", "sgd", "--lr", "1e6", "--no-batchnorm", "--quiet",
                   "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 1
    assert "training diverged: the loss is nan at epoch 1, iteration" in err


# ------------------------------------------------------------------------------- evaluate
def test_evaluate_prints_accuracies_and_draws_the_confusion_matrix(run_dir, tmp_path, capsys):
    assert main(["evaluate", str(run_dir / "last.npz"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    saved = checkpoint.load(run_dir / "last.npz")
    _, (x, t) = load_dataset("digits")
    accuracy = (predict(saved.model, x).argmax(axis=1) == t).mean()
    assert f"digits test set: accuracy {accuracy:.4f}" in out
    assert "class  accuracy  correct" in out and "confusion matrix" in out
    assert sum(line.startswith("true ") for line in out.splitlines()) == 10
    assert (tmp_path / "confusion.png").read_bytes().startswith(b"\x89PNG")


def test_evaluate_bad_checkpoints(run_dir, tmp_path, capsys):
    usage_error(capsys, ["evaluate", str(tmp_path / "none.npz")], "none.npz: no such file")
    broken = tmp_path / "broken.npz"
    broken.write_bytes((run_dir / "last.npz").read_bytes()[:1000])
    usage_error(capsys, ["evaluate", str(broken)], "broken.npz: cannot be read: damaged")
    usage_error(capsys, ["evaluate", str(run_dir / "last.npz"), "--dataset", "fashion-mnist",
                         "--data-dir", str(tmp_path)], "fashion-mnist")


# -------------------------------------------------------------------------------- predict
def test_predict_classifies_dark_on_light_pictures(run_dir, tmp_path, capsys):
    """Test digits drawn black on white at 8x the size, as a user's scan would be."""
    saved = checkpoint.load(run_dir / "last.npz")
    _, (x, _) = load_dataset("digits")
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"digit{i}.png")
        matplotlib.image.imsave(paths[-1], 1 - np.kron(x[i].reshape(8, 8), np.ones((8, 8))),
                                cmap="gray", vmin=0, vmax=1)
    assert main(["predict", str(run_dir / "last.npz"), *map(str, paths)]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = predict(saved.model, x[:4]).argmax(axis=1)
    for line, path, label in zip(lines, paths, expected):
        assert line.startswith(f"{path}: {label} ") and line.count("%") == 3


def test_prepare_image_handles_jpeg_transparency_and_aspect_ratio(tmp_path):
    from PIL import Image

    from mitbadak.cli.predict import prepare_image

    _, (x, _) = load_dataset("digits")
    ink = np.kron(x[5].reshape(8, 8), np.ones((10, 10)))  # 80x80, light on dark
    paper = (255 * (1 - ink)).astype(np.uint8)  # dark on light, as scanned
    rgba = np.zeros((80, 80, 4), np.uint8)
    rgba[..., 3] = 255 - paper  # black ink, transparent background
    wide = np.full((80, 160), 255, np.uint8)
    wide[:, 40:120] = paper
    for name, pixels in (("g.jpg", paper), ("rgb.jpg", np.stack([paper] * 3, -1)),
                         ("rgba.png", rgba), ("wide.png", wide)):
        Image.fromarray(pixels).save(tmp_path / name, **({"quality": 95} if "jpg" in name
                                                          else {}))
    for name in ("g.jpg", "rgb.jpg", "rgba.png"):
        assert np.abs(prepare_image(tmp_path / name, 8).reshape(-1) - x[5]).max() < 0.02
    padded = prepare_image(tmp_path / "wide.png", 16)  # padded to 160x160, so the digit
    assert np.abs(padded[4:12, 4:12].reshape(-1) - x[5]).max() < 0.02  # fills the middle
    assert padded[:4].max() == 0


def test_predict_bad_inputs(run_dir, tmp_path, capsys):
    ckpt = str(run_dir / "last.npz")
    usage_error(capsys, ["predict", ckpt, str(tmp_path / "missing.png")],
                "cannot read image")
    (tmp_path / "fake.png").write_text("not an image")
    usage_error(capsys, ["predict", ckpt, str(tmp_path / "fake.png")], "cannot read image")
    usage_error(capsys, ["predict", str(tmp_path / "none.npz"), str(tmp_path / "fake.png")],
                "no such file")
    usage_error(capsys, ["predict", ckpt, str(tmp_path / "fake.png"), "--top", "0"],
                "--top must be at least 1")


@pytest.mark.parametrize(("command", "flag"), [
    ("train", "--resume"), ("evaluate", "--dataset"), ("predict", "--top")])
def test_help(capsys, command, flag):
    with pytest.raises(SystemExit) as exit:
        main([command, "--help"])
    assert exit.value.code == 0 and flag in capsys.readouterr().out
