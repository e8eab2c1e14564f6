"""`grad`: the gradients of some outputs with respect to some inputs, returned, not accumulated.

``loss.backward()`` adds dL/dx into every leaf's ``.grad``; ``mb.autograd.grad(y, x)`` returns
dy/dx for the tensors asked for and touches no ``.grad`` (PyTorch's ``torch.autograd.grad``).
With ``create_graph=True`` the returned gradients are tensors with a graph of their own, so
they can be differentiated again: f''(x) is ``grad(grad(f(x), x, create_graph=True)[0], x)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, overload

from mitbadak.autograd import tensor as _tensor
from mitbadak.autograd.backward import run_backward
from mitbadak.autograd.grad_mode import enable_grad
from mitbadak.autograd.tensor import Tensor, initial_grad


def _as_tuple(name: str, values: Any) -> tuple[Any, ...]:
    items = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    for i, v in enumerate(items):
        if not isinstance(v, Tensor):
            raise TypeError(f"grad: {name}[{i}] is a {type(v).__name__}, not a Tensor (a plain "
                            "number, such as accuracy()'s, has no gradient)")
    if not items:
        raise ValueError(f"grad: {name} is empty")
    return items


@overload
def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: Literal[False] = False) -> tuple[Tensor, ...]:
    ...


@overload
def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = ...) -> tuple[Tensor | None, ...]:
    ...


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """The sum over ``outputs`` of d(output)/d(input), weighted by ``grad_outputs``, for each
    of ``inputs``: a tuple with one Tensor per input, of the input's shape and dtype.

    * ``grad_outputs``: dL/d(output) for each output (a tensor, array or number); may be
      omitted (None) for scalar outputs, where it is 1;
    * ``create_graph``: record the backward pass, so the gradients can be differentiated again
      (they then require grad where they depend on a tensor that does);
    * ``retain_graph`` (default: ``create_graph``): keep the graph for another backward;
    * ``allow_unused``: an input the outputs do not depend on gets None instead of an error.

    Unlike ``Tensor.backward``, no ``.grad`` is changed.
    """
    outs = _as_tuple("outputs", outputs)
    ins = _as_tuple("inputs", inputs)
    if grad_outputs is None:
        gos: tuple[Any, ...] = (None,) * len(outs)
    else:
        gos = tuple(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else (grad_outputs,)
        if len(gos) != len(outs):
            raise ValueError(f"grad: {len(gos)} grad_outputs for {len(outs)} outputs")
    for i, x in enumerate(ins):
        if not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] (shape {x.shape}) does not require grad, so "
                               "no gradient flows to it: create it with requires_grad=True")
    grads = [initial_grad(y, g, create_graph, f"grad: outputs[{i}]")
             for i, (y, g) in enumerate(zip(outs, gos))]
    if retain_graph is None:
        retain_graph = create_graph
    with enable_grad():
        found = run_backward(list(outs), grads, retain_graph or create_graph,
                             _tensor._write_clock, create_graph=create_graph, inputs=list(ins))
    by_id = dict(zip([id(x) for x in ins], found or ()))
    result: list[Tensor | None] = []
    for i, x in enumerate(ins):
        g = by_id[id(x)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: inputs[{i}] (shape {x.shape}) was not used to compute the outputs "
                    "(no path leads from them to it); pass allow_unused=True to get None for it")
            result.append(None)
        else:
            result.append(g if isinstance(g, Tensor) else Tensor._wrap(g))
    return tuple(result)
