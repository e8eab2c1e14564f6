"""Differentiable operations, each a `Function` with the book's forward and backward formulas.

``from mitbadak import functional as F``. The modules, in the order the book meets them:

* ``arithmetic``  + - * / ** @ and the fused affine layer ``linear`` (chapter 5)
* ``elementwise`` exp, log, sqrt, clip
* ``reduction``   sum, mean, max
* ``shape``       reshape, transpose, flatten, indexing
* ``activation``  step, sigmoid, tanh, relu, leaky_relu, softmax, log_softmax (chapter 3)
* ``loss``        cross_entropy (the fused SoftmaxWithLoss), mse_loss (the mean),
                  sum_squared_error (the book's 0.5 * sum, not averaged), accuracy (chapter 4),
                  binary_cross_entropy (and _with_logits)
* ``normalization`` batch_norm, ``dropout`` dropout (chapter 6)
* ``conv``        conv2d, conv_transpose2d, max_pool2d, avg_pool2d (chapter 7; im2col/col2im
                  on arrays in ``functional.im2col``)

The graph nodes (`Function` subclasses) never share a name with a module of `mitbadak.nn`,
so a stack trace says which of the two it passes through: a node takes the book's name for
its layer where that differs from the module's (``Affine`` under ``nn.Linear``,
``SoftmaxWithLoss``, ``Convolution``, ``MaxPooling`` (the book's Pooling) and
``AvgPooling``, ``BatchNormalization``; DeZero's ``Deconvolution``), and otherwise the
module's name with the suffix ``Function`` (``ReLUFunction``, ``SigmoidFunction``,
``TanhFunction``, ``LeakyReLUFunction``, ``SoftmaxFunction``, ``DropoutFunction``). Graph
drawings leave the suffix off.
"""

from mitbadak.functional.activation import (
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    step,
    tanh,
)
from mitbadak.functional.arithmetic import add, div, linear, matmul, mul, neg, pow, sub
from mitbadak.functional.conv import avg_pool2d, conv2d, conv_transpose2d, max_pool2d
from mitbadak.functional.dropout import dropout
from mitbadak.functional.elementwise import clip, exp, log, sqrt
from mitbadak.functional.loss import (
    accuracy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    sum_squared_error,
)
from mitbadak.functional.normalization import batch_norm
from mitbadak.functional.operators import install as _install_operators
from mitbadak.functional.reduction import max, mean, sum
from mitbadak.functional.shape import flatten, getitem, reshape, transpose

__all__ = [
    "accuracy", "add", "avg_pool2d", "batch_norm", "clip", "conv2d", "cross_entropy", "div",
    "dropout", "exp", "flatten", "getitem", "leaky_relu", "linear", "log", "log_softmax", "matmul",
    "max", "max_pool2d", "mean", "mse_loss", "mul", "neg", "pow", "relu", "reshape", "sigmoid",
    "softmax", "sqrt", "step", "sub", "sum", "sum_squared_error", "tanh", "transpose",
]
__all__ += ["binary_cross_entropy", "binary_cross_entropy_with_logits", "conv_transpose2d"]

from mitbadak.functional.elementwise import astype, cos, maximum, minimum, sin, where  # noqa: E402
from mitbadak.functional.reduction import min  # noqa: E402
from mitbadak.functional.shape import broadcast_to, sum_to  # noqa: E402

__all__ += ["astype", "broadcast_to", "cos", "maximum", "min", "minimum", "sin", "sum_to",
            "where"]

_install_operators()  # a + b, x @ W, x.sum(), ... on Tensor (see functional/operators.py)
