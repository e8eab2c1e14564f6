"""`MLP` (the book's MultiLayerNetExtend) and `TwoLayerNet` (its chapter 4-5 network)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mitbadak.autograd.tensor import Tensor
from mitbadak.nn.activation import get_activation
from mitbadak.nn.container import Sequential
from mitbadak.nn.dropout import Dropout
from mitbadak.nn.init import get_initializer
from mitbadak.nn.linear import Linear
from mitbadak.nn.module import Module
from mitbadak.nn.normalization import BatchNorm1d


class MLP(Module):
    """A multi-layer perceptron: for each hidden size, Linear -> [BatchNorm1d] -> activation ->
    [Dropout]; then a Linear layer that produces the logits.

    There is no softmax at the end: give the logits to ``F.cross_entropy`` (the book's
    SoftmaxWithLoss), and take ``argmax`` of them to predict. The book's ``weight_decay_lambda``
    is not part of the model: optimizers take ``weight_decay``.

    ``activation``: "relu", "sigmoid", "tanh", "leaky_relu" or "identity".
    ``init``: the book's ``weight_init_std``, a name from `mitbadak.nn.init` or a standard
    deviation; ``"auto"`` picks He for ReLU-like activations and Xavier otherwise.
    ``dropout``: the probability of dropping a hidden unit (0 for no Dropout layers).

    ``model.config`` holds the constructor's arguments (JSON-friendly), so ``MLP(**config)``
    rebuilds the same architecture for a saved ``state_dict()``.
    """

    def __init__(self, input_size: int, hidden_sizes: Sequence[int], output_size: int,
                 activation: str = "relu", init: str | float = "auto",
                 batchnorm: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "input_size": input_size, "hidden_sizes": list(hidden_sizes),
            "output_size": output_size, "activation": activation, "init": init,
            "batchnorm": batchnorm, "dropout": dropout,
        }
        get_activation(activation)  # an unknown name fails here, before the init rule does
        initializer = get_initializer(init, activation)
        sizes = [input_size, *hidden_sizes]
        layers = Sequential()
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            layers.append(Linear(fan_in, fan_out, init=initializer))
            if batchnorm:
                layers.append(BatchNorm1d(fan_out))
            layers.append(get_activation(activation))
            if dropout:
                layers.append(Dropout(dropout))
        layers.append(Linear(sizes[-1], output_size, init=initializer))
        self.layers = layers

    def forward(self, x: Any) -> Tensor:
        return self.layers(x)


class TwoLayerNet(MLP):
    """The book's chapter 4-5 network: 784 -> 50 (sigmoid) -> 10, weights N(0, 0.01^2).

    ``TwoLayerNet(...).config`` is an `MLP` configuration, so ``MLP(**config)`` rebuilds it.
    """

    def __init__(self, input_size: int = 784, hidden_size: int = 50, output_size: int = 10,
                 weight_init_std: float = 0.01) -> None:
        super().__init__(input_size, [hidden_size], output_size, activation="sigmoid",
                         init=weight_init_std)
