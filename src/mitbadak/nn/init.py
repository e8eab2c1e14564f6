"""Weight initialisers (the book's chapter 6): random starting weights of the right scale.

Too large, and sigmoid units saturate (their gradients vanish); too small, and every unit of a
layer computes nearly the same thing, layer after layer, until the signal dies. The cure is to
scale the weights by the layer's *fan-in* (inputs per unit) so activations keep their variance
from layer to layer:

=================  ======================================  ==============================
initialiser        standard deviation                      suits
=================  ======================================  ==============================
``he``             sqrt(2 / fan_in)      (He et al. 2015)  ReLU, leaky ReLU
``xavier``         sqrt(2 / (fan_in + fan_out)) (Glorot)   sigmoid, tanh, identity
``lecun``          sqrt(1 / fan_in)      (LeCun 1998)      the book's "Xavier"
=================  ======================================  ==============================

**The book vs Glorot.** The book's ``weight_init_std="xavier"`` is sqrt(1 / fan_in), i.e.
LeCun's rule. Glorot and Bengio (2010) average fan-in and fan-out. Here ``"xavier"`` means
Glorot (as in PyTorch and Keras) and the book's rule is ``"lecun"``, also spelled
``"xavier-book"``. For a square layer the two agree.

Each rule has a normal and a uniform form with the same standard deviation (U(-a, a) has
variance a^2 / 3, so a = sqrt(3) * std). Every initialiser has the signature
``init(shape, dtype=np.float32, generator=None) -> ndarray`` and draws from
``mitbadak.autograd.random.default_generator()`` unless given a generator, so ``mb.manual_seed(0)``
makes model creation reproducible.

Fans follow the book's weight layouts: a fully connected weight is (in, out), so
fan_in = shape[0] and fan_out = shape[1]; a convolution filter bank is (out_ch, in_ch, kh, kw),
so fan_in = in_ch * kh * kw and fan_out = out_ch * kh * kw.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from mitbadak.autograd.random import default_generator

Shape = tuple[int, ...]
Initializer = Callable[..., np.ndarray]
"""``(shape, dtype=np.float32, generator=None) -> ndarray``."""


def fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (in, out) for a linear layer, (out_ch, in_ch, kh, kw, ...)
    for a convolution (each input channel contributes kh * kw inputs per output)."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"fan_in_and_fan_out: a weight needs at least 2 axes, got shape {shape}")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def normal(shape: Shape, std: float, dtype: Any = np.float32,
           generator: np.random.Generator | None = None) -> np.ndarray:
    """N(0, std^2): the book's ``weight_init_std * np.random.randn(...)``.

    ``dtype`` is float32 or float64 (NumPy draws both natively).
    """
    rng = default_generator() if generator is None else generator
    w = rng.standard_normal(shape, dtype=dtype)
    w *= std
    return w


def uniform(shape: Shape, limit: float, dtype: Any = np.float32,
            generator: np.random.Generator | None = None) -> np.ndarray:
    """U(-limit, limit), whose standard deviation is limit / sqrt(3)."""
    rng = default_generator() if generator is None else generator
    w = rng.random(shape, dtype=dtype)
    w *= 2 * limit
    w -= limit
    return w


def _he_std(shape: Shape) -> float:
    return math.sqrt(2.0 / fan_in_and_fan_out(shape)[0])


def _xavier_std(shape: Shape) -> float:
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return math.sqrt(2.0 / (fan_in + fan_out))


def _lecun_std(shape: Shape) -> float:
    return math.sqrt(1.0 / fan_in_and_fan_out(shape)[0])


def he_normal(shape: Shape, dtype: Any = np.float32,
              generator: np.random.Generator | None = None) -> np.ndarray:
    """He (Kaiming) normal: std = sqrt(2 / fan_in). ReLU zeroes half its inputs, so the
    weights need twice LeCun's variance to keep the activations' scale."""
    return normal(shape, _he_std(shape), dtype, generator)


def he_uniform(shape: Shape, dtype: Any = np.float32,
               generator: np.random.Generator | None = None) -> np.ndarray:
    """He uniform: U(-a, a) with a = sqrt(3) * sqrt(2 / fan_in) = sqrt(6 / fan_in)."""
    return uniform(shape, math.sqrt(3.0) * _he_std(shape), dtype, generator)


def xavier_normal(shape: Shape, dtype: Any = np.float32,
                  generator: np.random.Generator | None = None) -> np.ndarray:
    """Xavier (Glorot) normal: std = sqrt(2 / (fan_in + fan_out)), a compromise between
    keeping the forward activations' and the backward gradients' variance."""
    return normal(shape, _xavier_std(shape), dtype, generator)


def xavier_uniform(shape: Shape, dtype: Any = np.float32,
                   generator: np.random.Generator | None = None) -> np.ndarray:
    """Xavier (Glorot) uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    return uniform(shape, math.sqrt(3.0) * _xavier_std(shape), dtype, generator)


def lecun_normal(shape: Shape, dtype: Any = np.float32,
                 generator: np.random.Generator | None = None) -> np.ndarray:
    """LeCun normal: std = sqrt(1 / fan_in), what the book calls "Xavier"."""
    return normal(shape, _lecun_std(shape), dtype, generator)


def lecun_uniform(shape: Shape, dtype: Any = np.float32,
                  generator: np.random.Generator | None = None) -> np.ndarray:
    """LeCun uniform: U(-a, a) with a = sqrt(3 / fan_in)."""
    return uniform(shape, math.sqrt(3.0) * _lecun_std(shape), dtype, generator)


_RELU_LIKE = ("relu", "leaky_relu")
_SATURATING_OR_LINEAR = ("sigmoid", "tanh", "identity")


def auto(activation: str) -> Initializer:
    """The initialiser that suits ``activation``: He for ReLU-like units, Xavier (Glorot) for
    sigmoid, tanh and identity."""
    key = activation.lower().replace("-", "_")
    if key in _RELU_LIKE:
        return he_normal
    if key in _SATURATING_OR_LINEAR:
        return xavier_normal
    raise ValueError(f"init.auto: unknown activation {activation!r}; expected one of "
                     f"{', '.join(_RELU_LIKE + _SATURATING_OR_LINEAR)}")


INITIALIZERS: dict[str, Initializer] = {
    "he": he_normal,
    "he-normal": he_normal,
    "he-uniform": he_uniform,
    "xavier": xavier_normal,
    "xavier-normal": xavier_normal,
    "xavier-uniform": xavier_uniform,
    "lecun": lecun_normal,
    "lecun-normal": lecun_normal,
    "lecun-uniform": lecun_uniform,
    "xavier-book": lecun_normal,
}
"""Initialisers by name (``_`` and ``-`` are interchangeable, case is ignored); ``"auto"``
and a standard deviation are accepted by `get_initializer` too."""


def get_initializer(init: str | float | Initializer, activation: str = "relu") -> Initializer:
    """Resolve ``init``, the book's ``weight_init_std``: a name from `INITIALIZERS`,
    ``"auto"`` (`auto` of ``activation``), a standard deviation (a number, or a string such
    as ``"0.01"``) for N(0, std^2), or an initialiser function (returned as it is)."""
    if callable(init):
        return init
    if isinstance(init, str):
        key = init.strip().lower().replace("_", "-")
        if key == "auto":
            return auto(activation)
        if key in INITIALIZERS:
            return INITIALIZERS[key]
        try:
            init = float(key)
        except ValueError:
            raise ValueError(
                f"unknown init {init!r}: use a standard deviation (e.g. 0.01), 'auto' or one of "
                f"{', '.join(INITIALIZERS)}"
            ) from None
    if isinstance(init, bool) or not isinstance(init, numbers.Real):
        raise TypeError(f"init must be a name, a standard deviation or a function, "
                        f"got {type(init).__name__}")
    if not (math.isfinite(init) and init >= 0):
        raise ValueError(f"init: a standard deviation must be finite and >= 0, got {init}")
    return partial(normal, std=float(init))
