"""Batch Normalization (Ioffe & Szegedy 2015; the book's chapter 6) and Layer Normalization
(Ba, Kiros & Hinton 2016; the Transformer's), each one fused node.

Batch norm, training:  mu, var = mean and (biased) variance of each feature over the batch,
    x_hat = (x - mu) / sqrt(var + eps),   y = gamma * x_hat + beta,
    and the running statistics move towards mu and the unbiased variance:
    running = (1 - momentum) * running + momentum * batch value.
Batch norm, evaluation: the running statistics replace the batch's, so one sample's output
    does not depend on the others in its batch.

For (N, C) input the statistics are per feature over N; for (N, C, H, W) per channel over
N, H and W (as PyTorch's BatchNorm2d; the book's code normalises each of C*H*W positions).
Layer norm normalises each sample over its own last axes instead (`LayerNormFunction`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional._util import CHUNK, _ones, check_floating, pieces, sum_columns, sum_rows


def _channel_sum(a: Any) -> Any:
    """Sum over every axis but the channel axis 1: shape (C,) (an array or a tensor)."""
    if a.ndim == 2 and isinstance(a, np.ndarray):
        return sum_rows(a)
    return a.sum(axis=(0, *range(2, a.ndim)))


def _per_channel(v: Any, ndim: int) -> Any:
    """Shape (C,) -> (1, C, 1, 1, ...) so it broadcasts over the channel axis."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNormalization(Function):
    """Fused batch normalization (the book's BatchNormalization layer); the backward is the
    book's closed form:

    dx = (1 / m) / sqrt(var + eps) * (m * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)),
    with dx_hat = gy * gamma and m the number of values per feature;
    dgamma = sum(gy * x_hat),  dbeta = sum(gy).

    The backward is written in operations that take arrays or tensors (see `Function`), so
    under ``create_graph`` the same formula is recorded: x_hat and 1/sqrt(var + eps), which
    depend on x in training, are then computed again from x's tensor (``_normalize``).
    """

    saved_tensors = {"x": 0, "gamma": 1}

    def __init__(self, running_mean: np.ndarray | None, running_var: np.ndarray | None,
                 training: bool, momentum: float, eps: float) -> None:
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps

    def forward(self, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
        self.gamma, self.x = gamma, x
        if not self.training:
            return self._forward_eval(x, gamma, beta)
        m = x.size // x.shape[1]
        if m <= 1:  # an empty batch has no statistics; one value, variance 0 (as PyTorch)
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {x.shape} "
                             f"({'an empty batch' if m == 0 else 'a batch of one'}); use eval "
                             "mode or a larger batch")
        mu = _channel_sum(x) / m
        x_hat = x - _per_channel(mu, x.ndim)
        var = _channel_sum(x_hat * x_hat) / m
        if self.running_mean is not None:
            self._update_running(mu, var, m)
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype, copy=False)
        x_hat *= _per_channel(self.inv_std, x.ndim)
        self.x_hat, self.m = x_hat, m
        y = x_hat * _per_channel(gamma, x.ndim)
        y += _per_channel(beta, x.ndim)
        return y

    def _forward_eval(self, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """With fixed statistics the layer is affine: y = x * scale + shift, where
        scale = gamma / sqrt(running_var + eps) and shift = beta - running_mean * scale."""
        running_mean, running_var = self.running_mean, self.running_var
        assert running_mean is not None and running_var is not None  # batch_norm checked
        self.x, self.mu = x, running_mean.copy()
        self.inv_std = (1.0 / np.sqrt(running_var + self.eps)).astype(x.dtype, copy=False)
        scale = gamma * self.inv_std
        y = x * _per_channel(scale, x.ndim)
        y += _per_channel(beta - self.mu * scale, x.ndim)
        return y

    def _update_running(self, mu: np.ndarray, var: np.ndarray, m: int) -> None:
        """In place, so the module's buffers see it; variance made unbiased by m / (m - 1)."""
        running_mean, running_var, mom = self.running_mean, self.running_var, self.momentum
        assert running_mean is not None and running_var is not None  # batch_norm: both or none
        running_mean *= 1 - mom
        running_mean += mom * mu
        running_var *= 1 - mom
        running_var += (mom * m / (m - 1)) * var

    def _normalize(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Training's x_hat and 1/sqrt(var + eps) as tensors of x (for ``create_graph``)."""
        m = self.m
        centred = x - _per_channel(_channel_sum(x) / m, x.ndim)
        inv_std = (_channel_sum(centred * centred) / m + self.eps) ** -0.5
        return centred * _per_channel(inv_std, x.ndim), inv_std

    def backward(self, gy: Any) -> tuple[Any, Any, Any]:
        ndim = gy.ndim
        if self.training and isinstance(gy, Tensor):  # on a copy of the node: see Function
            self.x_hat, self.inv_std = self._normalize(self.x)  # type: ignore[arg-type]
        dbeta = _channel_sum(gy)
        scale = self.gamma * self.inv_std  # dy/dx at fixed statistics
        if not self.training:  # x_hat = (x - mu) * inv_std, so sum(gy * x_hat) needs no x_hat
            dgamma = (_channel_sum(gy * self.x) - self.mu * dbeta) * self.inv_std
            dx = gy * _per_channel(scale, ndim) if self.needs_input_grad[0] else None
            return dx, dgamma, dbeta
        x_hat = self.x_hat
        dgamma = _channel_sum(gy * x_hat)
        if not self.needs_input_grad[0]:
            return None, dgamma, dbeta
        # sum(dx_hat) = gamma * dbeta and sum(dx_hat * x_hat) = gamma * dgamma, per channel
        m = self.m
        dx = gy - _per_channel(dbeta / m, ndim)
        dx -= x_hat * _per_channel(dgamma / m, ndim)
        dx *= _per_channel(scale, ndim)
        return dx, dgamma, dbeta


def batch_norm(x: Tensor, running_mean: np.ndarray | None, running_var: np.ndarray | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize ``x`` (N, C) or (N, C, ...) per channel; see the module docstring.

    In training mode the running statistics (if given) are updated in place; in evaluation
    mode they are used and must be given. ``weight`` (gamma) and ``bias`` (beta) default to 1
    and 0.
    """
    x = as_tensor(x)
    check_floating("batch_norm", x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
    if (running_mean is None) != (running_var is None):
        given, missing = (("running_mean", "running_var") if running_var is None
                          else ("running_var", "running_mean"))
        raise ValueError(f"batch_norm: {given} is given without {missing}: pass both running "
                         "statistics or neither")
    for name, v in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if v is not None and v.shape != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {v.shape}, expected ({channels},) "
                             f"for input of shape {x.shape}")
    dtype = x.dtype
    gamma = weight if weight is not None else Tensor._wrap(np.ones(channels, dtype=dtype))
    beta = bias if bias is not None else Tensor._wrap(np.zeros(channels, dtype=dtype))
    return BatchNormalization.apply(x, gamma, beta, running_mean=running_mean,
                                    running_var=running_var, training=training,
                                    momentum=momentum, eps=eps)


# ---------------------------------------------------- Layer Normalization (issue 17: GPT)


class LayerNormFunction(Function):
    """Layer Normalization (Ba, Kiros & Hinton 2016), fused: each sample is normalised over
    its last axes (its D features), not over the batch, so it needs no running statistics and
    behaves the same in training and evaluation (the Transformer's normalisation):

        mu, var = mean and (biased) variance of the row's D values,
        x_hat = (x - mu) / sqrt(var + eps),   y = gamma * x_hat + beta.

    The backward is batch norm's closed form with the roles of the axes swapped:
    dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps), with
    dx_hat = gy * gamma and the means over the row; dgamma = sum(gy * x_hat), dbeta = sum(gy)
    over the rows. The row means are products with a vector (ones, or gamma: mean(dx_hat) =
    gy @ gamma / D), and the backward's six steps run over cache-sized blocks of rows
    (`mitbadak.functional._util.pieces`), in place (the forward's four gain nothing so).
    """

    def __init__(self, param_shape: tuple[int, ...], eps: float, has_weight: bool,
                 has_bias: bool) -> None:
        self.param_shape, self.features, self.eps = param_shape, int(np.prod(param_shape)), eps
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x: np.ndarray, *affine: np.ndarray) -> np.ndarray:
        d = self.features
        rows = x.size // d if d else 0
        x2 = x.reshape(rows, d)
        x_hat = x2 - (sum_columns(x2) / d)[:, None]
        var = np.einsum("ij,ij->i", x_hat, x_hat) / d  # row sums of squares, no temporary
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype, copy=False)
        x_hat *= self.inv_std[:, None]
        self.x_hat = x_hat
        self.gamma = affine[0].reshape(d) if self.has_weight else _ones(d, x.dtype)
        y = x_hat * self.gamma
        if self.has_bias:
            y += affine[-1].reshape(d)
        return y.reshape(x.shape)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x_hat, d, gamma = self.x_hat, self.features, self.gamma
        gy2 = gy.reshape(x_hat.shape)
        need_x = self.needs_input_grad[0]
        dx = np.empty_like(x_hat) if need_x else None
        dgamma, dbeta = np.zeros(d, x_hat.dtype), np.zeros(d, x_hat.dtype)
        rows = max(CHUNK // max(d, 1), 1)  # per block
        work = np.empty((min(len(x_hat), rows), d), x_hat.dtype)
        for block in pieces(len(x_hat), rows):
            g, xh = gy2[block], x_hat[block]
            gx = np.multiply(g, xh, out=work[:len(g)])
            dgamma += sum_rows(gx)
            dbeta += sum_rows(g)
            if dx is None:
                continue
            mean_g, mean_gx = (g @ gamma) / d, (gx @ gamma) / d
            dx_b = dx[block]
            np.multiply(g, gamma, out=dx_b)
            dx_b -= mean_g[:, None]
            np.multiply(xh, mean_gx[:, None], out=gx)
            dx_b -= gx
            dx_b *= self.inv_std[block, None]
        grads: list[np.ndarray | None] = [None if dx is None else dx.reshape(gy.shape)]
        if self.has_weight:
            grads.append(dgamma.reshape(self.param_shape))
        if self.has_bias:
            grads.append(dbeta.reshape(self.param_shape))
        return tuple(grads)


def layer_norm(x: Tensor, normalized_shape: int | tuple[int, ...],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize ``x`` over its last ``len(normalized_shape)`` axes, as PyTorch's function of
    the same name (see `LayerNormFunction`); ``weight`` (gamma) and ``bias`` (beta), when
    given, have shape ``normalized_shape``."""
    x = as_tensor(x)
    check_floating("layer_norm", x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or x.shape[x.ndim - len(shape):] != shape or x.ndim < len(shape):
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end in "
                         f"normalized_shape {shape}")
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and v.shape != shape:
            raise ValueError(f"layer_norm: {name} has shape {v.shape}, expected {shape}")
    affine = [v for v in (weight, bias) if v is not None]
    return LayerNormFunction.apply(x, *affine, param_shape=shape, eps=eps,
                                   has_weight=weight is not None, has_bias=bias is not None)
