"""One training step, one History, one evaluation: what the Trainer and the experiments share."""

import math

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.experiments import _training
from mitbadak.training import History, Trainer, TrainingDiverged, evaluate, train_step, trainer


def tiny(seed=0, batchnorm=True, dropout=0.0):
    mb.manual_seed(seed)
    return nn.MLP(4, [5], 3, batchnorm=batchnorm, dropout=dropout)


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 4), dtype=np.float32), rng.integers(0, 3, n)


def test_train_step_is_forward_loss_zero_grad_backward_step():
    """train_step equals the four lines written out, bit for bit, and returns the loss the
    update was computed from."""
    x, t = batch()
    a, b = tiny(), tiny()
    opt_a, opt_b = optim.SGD(a.parameters(), lr=0.1), optim.SGD(b.parameters(), lr=0.1)
    for _ in range(3):
        loss, y = train_step(a, opt_a, x, t)
        expected = F.cross_entropy(b(mb.tensor(x)), t)
        opt_b.zero_grad()
        expected.backward()
        opt_b.step()
        assert loss == expected.item() and y.shape == (8, 3)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert np.array_equal(pa, pb), name


def test_train_step_refuses_a_non_finite_loss_before_the_update():
    x, t = batch()
    model = tiny(batchnorm=False)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(TrainingDiverged, match="the loss is nan; the weights were not upd") as e:
        train_step(model, opt, x, t, loss_fn=lambda y, t: y.sum() * math.nan)
    assert math.isnan(e.value.loss)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_one_history_one_divergence_type_everywhere():
    assert trainer.History is History and _training.History is History
    assert trainer.TrainingDiverged is TrainingDiverged
    assert mb.training.train_step is train_step


def test_the_trainer_and_the_experiments_take_the_same_steps():
    """Same model, data, batches and optimizer: the Trainer's loss per iteration is the
    experiments' (both are train_step over the same DataLoader)."""
    x, t = batch(40)
    model = tiny()
    history = Trainer(model, optim.Adam(model.parameters()), (x, t), (x, t), batch_size=16,
                      seed=3, quiet=True).fit(2)
    model = tiny()
    other = _training.fit_lesson(model, optim.Adam(model.parameters()), (x, t), batch_size=16,
                            epochs=2, seed=3)
    assert history.loss == other.loss and len(other.loss) == 6


def test_experiments_keep_going_after_a_non_finite_loss_without_updating():
    x, t = batch(16)
    model = tiny(batchnorm=False)
    model.layers[0].W.data[...] = np.inf
    before = {k: v.copy() for k, v in model.state_dict().items()}
    history = _training.fit_lesson(model, optim.SGD(model.parameters(), lr=0.1), (x, t),
                              batch_size=8, epochs=2, evaluate=True)
    assert len(history.loss) == 4 and _training.diverged(history)
    assert history.epoch == [0, 1, 2] and len(history.train_accuracy) == 3
    assert history.test_accuracy == []  # no held-out set given
    for k, v in model.state_dict().items():
        assert np.array_equal(before[k], v, equal_nan=True), k


def test_evaluate_is_eval_mode_no_grad_batched_and_restores_the_mode():
    x, t = batch(25)
    model = tiny(dropout=0.5)
    loss, accuracy = evaluate(model, x, t, batch_size=7)
    assert model.training
    model.eval()
    logits = model(mb.tensor(x))
    assert loss == pytest.approx(F.cross_entropy(logits, t).item(), rel=1e-6)
    assert accuracy == F.accuracy(logits, t)
    assert evaluate(model, x, t) == pytest.approx((loss, accuracy), rel=1e-6)
    assert not model.training  # left as it was found


def test_history_round_trips():
    h = History(loss=[1.0, 0.5], epoch=[1], train_loss=[0.6], train_accuracy=[0.7],
                test_loss=[0.8], test_accuracy=[0.6], seconds=[0.1])
    assert History.from_dict(h.to_dict()) == h
