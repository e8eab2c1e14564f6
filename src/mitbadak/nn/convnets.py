"""The book's convolutional networks as recipes: `SimpleConvNet` (chapter 7) and `DeepConvNet`
(chapter 8), each a `Sequential` of the public layers in ``model.layers``.

Both take the image shape ``input_dim`` = (C, H, W) and work out the size of the vector that
reaches their first `Linear` layer from it, so the same recipe fits MNIST's 28x28 and the
built-in 8x8 ``digits``. Like `MLP`, each keeps its constructor's arguments in ``model.config``
(JSON-friendly), so ``type(model)(**model.config)`` -- and a checkpoint -- rebuilds it.
There is no softmax at the end: the output is logits for ``F.cross_entropy``.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from mitbadak.autograd.tensor import Tensor
from mitbadak.functional.im2col import output_size
from mitbadak.nn.activation import ReLU
from mitbadak.nn.container import Sequential
from mitbadak.nn.conv import Conv2d, Flatten, MaxPool2d
from mitbadak.nn.dropout import Dropout
from mitbadak.nn.linear import Linear
from mitbadak.nn.module import Module


def _image_shape(network: str, input_dim: Sequence[int]) -> list[int]:
    """``input_dim`` as a [C, H, W] list of positive ints (a list, as JSON gives it back)."""
    try:
        shape = [operator.index(n) for n in input_dim]  # ints, NumPy's included; not 28.0
    except TypeError:
        shape = []
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"{network}: input_dim must be (channels, height, width), three "
                         f"positive ints; got {input_dim!r}")
    return shape


def _feature_size(network: str, layers: Sequential, input_dim: list[int]) -> int:
    """How many numbers ``layers`` (convolutions, poolings and activations) make of one
    (C, H, W) image: C' * H' * W' of the last feature maps, the fan-in of the first `Linear`.

    The sizes follow the book's ``conv_output_size``; a layer whose windows no longer fit in
    what reaches it raises a ValueError naming the layer and the sizes.
    """
    channels, height, width = input_dim
    for index, layer in enumerate(layers):
        if not isinstance(layer, (Conv2d, MaxPool2d)):
            continue
        sizes = [output_size(n, k, s, p) for n, k, s, p in zip(
            (height, width), layer.kernel_size, layer.stride, layer.padding)]
        if min(sizes) < 1:
            raise ValueError(f"{network}: input_dim {tuple(input_dim)} is too small: layer "
                             f"{index}, {layer!r}, gets {height}x{width} feature maps and "
                             "would leave nothing")
        height, width = sizes
        channels = layer.out_channels if isinstance(layer, Conv2d) else channels
    return channels * height * width


class SimpleConvNet(Module):
    """The book's chapter-7 network: conv (``conv_channels`` filters of ``kernel_size`` x
    ``kernel_size``, stride 1, no padding) - ReLU - max pool 2x2 - Linear(``hidden_size``) -
    ReLU - Linear(``output_size``).

    On 28x28 MNIST that is 30 filters of 5x5 giving 30 maps of 24x24, pooled to 12x12, so the
    first Linear layer has 30 * 12 * 12 = 4,320 inputs; on 8x8 ``digits`` it has 30 * 2 * 2.

    ``init`` sets the initial weights of every layer (see `nn.Linear`): He by default
    (``"he"``), because every layer but the last feeds a ReLU. The book draws all weights
    with std 0.01 (``init=0.01``): below He's scale 28x for the 5x5 filters, 2x for the first
    Linear layer and 14x for the last, so the signal starts small and Adam needs longer to get
    going: after 300 iterations on Fashion-MNIST, test accuracy 0.78 against He's 0.86. The
    book's start has one merit: the filters it ends with are learned rather than left over
    from the random start, which is why ``mitbadak experiment filters`` uses it.
    """

    def __init__(self, input_dim: Sequence[int] = (1, 28, 28), conv_channels: int = 30,
                 kernel_size: int = 5, hidden_size: int = 100, output_size: int = 10,
                 init: str | float = "he") -> None:
        super().__init__()
        input_dim = _image_shape("SimpleConvNet", input_dim)
        self.config: dict[str, Any] = {
            "input_dim": input_dim, "conv_channels": conv_channels,
            "kernel_size": kernel_size, "hidden_size": hidden_size,
            "output_size": output_size, "init": init,
        }
        features = Sequential(Conv2d(input_dim[0], conv_channels, kernel_size, init=init),
                              ReLU(), MaxPool2d(2))
        self.layers = Sequential(
            *features, Flatten(),
            Linear(_feature_size("SimpleConvNet", features, input_dim), hidden_size, init=init),
            ReLU(),
            Linear(hidden_size, output_size, init=init))

    def forward(self, x: Any) -> Tensor:
        return self.layers(x)


class DeepConvNet(Module):
    """The book's chapter-8 network, VGG-like: three blocks of two 3x3 convolutions (each
    followed by ReLU) and a 2x2 max pool, then Linear(``hidden_size``) - ReLU - Dropout -
    Linear(``output_size``)::

        [conv 16, conv 16, pool] - [conv 32, conv 32 (padding 2), pool]
        - [conv 64, conv 64, pool] - Linear 50 - ReLU - Dropout 0.5 - Linear 10

    The convolutions pad by 1 (the output keeps its size) except the fourth, which pads by 2,
    as in the book: on 28x28 the maps go 28 -> 14 -> 16 -> 8 -> 4, so the first Linear layer
    has 64 * 4 * 4 = 1,024 inputs. On 8x8 ``digits`` they go 8 -> 4 -> 6 -> 3 -> 1 (64
    inputs); an image too small for the three poolings is refused with the layer that runs out.
    ``channels`` are the six convolutions' output channels.

    Every weight starts with He's scale for its own fan-in (``init="he"``), as in the book.
    ``dropout`` is the probability after the hidden Linear layer.

    The book also puts a Dropout(0.5) on the logits, before the softmax. Here that is off by
    default (``logit_dropout=0``): it zeroes half of the class scores at random, often the
    right one's, so the training loss stays high (about 1.0 at the end of the book's run)
    and the gradient says less; at test time the book's non-inverted dropout only halves the
    logits, which leaves the argmax alone. ``logit_dropout=0.5`` restores it (inverted: the
    kept logits are doubled in training, and nothing changes at test time).
    """

    def __init__(self, input_dim: Sequence[int] = (1, 28, 28), output_size: int = 10,
                 channels: Sequence[int] = (16, 16, 32, 32, 64, 64), hidden_size: int = 50,
                 dropout: float = 0.5, logit_dropout: float = 0.0,
                 init: str | float = "he") -> None:
        super().__init__()
        input_dim = _image_shape("DeepConvNet", input_dim)
        channels = list(channels)
        if len(channels) != 6:
            raise ValueError(f"DeepConvNet: channels must give the 6 convolutions' output "
                             f"channels, got {channels!r}")
        self.config: dict[str, Any] = {
            "input_dim": input_dim, "output_size": output_size, "channels": channels,
            "hidden_size": hidden_size, "dropout": dropout, "logit_dropout": logit_dropout,
            "init": init,
        }
        features = Sequential()
        in_channels = input_dim[0]
        for index, out_channels in enumerate(channels):
            padding = 2 if index == 3 else 1
            features.append(Conv2d(in_channels, out_channels, 3, padding=padding, init=init))
            features.append(ReLU())
            if index % 2 == 1:
                features.append(MaxPool2d(2))
            in_channels = out_channels
        layers = Sequential(
            *features, Flatten(),
            Linear(_feature_size("DeepConvNet", features, input_dim), hidden_size, init=init),
            ReLU(), Dropout(dropout),
            Linear(hidden_size, output_size, init=init))
        if logit_dropout:
            layers.append(Dropout(logit_dropout))
        self.layers = layers

    def forward(self, x: Any) -> Tensor:
        return self.layers(x)
