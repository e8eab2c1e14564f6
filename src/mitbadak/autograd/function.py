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
    inputs that do not require a gradient.
    """

    inputs: tuple[Tensor, ...] | None
    needs_input_grad: tuple[bool, ...]
    clock: int  # the tensors' write clock when this node ran (see Tensor.mark_modified)

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
        y = fn.forward(*xs)
        if grad_mode.is_enabled():
            needs = tuple([x.requires_grad for x in inputs])
            if True in needs:
                fn.inputs, fn.needs_input_grad, fn.clock = inputs, needs, _tensor._write_clock
                return Tensor._wrap(y, fn)
        return Tensor._wrap(y)

    def release(self) -> None:
        """Forget inputs and saved arrays once the backward pass no longer needs them."""
        self.__dict__.clear()
        self.inputs = None

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}>"

