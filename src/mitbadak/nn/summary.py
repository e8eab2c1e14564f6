"""`summary(model, input_shape)`: the layers of a model, their output shapes, parameter counts
and memory, as torchinfo prints them.

One forward pass on zeros of shape ``(batch_size, *input_shape)`` (or one such input per shape,
for a model whose forward takes several, as seq2seq's ``model(xs, ys)``) runs in eval mode under
``no_grad``; while it runs, each module's ``forward`` is wrapped (on the instance, so nothing
else sees it) to record the shape of what it returns. Memory, in MB of 10^6 bytes as torchinfo:

    params size      = sum over parameters of p.data.nbytes
    forward size     = sum over leaf-layer calls of output.nbytes   (the activations kept for
                                                                     one batch)
    estimated total  = input size + forward size + params size

``str(summary)`` is a text table; in Jupyter ``summary`` displays as an HTML table.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mitbadak.autograd.grad_mode import no_grad
from mitbadak.autograd.tensor import Tensor
from mitbadak.nn.module import Module

__all__ = ["LayerRow", "Summary", "summary"]


@dataclass
class LayerRow:
    """One module of the tree: its dotted name ("" for the model), type, depth (0 for the
    model), the shape of its last output (None if it was not called), and the number of
    parameters it holds itself (its children's are on their own rows)."""

    name: str
    type: str
    depth: int
    output_shape: tuple[int, ...] | None
    params: int
    leaf: bool


@dataclass
class Summary:
    """What `summary` measured; ``str()`` gives torchinfo's table, ``_repr_html_`` the same
    for Jupyter."""

    rows: list[LayerRow]
    input_shape: tuple[int, ...] | tuple[tuple[int, ...], ...]  # with the batch axis
    total_params: int
    trainable_params: int
    input_bytes: int
    params_bytes: int
    forward_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_bytes + self.params_bytes

    def _cells(self) -> list[tuple[str, str, str]]:
        """(layer, output shape, params) per row, the layer indented by its depth."""
        return [("  " * row.depth + (f"{row.type} ({row.name})" if row.name else row.type),
                 "--" if row.output_shape is None else str(list(row.output_shape)),
                 f"{row.params:,}" if row.leaf or row.params else "--")
                for row in self.rows]

    def _totals(self) -> list[tuple[str, str]]:
        mb = 1e6
        return [("Total params", f"{self.total_params:,}"),
                ("Trainable params", f"{self.trainable_params:,}"),
                ("Non-trainable params", f"{self.total_params - self.trainable_params:,}"),
                ("Input size (MB)", f"{self.input_bytes / mb:.2f}"),
                ("Forward pass size (MB)", f"{self.forward_bytes / mb:.2f}"),
                ("Params size (MB)", f"{self.params_bytes / mb:.2f}"),
                ("Estimated total size (MB)", f"{self.total_bytes / mb:.2f}")]

    def __str__(self) -> str:
        header = ("Layer (type (name))", "Output Shape", "Param #")
        cells = [header, *self._cells()]
        widths = [max(len(c[i]) for c in cells) + 4 for i in range(2)]
        lines = [f"{a:<{widths[0]}}{b:<{widths[1]}}{c:>9}" for a, b, c in cells]
        rule = "=" * max(len(line) for line in lines)
        return "\n".join([rule, lines[0], rule, *lines[1:], rule,
                          *[f"{k}: {v}" for k, v in self._totals()[:3]], rule,
                          *[f"{k}: {v}" for k, v in self._totals()[3:]], rule])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape
        body = "".join(
            f"<tr><td style='text-align:left; padding-left:{1.5 * row.depth}em'>"
            f"{e(layer.strip())}</td><td>{e(shape)}</td><td>{e(params)}</td></tr>"
            for row, (layer, shape, params) in zip(self.rows, self._cells()))
        totals = "".join(f"<tr><td style='text-align:left'>{e(k)}</td><td></td>"
                         f"<td>{e(v)}</td></tr>" for k, v in self._totals())
        return ("<table><thead><tr><th style='text-align:left'>Layer (type (name))</th>"
                "<th>Output Shape</th><th>Param #</th></tr></thead>"
                f"<tbody>{body}</tbody><tbody>{totals}</tbody></table>")


def summary(model: Module, input_shape: Sequence[int] | Sequence[Sequence[int]],
            batch_size: int = 1, dtype: Any = np.float32) -> Summary:
    """Run ``model`` once on zeros of shape ``(batch_size, *input_shape)`` and report each
    layer's output shape and parameters, and the memory (see the module docstring). A model
    that takes several inputs gets a list of shapes, ``[(7,), (5,)]``, and ``dtype`` may then
    be a list too (token ids: ``np.int64``).

    The model's training flags and its modules' ``forward`` are restored afterwards, also
    on error. A shape the model cannot take raises one ValueError naming the layer.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    several = bool(input_shape) and all(isinstance(s, (tuple, list)) for s in input_shape)
    shapes: list[tuple[int, ...]] = (
        [tuple(s) for s in input_shape] if several  # type: ignore[arg-type]
        else [tuple(input_shape)])  # type: ignore[arg-type]
    dtypes = list(dtype) if isinstance(dtype, (tuple, list)) else [dtype] * len(shapes)
    if len(dtypes) != len(shapes):
        raise ValueError(f"summary: {len(shapes)} input shapes but {len(dtypes)} dtypes")
    batched = [(batch_size, *s) for s in shapes]
    for each in batched:
        if not all(isinstance(n, (int, np.integer)) and n > 0 for n in each):
            raise ValueError(f"summary: batch_size and input_shape must be positive ints, "
                             f"got batch {batch_size!r} and shape {each[1:]!r}")
    xs = [Tensor(np.zeros(each, dtype=d)) for each, d in zip(batched, dtypes)]
    shape: tuple[int, ...] | tuple[tuple[int, ...], ...] = (
        tuple(batched) if several else batched[0])
    named = list(model.named_modules())
    outputs: dict[int, tuple[int, ...]] = {}
    forward_bytes = 0
    failed: list[str] = []

    def observe(name: str, module: Module, forward: Callable[..., Any]) -> Callable[..., Any]:
        leaf = not module._modules

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal forward_bytes
            try:
                out = forward(*args, **kwargs)
            except Exception as e:
                if not failed:  # the innermost layer is the one to name
                    given = getattr(args[0], "shape", None) if args else None
                    where = f"{type(module).__name__} ({name})" if name else type(module).__name__
                    failed.append(f"summary: {where} cannot take an input of shape "
                                  f"{list(given) if given is not None else '?'} "
                                  f"(model input {list(shape)}): "
                                  + " ".join(str(e).split()))  # one line
                raise
            array = out.data if isinstance(out, Tensor) else out
            if isinstance(array, np.ndarray):
                outputs[id(module)] = array.shape
                if leaf:
                    forward_bytes += array.nbytes
            return out

        return wrapper

    modes = [(module, module.training) for _, module in named]
    own = [(module, module.__dict__.get("forward")) for _, module in named]
    try:
        for name, module in named:
            object.__setattr__(module, "forward", observe(name, module, module.forward))
        model.eval()
        with no_grad():
            try:
                model(*xs)
            except Exception as e:
                if failed:
                    raise ValueError(failed[0]) from e
                raise
    finally:
        for module, forward in own:
            if forward is None:
                module.__dict__.pop("forward", None)
            else:
                object.__setattr__(module, "forward", forward)
        for module, training in modes:
            module.training = training

    rows = [LayerRow(name, type(module).__name__, name.count(".") + 1 if name else 0,
                     outputs.get(id(module)),
                     sum(p.size for p in module._parameters.values()),
                     leaf=not module._modules)
            for name, module in named]
    parameters = list(model.parameters())
    return Summary(rows=rows, input_shape=shape,
                   total_params=sum(p.size for p in parameters),
                   trainable_params=sum(p.size for p in parameters if p.requires_grad),
                   input_bytes=sum(x.data.nbytes for x in xs),
                   params_bytes=sum(p.data.nbytes for p in parameters),
                   forward_bytes=forward_bytes)
