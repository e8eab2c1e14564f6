"""clip_grad_norm_ and the learning-rate schedulers, against PyTorch where it is installed."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import optim
from mitbadak.optim.lr_scheduler import CosineAnnealingLR, StepLR


def params_with_grads(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    params = [mb.tensor(np.zeros(s), requires_grad=True) for s in [(3, 4), (4,), (2,)]]
    for p in params:
        p.grad = (rng.standard_normal(p.shape) * scale).astype(np.float32)
    return params


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    torch = pytest.importorskip("torch")
    params = params_with_grads(scale=2.0)
    params[2].grad = None
    tparams = [torch.zeros(p.shape, requires_grad=True) for p in params]
    for p, t in zip(params, tparams):
        t.grad = None if p.grad is None else torch.from_numpy(p.grad.copy())
    expected = torch.nn.utils.clip_grad_norm_(tparams, max_norm)
    total = optim.clip_grad_norm_(params, max_norm)
    assert total == pytest.approx(float(expected), rel=1e-6)
    for p, t in zip(params, tparams):
        if p.grad is None:
            assert t.grad is None
        else:
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_replaces_grads_instead_of_changing_them():
    params = params_with_grads(scale=10.0)
    old = [p.grad for p in params]
    kept = [g.copy() for g in old]
    total = optim.clip_grad_norm_(params, 1.0)
    assert total > 1.0
    assert all(p.grad is not g and p.grad.dtype == np.float32 for p, g in zip(params, old))
    assert all(np.array_equal(g, k) for g, k in zip(old, kept))
    new_total = np.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in params))
    assert new_total == pytest.approx(1.0, rel=1e-5)
    small = params_with_grads(scale=0.01)
    before = [p.grad for p in small]
    optim.clip_grad_norm_(small, 1.0)
    assert all(p.grad is g for p, g in zip(small, before))
    with pytest.raises(ValueError, match="max_norm: 0"):
        optim.clip_grad_norm_(small, 0)


def two_group_optimizer(lrs=(0.1, 0.03)):
    groups = [{"params": [mb.tensor([0.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=1.0)


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=7)),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULES)
def test_schedules_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    lrs = (0.1, 0.03)
    topt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
                            for lr in lrs])
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    opt = two_group_optimizer(lrs)
    sched = getattr(optim.lr_scheduler, name)(opt, **kwargs)
    for _ in range(40):
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12,
                                   atol=1e-15)
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
        topt.step()
        tsched.step()
        sched.step()


def test_schedules_by_hand_and_resume_exactly():
    opt = two_group_optimizer()
    sched = StepLR(opt, step_size=2, gamma=0.1)
    seen = []
    for _ in range(5):
        seen.append(sched.get_last_lr()[0])
        sched.step()
    np.testing.assert_allclose(seen, [0.1, 0.1, 0.01, 0.01, 0.001])

    opt = two_group_optimizer()
    sched = CosineAnnealingLR(opt, T_max=8, eta_min=0.01)
    for _ in range(4):
        sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.01 + 0.09 * 0.5)
    saved = sched.state_dict()
    for _ in range(5):
        sched.step()
    fresh = two_group_optimizer(lrs=(7.0, 7.0))
    resumed = CosineAnnealingLR(fresh, T_max=1)
    resumed.load_state_dict(saved)
    for _ in range(5):
        resumed.step()
    assert resumed.get_last_lr() == sched.get_last_lr()
    assert [g["lr"] for g in fresh.param_groups] == sched.get_last_lr()


def test_scheduler_errors():
    opt = two_group_optimizer()
    with pytest.raises(ValueError, match="step_size: 0"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max: 2.5"):
        CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(ValueError, match="from 'StepLR', not CosineAnnealingLR"):
        CosineAnnealingLR(opt, T_max=3).load_state_dict(StepLR(opt, 2).state_dict())
    with pytest.raises(ValueError, match="1 base lrs"):
        StepLR(opt, 2).load_state_dict(StepLR(optim.SGD(params_with_grads()), 2).state_dict())
    with pytest.raises(TypeError, match="needs an Optimizer"):
        StepLR([mb.tensor([0.0], requires_grad=True)], 2)
