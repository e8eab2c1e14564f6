"""`Function`: one node of the computational graph, the book's layer with `forward`/`backward`.

Chapter 5 of the book builds every layer (MulLayer, Affine, Relu, SoftmaxWithLoss, ...) as an
object with two methods: `forward` computes the output from the inputs and keeps what the
backward pass will need; `backward` receives dL/dy, the gradient of the loss with respect to
the output, and returns dL/dx for each input (the chain rule: upstream gradient times the
local derivative). A `Function` is exactly that, on plain NumPy arrays.

What the book does by hand (calling each layer's `backward` in reverse order) the graph does
for us: `Function.apply` runs `forward` and, when gradients are wanted, records the inputs on
the node and the node on its output tensor (define-by-run, as PyTorch and DeZero do). Later,
`Tensor.backward()` walks these records from the loss back to the leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from mitbadak.autograd import grad_mode
from mitbadak.autograd import tensor as _tensor
from mitbadak.autograd.tensor import Tensor


class Function:
    """Base class of every differentiable operation.

    A subclass writes:

    * ``forward(self, *xs)`` on ndarrays, returning one ndarray; it stores on ``self`` whatever
      its backward needs (as the book's layers store ``self.x`` or ``self.mask``);
    * ``backward(self, gy)`` returning one gradient per input (an ndarray, or None for an input
      that takes no gradient, such as integer labels). The gradient may have a broadcast shape:
      the graph walk sums it back to the input's shape. ``backward`` must not modify ``gy`` or
      what it saved (with ``retain_graph=True`` it may run twice), and each gradient it returns
      is a new array of its own, or ``gy`` itself or a view of it. (The walk checks which of
      these it may keep as a leaf's ``.grad``, so returning one new array for two inputs is
      safe, at the price of a copy.)

    ``apply`` takes tensors, or anything ``mb.tensor`` takes (an ndarray, a list, a number),
    converted by the same rule (`mitbadak.autograd.tensor.as_tensor`).

    ``self.needs_input_grad`` (a tuple of bools, one per input) lets a backward skip work for
    inputs that do not require a gradient. ``self.for_backward`` lets a forward skip what only
    the backward needs (MaxPooling's argmax, GELU's dy/dx): `apply` sets it False before
    ``forward`` when no backward can follow (gradients disabled, or no input requires one);
    it is True otherwise, and for a forward called directly.

    **Higher-order gradients** (``backward(create_graph=True)``, ``mb.autograd.grad``). To be
    differentiated again, a node's backward must run on tensors, so that its own operations are
    recorded. A Function opts in in two steps:

    1. write ``backward`` with operations that work on ndarrays *and* on tensors: Python's
       operators (``+ - * / ** @``, ``[...]``), the methods both have (``.T``, ``.reshape``,
       ``.sum(axis, keepdims=True)``, ``.transpose(axes)``), and, for anything else, another
       op through ``mitbadak.functional._util.on_either(Op, *xs, **params)`` (NumPy's forward
       on arrays, the recorded op on tensors: ``on_either(Exp, y)``, ``on_either(Where, 0,
       v, cond=mask)``, ``on_either(BroadcastTo, g, shape=s)``); constants (masks, shapes,
       labels) stay arrays, and in-place updates (``g *= y``) are fine (a tensor has no
       ``*=``, so Python makes a new one);
    2. declare ``saved_tensors``: which attributes that ``backward`` reads hold an input
       (its index) or the output (``"output"``), e.g. ``saved_tensors = {"a": 0, "b": 1}`` for
       Mul, ``{"y": "output"}`` for Exp, ``{}`` when backward reads only constants (Add,
       ReLU's mask). A saved value that depends on the inputs but is neither (SquaredError's
       y - t) must be recomputed in ``backward`` from declared ones: left an array, it acts
       as a constant and the second derivative is silently wrong. Check the result with
       ``mb.numerical.gradgradcheck``.

    In first order nothing changes: ``backward`` gets ``gy`` and its saved arrays, as always.
    Under ``create_graph`` the walk calls `backward_with_graph` instead, which hands the same
    ``backward`` ``gy`` as a tensor and those attributes as the tensors they came from (an
    input's tensor; the output as a tensor made by this very node), on a copy of the node, so
    each derivative is written once and the derivative of the derivative flows back into the
    inputs. A fused kernel whose backward is not written with such operations may instead
    branch on ``isinstance(gy, Tensor)`` and, under ``create_graph``, return the result of a
    Function of its own, with its own (twice differentiable) backward (SoftmaxWithLoss does).
    A node without ``saved_tensors`` still works in first order and raises one clear error
    under ``create_graph``; where a second derivative makes no sense, say why in
    ``not_twice_differentiable`` (Step does).
    """

    inputs: tuple[Tensor, ...] | None
    needs_input_grad: tuple[bool, ...]
    clock: int  # the tensors' write clock when this node ran (see Tensor.mark_modified)
    for_backward = True  # False: apply knows no backward will follow (see above)
    saved_tensors: dict[str, int | str] | None = None  # see "Higher-order gradients" above
    not_twice_differentiable: str | None = None  # why not, for the error message

    if TYPE_CHECKING:  # each subclass names its own inputs: forward(self, x, W, b), ...
        forward: Callable[..., np.ndarray]
        backward: Callable[..., tuple[np.ndarray | None, ...]]
    else:
        def forward(self, *xs):
            raise NotImplementedError(f"{self.name} does not define forward(self, *inputs)")

        def backward(self, gy):
            raise NotImplementedError(f"{self.name} does not define backward(self, gy)")

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays and, if any input requires a gradient (and
        gradients are enabled), link the result into the graph."""
        try:
            xs = [x._data for x in inputs]
        except AttributeError:  # an array, list or number among them (a Tensor has _data)
            inputs = tuple([_tensor.as_tensor(x) for x in inputs])
            xs = [x._data for x in inputs]
        fn = cls(**params)
        needs = tuple([x.requires_grad for x in inputs]) if grad_mode.is_enabled() else ()
        if True not in needs:  # no graph: the forward may skip what only a backward needs
            fn.for_backward = False
            return Tensor._wrap(fn.forward(*xs))
        y = fn.forward(*xs)
        fn.inputs, fn.needs_input_grad, fn.clock = inputs, needs, _tensor._write_clock
        return Tensor._wrap(y, fn)

    def backward_with_graph(self, gy: Tensor) -> tuple[Tensor | None, ...]:
        """``backward`` run on tensors, recording its operations (for ``create_graph=True``):
        on a copy of this node whose ``saved_tensors`` attributes are the input and output
        tensors instead of their arrays (see the class docstring)."""
        self.check_twice_differentiable()
        saved: dict[str, int | str] = self.saved_tensors  # type: ignore[assignment]  # checked
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        for name, source in saved.items():
            view.__dict__[name] = (self.inputs[source] if type(source) is int  # type: ignore[index]
                                   else Tensor._wrap(self.__dict__[name], self))
        gxs = view.backward(gy)
        return tuple([g if g is None or isinstance(g, Tensor) else Tensor._wrap(np.asarray(g))
                      for g in gxs])

    def check_twice_differentiable(self) -> None:
        """Raise one clear error if this node's backward cannot run on tensors."""
        if self.saved_tensors is None or self.not_twice_differentiable:
            why = self.not_twice_differentiable or (
                "its backward works on arrays only (to opt in, write it with operations that "
                "take tensors too and declare saved_tensors: see mitbadak.autograd.Function)")
            raise RuntimeError(f"{self.name} is not twice differentiable: {why}")

    def release(self) -> None:
        """Forget inputs and saved arrays once the backward pass no longer needs them."""
        self.__dict__.clear()
        self.inputs = None

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}>"

