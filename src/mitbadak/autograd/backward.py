"""The backward walk: the chain rule applied over the whole recorded graph.

The book's chapter 5 calls each layer's ``backward`` by hand, last layer first. Here
``loss.backward()`` does it for any graph, through `run_backward`. A value used twice gets
the sum of what its uses send back, so for every tensor x

    dL/dx = Σ over the operations y = f(x, ...) that used x of  dL/dy · ∂y/∂x,

and an operation (a `Function` node) may run its ``backward`` only once every operation that
used its output has passed its share of dL/d(output) back. So the walk

1. counts, for every node on the way to the loss, how many uses of its output it must wait
   for (`count_consumers`);
2. runs the nodes in reverse topological order (`run_backward`): starting from the loss, a
   node is ready when its count reaches zero; `pass_back` hands each gradient the node's
   ``backward`` returns to the node that made that input, or, for a leaf (a tensor no
   operation made: weights, inputs), into its ``.grad``.

An explicit stack and list instead of recursion, so a chain of 10,000 operations is fine.
Nothing here imports `Tensor`: the walk only follows ``creator`` and ``inputs`` links.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mitbadak import blas, memory

if TYPE_CHECKING:
    from mitbadak.autograd.function import Function
    from mitbadak.autograd.tensor import Tensor


def run_backward(outputs: Sequence[Tensor], grads: Sequence[Any], retain_graph: bool,
                 clock: int, create_graph: bool = False,
                 inputs: Sequence[Tensor] | None = None) -> list[Any] | None:
    """Propagate ``grads`` = dL/d(outputs) from the outputs' creators to every leaf.

    ``pending[fn]`` is dL/d(fn's output) summed over the uses seen so far; ``waiting[fn]``
    the uses still to come. ``clock`` is the tensors' write clock now (see
    `Tensor.mark_modified`): a node that ran before a later write may have kept stale values.
    The graph is freed node by node as the walk passes, unless ``retain_graph``.

    Two options serve higher-order gradients and ``mb.autograd.grad``:

    * ``create_graph``: the gradients are tensors and each node runs `backward_with_graph`
      (its own ``backward`` on tensors), so the walk itself is recorded as a new graph; the
      walk keeps the old graph, which the new one refers to;
    * ``inputs``: instead of accumulating into the leaves' ``.grad``, return dL/dx for each
      of these tensors (None where nothing reaches it); only nodes on a way to them compute.
    """
    blas.adapt()  # once per training step: give the BLAS the cores that are free now
    memory.keep_freed_memory()  # (once per process) and the next step this one's memory
    roots = [y.creator for y in outputs if y.creator is not None]
    waiting, oldest = count_consumers(roots, clock)
    if oldest < clock:  # some tensor was modified while this graph was alive
        check_saved_values(outputs, list(waiting), oldest)
    pending: dict[Function, Any] = {}
    sink = useful = capture = None
    if inputs is not None:
        sink, useful, capture = _targets(inputs, list(waiting))
    if create_graph:  # refuse before any gradient is written, not half-way
        for fn in waiting:
            if useful is None or fn in useful:
                fn.check_twice_differentiable()
    for y, gy in zip(outputs, grads):
        if y.creator is None:  # an output that is a leaf: its gradient is gy itself
            if sink is not None and id(y) in sink:
                _add(sink, id(y), gy)
        else:
            previous = pending.get(y.creator)
            pending[y.creator] = gy if previous is None else previous + gy
    ready = list({fn: None for fn in roots if not waiting[fn]})
    while ready:
        fn = ready.pop()
        g = pending.pop(fn, None)  # None: every use returned no gradient, so it is zero
        if capture is not None and g is not None and fn in capture:  # a non-leaf input
            for key in capture[fn]:
                _add(sink, key, g)  # type: ignore[arg-type]
        if g is None or (useful is not None and fn not in useful):
            gxs: Sequence[Any] = (None,) * len(fn.needs_input_grad)
        elif create_graph:
            gxs = fn.backward_with_graph(g)
        else:
            gxs = fn.backward(g)
        pass_back(fn, g, gxs, pending, waiting, ready, sink)
        if not retain_graph:
            fn.release()
    return None if sink is None else list(sink.values())


def pass_back(fn: Function, gy: Any, gxs: Sequence[Any], pending: dict[Function, Any],
              waiting: dict[Function, int], ready: list[Function],
              sink: dict[int, Any] | None = None) -> None:
    """Hand dL/d(input) for each input of ``fn`` on: summed back to the input's shape (after
    broadcasting) and cast to its dtype, into ``pending`` for the node that made the input,
    or into a leaf's ``.grad`` (into ``sink``, if given, for the leaves it names); a node
    whose last use has reported becomes ready."""
    for x, gx, needed in zip(fn.inputs, gxs, fn.needs_input_grad):  # type: ignore[arg-type]
        if not needed:  # no gradient wanted; its creator was not counted either
            continue
        creator = x.creator
        if gx is not None:
            data = x._data
            if gx.shape != data.shape:
                gx = sum_to(gx, data.shape)
            if gx.dtype is not data.dtype and gx.dtype != data.dtype:  # `is`: the fast check
                gx = gx.astype(data.dtype)
            if creator is None:
                if sink is not None:
                    if id(x) in sink:
                        _add(sink, id(x), gx)
                elif type(gx) is not np.ndarray and hasattr(gx, "_data"):  # a Tensor
                    x.grad = gx if x.grad is None else x.grad + gx  # create_graph: no in-place
                else:
                    accumulate_grad(x, gx, shared=gx is gy or gx.base is not None
                                    or (len(gxs) > 1 and _handed_twice(gx, gxs)))
                continue
            previous = pending.get(creator)
            pending[creator] = gx if previous is None else previous + gx
        if creator is not None:
            waiting[creator] -= 1
            if not waiting[creator]:
                ready.append(creator)


def _add(sink: dict[int, Any], key: int, g: Any) -> None:
    previous = sink[key]
    sink[key] = g if previous is None else previous + g


def _targets(inputs: Sequence[Tensor], nodes: list[Function]
             ) -> tuple[dict[int, Any], set[Function], dict[Function, list[int]]]:
    """For ``run_backward(inputs=...)``: the sink (one slot per input tensor), the nodes from
    which an input can be reached (only they need to compute), and the nodes whose output is
    an input (their incoming gradient is that input's)."""
    sink: dict[int, Any] = {id(x): None for x in inputs}
    capture: dict[Function, list[int]] = {}
    for x in inputs:
        if x.creator is not None:
            capture.setdefault(x.creator, []).append(id(x))
    useful: set[Function] = set()
    done: set[Function] = set()
    for start in nodes:  # depth first, a node after everything below it
        stack = [(start, False)]
        while stack:
            fn, expanded = stack.pop()
            if fn in done:
                continue
            below = [x.creator for x, needed in zip(fn.inputs, fn.needs_input_grad)  # type: ignore[arg-type]
                     if needed and x.creator is not None]
            if not expanded:
                stack.append((fn, True))
                stack.extend((c, False) for c in below if c not in done)
                continue
            done.add(fn)
            if any(needed and (id(x) in sink or x.creator in useful)
                   for x, needed in zip(fn.inputs, fn.needs_input_grad)):  # type: ignore[arg-type]
                useful.add(fn)
    return sink, useful, capture


def accumulate_grad(x: Tensor, gx: np.ndarray, shared: bool) -> None:
    """Add ``gx`` into the leaf's ``.grad`` (gradients accumulate over backward calls, as in
    PyTorch, until ``zero_grad``). A leaf keeps the array it is given as its ``.grad``, and
    later adds into it in place, only if nothing else holds it: not ``shared`` — ``gy`` or a
    view of it, or one array that a backward returned for two inputs (the ownership contract
    of `Function.backward`, enforced here, so a user's ``return g, g`` is safe)."""
    if x.grad is not None:
        x.grad += gx
    elif shared:
        x.grad = np.array(gx)  # the leaf gets its own copy
    else:
        x.grad = gx if type(gx) is np.ndarray else np.asarray(gx)  # 0-d: an array


def count_consumers(roots: Sequence[Function], clock: int) -> tuple[dict[Function, int], int]:
    """For every node reachable from ``roots`` through inputs that need a gradient: how many
    such inputs of other nodes it produced; and the oldest write clock the nodes saw (at most
    ``clock``)."""
    consumers = {root: 0 for root in roots}
    stack = list(consumers)
    oldest = clock
    while stack:
        fn = stack.pop()
        if fn.inputs is None:
            raise RuntimeError(
                f"trying to backward through the graph a second time (node {fn.name}): its "
                "saved values were freed after the first backward(); pass retain_graph=True to "
                "the first call if you need to backward twice"
            )
        if fn.clock < oldest:
            oldest = fn.clock
        for x, needed in zip(fn.inputs, fn.needs_input_grad):
            creator = x.creator
            if creator is None or not needed:  # the walk passes nothing along such an input
                continue
            if creator in consumers:
                consumers[creator] += 1
            else:
                consumers[creator] = 1
                stack.append(creator)
    return consumers, oldest


def check_saved_values(outputs: Sequence[Tensor], nodes: Sequence[Function],
                       oldest: int) -> None:
    """Raise if a node kept (as an attribute) an array sharing memory with a tensor of the
    graph, its inputs or the output, that was marked modified after the node ran: its backward
    would read the changed values. Runs only when some tensor was marked during the graph's
    life, so the usual training step pays one comparison per node."""
    tensors = {id(x): x for fn in nodes for x in fn.inputs}  # type: ignore[union-attr]
    for output in outputs:
        tensors[id(output)] = output
    changed = [x for x in tensors.values() if getattr(x, "_modified_at", 0) > oldest]
    for fn in nodes:
        kept = [v for v in vars(fn).values() if isinstance(v, np.ndarray)]
        for x in changed:
            if x._modified_at > fn.clock and any(np.may_share_memory(v, x._data) for v in kept):
                raise RuntimeError(
                    f"{fn.name}: a tensor of shape {x.shape} whose values this operation kept "
                    "for the backward pass was modified in place after the forward pass "
                    "(through .data or an optimizer step), so the gradient would be wrong; "
                    "run the forward pass again after changing the values"
                )


def _handed_twice(g: np.ndarray, gxs: Sequence[np.ndarray | None]) -> bool:
    """Whether one backward returned the same array object for two of its inputs."""
    n = 0
    for h in gxs:
        if h is g:
            n += 1
    return n > 1


def sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast gradient back to ``shape``.

    If x of shape (3,) was broadcast to (2, 3) in the forward pass, each x[j] fed two outputs,
    so dL/dx[j] is the sum of their gradients: sum over the axes that broadcasting added or
    stretched.
    """
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)
    return g
