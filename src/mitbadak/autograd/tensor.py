"""`Tensor`: an ndarray that remembers how it was made.

A tensor wraps a NumPy array (``.data``). If it requires a gradient, every operation on it
produces a new tensor whose ``creator`` is the `Function` node that made it; the nodes point
back to their input tensors. ``loss.backward()`` then walks this graph from the loss to the
leaves (tensors made by the user, such as weights), applying each node's ``backward`` in
reverse topological order and accumulating dL/dx into each leaf's ``.grad``: the walk is
`mitbadak.autograd.backward.run_backward`.

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

from mitbadak.autograd.backward import run_backward
from mitbadak.autograd.grad_mode import enable_grad

if TYPE_CHECKING:
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
        self.grad: np.ndarray | None = None  # a Tensor after backward(create_graph=True)
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
        @property
        def data(self) -> np.ndarray: ...
        @data.setter
        def data(self, value: Any) -> None: ...
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

    def _repr_html_(self) -> str:
        """Jupyter's display of a tensor: a table of its shape, dtype, ``requires_grad``, the
        node that made it (``grad_fn``) and whether ``.grad`` is set, above a preview of the
        values (NumPy's summary with ``...`` past 100 elements). Every piece is HTML-escaped."""
        from html import escape

        grad = "None" if self.grad is None else f"set, shape {self.grad.shape}"
        rows = [("shape", self.shape), ("dtype", self.dtype),
                ("requires_grad", self.requires_grad),
                ("grad_fn", "None" if self.creator is None else self.creator.name),
                ("grad", grad)]
        cells = "".join(f"<tr><th style='text-align:left'>{key}</th>"
                        f"<td style='text-align:left'>{escape(str(value))}</td></tr>"
                        for key, value in rows)
        values = np.array2string(self._data, separator=", ", threshold=100, edgeitems=3,
                                 precision=4)
        return (f"<div><b>{escape(type(self).__name__)}</b><table>{cells}</table>"
                f"<pre>{escape(values)}</pre></div>")

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    # ------------------------------------------------------------------------ backward pass
    def backward(self, grad: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Compute dL/dx for every leaf x that requires a gradient, accumulating into ``x.grad``.

        ``grad`` is dL/dself; it may be omitted only for a scalar (it is then 1). The graph is
        freed afterwards unless ``retain_graph=True``; calling backward through a freed graph
        raises instead of silently adding the gradients a second time.

        ``create_graph=True`` records the backward pass itself, so that the gradients can be
        differentiated again (higher-order derivatives, as PyTorch): ``x.grad`` is then a
        Tensor with its own graph (otherwise an ndarray, as always), and the graph is kept
        (``retain_graph`` defaults to ``create_graph``; the new graph refers to the old one).
        """
        if retain_graph is None:
            retain_graph = create_graph
        gy = initial_grad(self, grad, create_graph, "backward()")
        if self.creator is None:
            self.grad = gy if self.grad is None else self.grad + gy
            return
        if create_graph:
            with enable_grad():
                run_backward([self], [gy], True, _write_clock, create_graph=True)
        else:
            run_backward([self], [gy], retain_graph, _write_clock)

    # ------------------------------------------------------------- operators and array methods
    # ``+ - * / ** @``, unary ``-``, indexing, ``.T``, ``transpose``, ``reshape``, ``sum``,
    # ``mean``, ``max``, ``exp``, ``log``, ``sqrt`` and ``clip`` are the ops of
    # `mitbadak.functional`, each with its backward; ``functional/operators.py`` installs them
    # on this class (the sequel's DeZero does the same in ``setup_variable``), so the core needs
    # nothing from the ops above it. Their signatures, for readers and the type checker:
    if TYPE_CHECKING:
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __getitem__(self, key: Any) -> Tensor: ...
        @property
        def T(self) -> Tensor: ...  # noqa: N802  (NumPy's and PyTorch's name)
        def transpose(self, *axes: int) -> Tensor: ...
        def reshape(self, *shape: int | Sequence[int]) -> Tensor: ...
        def sum(self, axis: int | tuple[int, ...] | None = None,
                keepdims: bool = False) -> Tensor: ...
        def mean(self, axis: int | tuple[int, ...] | None = None,
                 keepdims: bool = False) -> Tensor: ...
        def max(self, axis: int | tuple[int, ...] | None = None,
                keepdims: bool = False) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def log(self) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def clip(self, min: float | None = None,  # noqa: A002
                 max: float | None = None) -> Tensor: ...  # noqa: A002
        def min(self, axis: int | tuple[int, ...] | None = None,
                keepdims: bool = False) -> Tensor: ...
        def sin(self) -> Tensor: ...
        def cos(self) -> Tensor: ...
        def minimum(self, other: Any) -> Tensor: ...
        def maximum(self, other: Any) -> Tensor: ...
        def broadcast_to(self, *shape: int | Sequence[int]) -> Tensor: ...
        def sum_to_size(self, *shape: int | Sequence[int]) -> Tensor: ...
        def astype(self, dtype: Any) -> Tensor: ...


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

    def argmax(self, axis: int | None = None) -> np.ndarray | np.integer:
        return self.data.argmax(axis=axis)


def initial_grad(y: Tensor, grad: Any, create_graph: bool, caller: str) -> Any:
    """dL/dy to start a backward walk from ``y``: ``grad`` (checked against ``y``'s shape, in
    ``y``'s dtype) or, for a scalar, 1; a Tensor under ``create_graph`` (``grad`` itself if it
    is one of ``y``'s dtype, so that it stays differentiable), else an ndarray."""
    if not y.requires_grad:
        raise RuntimeError(
            f"{caller} called on a tensor that does not require grad: create the inputs "
            "with requires_grad=True (and not inside mb.no_grad())"
        )
    if grad is None:
        if y.data.size != 1:
            raise RuntimeError(
                f"{caller} without a gradient needs a scalar, but this tensor has shape "
                f"{y.shape}; pass grad=np.ones({y.shape}) (dL/d of this tensor) or "
                "reduce it first, e.g. y.sum().backward()"
            )
        gy = np.array(1, dtype=y.dtype).reshape(y.shape)  # dL/dL = 1
    else:
        if create_graph and isinstance(grad, Tensor) and grad.dtype == y.dtype:
            if grad.shape != y.shape:
                raise ValueError(f"grad has shape {grad.shape} but the tensor has shape "
                                 f"{y.shape}")
            return grad
        gy = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=y.dtype)
        if gy.shape != y.shape:
            raise ValueError(f"grad has shape {gy.shape} but the tensor has shape {y.shape}")
    return Tensor._wrap(gy) if create_graph else gy


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a tensor: ``mb.tensor([[1., 2.]], requires_grad=True)`` (float32 unless ``dtype``)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)
