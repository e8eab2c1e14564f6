"""The layers of a convolutional network (the book's chapter 7) as modules.

`Conv2d`, `MaxPool2d` and `AvgPool2d` wrap the functions in `mitbadak.functional.conv` (where
im2col and the backward formulas live); `Flatten` turns the last feature maps into the
vectors an `nn.Linear` takes; `BatchNorm2d` normalises each channel over (N, H, W).
Images are NCHW, weights (OC, C, KH, KW), as in the book and PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.autograd.tensor import Tensor
from mitbadak.functional.conv import avg_pool2d, conv2d, max_pool2d
from mitbadak.functional.im2col import Pair, pair
from mitbadak.functional.shape import flatten
from mitbadak.nn.init import Initializer, get_initializer
from mitbadak.nn.module import Module, Parameter, check_sizes


def _check_images(layer: Module, x: Any, channels: int | None = None) -> None:
    """x is (N, C, H, W), with ``channels`` channels when given; the error names the layer."""
    if len(x.shape) != 4 or (channels is not None and x.shape[1] != channels):
        c = "C" if channels is None else channels
        raise ValueError(f"{layer!r}: expected input (N, {c}, H, W), got {tuple(x.shape)}")


class Conv2d(Module):
    """2-D convolution: ``W`` (out_channels, in_channels, KH, KW) and bias ``b`` (out_channels,),
    the book's Convolution layer; the output is (N, out_channels, OH, OW) with
    OH = (H + 2 * padding - KH) // stride + 1.

    ``init`` is the book's ``weight_init_std`` (see `nn.Linear`): a name for
    `mitbadak.nn.init.get_initializer`, a standard deviation (the book's SimpleConvNet uses 0.01)
    or an initialiser function; ``"auto"`` is He, for a ReLU that follows. The fan-in of a
    filter is in_channels * KH * KW. The bias starts at 0.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Pair,
                 stride: int | Pair = 1, padding: int | Pair = 0, bias: bool = True,
                 init: str | float | Initializer = "auto",
                 generator: np.random.Generator | None = None) -> None:
        super().__init__()
        check_sizes("Conv2d", in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = pair(padding, "padding", "Conv2d", 0)
        shape = (out_channels, in_channels, *self.kernel_size)
        self.W = Parameter(get_initializer(init)(shape, dtype=np.float32, generator=generator))
        self.b = Parameter(np.zeros(out_channels, dtype=np.float32)) if bias else None

    def forward(self, x: Any) -> Tensor:
        _check_images(self, x, self.in_channels)
        return conv2d(x, self.W, self.b, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.b is not None}")


class _Pool2d(Module):
    """Pooling window geometry; ``stride`` defaults to ``kernel_size`` (as PyTorch)."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None,
                 padding: int | Pair = 0) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size", type(self).__name__, 1)
        self.stride = self.kernel_size if stride is None else pair(
            stride, "stride", type(self).__name__, 1)
        self.padding = pair(padding, "padding", type(self).__name__, 0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The largest value of each window (the book's Pooling layer); padding counts as -inf."""

    def forward(self, x: Any) -> Tensor:
        _check_images(self, x)
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each window, padding zeros included (PyTorch's count_include_pad=True)."""

    def forward(self, x: Any) -> Tensor:
        _check_images(self, x)
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class Flatten(Module):
    """Keep the first ``start_dim`` axes, flatten the rest: (N, C, H, W) -> (N, C*H*W), the
    reshape the book's SimpleConvNet does before its first Affine layer."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}"
