"""``mitbadak train --task language-model`` and ``mitbadak sample``, end to end on a tiny text:
the run's files, exact resume, sampling, and one clear line with exit status 2 for each kind
of user error."""

import json

import numpy as np
import pytest

from helpers import usage_error
from mitbadak.cli import main
from mitbadak.data import Vocabulary
from mitbadak.training import checkpoint
from mitbadak.training.trainer import Trainer

TEXT = ("ROMEO:\nBut, soft! what light through yonder window breaks?\n"
        "JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\n") * 20
TINY = ["--hidden", "16", "--layers", "1", "--seq-len", "8", "--batch-size", "4", "--quiet"]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "play.txt"
    path.write_text(TEXT)
    return path


@pytest.fixture(scope="module")
def run_dir(text_file, tmp_path_factory):
    """One epoch of a tiny LSTM on the text, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("lm")
    assert main(["train", "--text", str(text_file), *TINY, "--epochs", "1",
                 "--out", str(out)]) == 0
    return out




def test_train_writes_the_run_with_perplexity_and_vocabulary(run_dir, text_file):
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == ["best.npz", "curves.png", "history.csv", "history.json", "last.npz"]
    saved = checkpoint.load(run_dir / "last.npz")
    assert saved.model_config == {"type": "LSTMLanguageModel", "vocab_size": len(set(TEXT)),
                                  "embed_dim": 16, "hidden_size": 16, "num_layers": 1,
                                  "dropout": 0.2, "tie_weights": True}
    assert Vocabulary.from_dict(saved.meta["vocabulary"]) == Vocabulary.from_text(TEXT)
    settings = saved.meta["settings"]
    assert settings["task"] == "language-model" and settings["text"] == str(text_file)
    assert (settings["seq_len"], settings["batch_size"], settings["epochs"]) == (8, 4, 1)


def test_summary_names_the_validation_perplexity(text_file, tmp_path, capsys):
    assert main(["train", "--text", str(text_file), *TINY, "--epochs", "1",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    history = json.loads((tmp_path / "history.json").read_text())
    assert f"validation perplexity {np.exp(history['test_loss'][-1]):.3f}" in out
    assert f"mitbadak sample {tmp_path / 'best.npz'}" in out


def test_an_interrupted_run_resumes_bit_for_bit(text_file, tmp_path, capsys, monkeypatch):
    """Ctrl-C after epoch 1 of 2 (a cosine schedule, the default); --resume finishes it as
    the run that was not interrupted."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    argv = ["train", "--text", str(text_file), *TINY, "--epochs", "2"]
    assert main([*argv, "--out", str(straight)]) == 0
    report = Trainer._report

    def interrupted(self, *args):
        report(self, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_report", interrupted)
    assert main([*argv, "--out", str(split)]) == 130
    assert f"continue with: mitbadak train --resume {split / 'last.npz'}" in (
        capsys.readouterr().err)
    monkeypatch.setattr(Trainer, "_report", report)
    assert main(["train", "--resume", str(split / "last.npz"), "--quiet"]) == 0
    a, b = checkpoint.load(straight / "last.npz"), checkpoint.load(split / "last.npz")
    for name, value in a.model.state_dict().items():
        np.testing.assert_array_equal(value, b.model.state_dict()[name], err_msg=name)
    history = b.meta["training"]["history"]
    assert history["epoch"] == [1, 2]
    assert history["test_loss"] == a.meta["training"]["history"]["test_loss"]


def test_resume_refuses_a_text_that_changed(text_file, tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text(TEXT)
    assert main(["train", "--text", str(text), *TINY, "--epochs", "1",
                 "--out", str(tmp_path / "r")]) == 0
    text.write_text(TEXT + "~")
    usage_error(capsys, ["train", "--resume", str(tmp_path / "r" / "last.npz"), "--epochs", "2"],
                "the text has changed since the run was saved")


def test_sample_prints_the_prompt_and_what_follows(run_dir, capsys):
    argv = ["sample", str(run_dir / "best.npz"), "--length", "40", "--prompt", "ROMEO:",
            "--seed", "3", "--temperature", "0.8", "--top-k", "5"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 40 + 1
    assert main(argv) == 0
    assert capsys.readouterr().out == first  # the same seed, the same text


def test_sample_greedy_needs_no_seed(run_dir, capsys):
    argv = ["sample", str(run_dir / "best.npz"), "--length", "10", "--temperature", "0"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    assert capsys.readouterr().out == first


@pytest.mark.parametrize("argv, expected", [
    (["train", "--task", "language-model", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["train", "--text", "no/such.txt"], "--text no/such.txt: no such file"),
    (["train", "--task", "language-model", "--seq-len", "0"], "--seq-len: expected a positive"),
    (["train", "--task", "language-model", "--dataset", "digits"], "not a text corpus"),
    (["train", "--task", "classify", "--dataset", "names"], "for --task language-model"),
    (["train", "--model", "lstm", "--activation", "tanh"], "--activation: for image classifiers"),
    (["train", "--model", "lstm", "--hidden", "16,16"], "a language model takes one size"),
    (["train", "--dataset", "names", "--text", "x.txt"], "give one"),
])
def test_train_errors_are_one_line(capsys, argv, expected):
    usage_error(capsys, argv, expected)


def test_a_text_too_short_for_the_batches_is_named(tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text("hello world\n" * 5)
    usage_error(capsys, ["train", "--text", str(short), "--out", str(tmp_path / "o")],
                "too few for batches of 32 x 100")


def test_sample_errors_are_one_line(run_dir, tmp_path, capsys):
    ckpt = str(run_dir / "best.npz")
    usage_error(capsys, ["sample", ckpt, "--prompt", "ROMEO: \u00e9"],
                "--prompt: unknown character '\u00e9' (U+00E9) at position 7")
    usage_error(capsys, ["sample", ckpt, "--temperature", "-1"], "--temperature: expected")
    usage_error(capsys, ["sample", ckpt, "--top-k", "0"], "--top-k: expected a positive")
    usage_error(capsys, ["sample", ckpt, "--prompt", ""], "--prompt: empty")
    usage_error(capsys, ["sample", str(tmp_path / "none.npz")], "no such file")
    assert main(["train", "--hidden", "8", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "mlp")]) == 0
    usage_error(capsys, ["sample", str(tmp_path / "mlp" / "last.npz")],
                "a checkpoint of a MLP, not of a language model")


def test_evaluate_gives_the_validation_perplexity_of_the_run(run_dir, capsys):
    assert main(["evaluate", str(run_dir / "best.npz")]) == 0
    out = capsys.readouterr().out
    history = json.loads((run_dir / "history.json").read_text())
    assert f"perplexity {np.exp(history['test_loss'][-1]):.3f}" in out


def test_image_commands_refuse_a_language_model(run_dir, tmp_path, capsys):
    usage_error(capsys, ["predict", str(run_dir / "best.npz"), str(tmp_path / "x.png")],
                "a language model (LSTMLanguageModel), not an image classifier")
    usage_error(capsys, ["evaluate", str(run_dir / "best.npz"), "--dataset", "digits"],
                "a language model is evaluated on the text it was trained on")


def test_only_the_language_models_own_flags_imply_the_task():
    from mitbadak.cli import _language_model as lm

    assert lm.FLAGS[:1] == ("text",) and {"seq_len", "layers", "max_norm"} <= set(lm.FLAGS)
    assert not {"weight_decay", "schedule", "lr", "hidden", "epochs"} & set(lm.FLAGS)
