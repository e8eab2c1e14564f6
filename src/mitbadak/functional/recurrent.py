"""Recurrent layers (the sequel's chapters 5, 6 and its GRU appendix): RNN, LSTM and GRU.

The book builds a recurrent layer in two parts: a cell (``RNN``, ``LSTM``, ``GRU``) that
turns the state h_{t-1} and the input x_t into h_t, and a Time layer (``TimeRNN``,
``TimeLSTM``, ``TimeGRU``) that runs the cell over T steps and, in its backward,
backpropagates through time (BPTT): from the last step to the first, the gradient of the
state flows back step by step, and each weight's gradient is the sum over the steps.

Here one Time layer is one graph node, `TimeRecurrent`, for one layer and one direction over
the whole sequence; a subclass supplies only the cell's step and its backward. That keeps
the graph small (one node per layer, not one per gate and step) and the arithmetic in large
matrix products:

* forward: the input part of every gate for ALL steps in one GEMM,
  ``gx = x @ W_ih^T + b`` of shape (T, N, G*H), then per step one GEMM ``h_{t-1} @ W_hh^T``
  for all G gates at once, and the cell's elementwise formulas;
* backward: per step the cell's backward gives d(gate pre-activations) and dh_{t-1}
  (one GEMM with W_hh); after the loop, dW_ih, dW_hh, dx and the biases in one GEMM each over
  all T steps.

**Weight layout.** PyTorch's: ``weight_ih`` (G*H, input_size), ``weight_hh`` (G*H, H),
``bias_ih`` and ``bias_hh`` (G*H,), gates stacked in PyTorch's order (LSTM: i, f, g, o; GRU:
r, z, n), so a PyTorch state dict loads unchanged. The book stores the transposes, with a
single bias: its ``Wx`` = weight_ih.T, ``Wh`` = weight_hh.T, ``b`` = bias_ih + bias_hh; its
LSTM orders the gates f, g, i, o (move the blocks of H rows when copying the book's weights).

**One output.** A graph node has one output, so the final cell state c_T of an LSTM travels
as an extra row after the T hidden states: `TimeLSTM` returns (T + 1, N, H) =
[h_1 .. h_T; c_T]; `recurrent` slices it. h_T is the last of the hidden rows in the forward
direction and the first in the reverse one (a reverse layer reads the sequence from t = T to 1
and writes h_t in the input's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor, as_tensor
from mitbadak.functional._util import check_floating, sum_rows
from mitbadak.functional.dropout import dropout as _dropout
from mitbadak.functional.shape import concatenate, getitem, reshape, transpose

Array = np.ndarray


class TimeRecurrent(Function):
    """One recurrent layer in one direction over a whole sequence (the book's Time layers).

    Inputs: x (T, N, in), weight_ih (G*H, in), weight_hh (G*H, H), bias_ih, bias_hh (G*H,)
    and the initial states (h0, or h0 and c0 for the LSTM), each (N, H). Output: the hidden
    states h_1 .. h_T (T, N, H), then the other final states (the LSTM's c_T) as extra rows.

    A subclass sets ``gates`` (G) and ``states`` and writes ``step`` and ``step_backward``
    on arrays; this class runs the time loop in both directions and does the GEMMs.
    """

    gates: ClassVar[int]
    states: ClassVar[int] = 1  # h; the LSTM carries (h, c)

    def __init__(self, reverse: bool = False) -> None:
        self.reverse = reverse

    # ---------------------------------------------------------------- what a cell writes
    def input_bias(self, b_ih: Array, b_hh: Array) -> Array:
        """The bias added to the input part of the gates once, for all steps: both biases,
        as they add up (the GRU keeps b_hn apart)."""
        return b_ih + b_hh

    def step(self, gx: Array, gh: Array, state: tuple[Array, ...]
             ) -> tuple[tuple[Array, ...], Any]:
        """One step: gx = x_t W_ih^T + bias, gh = h_{t-1} W_hh^T (both (N, G*H), gh may be
        overwritten); returns the new states and what the backward needs."""
        raise NotImplementedError

    def step_backward(self, dstate: tuple[Array, ...], cache: Any, dgx: Array, dgh: Array
                      ) -> tuple[Array | None, ...]:
        """Backward of one step: given dL/d(new states), write dL/dgx into ``dgx`` and
        dL/dgh into ``dgh`` (the same array for cells whose gates add gx + gh) and return
        dL/d(old states), leaving out dgh @ W_hh, which the loop adds to dh_{t-1} (None:
        no other path)."""
        raise NotImplementedError

    separate_hidden_grad: ClassVar[bool] = False  # dgh differs from dgx (the GRU)

    # ------------------------------------------------------------------- the time loop
    def forward(self, x: Array, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array,
                *state0: Array) -> Array:
        T, N, _ = x.shape
        H = w_hh.shape[1]
        self.x, self.w_ih, self.w_hh, self.b_hh = x, w_ih, w_hh, b_hh
        gx = (x.reshape(T * N, -1) @ w_ih.T).reshape(T, N, -1)  # every step in one GEMM
        gx += self.input_bias(b_ih, b_hh)
        out = np.empty((T + self.states - 1, N, H), dtype=gx.dtype)
        self.h_prev = np.empty((T, N, H), dtype=gx.dtype)
        self.caches: list[Any] = [None] * T
        state = state0
        for t in self.order(T):
            self.h_prev[t] = state[0]
            state, self.caches[t] = self.step(gx[t], state[0] @ w_hh.T, state)
            out[t] = state[0]
        for k, s in enumerate(state[1:]):
            out[T + k] = s
        return out

    def order(self, T: int) -> range:
        return range(T - 1, -1, -1) if self.reverse else range(T)

    def backward(self, gy: Array) -> tuple[Array | None, ...]:
        x, w_ih, w_hh = self.x, self.w_ih, self.w_hh
        T, N, _ = x.shape
        dgx = np.empty((T, N, w_ih.shape[0]), dtype=gy.dtype)
        dgh = np.empty_like(dgx) if self.separate_hidden_grad else dgx
        dstate: tuple[Any, ...] = (np.zeros_like(gy[0]), *gy[T:])  # dL/dc_T from its row
        for t in reversed(self.order(T)):
            dh = gy[t] + dstate[0]
            back = self.step_backward((dh, *dstate[1:]), self.caches[t], dgx[t], dgh[t])
            dh_prev = dgh[t] @ w_hh
            if back[0] is not None:
                dh_prev += back[0]
            dstate = (dh_prev, *back[1:])
        gx2, gh2 = dgx.reshape(T * N, -1), dgh.reshape(T * N, -1)
        needs = self.needs_input_grad
        dx = (gx2 @ w_ih).reshape(x.shape) if needs[0] else None
        dw_ih = gx2.T @ x.reshape(T * N, -1) if needs[1] else None
        dw_hh = gh2.T @ self.h_prev.reshape(T * N, -1) if needs[2] else None
        db_ih = sum_rows(gx2) if needs[3] else None
        db_hh = None
        if needs[4]:  # the same sum as db_ih where the gates add gx + gh
            shared = db_ih is not None and not self.separate_hidden_grad
            db_hh = db_ih if shared else sum_rows(gh2)
        return (dx, dw_ih, dw_hh, db_ih, db_hh, *dstate)


def _sigmoid(a: Array, out: Array | None = None) -> Array:
    """1 / (1 + e^-a), computed as (1 + tanh(a / 2)) / 2: the same number, one ufunc that
    cannot overflow."""
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class TimeRNN(TimeRecurrent):
    """The book's RNN cell over time: h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b)
    (``nonlinearity="relu"``: max(0, .) instead of tanh).

    Backward: da = dh_t * (1 - h_t^2) (relu: dh_t * [h_t > 0]); dh_{t-1} = da @ W_hh,
    dW_hh += da^T h_{t-1}, dW_ih += da^T x_t, db += sum da.
    """

    gates = 1

    def __init__(self, reverse: bool = False, nonlinearity: str = "tanh") -> None:
        super().__init__(reverse)
        self.relu = nonlinearity == "relu"

    def step(self, gx: Array, gh: Array, state: tuple[Array, ...]
             ) -> tuple[tuple[Array, ...], Any]:
        gh += gx
        h = np.maximum(gh, 0, out=gh) if self.relu else np.tanh(gh, out=gh)
        return (h,), h

    def step_backward(self, dstate: tuple[Array, ...], h: Any, dgx: Array, dgh: Array
                      ) -> tuple[Array | None, ...]:
        if self.relu:
            np.multiply(dstate[0], h > 0, out=dgx)
        else:
            np.multiply(h, h, out=dgx)
            np.subtract(1, dgx, out=dgx)
            dgx *= dstate[0]
        return (None,)


class TimeLSTM(TimeRecurrent):
    """The book's LSTM cell over time, PyTorch's gate order (i, f, g, o):

        a = x_t W_ih^T + h_{t-1} W_hh^T + b        (N, 4H), split into four blocks of H
        i = sigmoid(a_i)  input gate        f = sigmoid(a_f)  forget gate
        g = tanh(a_g)     new memory        o = sigmoid(a_o)  output gate
        c_t = f * c_{t-1} + i * g           h_t = o * tanh(c_t)

    Backward (the book's LSTM.backward), with dh = dL/dh_t and dc = dL/dc_t from step t + 1:

        ds = dc + dh * o * (1 - tanh(c_t)^2)       dc_{t-1} = ds * f
        di = ds * g    df = ds * c_{t-1}    dg = ds * i    do = dh * tanh(c_t)
        da = [di * i(1 - i), df * f(1 - f), dg * (1 - g^2), do * o(1 - o)]
        dh_{t-1} = da @ W_hh
    """

    gates = 4
    states = 2

    def step(self, gx: Array, gh: Array, state: tuple[Array, ...]
             ) -> tuple[tuple[Array, ...], Any]:
        _, c = state
        H = c.shape[1]
        a = gh
        a += gx
        g = np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
        _sigmoid(a[:, :2 * H], out=a[:, :2 * H])
        o = _sigmoid(a[:, 3 * H:], out=a[:, 3 * H:])
        i, f = a[:, :H], a[:, H:2 * H]
        c_new = f * c
        c_new += i * g
        tanh_c = np.tanh(c_new)
        return (o * tanh_c, c_new), (a, c, tanh_c)

    def step_backward(self, dstate: tuple[Array, ...], cache: Any, dgx: Array, dgh: Array
                      ) -> tuple[Array | None, ...]:
        dh, dc = dstate
        a, c_prev, tanh_c = cache
        H = c_prev.shape[1]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        ds = tanh_c * tanh_c
        np.subtract(1, ds, out=ds)
        ds *= o
        ds *= dh
        ds += dc
        np.multiply(ds, g, out=dgx[:, :H])
        np.multiply(ds, c_prev, out=dgx[:, H:2 * H])
        np.multiply(ds, i, out=dgx[:, 2 * H:3 * H])
        np.multiply(dh, tanh_c, out=dgx[:, 3 * H:])
        local = np.subtract(1, a)  # sigmoid'(a) = s (1 - s), tanh'(a) = 1 - g^2
        local *= a
        np.multiply(g, g, out=local[:, 2 * H:3 * H])
        np.subtract(1, local[:, 2 * H:3 * H], out=local[:, 2 * H:3 * H])
        dgx *= local
        return (None, ds * f)


class TimeGRU(TimeRecurrent):
    """The GRU (Cho et al. 2014; the sequel's appendix) over time, as PyTorch writes it,
    gates in PyTorch's order (r, z, n):

        r = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)       reset gate
        z = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)       update gate
        n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))    new state
        h_t = (1 - z) * n + z * h_{t-1}

    (The book's appendix puts r inside the product, tanh(x Wx + (r * h) Wh); PyTorch's
    form, followed here, lets one GEMM compute h_{t-1} W_hh^T for all three gates.)

    Backward, with dh = dL/dh_t and hn = h_{t-1} W_hn^T + b_hn:

        dn = dh * (1 - z);  dz = dh * (h_{t-1} - n);  da_n = dn * (1 - n^2)
        dr = da_n * hn;  da_r = dr * r (1 - r);  da_z = dz * z (1 - z)
        d(input part) = [da_r, da_z, da_n];  d(hidden part) = [da_r, da_z, da_n * r]
        dh_{t-1} = dh * z + d(hidden part) @ W_hh
    """

    gates = 3
    separate_hidden_grad = True

    def input_bias(self, b_ih: Array, b_hh: Array) -> Array:
        b = b_ih.copy()
        H = b.shape[0] // 3
        b[:2 * H] += b_hh[:2 * H]  # b_hn stays inside r * (.)
        return b

    def step(self, gx: Array, gh: Array, state: tuple[Array, ...]
             ) -> tuple[tuple[Array, ...], Any]:
        (h,) = state
        H = h.shape[1]
        hn = gh[:, 2 * H:]
        hn += self.b_hh[2 * H:]
        rz = _sigmoid(gx[:, :2 * H] + gh[:, :2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = r * hn
        n += gx[:, 2 * H:]
        np.tanh(n, out=n)
        h_new = h - n
        h_new *= z
        h_new += n
        return (h_new,), (r, z, n, hn, h)

    def step_backward(self, dstate: tuple[Array, ...], cache: Any, dgx: Array, dgh: Array
                      ) -> tuple[Array | None, ...]:
        (dh,) = dstate
        r, z, n, hn, h = cache
        H = h.shape[1]
        da_n = np.multiply(dh, 1 - z, out=dgx[:, 2 * H:])
        da_n *= 1 - n * n
        np.multiply(da_n, hn, out=dgx[:, :H])
        dgx[:, :H] *= r * (1 - r)
        np.multiply(dh, h - n, out=dgx[:, H:2 * H])
        dgx[:, H:2 * H] *= z * (1 - z)
        dgh[:, :2 * H] = dgx[:, :2 * H]
        np.multiply(da_n, r, out=dgh[:, 2 * H:])
        return (dh * z,)


CELLS: dict[str, type[TimeRecurrent]] = {"RNN": TimeRNN, "LSTM": TimeLSTM, "GRU": TimeGRU}
"""The Time layer of each architecture, by PyTorch's class name."""

Weights = Sequence[Tensor | None]  # (weight_ih, weight_hh, bias_ih, bias_hh); biases may be None


def run_layer(cell: type[TimeRecurrent], x: Tensor, weights: Weights,
              state0: Sequence[Any], reverse: bool = False, **params: Any
              ) -> tuple[Tensor, list[Tensor]]:
    """One layer in one direction over x (T, N, in), from the states ``state0`` (each (N, H));
    returns the hidden states (T, N, H) and the final states, each (N, H)."""
    w_ih, w_hh, b_ih, b_hh = weights
    assert w_ih is not None and w_hh is not None
    if b_ih is None or b_hh is None:  # bias=False
        zeros = Tensor._wrap(np.zeros(w_ih.shape[0], dtype=w_ih.dtype))
        b_ih, b_hh = (zeros if b_ih is None else b_ih), (zeros if b_hh is None else b_hh)
    y = cell.apply(x, w_ih, w_hh, b_ih, b_hh, *state0, reverse=reverse, **params)
    T = x.shape[0]
    hs = getitem(y, slice(0, T)) if cell.states > 1 else y
    finals = [getitem(y, T - 1 if not reverse else 0)]
    finals += [getitem(y, T + k) for k in range(cell.states - 1)]
    return hs, finals


def recurrent(mode: str, x: Any, state0: Sequence[Any] | None, weights: Sequence[Weights], *,
              num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
              training: bool = True, batch_first: bool = False, **params: Any
              ) -> tuple[Tensor, tuple[Tensor, ...]]:
    """A stack of ``num_layers`` recurrent layers (``mode`` "RNN", "LSTM" or "GRU"), each one
    or two directions, as PyTorch's ``nn.RNN``/``nn.LSTM``/``nn.GRU`` compute it.

    ``x``: (T, N, in), or (N, T, in) with ``batch_first``, or (T, in) unbatched.
    ``state0``: None (zeros) or a sequence of the initial states (h0, or h0 and c0; None
    for zeros), each (num_layers * D, N, H) with D = 2 if ``bidirectional`` else 1 (layer
    l's direction d at index l * D + d). ``weights``: one (weight_ih, weight_hh, bias_ih,
    bias_hh) per layer and direction, in the same order. Between layers (not after the
    last), ``dropout`` when ``training``. Returns the last layer's hidden states
    (T, N, D * H) (batch-first if asked) and the final states, each (num_layers * D, N, H).
    """
    cell = CELLS[mode]
    x = as_tensor(x)
    check_floating(mode, x)
    directions = 2 if bidirectional else 1
    hidden = weights[0][1].shape[1]  # type: ignore[union-attr]
    size = weights[0][0].shape[1]  # type: ignore[union-attr]
    unbatched = x.ndim == 2
    if x.ndim not in (2, 3) or x.shape[-1] != size:
        layout = "(N, T, input_size)" if batch_first else "(T, N, input_size)"
        raise ValueError(f"{mode}: expected input {layout} or (T, input_size) with "
                         f"input_size={size}, got shape {x.shape}")
    if unbatched:
        x = reshape(x, x.shape[0], 1, size)
    elif batch_first:
        x = transpose(x, 1, 0, 2)
    T, N = x.shape[0], x.shape[1]
    if T == 0:
        raise ValueError(f"{mode}: the input sequence is empty (length 0)")
    expected = (num_layers * directions, N, hidden)
    starts: list[Any] = []
    names = ("h0", "c0")[:cell.states]
    for name, s in zip(names, state0 if state0 is not None else [None] * cell.states):
        if s is None:
            starts.append(None)
            continue
        s = as_tensor(s)
        shape = (expected[0], hidden) if unbatched else expected
        if s.shape != shape:
            raise ValueError(f"{mode}: {name} must have shape {shape}, got {s.shape}")
        starts.append(reshape(s, *expected) if unbatched else s)
    zeros = Tensor._wrap(np.zeros((N, hidden), dtype=x.dtype))
    finals: list[list[Tensor]] = [[] for _ in names]
    for layer in range(num_layers):
        if layer and dropout and training:
            x = _dropout(x, dropout)
        outputs = []
        for d in range(directions):
            k = layer * directions + d
            s0 = [zeros if s is None else getitem(s, k) for s in starts]
            hs, last = run_layer(cell, x, weights[k], s0, reverse=bool(d), **params)
            outputs.append(hs)
            for kind, state in zip(finals, last):
                kind.append(state)
        x = outputs[0] if directions == 1 else concatenate(outputs, axis=2)
    states = tuple(concatenate([reshape(s, 1, N, hidden) for s in kind]) if len(kind) > 1
                   else reshape(kind[0], 1, N, hidden) for kind in finals)
    if unbatched:
        return reshape(x, T, -1), tuple(reshape(s, -1, hidden) for s in states)
    return (transpose(x, 1, 0, 2) if batch_first else x), states
