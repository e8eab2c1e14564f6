"""Recurrent layers (the sequel's chapters 5-6): `RNN`, `LSTM`, `GRU` and their cells.

PyTorch's classes, arguments, defaults, shapes and parameter names, so a PyTorch user's code
and state dicts carry over: ``weight_ih_l{k}`` (G*H, in), ``weight_hh_l{k}`` (G*H, H),
``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*H,), ``_reverse`` for the second direction, with G = 1
(RNN), 4 (LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n); every weight starts from
U(-1/sqrt(H), 1/sqrt(H)). The book's layout is the transpose with one bias (its Wx =
weight_ih.T, Wh = weight_hh.T, b = bias_ih + bias_hh): see `mitbadak.functional.recurrent`,
which holds the formulas and their backward (the book's TimeRNN, TimeLSTM, TimeGRU).

Truncated BPTT (the book's ``stateful`` Time layers): pass the last batch's final state,
detached, as the next batch's initial state, ``h = h.detach()``: the values carry over, the
graph (and its memory) does not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional.recurrent import CELLS, recurrent, run_layer
from mitbadak.functional.shape import getitem, reshape
from mitbadak.nn.init import uniform
from mitbadak.nn.module import Module, Parameter, check_sizes

NONLINEARITIES = ("tanh", "relu")


def _uniform_parameter(shape: tuple[int, ...], hidden_size: int,
                       generator: np.random.Generator | None) -> Parameter:
    return Parameter(uniform(shape, 1.0 / math.sqrt(hidden_size), generator=generator))


def _check_nonlinearity(layer: str, nonlinearity: str) -> None:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', "
                         f"got {nonlinearity!r}")


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrent layer shared by `RNN`, `LSTM`
    and `GRU`: it owns the weights and hands them to `mitbadak.functional.recurrent.recurrent`.

    Input (T, N, input_size), or (N, T, input_size) with ``batch_first``, or unbatched
    (T, input_size). Output (T, N, D * hidden_size) (batch-first if asked), D = 2 when
    ``bidirectional``; final states (num_layers * D, N, hidden_size) (never batch-first,
    as in PyTorch).
    """

    mode = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, generator: np.random.Generator | None = None,
                 **params: Any) -> None:
        super().__init__()
        layer = self.mode
        check_sizes(layer, input_size=input_size, hidden_size=hidden_size,
                    num_layers=num_layers)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{layer}: dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional, self.params = bidirectional, params
        rows = CELLS[layer].gates * hidden_size
        directions = 2 if bidirectional else 1
        self._names: list[tuple[str, ...]] = []
        for k in range(num_layers):
            inputs = input_size if k == 0 else directions * hidden_size
            for suffix in ("", "_reverse")[:directions]:
                names = tuple(f"{w}_l{k}{suffix}" for w in
                              ("weight_ih", "weight_hh", "bias_ih", "bias_hh")[:4 if bias else 2])
                shapes = [(rows, inputs), (rows, hidden_size), (rows,), (rows,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, _uniform_parameter(shape, hidden_size, generator))
                self._names.append(names)

    def _weights(self) -> list[list[Any]]:
        return [[getattr(self, n) for n in names] + [None] * (4 - len(names))
                for names in self._names]

    def _run(self, input: Any, hx: Any) -> tuple[Tensor, tuple[Tensor, ...]]:  # noqa: A002
        return recurrent(self.mode, input, hx, self._weights(), num_layers=self.num_layers,
                         bidirectional=self.bidirectional, dropout=self.dropout,
                         training=self.training, batch_first=self.batch_first, **self.params)

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        """``(output, h_n)`` from the initial state ``hx`` = h0 (None: zeros)."""
        output, (h_n,) = self._run(input, None if hx is None else (hx,))
        return output, h_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                    "bidirectional": False}
        for name, default in defaults.items():
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s + "".join(f", {k}={v!r}" for k, v in self.params.items() if v != "tanh")


class RNN(RNNBase):
    """Elman RNN (the book's TimeRNN, stacked): h_t = tanh(x_t W_ih^T + b_ih + h_{t-1}
    W_hh^T + b_hh), or relu with ``nonlinearity="relu"``. Returns ``(output, h_n)``."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False,
                 generator: np.random.Generator | None = None) -> None:
        _check_nonlinearity("RNN", nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, generator, nonlinearity=nonlinearity)


class LSTM(RNNBase):
    """Long short-term memory (the book's TimeLSTM, stacked; formulas in
    `mitbadak.functional.recurrent.TimeLSTM`). ``forward(input, (h0, c0))`` returns
    ``(output, (h_n, c_n))``; either initial state may be None (zeros)."""

    mode = "LSTM"

    def forward(self, input: Any, hx: Any = None  # type: ignore[override]  # noqa: A002
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError("LSTM: the initial state must be a tuple (h0, c0), got "
                            f"{type(hx).__name__}")
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (the book's TimeGRU, stacked, with PyTorch's formula; see
    `mitbadak.functional.recurrent.TimeGRU`). Returns ``(output, h_n)``."""

    mode = "GRU"


class RNNCellBase(Module):
    """One step of a recurrent layer: ``weight_ih`` (G*H, in), ``weight_hh`` (G*H, H),
    ``bias_ih``, ``bias_hh`` (G*H,), as PyTorch's cells. Input (N, input_size) or
    (input_size,); the state likewise (N, H) or (H,), None for zeros. It runs the same
    Time layer as the whole-sequence modules, over a sequence of one step."""

    mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 generator: np.random.Generator | None = None, **params: Any) -> None:
        super().__init__()
        check_sizes(self.mode + "Cell", input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size, self.bias, self.params = (
            input_size, hidden_size, bias, params)
        rows = CELLS[self.mode].gates * hidden_size
        self.weight_ih = _uniform_parameter((rows, input_size), hidden_size, generator)
        self.weight_hh = _uniform_parameter((rows, hidden_size), hidden_size, generator)
        self.bias_ih = _uniform_parameter((rows,), hidden_size, generator) if bias else None
        self.bias_hh = _uniform_parameter((rows,), hidden_size, generator) if bias else None

    def _step(self, input: Any, states: tuple[Any, ...]) -> list[Tensor]:  # noqa: A002
        x = as_tensor(input)
        layer = self.mode + "Cell"
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{layer}: expected input (N, {self.input_size}) or "
                             f"({self.input_size},), got shape {x.shape}")
        n = x.shape[0] if x.ndim == 2 else 1
        shape = (n, self.hidden_size) if x.ndim == 2 else (self.hidden_size,)
        s0: list[Any] = []
        for name, s in zip(("hx", "cx"), states):
            if s is None:
                s0.append(Tensor._wrap(np.zeros((n, self.hidden_size), dtype=x.dtype)))
                continue
            s = as_tensor(s)
            if s.shape != shape:
                raise ValueError(f"{layer}: {name} must have shape {shape}, got {s.shape}")
            s0.append(s if x.ndim == 2 else reshape(s, 1, self.hidden_size))
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, finals = run_layer(CELLS[self.mode], reshape(x, 1, n, self.input_size), weights,
                              s0, **self.params)
        return finals if x.ndim == 2 else [getitem(s, 0) for s in finals]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        return s + "".join(f", {k}={v!r}" for k, v in self.params.items() if v != "tanh")


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu): the book's RNN cell."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", generator: np.random.Generator | None = None
                 ) -> None:
        _check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, generator, nonlinearity=nonlinearity)

    def forward(self, input: Any, hx: Any = None) -> Tensor:  # noqa: A002
        return self._step(input, (hx,))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (the book's LSTM layer): ``forward(x, (h, c))`` returns ``(h', c')``."""

    mode = "LSTM"

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        h, c = self._step(input, (None, None) if hx is None else tuple(hx))
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step (PyTorch's formula, see `mitbadak.functional.recurrent.TimeGRU`)."""

    mode = "GRU"

    def forward(self, input: Any, hx: Any = None) -> Tensor:  # noqa: A002
        return self._step(input, (hx,))[0]
