"""The layers of a convolutional network (the book's chapter 7) as modules.

`Conv2d`, `ConvTranspose2d`, `MaxPool2d` and `AvgPool2d` wrap the functions in
`mitbadak.functional.conv` (where im2col and the backward formulas live); `Flatten` turns
the last feature maps into the vectors an `nn.Linear` takes; `BatchNorm2d` normalises each
channel over (N, H, W).
Images are NCHW, weights (OC, C, KH, KW), as in the book and PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.autograd.tensor import Tensor
from mitbadak.functional.conv import avg_pool2d, conv2d, conv_transpose2d, max_pool2d
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
    """2-D convolution: ``W`` (out_channels, in_channels/groups, KH, KW) and bias ``b``
    (out_channels,), the book's Convolution layer; the output is (N, out_channels, OH, OW)
    with OH = (H + 2 * padding - dilation * (KH - 1) - 1) // stride + 1.

    ``init`` is the book's ``weight_init_std`` (see `nn.Linear`): a name for
    `mitbadak.nn.init.get_initializer`, a standard deviation (the book's SimpleConvNet uses 0.01)
    or an initialiser function; ``"auto"`` is He, for a ReLU that follows. The fan-in of a
    filter is in_channels/groups * KH * KW. The bias starts at 0. ``dilation`` and ``groups``
    as in `mitbadak.functional.conv2d`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Pair,
                 stride: int | Pair = 1, padding: int | Pair = 0, bias: bool = True,
                 init: str | float | Initializer = "auto",
                 generator: np.random.Generator | None = None, dilation: int | Pair = 1,
                 groups: int = 1) -> None:
        super().__init__()
        check_sizes("Conv2d", in_channels=in_channels, out_channels=out_channels)
        _check_groups("Conv2d", groups, in_channels, out_channels)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = pair(padding, "padding", "Conv2d", 0)
        self.dilation = pair(dilation, "dilation", "Conv2d", 1)
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.W = Parameter(get_initializer(init)(shape, dtype=np.float32, generator=generator))
        self.b = Parameter(np.zeros(out_channels, dtype=np.float32)) if bias else None

    def forward(self, x: Any) -> Tensor:
        _check_images(self, x, self.in_channels)
        return conv2d(x, self.W, self.b, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.b is not None}"
                + _options(dilation=(self.dilation, (1, 1)), groups=(self.groups, 1)))


class ConvTranspose2d(Module):
    """Transposed convolution (DeZero's Deconvolution, PyTorch's ConvTranspose2d), the
    adjoint of `Conv2d`: it upsamples (N, in_channels, H, W) to (N, out_channels, OH, OW) with
    OH = (H - 1) * stride - 2 * padding + dilation * (KH - 1) + output_padding + 1, e.g. the
    decoder of an autoencoder or a GAN's generator. ``W`` is (in_channels,
    out_channels/groups, KH, KW) as in PyTorch, so the fan-in of its initialiser is
    out_channels/groups * KH * KW (PyTorch's choice too); the bias starts at 0.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Pair,
                 stride: int | Pair = 1, padding: int | Pair = 0,
                 output_padding: int | Pair = 0, groups: int = 1, bias: bool = True,
                 dilation: int | Pair = 1, init: str | float | Initializer = "auto",
                 generator: np.random.Generator | None = None) -> None:
        super().__init__()
        name = "ConvTranspose2d"
        check_sizes(name, in_channels=in_channels, out_channels=out_channels)
        _check_groups(name, groups, in_channels, out_channels)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.stride = pair(stride, "stride", name, 1)
        self.padding = pair(padding, "padding", name, 0)
        self.output_padding = pair(output_padding, "output_padding", name, 0)
        self.dilation = pair(dilation, "dilation", name, 1)
        shape = (in_channels, out_channels // groups, *self.kernel_size)
        self.W = Parameter(get_initializer(init)(shape, dtype=np.float32, generator=generator))
        self.b = Parameter(np.zeros(out_channels, dtype=np.float32)) if bias else None

    def forward(self, x: Any) -> Tensor:
        _check_images(self, x, self.in_channels)
        return conv_transpose2d(x, self.W, self.b, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.b is not None}"
                + _options(output_padding=(self.output_padding, (0, 0)),
                           dilation=(self.dilation, (1, 1)), groups=(self.groups, 1)))


def _check_groups(layer: str, groups: Any, in_channels: int, out_channels: int) -> None:
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{layer}: groups must be a positive int, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{layer}: in_channels {in_channels} and out_channels {out_channels} "
                         f"must both be divisible by groups {groups}")


def _options(**values: tuple[Any, Any]) -> str:
    """``, name=value`` for each option not at its default (PyTorch's repr does the same)."""
    return "".join(f", {k}={v}" for k, (v, default) in values.items() if v != default)


class _Pool2d(Module):
    """Pooling window geometry; ``stride`` defaults to ``kernel_size`` (as PyTorch)."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None,
                 padding: int | Pair = 0, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size", type(self).__name__, 1)
        self.stride = self.kernel_size if stride is None else pair(
            stride, "stride", type(self).__name__, 1)
        self.padding = pair(padding, "padding", type(self).__name__, 0)
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                + _options(ceil_mode=(self.ceil_mode, False)))


class MaxPool2d(_Pool2d):
    """The largest value of each window (the book's Pooling layer); padding counts as -inf.
    ``ceil_mode`` keeps a last, partial window (see `mitbadak.functional.max_pool2d`)."""

    def forward(self, x: Any) -> Tensor:
        _check_images(self, x)
        return max_pool2d(x, self.kernel_size, self.stride, self.padding,
                          ceil_mode=self.ceil_mode)


class AvgPool2d(_Pool2d):
    """The mean of each window, padding zeros included unless ``count_include_pad=False``
    (PyTorch's arguments; see `mitbadak.functional.avg_pool2d`)."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None,
                 padding: int | Pair = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad

    def forward(self, x: Any) -> Tensor:
        _check_images(self, x)
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self) -> str:
        return super().extra_repr() + _options(
            count_include_pad=(self.count_include_pad, True))


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
