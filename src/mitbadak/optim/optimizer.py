"""`Optimizer`: the machinery every update rule shares (parameter groups, state, checkpoints).

An optimizer turns gradients into parameter updates. Each rule (SGD, Momentum, Adam, ...) is a
subclass that implements only ``_update(param, grad, state, group)``, which changes the array
``param`` in place. Everything else lives here, with PyTorch's conventions:

* ``param_groups``: a list of dicts ``{"params": [tensors], "lr": ..., <other settings>}``, so
  parts of a model can use different settings; settings a group leaves out take the defaults.
* ``state``: a dict from each parameter to its own buffers (e.g. Adam's ``exp_avg``), zeros
  at first, and its ``step`` count (the number of updates it has had). Parameters whose
  ``.grad`` is None are skipped and their step count does not advance.
* ``state_dict()`` / ``load_state_dict()``: everything needed to resume a run so that it
  continues bit for bit as if it had never stopped.
* the subnormal flush (``flush_denormal_every``, below).
* cache-sized pieces: every rule is elementwise, so a large parameter (more than
  `mitbadak.functional._util.CHUNK` numbers) is updated piece by piece, ``_update`` called on
  matching slices of the parameter, its gradient and its buffers. Each of a rule's ~10 NumPy
  passes then finds its operands in the L2 cache instead of streaming the whole arrays through
  memory (Adam on a 1000x1000 weight: 3.4 -> 2.4 ms), with the same arithmetic on every
  number, so the same bits. ``_update`` must therefore change its arrays in place only.
* `param_groups(params, weight_decay)`: the weight-decay policy, as groups: the weight
  matrices and kernels (``ndim >= 2``) are decayed, biases and BatchNorm's gamma and beta are
  not. A plain ``weight_decay=`` setting, as in PyTorch, decays every parameter it is given.

The state dict holds only dicts with str keys, lists, str, int, float and ndarrays, so a
checkpoint can store the arrays in an .npz and the rest as JSON, with no pickle::

    {
      "optimizer": "Adam",                        # class name, checked on load
      "param_groups": [                           # one dict per group, in order
        {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-08, "weight_decay": 0.0,
         "params": [0, 1]},                       # parameters by index, counted across groups
      ],
      "param_shapes": [[784, 100], [100]],        # by index, checked on load
      "state": [                                  # by index; {} for one never updated
        {"step": 12, "exp_avg": ndarray, "exp_avg_sq": ndarray},
        {},
      ],
    }

The subnormal trap: when a weight's gradient stays exactly 0 (a dead ReLU unit), its buffers
decay geometrically into subnormal floats (below ``np.finfo(dtype).tiny``, ~1.2e-38 in
float32), which are up to ~10x slower to compute with on many x86 CPUs -- and they never reach
zero, because rounding keeps the smallest subnormals fixed (in float32, 4 * 2**-149 * 0.9
rounds back to 4 * 2**-149). So every ``flush_denormal_every`` updates of a parameter
(counted by its saved ``step``, so a resumed run flushes at the same steps) its buffers'
entries below ``tiny`` in magnitude are set to zero. Such entries change an update by less
than ``lr * tiny``; set ``flush_denormal_every = 0`` on an optimizer to turn this off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import CHUNK, pieces

ParamsArg = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class of the update rules; see the module docstring for what it provides.

    A subclass passes its settings' defaults to ``__init__``, names its per-parameter buffers
    in ``buffer_names``, checks its settings in ``_check_group`` and implements ``_update``.
    """

    buffer_names: tuple[str, ...] = ()
    flush_denormal_every: int = 100

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._check_group(self.defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        for group in _as_param_groups(params):
            self.add_param_group(group)

    # ---------------------------------------------------------------- what a subclass defines
    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's settings in place, storing numbers as Python floats."""
        group["lr"] = check_hyperparameter("lr", group["lr"], 0.0)
        group["weight_decay"] = check_hyperparameter("weight_decay", group["weight_decay"], 0.0)
        if "eps" in group:  # the adaptive rules' guard against dividing by zero
            group["eps"] = check_hyperparameter("eps", group["eps"], 0.0, low_open=True)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update ``param`` in place from ``grad`` (never modified: it may be shared)."""
        raise NotImplementedError

    # ------------------------------------------------------------------------ the public API
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters; settings it does not give take the defaults."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError("a param group must be a dict with a 'params' entry")
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(
                f"unknown setting(s) {sorted(unknown)} for {type(self).__name__}; "
                f"it takes {sorted(self.defaults)}"
            )
        params = _as_param_list(param_group["params"])
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for p in params:
            if id(p) in seen:
                raise ValueError(
                    f"the same parameter (shape {p.shape}) is given to the optimizer more than once"
                )
            seen.add(id(p))
        group = {**self.defaults, **param_group}
        self._check_group(group)
        group["params"] = params
        self.param_groups.append(group)

    def step(self) -> None:
        """Update every parameter that has a gradient (a ``.grad`` of None is skipped)."""
        every, states = self.flush_denormal_every, self.state
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = states.get(p)
                if state is None:
                    state = {"step": 0, **{n: np.zeros_like(p.data) for n in self.buffer_names}}
                    states[p] = state
                step = state["step"] = state["step"] + 1
                if p.data.size > CHUNK and all(a.flags.c_contiguous for a in (
                        p.data, *(state[name] for name in self.buffer_names))):
                    self._update_in_pieces(p.data, grad, state, group)
                else:
                    self._update(p.data, grad, state, group)
                p.mark_modified()  # a graph that kept the old values can no longer backward
                if every and step % every == 0:
                    for name in self.buffer_names:
                        flush_subnormals(state[name])

    def _update_in_pieces(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                          group: dict[str, Any]) -> None:
        """``_update`` on cache-sized pieces of a large parameter (see the module docstring)."""
        flat = param.reshape(-1)  # views: param and its buffers are C-contiguous
        gradient = np.ascontiguousarray(grad).reshape(-1)
        buffers = {name: state[name].reshape(-1) for name in self.buffer_names}
        for piece in pieces(flat.size):
            self._update(flat[piece], gradient[piece],
                         {**state, **{name: b[piece] for name, b in buffers.items()}}, group)

    def zero_grad(self) -> None:
        """Forget the gradients (``.grad = None``) before the next backward pass adds new ones."""
        for p in self._params():
            p.grad = None

    def state_dict(self) -> dict[str, Any]:
        """A copy of the settings and per-parameter state, laid out as in the module docstring."""
        params = self._params()
        groups, start = [], 0
        for group in self.param_groups:
            saved = {k: list(v) if isinstance(v, tuple) else v
                     for k, v in group.items() if k != "params"}
            saved["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(saved)
        return {
            "optimizer": type(self).__name__,
            "param_groups": groups,
            "param_shapes": [list(p.shape) for p in params],
            "state": [{k: np.copy(v) if isinstance(v, np.ndarray) else v
                       for k, v in self.state.get(p, {}).items()} for p in params],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore settings and state saved by ``state_dict()`` of the same class and layout.

        Everything is checked before anything changes; buffers are copied (cast to their
        parameter's dtype), so the optimizer never shares arrays with ``state_dict``.
        """
        name = type(self).__name__
        missing = {"optimizer", "param_groups", "param_shapes", "state"} - set(state_dict)
        if missing:
            raise ValueError(f"not an optimizer state dict: missing {sorted(missing)}")
        if state_dict["optimizer"] != name:
            raise ValueError(f"the state dict is from {state_dict['optimizer']}, not {name}")
        saved_sizes = [len(g["params"]) for g in state_dict["param_groups"]]
        sizes = [len(g["params"]) for g in self.param_groups]
        if saved_sizes != sizes:
            raise ValueError(f"the state dict has param groups of sizes {saved_sizes}; "
                             f"this {name} has {sizes}")
        params = self._params()
        shapes = [tuple(s) for s in state_dict["param_shapes"]]
        if len(shapes) != len(params) or len(state_dict["state"]) != len(params):
            raise ValueError(f"the state dict's param_shapes and state do not both have one "
                             f"entry for each of the {len(params)} parameters")
        for i, (p, shape) in enumerate(zip(params, shapes)):
            if p.shape != shape:
                raise ValueError(f"parameter {i} has shape {p.shape}; the state dict's has {shape}")

        groups = []
        for saved in state_dict["param_groups"]:
            absent = set(self.defaults) - set(saved)
            if absent:
                raise ValueError(f"a saved param group lacks the setting(s) {sorted(absent)}")
            group = {k: saved[k] for k in self.defaults}
            self._check_group(group)
            groups.append(group)
        state = {}
        for i, (p, saved) in enumerate(zip(params, state_dict["state"])):
            if saved:
                state[p] = self._restored_state(i, p, saved)

        for group, restored in zip(self.param_groups, groups, strict=True):
            group.update(restored)
        self.state = state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} tensors, {settings}")
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------------------ helpers
    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def _restored_state(self, index: int, param: Tensor, saved: dict[str, Any]) -> dict[str, Any]:
        expected = {"step", *self.buffer_names}
        if set(saved) != expected:
            raise ValueError(f"the saved state of parameter {index} has entries {sorted(saved)}; "
                             f"{type(self).__name__} keeps {sorted(expected)}")
        state: dict[str, Any] = {"step": int(saved["step"])}
        for name in self.buffer_names:
            buffer = np.asarray(saved[name])
            if buffer.shape != param.shape:
                raise ValueError(f"the saved {name!r} of parameter {index} has shape "
                                 f"{buffer.shape}; the parameter has {param.shape}")
            state[name] = buffer.astype(param.dtype, copy=True)
        return state


def param_groups(params: Iterable[Tensor], weight_decay: float) -> list[dict[str, Any]]:
    """Parameter groups that decay the weights and spare the rest: pass them to any optimizer,
    ``optim.Adam(optim.param_groups(model.parameters(), 1e-4), lr=1e-3)``.

    Weight decay is an L2 penalty on the weight matrices (the book's
    ``0.5 * lambda * sum ||W||^2`` over the Affine layers' W; conv kernels likewise), which
    pulls large weights back and keeps a network from fitting noise. Biases and BatchNorm's
    gamma and beta only shift and scale units; decaying them would pull BatchNorm's scale
    towards 0 and regularise nothing useful. So the policy (the book's and nanoGPT's): the
    parameters with ``ndim >= 2`` get ``weight_decay``, the others (``ndim < 2``) get 0.
    The weights come first, then the rest, each in the given order. With
    ``weight_decay == 0`` it is one group of all the parameters, as ``params`` itself would be.
    """
    params = _as_param_list(params)
    if weight_decay == 0:
        return [{"params": params}]
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return [group for group in groups if group["params"]]


def check_hyperparameter(
    name: str, value: Any, low: float, high: float = math.inf, *, low_open: bool = False
) -> float:
    """``value`` as a Python float if it lies in [low, high) -- (low, high) if ``low_open`` --
    else a ValueError naming it. (Python floats keep float32 arrays float32 in arithmetic.)"""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    above = low < number if low_open else low <= number
    if not (above and number < high):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g})"
        raise ValueError(f"invalid {name}: {value!r} (must be in {interval})")
    return number


def l2_gradient(grad: np.ndarray, param: np.ndarray, weight_decay: float) -> np.ndarray:
    """``grad + weight_decay * param``: the gradient of loss + weight_decay/2 * ||param||^2.

    This is the book's weight decay (L2 regularisation, chapter 6) and PyTorch's
    ``weight_decay`` for all optimizers but AdamW. Returns ``grad`` itself when it is 0.
    """
    if weight_decay == 0:
        return grad
    decayed = np.multiply(param, weight_decay, out=np.empty_like(param))
    decayed += grad
    return decayed


def flush_subnormals(buffer: np.ndarray) -> None:
    """Set the entries of ``buffer`` below the smallest normal float in magnitude to zero."""
    np.copyto(buffer, 0, where=np.abs(buffer) < np.finfo(buffer.dtype).tiny)


def _as_param_groups(params: Any) -> list[dict[str, Any]]:
    """Accept PyTorch's forms: an iterable of tensors (one group) or of param-group dicts."""
    if isinstance(params, Tensor):
        raise TypeError("params must be an iterable of tensors or of param-group dicts, "
                        "got a single Tensor: pass [tensor]")
    items = _ordered_list(params)
    if not items:
        raise ValueError("the optimizer got an empty parameter list")
    if all(isinstance(item, dict) for item in items):
        return items
    return [{"params": items}]


def _as_param_list(params: Any) -> list[Tensor]:
    items = [params] if isinstance(params, Tensor) else _ordered_list(params)
    for p in items:
        if not isinstance(p, Tensor):
            hint = " (wrap it: mb.tensor(array, requires_grad=True))" if isinstance(
                p, np.ndarray) else ""
            raise TypeError(f"an optimizer updates mitbadak Tensors, got {type(p).__name__}{hint}")
        if not p.requires_grad:
            raise ValueError(f"a tensor of shape {p.shape} does not require grad, so it would "
                             "never be updated: create it with requires_grad=True or leave it out")
        if not p.is_leaf:
            raise ValueError(f"a tensor of shape {p.shape} is the result of an operation, not a "
                             "leaf, so it gets no .grad: optimize the tensor it was computed from")
    return items


def _ordered_list(items: Any) -> list[Any]:
    if isinstance(items, (set, frozenset)):
        raise TypeError("params must be an ordered iterable (a list), not a set: the order "
                        "numbers the parameters in state_dict()")
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"params must be an iterable of tensors or of param-group dicts, "
                        f"got {type(items).__name__}") from None
