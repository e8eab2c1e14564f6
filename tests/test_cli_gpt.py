"""``mitbadak train --task language-model --model gpt`` and ``mitbadak sample`` on its
checkpoints: AdamW with decay on matrices only, warm-up then cosine over the steps, clipping,
exact resume, and the prompt cropped to the block when sampling."""

import numpy as np
import pytest

from mitbadak import nn, optim
from mitbadak.cli import main
from mitbadak.cli.train import _optimizer
from mitbadak.training import checkpoint

TEXT = ("ROMEO:\nBut, soft! what light through yonder window breaks?\n"
        "JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\n") * 20
TINY = ["--model", "gpt", "--hidden", "16", "--layers", "1", "--seq-len", "8",
        "--batch-size", "4", "--quiet"]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "play.txt"
    path.write_text(TEXT)
    return path


def train(text_file, out, epochs, *extra):
    return main(["train", "--text", str(text_file), *TINY, "--epochs", str(epochs),
                 "--out", str(out), *extra])


def test_gpt_run_its_settings_and_sampling(text_file, tmp_path, capsys):
    assert train(text_file, tmp_path, 1) == 0
    saved = checkpoint.load(tmp_path / "last.npz")
    assert saved.model_config == {"type": "GPT", "vocab_size": len(set(TEXT)), "block_size": 8,
                                  "n_layer": 1, "n_head": 4, "n_embd": 16, "dropout": 0.0}
    settings = saved.meta["settings"]
    assert (settings["optimizer"], settings["weight_decay"], settings["max_norm"],
            settings["schedule"], settings["warmup"]) == ("adamw", 0.1, 1.0, "cosine", 100)
    optimizer, _ = _optimizer(settings, saved.model, 10)  # as the run built it
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and {p.ndim for p in decayed["params"]} == {2}
    assert plain["weight_decay"] == 0.0 and {p.ndim for p in plain["params"]} == {1}
    assert saved.optimizer_state["optimizer"] == "AdamW"
    # a cosine that ended: the one epoch's steps were all the run had (warm-up cut to fit)
    scheduler = saved.meta["training"]["scheduler"]
    assert scheduler["scheduler"] == "WarmupCosineLR"
    assert scheduler["last_epoch"] == scheduler["total_steps"] > scheduler["warmup_steps"]
    capsys.readouterr()
    argv = ["sample", str(tmp_path / "best.npz"), "--length", "30", "--prompt",
            "ROMEO: But, soft!", "--seed", "1"]  # a prompt longer than the block of 8
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("ROMEO: But, soft!") and len(out) == len("ROMEO: But, soft!") + 31


def test_gpt_resume_continues_bit_for_bit(text_file, tmp_path, monkeypatch):
    """A 2-epoch run stopped after its first epoch, then resumed, ends where the unbroken run
    does: the same weights, and the same schedule over the steps (warm-up, then cosine)."""
    from mitbadak.training.trainer import Trainer

    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train(text_file, straight, 2) == 0
    fit = Trainer.fit
    with monkeypatch.context() as patch:  # the first run stops after epoch 1 of 2
        patch.setattr(Trainer, "fit", lambda self, epochs: fit(self, 1))
        assert train(text_file, split, 2) == 0
    assert checkpoint.load(split / "last.npz").meta["training"]["history"]["epoch"] == [1]
    assert main(["train", "--resume", str(split / "last.npz"), "--quiet"]) == 0
    a, b = checkpoint.load(straight / "last.npz"), checkpoint.load(split / "last.npz")
    for name, value in a.model.state_dict().items():
        np.testing.assert_array_equal(value, b.model.state_dict()[name], err_msg=name)
    assert a.meta["training"]["scheduler"] == b.meta["training"]["scheduler"]


def test_warmup_cosine_schedule():
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)
    schedule = optim.lr_scheduler.WarmupCosineLR(opt, warmup_steps=4, total_steps=12,
                                                 eta_min=0.1)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(14):
        schedule.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs[:5], [0.25, 0.5, 0.75, 1.0, 1.0])
    np.testing.assert_allclose(lrs[8], 0.1 + 0.9 * 0.5)  # half-way through the cosine
    np.testing.assert_allclose(lrs[12:], [0.1] * 3)  # the end, and it stays there
    assert np.all(np.diff(lrs[4:13]) < 0)
    restored = optim.lr_scheduler.WarmupCosineLR(opt, 1, 2)
    restored.load_state_dict(schedule.state_dict())
    assert restored.get_last_lr() == schedule.get_last_lr()
    with pytest.raises(ValueError, match="fewer than total_steps"):
        optim.lr_scheduler.WarmupCosineLR(opt, 5, 5)


def test_a_gpt_setting_is_refused_for_the_lstm_and_a_bad_size_is_one_line(text_file, capsys):
    assert main(["train", "--text", str(text_file), "--model", "lstm", "--heads", "2"]) == 2
    err = capsys.readouterr().err
    assert "--heads: not a setting of --model lstm" in err and len(err.strip().splitlines()) == 1
    assert main(["train", "--text", str(text_file), *TINY, "--heads", "3"]) == 2
    err = capsys.readouterr().err
    assert "embed_dim 16 is not divisible by num_heads 3" in err and "Traceback" not in err
