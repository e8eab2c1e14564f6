"""Differentiable operations, each a `Function` with the book's forward and backward formulas.

``from mitbadak import functional as F``. The modules, in the order the books meet them:

* ``arithmetic``  + - * / ** @ and the fused affine layer ``linear`` (chapter 5)
* ``elementwise`` exp, log, sqrt, clip, sin, cos, minimum, maximum, where, astype
* ``reduction``   sum, mean, max, min
* ``shape``       reshape, transpose, flatten, indexing, concatenate, broadcast_to, sum_to
* ``activation``  step, sigmoid, tanh, relu, leaky_relu, softmax, log_softmax (chapter 3);
                  gelu (the Transformer's)
* ``loss``        cross_entropy (the fused SoftmaxWithLoss; also over (N, T, C) with
                  ignore_index, the sequel's TimeSoftmaxWithLoss), mse_loss (the mean),
                  sum_squared_error (the book's 0.5 * sum, not averaged), accuracy (chapter 4),
                  binary_cross_entropy (and _with_logits), perplexity = exp(mean cross-entropy)
* ``normalization`` batch_norm (chapter 6), layer_norm (the Transformer's)
* ``dropout``     dropout (chapter 6)
* ``conv``        conv2d, conv_transpose2d, max_pool2d, avg_pool2d (chapter 7; im2col/col2im
                  on arrays in ``functional.im2col``)
* ``embedding``   embedding (the sequel's chapter 4)
* ``recurrent``   the Time layers TimeRNN, TimeLSTM, TimeGRU and ``recurrent``, the stack
                  of layers and directions under nn.RNN, nn.LSTM, nn.GRU (the sequel's 5-6)
* ``attention``   scaled_dot_product_attention, attention_with_weights (the sequel's chapter 8,
                  the Transformer's)

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
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    step,
    tanh,
)
from mitbadak.functional.arithmetic import add, div, linear, matmul, mul, neg, pow, sub
from mitbadak.functional.attention import attention_with_weights, scaled_dot_product_attention
from mitbadak.functional.conv import avg_pool2d, conv2d, conv_transpose2d, max_pool2d
from mitbadak.functional.dropout import dropout
from mitbadak.functional.elementwise import (
    astype,
    clip,
    cos,
    exp,
    log,
    maximum,
    minimum,
    sin,
    sqrt,
    where,
)
from mitbadak.functional.embedding import embedding
from mitbadak.functional.loss import (
    accuracy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    perplexity,
    sum_squared_error,
)
from mitbadak.functional.normalization import batch_norm, layer_norm
from mitbadak.functional.operators import install as _install_operators
from mitbadak.functional.reduction import max, mean, min, sum
from mitbadak.functional.shape import (
    broadcast_to,
    concatenate,
    flatten,
    getitem,
    reshape,
    sum_to,
    transpose,
)

__all__ = [
    "accuracy", "add", "astype", "attention_with_weights", "avg_pool2d", "batch_norm",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "broadcast_to", "clip",
    "concatenate", "conv2d", "conv_transpose2d", "cos", "cross_entropy", "div", "dropout",
    "embedding", "exp", "flatten", "gelu", "getitem", "layer_norm", "leaky_relu", "linear",
    "log", "log_softmax", "matmul", "max", "max_pool2d", "maximum", "mean", "min", "minimum",
    "mse_loss", "mul", "neg", "perplexity", "pow", "relu", "reshape",
    "scaled_dot_product_attention", "sigmoid", "sin", "softmax", "sqrt", "step", "sub", "sum",
    "sum_squared_error", "sum_to", "tanh", "transpose", "where",
]

_install_operators()  # a + b, x @ W, x.sum(), ... on Tensor (see functional/operators.py)
