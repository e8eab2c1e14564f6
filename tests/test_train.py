"""The fit loop: history, checkpoints each epoch, bit-exact resume, the NaN guard, helpers."""

import json
import math

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import nn, optim
from mitbadak.data import DatasetNotFoundError, load_dataset
from mitbadak.training import checkpoint
from mitbadak.training import trainer as train
from mitbadak.viz import figures as plot


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def build(seed, dropout=0.2, batchnorm=True, lr=3e-3):
    mb.manual_seed(seed)
    model = nn.MLP(64, [32, 32], 10, batchnorm=batchnorm, dropout=dropout)
    return model, optim.Adam(model.parameters(), lr=lr)


def trainer(digits, seed=0, cosine_epochs=None, **options):
    model, opt = build(seed)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, cosine_epochs) if cosine_epochs else None
    train_data, test_data = digits
    return train.Trainer(model, opt, train_data, test_data, batch_size=64, quiet=True,
                         scheduler=scheduler, **options)


def test_fit_records_history_and_writes_the_run(digits, tmp_path):
    t = trainer(digits, out_dir=tmp_path)
    history = t.fit(3)
    assert t.epoch == 3 and history.epoch == [1, 2, 3]
    assert len(history.loss) == 3 * len(t.loader) == 3 * 23
    assert all(len(getattr(history, k)) == 3 for k in train.EPOCH_COLUMNS)
    assert history.test_accuracy[-1] > 0.8 and history.train_loss[-1] < history.loss[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.npz", "history.csv", "history.json", "last.npz"]
    assert json.loads((tmp_path / "history.json").read_text()) == history.to_dict()
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert rows[0] == ",".join(train.EPOCH_COLUMNS) and len(rows) == 4
    saved = checkpoint.load(tmp_path / "last.npz")
    assert saved.meta["training"]["epoch"] == 3
    assert np.array_equal(train.predict(saved.model, digits[1][0]),
                          train.predict(t.model, digits[1][0]))


def test_resume_is_bit_exact(digits, tmp_path):
    """2 epochs, then a new process-like start (new model, new optimizer, another seed) that
    resumes to 4, equals 4 epochs straight: every parameter, BatchNorm buffer and optimizer
    buffer, bit for bit. Dropout and BatchNorm are on, so the dropout generator's state and
    the running statistics must both be restored; so is the learning-rate schedule's epoch."""
    straight = trainer(digits, cosine_epochs=4)
    straight.fit(4)
    rng_after = mb.random.default_generator().bit_generator.state

    first = trainer(digits, cosine_epochs=4, out_dir=tmp_path)
    first.fit(2)
    resumed = trainer(digits, seed=123, cosine_epochs=4, out_dir=tmp_path)  # other weights
    resumed.resume(tmp_path / "last.npz")
    assert resumed.epoch == 2 and resumed.scheduler.last_epoch == 2
    resumed.fit(4)

    for (name, a), b in zip(straight.model.state_dict().items(),
                            resumed.model.state_dict().values()):
        assert np.array_equal(a, b), name
    for s, r in zip(straight.optimizer.state_dict()["state"],
                    resumed.optimizer.state_dict()["state"]):
        assert s["step"] == r["step"]
        assert np.array_equal(s["exp_avg"], r["exp_avg"])
        assert np.array_equal(s["exp_avg_sq"], r["exp_avg_sq"])
    resumed.history.seconds = straight.history.seconds  # the only thing allowed to differ
    assert resumed.history == straight.history
    assert mb.random.default_generator().bit_generator.state == rng_after


def test_resume_refuses_a_checkpoint_without_training_state(digits, tmp_path):
    t = trainer(digits)
    checkpoint.save(tmp_path / "plain.npz", t.model, t.optimizer)
    with pytest.raises(checkpoint.CheckpointError, match="holds no training state"):
        t.resume(tmp_path / "plain.npz")


def test_resume_refuses_a_different_schedule(digits, tmp_path):
    trainer(digits, out_dir=tmp_path).fit(1)
    with pytest.raises(checkpoint.CheckpointError, match="saved without a learning-rate sched"):
        trainer(digits, cosine_epochs=3).resume(tmp_path / "last.npz")


def test_nan_guard_names_epoch_and_iteration_and_keeps_the_last_good_checkpoint(digits,
                                                                                tmp_path):
    t = trainer(digits, out_dir=tmp_path)
    t.fit(1)
    good = {k: v.copy() for k, v in t.model.state_dict().items()}
    t.optimizer.param_groups[0]["lr"] = 1e30
    with pytest.raises(train.TrainingDiverged) as caught:
        t.fit(3)
    message = str(caught.value)
    assert "at epoch 2, iteration " in message and " of 23" in message
    assert f"the last good checkpoint is {tmp_path / 'last.npz'} (epoch 1)" in message
    assert "smaller learning rate (it is 1e+30)" in message
    saved = checkpoint.load(tmp_path / "last.npz")
    assert saved.meta["training"]["epoch"] == 1
    assert all(np.array_equal(good[k], v) for k, v in saved.model.state_dict().items())


def test_nan_guard_without_a_checkpoint(digits):
    mb.manual_seed(0)
    model = nn.MLP(64, [100, 100], 10)
    opt = optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(train.TrainingDiverged, match=r"loss is (nan|inf) at epoch 1, "
                                                     r"iteration \d+ of 45.*no checkpoints"):
        train.fit(model, opt, *digits, epochs=2, batch_size=32, quiet=True)


def test_fit_function_resumes(digits, tmp_path):
    model, opt = build(0)
    train.fit(model, opt, *digits, epochs=1, batch_size=64, out_dir=tmp_path, quiet=True)
    model, opt = build(5)
    history = train.fit(model, opt, *digits, epochs=2, batch_size=64, out_dir=tmp_path,
                        quiet=True, resume=tmp_path / "last.npz")
    assert history.epoch == [1, 2]


def test_progress_bar_and_epoch_lines(digits, capsys):
    t = trainer(digits)
    t.quiet = False
    t.fit(2)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("epoch 2: train loss ") and "test loss" in out[1]


@pytest.mark.parametrize("batchnorm, batches", [(True, 2), (False, 3)])
def test_only_batchnorm_drops_a_last_batch_of_one(batchnorm, batches):
    """9 samples in batches of 4: the last batch of one is dropped only for BatchNorm (whose
    statistics need two samples); without it every sample is trained on."""
    x = np.random.default_rng(0).random((9, 4), dtype=np.float32)
    t = np.arange(9) % 2
    mb.manual_seed(0)
    model = nn.MLP(4, [3], 2, batchnorm=batchnorm)
    trainer = train.Trainer(model, optim.Adam(model.parameters()), (x, t), (x, t),
                            batch_size=4, quiet=True)
    assert len(trainer.loader) == batches
    assert len(trainer.fit(1).loss) == batches


def test_one_training_sample_trains_without_batchnorm_and_is_refused_with_it():
    x = np.ones((1, 4), np.float32)
    t = np.array([1])
    mb.manual_seed(0)
    model = nn.MLP(4, [3], 2, batchnorm=False)
    history = train.Trainer(model, optim.Adam(model.parameters()), (x, t), (x, t),
                            batch_size=32, quiet=True).fit(2)
    assert len(history.loss) == 2  # one iteration per epoch, not zero
    model = nn.MLP(4, [3], 2, batchnorm=True)
    for n, batch_size in ((1, 32), (5, 1)):
        with pytest.raises(ValueError, match=rf"BatchNorm cannot train on batches of one "
                                             rf"sample \(batch size {batch_size}, {n} training"):
            train.Trainer(model, optim.Adam(model.parameters()), (x.repeat(n, 0), t.repeat(n)),
                          (x, t), batch_size=batch_size)


def test_empty_data_is_refused_not_reported_as_divergence():
    mb.manual_seed(0)
    model = nn.MLP(4, [3], 2, batchnorm=False)
    x, t = np.ones((3, 4), np.float32), np.array([0, 1, 0])
    with pytest.raises(ValueError, match=r"the training set is empty \(0 samples\)"):
        train.Trainer(model, optim.Adam(model.parameters()), (x[:0], t[:0]), (x, t))
    with pytest.raises(ValueError, match=r"the test set is empty \(0 samples\)"):
        train.Trainer(model, optim.Adam(model.parameters()), (x, t), (x[:0], t[:0]))


def test_best_npz_keeps_the_first_epoch_of_a_tie(digits, tmp_path, monkeypatch):
    accuracies = [0.5, 0.8, 0.8, 0.7]
    monkeypatch.setattr(train.Trainer, "evaluate", lambda self, x, t: (1.0, accuracies[self.epoch]))
    t = trainer(digits, out_dir=tmp_path)
    t.fit(4)
    assert train.best_epoch(t.history) == 2 and t.best_path == tmp_path / "best.npz"
    assert checkpoint.load(tmp_path / "best.npz").meta["training"]["epoch"] == 2


def test_a_held_ctrl_c_during_a_save_comes_after_the_whole_save(digits, tmp_path, monkeypatch):
    """A SIGINT that arrives while last.npz is written is raised once best.npz, last.npz and
    the history of that epoch are all written."""
    import os
    import signal

    save = checkpoint.save

    def signalled(path, *args, **meta):
        os.kill(os.getpid(), signal.SIGINT)  # delivered now, held until the save is done
        return save(path, *args, **meta)

    monkeypatch.setattr(checkpoint, "save", signalled)
    t = trainer(digits, out_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        t.fit(3)
    assert t.saved_epoch == 1 and t.saved_path == tmp_path / "last.npz"
    assert checkpoint.load(tmp_path / "last.npz").meta["training"]["epoch"] == 1
    assert json.loads((tmp_path / "history.json").read_text())["epoch"] == [1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_predict_restores_the_mode_and_handles_any_length():
    mb.manual_seed(0)
    model = nn.MLP(3, [4], 2, batchnorm=True, dropout=0.5)
    x = np.random.default_rng(0).random((7, 3), dtype=np.float32)
    a = train.predict(model, x, batch_size=2)
    assert model.training and a.shape == (7, 2)
    assert np.allclose(a, train.predict(model, x), atol=1e-6)  # eval mode: deterministic
    assert train.predict(model, x[:0]).shape == (0, 2)


def test_confusion_matrix():
    m = train.confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


def test_smooth_curve():
    assert np.allclose(plot.smooth_curve(np.full(30, 2.0), window=5), 2.0)
    assert len(plot.smooth_curve(range(1000))) == 1000
    assert plot.smooth_curve([]).shape == (0,)


def test_smooth_curve_is_the_books_by_hand():
    """Window 3: Kaiser weights (a, 1, a) with a = I0(0) / I0(2) = 1 / I0(2), over the series
    mirrored as the book does, [x2, x1 | x0 .. x4 | x4, x3] = [0, 3 | 0, 3, 0, 3, 0 | 0, 3]:
    the last point sees itself repeated, the first does not."""
    a = 1 / sum(1 / math.factorial(k) ** 2 for k in range(20))  # I0(2) = sum 1 / (k!)^2
    n = 1 + 2 * a
    expected = [6 * a / n, 3 / n, 6 * a / n, 3 / n, 3 * a / n]
    assert plot.smooth_curve([0, 3, 0, 3, 0], window=3) == pytest.approx(expected, rel=1e-12)
    impulse = np.zeros(31)
    impulse[15] = 1.0  # the default window of 11 spreads a spike into the normalised window
    w = np.kaiser(11, 2)
    assert plot.smooth_curve(impulse)[10:21] == pytest.approx(w / w.sum(), rel=1e-12)
    assert plot.smooth_curve(impulse)[:10].max() == 0 == plot.smooth_curve(impulse)[21:].max()


def test_figures(tmp_path):
    history = train.History(loss=[2.0, 1.0, 0.5, 0.4], epoch=[1, 2], train_loss=[1, 0.5],
                            train_accuracy=[0.6, 0.8], test_loss=[1.1, 0.6],
                            test_accuracy=[0.5, 0.7], seconds=[0.1, 0.1])
    for path in (plot.learning_curves(history, tmp_path / "c.png", "t"),
                 plot.confusion_matrix(np.eye(3, dtype=int) * 5, "abc", tmp_path / "m.png")):
        assert path.read_bytes().startswith(b"\x89PNG")


def test_fashion_mnist_one_epoch_reaches_80_percent():
    """Full Fashion-MNIST training set, 1 epoch of MLP 784-100-10 with Adam: test >= 0.80."""
    try:
        train_data, test_data = load_dataset("fashion-mnist", download=False, progress=False)
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not available offline")
    mb.manual_seed(0)
    model = nn.MLP(784, [100], 10, init="he")
    history = train.fit(model, optim.Adam(model.parameters(), lr=1e-3), train_data, test_data,
                        epochs=1, batch_size=100, quiet=True)
    assert len(history.loss) == 600
    assert history.test_accuracy[0] >= 0.80
