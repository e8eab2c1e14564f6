"""Learning-rate schedules: set each param group's lr from the number of epochs done.

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``. Constructing a
scheduler applies epoch 0 (the lr the groups had: ``base_lrs``). The schedules are closed
formulas of the epoch, so a restored scheduler gives exactly the lrs of an unbroken run.
Names and values follow ``torch.optim.lr_scheduler``.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

from mitbadak.optim.optimizer import Optimizer, check_hyperparameter


class LRScheduler:
    """Base class: a subclass implements ``lr_at(base_lr, epoch)`` and lists in
    ``setting_names`` the attributes that ``state_dict()`` must save."""

    setting_names: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"a scheduler needs an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the groups' learning rates for it."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rates last set, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The epoch, base learning rates and settings (numbers, str and lists only)."""
        return {
            "scheduler": type(self).__name__,
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            **{name: getattr(self, name) for name in self.setting_names},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` of the same class and set the lrs of its epoch."""
        name = type(self).__name__
        if state_dict.get("scheduler") != name:
            raise ValueError(f"the state dict is from {state_dict.get('scheduler')!r}, not {name}")
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(f"the state dict has {len(state_dict['base_lrs'])} base lrs; the "
                             f"optimizer has {len(self.optimizer.param_groups)} param groups")
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = [float(lr) for lr in state_dict["base_lrs"]]
        for setting in self.setting_names:
            setattr(self, setting, state_dict[setting])
        self._apply()

    def _apply(self) -> None:
        self._last_lr = [self.lr_at(base_lr, self.last_epoch) for base_lr in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr, strict=True):
            group["lr"] = lr


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``: divide the rate every step_size epochs."""

    setting_names = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int("step_size", step_size)
        self.gamma = check_hyperparameter("gamma", gamma, 0.0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``.

    Glides from base_lr down to eta_min over T_max epochs, fast in the middle and slow at the
    ends (Loshchilov and Hutter, 2016); past T_max it rises again, as in PyTorch.
    """

    setting_names = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        self.T_max = _positive_int("T_max", T_max)
        self.eta_min = check_hyperparameter("eta_min", eta_min, 0.0)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"invalid {name}: {value!r} (must be an integer >= 1)")
    return int(value)


class WarmupCosineLR(LRScheduler):
    """Linear warm-up, then cosine decay: the Transformer's schedule (GPT-2, nanoGPT), counted
    in optimizer steps, not epochs (``per_step``: the `Trainer` steps it after every batch).

        step < warmup_steps:   lr = base_lr * (step + 1) / warmup_steps
        then, with progress = (step - warmup_steps) / (total_steps - warmup_steps) (at most 1):
                               lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * progress)) / 2

    Adam's moment estimates are poor over the first steps; a small lr until they settle keeps
    a freshly initialised Transformer from diverging. Past ``total_steps`` the lr stays at
    eta_min. (PyTorch composes the same from ``LinearLR`` and ``CosineAnnealingLR`` inside
    ``SequentialLR``.)
    """

    setting_names = ("warmup_steps", "total_steps", "eta_min")
    per_step = True
    warmup_steps: int
    total_steps: int
    eta_min: float

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int,
                 eta_min: float = 0.0) -> None:
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, Integral) \
                or warmup_steps < 0:
            raise ValueError(f"invalid warmup_steps: {warmup_steps!r} (must be an integer >= 0)")
        self.warmup_steps = int(warmup_steps)
        self.total_steps = _positive_int("total_steps", total_steps)
        if self.warmup_steps >= self.total_steps:
            raise ValueError(f"warmup_steps ({warmup_steps}) must be fewer than total_steps "
                             f"({total_steps})")
        self.eta_min = check_hyperparameter("eta_min", eta_min, 0.0)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        if epoch < self.warmup_steps:
            return base_lr * (epoch + 1) / self.warmup_steps
        progress = min(1.0, (epoch - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * progress)) / 2
