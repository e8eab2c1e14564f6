"""`Tensor`: an ndarray that remembers how it was made, and the backward walk over that graph.

A tensor wraps a NumPy array (``.data``). If it requires a gradient, every operation on it
produces a new tensor whose ``creator`` is the `Function` node that made it; the nodes point
back to their input tensors. ``loss.backward()`` then walks this graph from the loss to the
leaves (tensors made by the user, such as weights), applying each node's ``backward`` in
reverse topological order and accumulating dL/dx into each leaf's ``.grad``.

Dtypes. ``mb.tensor`` makes floating data and Python numbers float32 unless a dtype is given
(integer arrays and lists stay integer: labels, indices); float64 is honoured everywhere (use it
for gradient checks). Every function accepts an ndarray, a list or a number wherever it takes
a tensor, converted by that same rule (`as_tensor`). Gradients have their tensor's dtype and
shape. When the operands of ``+ - * / ** @`` (and ``linear``) differ in dtype, as in PyTorch:

* a Python number, an array or a list next to a floating tensor takes that tensor's dtype, so
  it never changes its precision: ``x32 * 2.0`` and ``x32 + np.ones(3)`` stay float32; a
  Python int next to an integer tensor takes its dtype;
* integer (or bool) with floating gives the floating dtype: ``mb.tensor([1, 2]) * 2.0`` and
  ``int_tensor * x32`` are float32, and ``/`` of two integer tensors is float32 (true
  division in the default dtype);
* float32 with float64 gives float64 (the wider, as NumPy and PyTorch's elementwise ops; also
  for ``@``, where PyTorch refuses); each gradient is still cast to its own input's dtype;
* the operations with fractional results (exp, log, sqrt, mean, sigmoid, tanh, softmax, the
  losses, batch_norm, ...) refuse integer input with a TypeError instead of truncating
  (``functional._util.check_floating``).

In-place changes. ``x.data`` is the raw array: writing into it between the forward and the
backward pass would change values that the backward pass reuses. Assigning to ``x.data`` (which
includes ``x.data += 1`` and ``x.data -= lr * x.grad``) and ``x.mark_modified()`` (which the
optimizers call after each step) stamp the tensor; ``backward()`` then raises, naming the
operation, if an operation kept (as an attribute) an array sharing memory with a tensor of the
graph, an input or the output, stamped after the operation ran. Not seen: NumPy writes into
the array (``x.data[...] = v``, ``np.add(a, b, out=x.data)``) and writes through another name
for the same memory (the array a tensor was made from, a ``detach()``-ed copy): call
``x.mark_modified()`` after such a write, or recompute the forward pass.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mitbadak.autograd.function import Function

DEFAULT_DTYPE = np.float32

_write_clock = 0
"""How many times some tensor was stamped as modified (see ``Tensor.mark_modified``); each
graph node remembers the value it saw, so a later stamp means "changed after that node ran"."""


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to an ndarray: float32 for floats and Python numbers unless ``dtype``.

    Integer arrays and lists of integers stay integer (class labels, indices).
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    array = np.asarray(data)
    python_number = isinstance(data, (int, float)) and not isinstance(data, bool)
    if array.dtype.kind == "f" or python_number:
        return array.astype(DEFAULT_DTYPE, copy=False)
    return array


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` itself if it is a tensor, else ``x`` (an ndarray, list or number) made a tensor by
    ``mb.tensor``'s rule. Next to ``like`` (the other operand of a binary operation), a
    non-tensor takes ``like``'s dtype when that is floating, or when both are integers (a
    Python int), so that it never changes the tensor's precision (see the module docstring)."""
    if isinstance(x, Tensor):
        return x
    if like is not None:
        dtype = (like if isinstance(like, Tensor) else as_tensor(like))._data.dtype
        if dtype.kind == "f" or (dtype.kind in "iu" and type(x) is int):
            return Tensor._wrap(np.asarray(x, dtype=dtype))
    return Tensor(x)


class Tensor:
    """A multi-dimensional array with automatic differentiation (see the module docstring).

    ``__array_priority__`` makes ``ndarray + Tensor`` call the tensor's operator, so mixing
    arrays and tensors gives a tensor that still tracks gradients; ``np.asarray(t)`` gives the
    data (``__array__``), outside the graph.
    """

    __slots__ = ("_data", "grad", "requires_grad", "creator", "_modified_at", "__weakref__")
    __array_priority__ = 200

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        self._data: np.ndarray = _as_array(data, dtype)
        self.grad: np.ndarray | None = None
        self.creator: Function | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: np.ndarray, creator: Function | None = None) -> Tensor:
        """Fast constructor for operation results (no conversion, no checks)."""
        t = object.__new__(Tensor)
        t._data = data if type(data) is np.ndarray else np.asarray(data)  # 0-d: no NumPy scalar
        t.grad = None
        t.creator = creator
        t.requires_grad = creator is not None
        return t

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place; only floating tensors can require a gradient, and
        only a leaf can stop requiring one (as in PyTorch: use ``detach()`` for the others)."""
        if not requires_grad and self.creator is not None:
            raise RuntimeError("requires_grad_(False) works on leaf tensors only; this tensor "
                               f"was computed by {self.creator.name}: use .detach() instead")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require a gradient, got dtype {self.data.dtype}"
                "; convert first, e.g. mb.tensor(data, dtype=np.float32)"
            )
        self.requires_grad = requires_grad
        return self

    # ----------------------------------------------------------------- array-like attributes
    def _set_data(self, value: Any) -> None:
        self._data = value if type(value) is np.ndarray else np.asarray(value)
        self.mark_modified()

    if TYPE_CHECKING:
        data: np.ndarray
    else:  # a getter in C (attrgetter): this is the most read attribute of all
        data = property(operator.attrgetter("_data"), _set_data,
                        doc="The array (shared, not copied); assigning to it, ``x.data += 1`` "
                            "included, stamps the tensor as modified (see mark_modified).")

    def mark_modified(self) -> None:
        """Record that ``.data`` was changed in place, so that a backward pass through an
        operation that kept these values from before the change raises instead of computing
        a wrong gradient. Assigning to ``.data`` and the optimizers' steps call this; NumPy
        writes such as ``x.data[...] = v`` cannot be seen and need it by hand."""
        global _write_clock
        _write_clock += 1
        self._modified_at = _write_clock

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def grad_fn(self) -> Function | None:
        """PyTorch's name for ``creator``: the node that produced this tensor."""
        return self.creator

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)``: the data, outside the graph (NumPy 2's protocol: ``copy=None``
        copies only to change the dtype, ``copy=True`` always, ``copy=False`` never)."""
        data = self._data
        if dtype is not None and np.dtype(dtype) != data.dtype:
            if copy is False:
                raise ValueError(f"cannot convert a {data.dtype} tensor to {np.dtype(dtype)} "
                                 "without a copy (copy=False)")
            return data.astype(dtype)
        return data.copy() if copy else data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """A tensor sharing the same data, cut off from the graph."""
        return Tensor._wrap(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != DEFAULT_DTYPE:
            extra += f", dtype={self.data.dtype}"
        if self.creator is not None:
            extra += f", grad_fn={self.creator.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    # ------------------------------------------------------------------------ backward pass
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute dL/dx for every leaf x that requires a gradient, accumulating into ``x.grad``.

        ``grad`` is dL/dself; it may be omitted only for a scalar (it is then 1). The graph is
        freed afterwards unless ``retain_graph=True``; calling backward through a freed graph
        raises instead of silently adding the gradients a second time.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: create the inputs "
                "with requires_grad=True (and not inside mb.no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without `grad` needs a scalar, but this tensor has shape "
                    f"{self.shape}; pass grad=np.ones({self.shape}) (dL/d of this tensor) or "
                    "reduce it first, e.g. y.sum().backward()"
                )
            gy = np.array(1, dtype=self.dtype).reshape(self.shape)  # dL/dL = 1
        else:
            gy = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if gy.shape != self.shape:
                raise ValueError(f"grad has shape {gy.shape} but the tensor has shape {self.shape}")
        if self.creator is None:
            self.grad = gy if self.grad is None else self.grad + gy
            return
        _run_backward(self, gy, retain_graph)

    # ---------------------------------------------- operators (defined in mitbadak.functional)
    def __add__(self, other: Any) -> Tensor:
        return F.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return F.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return F.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return F.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return F.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return F.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return F.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return F.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return F.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return F.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return F.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return F.matmul(other, self)

    def __neg__(self) -> Tensor:
        return F.neg(self)

    def __getitem__(self, key: Any) -> Tensor:
        return F.getitem(self, key)

    # Comparisons give boolean tensors and take no gradient.
    def __lt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data < _data(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data <= _data(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data > _data(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data >= _data(other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(self.data == _data(other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(self.data != _data(other))

    __hash__ = object.__hash__

    @property
    def T(self) -> Tensor:  # noqa: N802  (NumPy's and PyTorch's name)
        return F.transpose(self)

    def transpose(self, *axes: int) -> Tensor:
        return F.transpose(self, *axes)

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return F.reshape(self, *shape)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return F.sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return F.mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return F.max(self, axis, keepdims)

    def exp(self) -> Tensor:
        return F.exp(self)

    def log(self) -> Tensor:
        return F.log(self)

    def sqrt(self) -> Tensor:
        return F.sqrt(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return F.clip(self, min, max)

    def argmax(self, axis: int | None = None) -> np.ndarray:
        return self.data.argmax(axis=axis)


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a tensor: ``mb.tensor([[1., 2.]], requires_grad=True)`` (float32 unless ``dtype``)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


# ---------------------------------------------------------------------------- the graph walk
def _count_consumers(root: Function) -> tuple[dict[Function, int], int]:
    """For every node reachable from ``root`` through inputs that need a gradient: how many
    such inputs of other nodes it produced; and the oldest write clock the nodes saw.

    An explicit stack instead of recursion: a chain of 10,000 operations is fine.
    """
    consumers = {root: 0}
    stack = [root]
    oldest = _write_clock
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


def _check_saved_values(output: Tensor, nodes: Sequence[Function], oldest: int) -> None:
    """Raise if a node kept (as an attribute) an array sharing memory with a tensor of the
    graph, its inputs or the output, that was marked modified after the node ran: its backward
    would read the changed values. Runs only when some tensor was marked during the graph's
    life, so the usual training step pays one comparison per node."""
    tensors = {id(x): x for fn in nodes for x in fn.inputs}  # type: ignore[union-attr]
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


def _run_backward(output: Tensor, gy: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``gy`` = dL/d(output) from ``output``'s creator to every leaf.

    A node is ready for its backward once every node that used its output has passed its
    share of the gradient back (reverse topological order, found by counting consumers).
    ``pending`` holds each node's dL/d(output), summed over those uses; a leaf's gradient
    accumulates into its ``.grad``. A leaf keeps the array it is given as its ``.grad`` (and
    later adds into it in place) only if nothing else holds it: not ``gy`` or a view of it,
    and not an array that the same backward returned for another input too (the ownership
    contract of `Function.backward`, enforced here, so a user's ``return g, g`` is safe).
    """
    root: Function = output.creator  # type: ignore[assignment]  (backward() checked it)
    waiting, oldest = _count_consumers(root)
    if oldest < _write_clock:  # some tensor was modified while this graph was alive
        _check_saved_values(output, list(waiting), oldest)
    pending: dict[Function, np.ndarray] = {root: gy}
    ready = [root]
    while ready:
        fn = ready.pop()
        gy = pending.pop(fn, None)  # None: every use returned no gradient, so it is zero
        gxs = fn.backward(gy) if gy is not None else (None,) * len(fn.inputs)
        for x, gx, needed in zip(fn.inputs, gxs, fn.needs_input_grad):  # type: ignore[arg-type]
            if not needed:  # no gradient wanted; its creator was not counted either
                continue
            creator = x.creator
            if creator is not None:
                waiting[creator] -= 1
                if not waiting[creator]:
                    ready.append(creator)
            if gx is None:
                continue
            data = x._data
            if gx.shape != data.shape:
                gx = sum_to(gx, data.shape)
            if gx.dtype is not data.dtype and gx.dtype != data.dtype:  # `is`: the fast check
                gx = gx.astype(data.dtype)
            if creator is not None:
                previous = pending.get(creator)
                pending[creator] = gx if previous is None else previous + gx
            elif x.grad is not None:
                x.grad += gx  # accumulates over backward calls, as in PyTorch
            elif (gx is gy or gx.base is not None
                  or (len(gxs) > 1 and _handed_twice(gx, gxs))):  # type: ignore[arg-type]
                x.grad = np.array(gx)  # shared with others: the leaf gets its own copy
            else:
                x.grad = gx if type(gx) is np.ndarray else np.asarray(gx)  # 0-d: an array
        if not retain_graph:
            fn.release()


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


from mitbadak import functional as F  # noqa: E402  (the operators above need the ops)
