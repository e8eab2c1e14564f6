"""Activation functions (the book's chapter 3) with their backward formulas (chapter 5).

A network without a nonlinearity between its layers collapses to one linear map; these are
the nonlinearities. Softmax turns scores into probabilities; it and its logarithm subtract the
row maximum first, which changes nothing mathematically (softmax(x) = softmax(x - c)) but keeps
``exp`` from overflowing. Every backward but the step's runs on arrays or tensors (see
`Function`), so these can be differentiated any number of times (tanh's n-th derivative is a
polynomial in tanh: the ``tanh-derivatives`` lesson draws six).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional._util import CHUNK, check_floating, on_either, pieces
from mitbadak.functional.elementwise import Exp
from mitbadak.functional.special import erf  # NumPy has none; GELU's exact form needs it


class Step(Function):
    """The perceptron's step: y = 1 if x > 0 else 0. Its derivative is 0 everywhere it exists,
    which is why networks that learn by gradients use smooth activations instead."""

    not_twice_differentiable = (
        "its derivative is 0 wherever it exists (and undefined at 0), so a derivative of "
        "its derivative carries no information; use a smooth activation (sigmoid, tanh)")

    def forward(self, x: np.ndarray) -> np.ndarray:
        return (x > 0).astype(x.dtype)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (np.zeros_like(gy),)


class SigmoidFunction(Function):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y)  (the book's Sigmoid layer).

    For x < -88 (float32) e^-x overflows to inf, and 1 / (1 + inf) = 0 is exactly the right
    answer, so the overflow is harmless: it is silenced instead of warned about (the book's
    version prints a RuntimeWarning there). Unlike 0.5 + 0.5 tanh(x/2), this keeps the
    relative precision of tiny outputs.
    """

    saved_tensors = {"y": "output"}

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            y = np.exp(-x, out=np.empty(x.shape, x.dtype))  # an array even if x is 0-d
        y += 1
        self.y = np.reciprocal(y, out=y)
        return y

    def backward(self, gy: Any) -> tuple[Any]:
        g = 1 - self.y
        g *= self.y  # in place for arrays; a new tensor (g = g * y) under create_graph
        g *= gy
        return (g,)


class TanhFunction(Function):
    """y = tanh(x);  dy/dx = 1 - y^2."""

    saved_tensors = {"y": "output"}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy * (1 - self.y * self.y),)


class ReLUFunction(Function):
    """y = max(0, x);  dy/dx = 1 where x > 0, else 0 (0 at x = 0, as the book's Relu layer
    and PyTorch; the book's ``relu_grad`` helper says 1 there).

    The max is taken against the number 0 of x's dtype: with NumPy 2.4 that is as fast as
    against an array of zeros on a (1000, 100) array (21 against 24 µs) and 1.8x faster on a
    convolution's (100, 30, 24, 24) output (518 against 956 µs), where the array of zeros
    was a second large array to allocate and read. The backward rebuilds the book's mask
    from y (y > 0 exactly where x > 0), so inference, which never calls backward, computes
    no mask.
    """

    saved_tensors: dict[str, int | str] = {}  # y serves as a mask only: a constant

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.maximum(x, x.dtype.type(0))
        return self.y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy * (self.y > 0),)


class LeakyReLUFunction(Function):
    """y = x for x > 0, else slope * x;  dy/dx = 1 or slope: negative inputs keep a gradient.

    Both passes multiply by that derivative d (y = x * d, dL/dx = gy * d), built with
    arithmetic that is exact (d is exactly 1 or slope): ``np.where`` on a mask of random
    signs is ~10x slower.
    """

    saved_tensors: dict[str, int | str] = {}  # the derivative is a constant

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, x: np.ndarray) -> np.ndarray:
        d = (x > 0).astype(x.dtype)  # 1 where x > 0, else 0
        d += (1 - d) * self.slope  # 1 where x > 0, else slope
        self.derivative = d
        return x * d

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy * self.derivative,)


class SoftmaxFunction(Function):
    """y_i = e^(x_i - max x) / sum_j e^(x_j - max x);  dL/dx = y * (gy - sum(gy * y))."""

    saved_tensors = {"y": "output"}

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not x.shape[self.axis]:  # an empty axis: nothing to normalise (and no max)
            self.y = x.copy()
            return self.y
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        self.y = e
        return e

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        y = self.y
        return (y * (gy - (gy * y).sum(axis=self.axis, keepdims=True)),)


def log_softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(x) = (x - max) - log(sum(e^(x - max))): finite even where softmax underflows
    to 0, which is what keeps cross-entropy finite for hopeless predictions."""
    if not x.shape[axis]:  # an empty axis: nothing to normalise (and no max)
        return x.copy()
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


class LogSoftmax(Function):
    """y = log softmax(x);  dL/dx = gy - softmax(x) * sum(gy),  softmax(x) = e^y."""

    saved_tensors = {"y": "output"}

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = log_softmax_array(x, self.axis)
        return self.y

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        return (gy - on_either(Exp, self.y) * gy.sum(axis=self.axis, keepdims=True),)


def step(x: Tensor) -> Tensor:
    return Step.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    check_floating("sigmoid", x)
    return SigmoidFunction.apply(x)


def tanh(x: Tensor) -> Tensor:
    check_floating("tanh", x)
    return TanhFunction.apply(x)


def relu(x: Tensor) -> Tensor:
    return ReLUFunction.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    x = as_tensor(x)
    check_floating("leaky_relu", x)
    return LeakyReLUFunction.apply(x, slope=negative_slope)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    check_floating("softmax", x)
    return SoftmaxFunction.apply(x, axis=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    check_floating("log_softmax", x)
    return LogSoftmax.apply(x, axis=axis)


# ------------------------------------------------------------------ GELU (issue 17: GPT)

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
C1, C2 = SQRT_2_OVER_PI, SQRT_2_OVER_PI * 0.044715  # u = x (C1 + C2 x^2)


class GELUFunction(Function):
    """GELU (Hendrycks & Gimpel 2016), the Transformer's activation: x weighted by how likely
    a standard normal is below it.

    ``approximate="none"``: y = x * Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2,
                            dy/dx = Phi(x) + x * phi(x),  phi(x) = e^(-x^2/2) / sqrt(2 pi).
    ``approximate="tanh"`` (GPT-2's form, cheaper: no erf):
        y = x * s,  s = (1 + tanh(u)) / 2,  u = sqrt(2/pi) * (x + 0.044715 x^3),
        dy/dx = s + 2 s (1 - s) * x du/dx,  x du/dx = x sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    (tanh' = 1 - t^2 = 4 s (1 - s)). The forward computes dy/dx beside y, in cache-sized
    pieces (`mitbadak.functional._util.pieces`) where x, Phi or s are still in the cache, and
    keeps it (unless no backward will follow: `Function.for_backward`): the backward is then
    one product, dL/dx = gy * dy/dx, one pass over memory instead of nine (the GPT's GELU,
    forward + backward: 9.7-10.0 ms against 10.5-10.6).
    """

    def __init__(self, approximate: str) -> None:
        self.approximate = approximate

    def forward(self, x: np.ndarray) -> np.ndarray:
        x2 = np.ascontiguousarray(x).reshape(-1)
        y, self.dy_dx = np.empty_like(x2), np.empty_like(x2) if self.for_backward else None
        s, work = np.empty(min(x2.size, CHUNK), x2.dtype), np.empty(min(x2.size, CHUNK), x2.dtype)
        step, derivative = ((_tanh_gelu, _tanh_gelu_derivative) if self.approximate == "tanh"
                            else (_exact_gelu, _exact_gelu_derivative))
        for piece in pieces(x2.size):
            n = x2[piece].size
            step(x2[piece], s[:n], y[piece])
            if self.dy_dx is not None:  # (not in inference: no backward will follow)
                derivative(x2[piece], s[:n], self.dy_dx[piece], work[:n])
        return y.reshape(x.shape)

    def backward(self, gy: np.ndarray) -> tuple[np.ndarray]:
        assert self.dy_dx is not None  # apply ran the forward for a backward
        return (np.multiply(gy, self.dy_dx.reshape(gy.shape)),)


def _tanh_gelu(x: np.ndarray, s: np.ndarray, y: np.ndarray) -> None:
    """s = (1 + tanh(x (C1 + C2 x^2))) / 2 and y = x s, into s and y."""
    np.multiply(x, x, out=s)
    s *= C2
    s += C1
    s *= x
    np.tanh(s, out=s)
    s += 1
    s *= 0.5
    np.multiply(x, s, out=y)


def _tanh_gelu_derivative(x: np.ndarray, s: np.ndarray, dy_dx: np.ndarray,
                          work: np.ndarray) -> None:
    """dy/dx = s + 2 s (1 - s) x (C1 + 3 C2 x^2), into dy_dx (``work``: scratch)."""
    np.multiply(x, x, out=work)
    work *= 6 * C2  # 2 x du/dx = x (2 C1 + 6 C2 x^2)
    work += 2 * C1
    work *= x
    np.subtract(1, s, out=dy_dx)
    dy_dx *= s
    dy_dx *= work
    dy_dx += s


def _exact_gelu(x: np.ndarray, phi_cdf: np.ndarray, y: np.ndarray) -> None:
    """Phi = (1 + erf(x / sqrt 2)) / 2 and y = x Phi, into phi_cdf and y."""
    phi_cdf[...] = erf(x * math.sqrt(0.5))
    phi_cdf += 1
    phi_cdf *= 0.5
    np.multiply(x, phi_cdf, out=y)


def _exact_gelu_derivative(x: np.ndarray, phi_cdf: np.ndarray, dy_dx: np.ndarray,
                           work: np.ndarray) -> None:
    """dy/dx = Phi + x e^(-x^2/2) / sqrt(2 pi), into dy_dx (``work``: scratch)."""
    np.multiply(x, x, out=work)
    work *= -0.5
    np.exp(work, out=dy_dx)
    dy_dx *= 1 / math.sqrt(2 * math.pi)
    dy_dx *= x
    dy_dx += phi_cdf


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU, exact (``"none"``, erf) or GPT-2's tanh approximation (``"tanh"``), as PyTorch."""
    x = as_tensor(x)
    check_floating("gelu", x)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELUFunction.apply(x, approximate=approximate)
