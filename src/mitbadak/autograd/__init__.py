"""The autograd core, the part a learner reads top to bottom.

* `tensor`: `Tensor`, an ndarray that remembers the `Function` that made it;
* `function`: `Function`, one node of the graph: the book's layer with ``forward`` and
  ``backward`` on plain arrays;
* `backward`: the backward walk, the chain rule over the graph in reverse (`run_backward`,
  which ``loss.backward()`` calls);
* `grad_mode`: ``no_grad`` / ``enable_grad``, whether new operations are recorded;
* `gradient`: ``grad(outputs, inputs)``, gradients returned instead of accumulated (and, with
  ``create_graph=True``, differentiable again); `functional`: ``jacobian``, ``hessian``,
  ``hvp`` built on it (PyTorch's ``torch.autograd.functional``);
* `random`: the library's default generator, reseeded by ``manual_seed``.

Nothing here imports the layers, optimizers or training code above it.
"""

from mitbadak.autograd import functional
from mitbadak.autograd.function import Function
from mitbadak.autograd.grad_mode import enable_grad, is_enabled, no_grad
from mitbadak.autograd.gradient import grad
from mitbadak.autograd.random import default_generator, manual_seed
from mitbadak.autograd.tensor import Tensor, tensor

__all__ = ["Function", "Tensor", "default_generator", "enable_grad", "functional", "grad",
           "is_enabled", "manual_seed", "no_grad", "tensor"]
