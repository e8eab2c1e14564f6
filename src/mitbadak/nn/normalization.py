"""Batch Normalization modules (the book's chapter 6; Ioffe & Szegedy 2015).

Each feature (or channel) is normalised to zero mean and unit variance over the batch, then
scaled and shifted by learnable ``gamma`` and ``beta``:

    y = gamma * (x - mean) / sqrt(var + eps) + beta.

Training mode uses the batch's statistics and moves the running ones towards them
(``running = (1 - momentum) * running + momentum * batch``, the variance unbiased); eval mode
uses the running statistics, so a sample's output no longer depends on its batch. The running
mean starts at 0 and the running variance at 1, so an untrained model is usable in eval mode
(the book starts the variance at 0).

Naming and defaults: the parameters are the book's ``gamma`` and ``beta`` (PyTorch's
``weight`` and ``bias``); ``eps=1e-5`` and ``momentum=0.1`` are PyTorch's (the book's
``momentum=0.9`` weighs the *old* value, i.e. PyTorch's 0.1).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mitbadak import functional as F
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.nn.module import Module, Parameter, check_sizes


class _BatchNorm(Module):
    """The shared logic: statistics per channel (axis 1) over every other axis, which
    ``F.batch_norm`` computes in one fused node. Subclasses set only ``input_ranks`` (the
    accepted input dimensions) and ``input_layout`` (for error messages)."""

    input_ranks: ClassVar[tuple[int, ...]]
    input_layout: ClassVar[str]
    gamma: Parameter | None
    beta: Parameter | None
    running_mean: np.ndarray
    running_var: np.ndarray

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True) -> None:
        super().__init__()
        check_sizes(type(self).__name__, num_features=num_features)
        self.num_features, self.eps, self.momentum, self.affine = (
            num_features, eps, momentum, affine)
        if affine:
            self.gamma = Parameter(np.ones(num_features, dtype=np.float32))
            self.beta = Parameter(np.zeros(num_features, dtype=np.float32))
        else:
            self.gamma = self.beta = None
        self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        if x.ndim not in self.input_ranks or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}: expected input {self.input_layout} with "
                             f"C = {self.num_features}, got {tuple(x.shape)}")
        return F.batch_norm(x, self.running_mean, self.running_var, self.gamma, self.beta,
                            self.training, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) features, or (N, C, L) sequences per channel C, as the
    book's BatchNormalization after an Affine layer."""

    input_ranks = (2, 3)
    input_layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) feature maps: one mean and variance per channel
    over N, H and W (as PyTorch; the book's layer normalises every C*H*W position apart)."""

    input_ranks = (4,)
    input_layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Layer normalization over the last axes ``normalized_shape`` of each sample (Ba et al.
    2016), the Transformer's: no batch statistics, so training and evaluation agree, and a
    batch of one is fine. ``gamma`` and ``beta`` (PyTorch's ``weight`` and ``bias``) have
    shape ``normalized_shape``; ``bias=False`` leaves beta out, ``elementwise_affine=False``
    both. See `mitbadak.functional.normalization.LayerNormFunction` for the formulas."""

    gamma: Parameter | None
    beta: Parameter | None

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        super().__init__()
        shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                 else tuple(normalized_shape))
        check_sizes("LayerNorm", **{f"normalized_shape[{i}]": n for i, n in enumerate(shape)})
        if not shape:
            raise ValueError("LayerNorm: normalized_shape must name at least one axis")
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        self.gamma = Parameter(np.ones(shape, np.float32)) if elementwise_affine else None
        self.beta = (Parameter(np.zeros(shape, np.float32)) if elementwise_affine and bias
                     else None)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.gamma, self.beta, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
