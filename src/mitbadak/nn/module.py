"""`Module` and `Parameter`: a network as a tree of layers that knows its own weights.

The book's networks keep their weights in a dict ``self.params = {"W1": ..., "b1": ...}`` and
their layers in an ``OrderedDict``. A `Module` does the same bookkeeping by itself, as in
PyTorch: assigning a `Parameter` or another `Module` to an attribute registers it (in
assignment order), so ``parameters()`` can hand every weight to an optimizer and
``state_dict()`` can save them under dotted names such as ``layers.0.W``.

Registered objects stay ordinary instance attributes as well, so ``self.W`` in ``forward`` is
a plain attribute lookup: the bookkeeping costs nothing on the hot path.

Buffers (`register_buffer`) are arrays that belong to the model's state but are not trained,
such as BatchNorm's running statistics: they are saved in ``state_dict()`` but are not in
``parameters()``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from mitbadak import blas
from mitbadak.autograd.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a learnable weight of a module: it requires a gradient, and assigning
    it to a module's attribute registers it. Like any tensor it is float32 unless a dtype is
    given, and it shares memory with the array it is made from."""

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None) -> None:
        super().__init__(data, dtype=dtype, requires_grad=True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def check_sizes(layer: str, **sizes: Any) -> None:
    """Each of a layer's sizes (features, channels) is a positive int, NumPy's ints included:
    0 or -1 would otherwise fail deep inside the initialiser with a ZeroDivisionError or a
    "math domain error"."""
    for name, n in sizes.items():
        message = f"{layer}: {name} must be a positive int, got {n!r}"
        try:
            if isinstance(n, bool) or operator.index(n) < 1:
                raise ValueError(message)
        except TypeError:
            raise TypeError(message) from None


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` could not match (as PyTorch returns)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and network: subclasses set attributes in ``__init__`` (after
    ``super().__init__()``) and compute the output in ``forward``; ``module(x)`` calls
    ``forward(x)``."""

    training: bool
    _parameters: dict[str, Parameter]
    _modules: dict[str, Module]
    _buffers: dict[str, np.ndarray]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        blas.adapt()  # BLAS threads for the load now (one clock read between looks)
        return self.forward(*args, **kwargs)

    # -------------------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        """Register Parameters and Modules (and keep buffers up to date) by the value's type.

        A tensor that requires grad but is not a `Parameter` is refused, since it would be
        trained by nothing and saved nowhere; so is replacing a parameter with anything but a
        `Parameter` or None (as PyTorch)."""
        try:
            parameters, modules, buffers = self._parameters, self._modules, self._buffers
        except AttributeError:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__(): call "
                                 f"super().__init__() first in {type(self).__name__}.__init__"
                                 ) from None
        if not isinstance(value, Parameter):
            if name in parameters and value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                f"of {type(self).__name__} (nn.Parameter or None expected)")
            if isinstance(value, Tensor) and value.requires_grad:
                raise TypeError(f"{type(self).__name__}.{name}: a Tensor that requires grad "
                                "would be in neither parameters() nor state_dict(); assign "
                                "nn.Parameter(data) to train it")
        registries: tuple[tuple[dict[str, Any], type], ...] = (
            (parameters, Parameter), (modules, Module))
        for registry, kind in registries:
            if isinstance(value, kind):
                registry[name] = value  # a reassigned name keeps its place in the order
            else:
                registry.pop(name, None)
        if name in buffers:
            if not isinstance(value, np.ndarray):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r}: "
                                "a buffer must be an ndarray")
            buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """Add a state array that is saved with the model but not trained (``self.name``)."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"register_buffer({name!r}): expected an ndarray, "
                            f"got {type(array).__name__}")
        self._buffers[name] = array
        setattr(self, name, array)

    # ----------------------------------------------------------------------- walking the tree
    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, parents before children, each once (a module shared
        by two parents is listed under its first name)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack.extend(reversed([(f"{name}.{child_name}" if name else child_name, child)
                                   for child_name, child in module._modules.items()]))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _named_members(self, registry: str) -> Iterator[tuple[str, Any]]:
        """(dotted name, value) of each entry of one registry over the tree, each value once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, value in getattr(module, registry).items():
                if id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ``("layers.0.W", W)``, in registration order."""
        return self._named_members("_parameters")

    def parameters(self) -> Iterator[Parameter]:
        """Every learnable parameter, each once: what an optimizer updates."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        return self._named_members("_buffers")

    def buffers(self) -> Iterator[np.ndarray]:
        for _, b in self.named_buffers():
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every module of the tree (e.g. to re-initialise weights)."""
        for module in self.modules():
            fn(module)
        return self

    # ----------------------------------------------------------------------------- state
    def _state_arrays(self) -> dict[str, np.ndarray]:
        """The live arrays behind ``state_dict()``: parameters' data, then buffers, per module."""
        arrays: dict[str, np.ndarray] = {}
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                arrays[dot + name] = p.data
            for name, b in module._buffers.items():
                arrays[dot + name] = b
        return arrays

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and buffer by dotted name: what a checkpoint stores."""
        return {name: array.copy() for name, array in self._state_arrays().items()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy ``state_dict``'s arrays into this model's parameters and buffers, in place
        (optimizers keep pointing at the same parameters; each array keeps its dtype).

        Every problem is reported at once, and nothing is changed when there is one: a shape
        or type mismatch always raises; missing and unexpected keys raise when ``strict``, and are
        otherwise returned as ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError("load_state_dict: expected a dict of arrays by name (what "
                            f"state_dict() returns), got {type(state_dict).__name__}")
        own = self._state_arrays()
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        values = {name: np.asarray(v.data if isinstance(v, Tensor) else v)
                  for name, v in state_dict.items() if name in own}
        mismatched = [f"size mismatch for {name}: the state has shape {v.shape}, the model "
                      f"{own[name].shape}" for name, v in values.items()
                      if v.shape != own[name].shape]
        mismatched += [f"type mismatch for {name}: cannot store {v.dtype} in {own[name].dtype}"
                       for name, v in values.items()
                       if not np.can_cast(v.dtype, own[name].dtype, casting="same_kind")]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(map(repr, unexpected)))
        problems += mismatched
        if problems:
            raise RuntimeError(f"error(s) in loading state_dict for {type(self).__name__}:\n  "
                               + "\n  ".join(problems))
        for name, value in values.items():
            np.copyto(own[name], value, casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------------ modes, dtypes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (batch statistics in BatchNorm, dropout on) here and below."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode: BatchNorm uses its running statistics, dropout is off."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the accumulated gradients (``p.grad = None`` for every parameter)."""
        for p in self.parameters():
            p.grad = None

    def to(self, dtype: Any) -> Module:
        """Convert the floating parameters, their gradients and buffers to ``dtype``, e.g.
        ``model.to(np.float64)`` for a gradient check. Parameters stay the same objects."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"to(): expected a floating dtype, got {dtype}")
        for p in self.parameters():
            p.data = p.data.astype(dtype, copy=False)
            if p.grad is not None:
                p.grad = p.grad.astype(dtype, copy=False)
        for module in self.modules():
            for name, b in module._buffers.items():
                if b.dtype.kind == "f":
                    setattr(module, name, b.astype(dtype, copy=False))
        return self

    # ------------------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The arguments shown inside this module's repr, e.g. ``in_features=2, ...``."""
        return ""

    def __repr__(self) -> str:
        lines = [self.extra_repr()] if self.extra_repr() else []
        lines += [f"({name}): " + repr(child).replace("\n", "\n  ")
                  for name, child in self._modules.items()]
        if not self._modules:
            return f"{type(self).__name__}({''.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def _repr_html_(self) -> str:
        """Jupyter's display of a model: one row per module, indented under its parent, with
        its class and arguments, the shapes of its own parameters and the parameter count of
        everything under it; then the total count and its size in bytes. HTML-escaped."""
        from html import escape

        rows = []
        for name, module in self.named_modules():
            depth = name.count(".") + 1 if name else 0
            own = ", ".join(f"{key} {p.shape}" for key, p in module._parameters.items())
            count = sum(p.size for p in module.parameters())
            kind = type(module).__name__ + (f"({module.extra_repr()})"
                                            if module.extra_repr() else "")
            rows.append(f"<tr><td style='text-align:left;padding-left:{depth + 0.5}em'>"
                        f"{escape(name.rsplit('.', 1)[-1])}</td>"
                        f"<td style='text-align:left'>{escape(kind)}</td>"
                        f"<td style='text-align:left'>{escape(own)}</td>"
                        f"<td style='text-align:right'>{count:,}</td></tr>")
        parameters = list(self.parameters())
        total, nbytes = sum(p.size for p in parameters), sum(p.data.nbytes for p in parameters)
        return (f"<div><b>{escape(type(self).__name__)}</b><table><tr><th>module</th>"
                "<th>type</th><th>parameters</th><th>count</th></tr>" + "".join(rows) +
                f"</table>Total: {total:,} parameters ({nbytes:,} bytes)</div>")
