"""Convolution, transposed convolution and pooling (the book's chapter 7) on NCHW arrays.

``conv2d`` is the book's Convolution layer: ``im2col`` turns the windows into columns and one
matrix product with the flattened filters does the rest. ``conv_transpose2d`` runs the same
products the other way round (it is conv2d's input gradient used as a forward pass). The
pooling layers never build the columns: for each of the KH*KW kernel offsets they take the
strided view of the elements at that offset of every window (``window_offsets``) and fold it
into the running max or sum, so no Python loop runs over samples or pixels and nothing of the
window size is materialised.

Layouts follow PyTorch: x (N, C, H, W), weight (OC, C/groups, KH, KW) (transposed: (C,
OC/groups, KH, KW)), bias (OC,); ``stride``, ``padding`` and ``dilation`` are an int or an
(h, w) pair; OH = (H + 2*PH - DH*(KH - 1) - 1) // SH + 1, likewise OW.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from mitbadak import parallel
from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.functional._util import as_tensor, check_floating, sum_columns, sum_rows
from mitbadak.functional.im2col import (
    Pair,
    add_columns,
    columns,
    output_size,
    pad,
    pair,
    unpad,
    window_offsets,
)


class _Conv(Function):
    """The three matrix products of a convolution with G = ``groups`` groups of channels, on
    padded arrays; the nodes below are built from them. Each group g convolves its C/G input
    channels with its OC/G filters, so W_col is (G, OC/G, C/G*KH*KW) and col(x) is
    (N, G, C/G*KH*KW, OH*OW) (G = 1: the book's single product).

    * ``_correlate``:  Y = W_col @ col(x)                       (conv2d's forward)
    * ``_grads``: dW = sum over n of g[n] @ col(x)[n]^T     (conv2d's weight gradient)
      and dx += col2im(W_col^T @ g)                         (conv2d's input gradient)

    The samples go through in chunks of about ``CHUNK_BYTES`` of columns, so each chunk's
    columns are still in the cache for its matrix products; a backward builds them again
    rather than keeping all of them (up to 45 MB for DeepConvNet's 16x28x28 layer). The
    chunks are shared out over the free cores (`mitbadak.parallel`), each share's products on
    one BLAS thread: with only 16-64 filters a product is too narrow for two BLAS threads to
    share well (DeepConvNet's step on a 2-core AMD EPYC: 123 ms in two shares against 157 ms
    with two BLAS threads and 145 ms with one).
    """

    # half of a 2 MB L2 cache: DeepConvNet's step 5-6% faster than with 4 MB on the Intel Xeon
    # of docs/benchmarks.md (0.5 MB as fast, 2 MB 2% faster); no chunks: 25% slower
    CHUNK_BYTES = 1 << 20
    W: np.ndarray  # the weight, saved by the subclass's forward
    x: Any  # the input: saved by forward (by Convolution's only as a tensor, for create_graph)

    def __init__(self, stride: Pair, padding: Pair, dilation: Pair = (1, 1),
                 groups: int = 1) -> None:
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def _geometry(self) -> dict[str, Any]:
        """This node's settings, to make the nodes of its backward with."""
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "groups": self.groups}

    def _chunks(self, xp: np.ndarray, kernel: Pair, out: Pair) -> list[slice]:
        """Slices of the batch whose columns take about ``CHUNK_BYTES`` each."""
        n, c = xp.shape[:2]
        per_sample = c * kernel[0] * kernel[1] * out[0] * out[1] * xp.itemsize
        step = max(1, self.CHUNK_BYTES // max(per_sample, 1))
        return [slice(start, start + step) for start in range(0, n, step)]

    def _by_group(self, a: np.ndarray) -> np.ndarray:
        """(N, K, L) as (N, G, K/G, L): one block per group; with one group ``a`` as it is,
        so that the book's convolution runs the book's 3-D products."""
        g = self.groups
        return a if g == 1 else a.reshape(a.shape[0], g, a.shape[1] // g, a.shape[2])

    def _columns(self, xp: np.ndarray, kernel: Pair, out: Pair) -> np.ndarray:
        """im2col of a padded input, by group: (N, G, C/G*KH*KW, OH*OW)."""
        return self._by_group(columns(xp, kernel, self.stride, out, self.dilation))

    def _w_col(self, W: np.ndarray) -> np.ndarray:  # noqa: N803
        """The filters as rows, by group: (G, OC/G, C/G*KH*KW) ((OC, C*KH*KW) for one)."""
        return self._by_group(W.reshape(1, W.shape[0], -1))[0]

    def _correlate(self, xp: np.ndarray, W: np.ndarray, out: Pair) -> np.ndarray:  # noqa: N803
        """Y = W_col @ col(xp): (N, OC, OH*OW)."""
        n, oc, kernel = xp.shape[0], W.shape[0], W.shape[2:]
        y = np.empty((n, oc, out[0] * out[1]), dtype=xp.dtype)
        w = self._w_col(W)

        def correlate(chunks: Sequence[slice]) -> None:
            for part in chunks:
                np.matmul(w, self._columns(xp[part], kernel, out), out=self._by_group(y[part]))

        parallel.run(correlate, parallel.split(self._chunks(xp, kernel, out)))
        return y

    def _grads(self, gy: np.ndarray, kernel: Pair, out: Pair, xp: np.ndarray | None = None,
               W: np.ndarray | None = None,  # noqa: N803
               gxp: np.ndarray | None = None) -> np.ndarray | None:
        """conv2d's two gradients from gy (N, OC, OH*OW), in one pass over the chunks:

        * given ``xp``, dW = sum over n of gy[n] @ col(xp)[n]^T (returned: (OC, C/G, KH, KW)),
          computed as its transpose, sum over n of col(xp)[n] @ gy[n]^T: the same products,
          but OpenBLAS runs them 1.4-1.6x faster with the long side (C*KH*KW) as the rows;
        * given ``W`` and ``gxp``, gxp += col2im(W_col^T @ gy): each window's gradient added
          back where the window was.
        """
        oc = gy.shape[1]
        gy = self._by_group(gy)
        w_t = None if W is None else self._w_col(W).swapaxes(-1, -2)
        chunked = xp if xp is not None else gxp
        assert chunked is not None  # one gradient or the other is asked for

        def grads(chunks: Sequence[slice]) -> np.ndarray | None:
            """The chunks' part of dW^T ((C/G*KH*KW, OC/G) per group), and of gxp."""
            gw_t = None
            if xp is not None:
                k = xp.shape[1] // self.groups * kernel[0] * kernel[1]
                gw_t = self._w_col(np.zeros((oc, k), dtype=gy.dtype)).swapaxes(-1, -2)
            for part in chunks:
                if gw_t is not None and xp is not None:  # (the columns die at once: no name
                    # keeps them alive, so the next chunk's reuse their memory; ~9% faster)
                    gw_t += np.matmul(self._columns(xp[part], kernel, out),
                                      gy[part].swapaxes(-1, -2)).sum(axis=0)
                if w_t is not None and gxp is not None:  # each share its own samples of gxp
                    add_columns(np.matmul(w_t, gy[part]), gxp[part], kernel, self.stride, out,
                                self.dilation)
            return gw_t

        first, *others = parallel.run(grads, parallel.split(self._chunks(chunked, kernel, out)))
        if first is None:
            return None
        for gw_t in others:  # the shares' sums of dW^T, added in order
            first += gw_t
        return first.swapaxes(-1, -2).reshape(oc, -1, *kernel)


class Convolution(_Conv):
    """The book's Convolution layer: Y = W_col @ col + b, with col = im2col(x)
    (N, C*KH*KW, OH*OW) and W_col = W as (OC, C*KH*KW) (per group with ``groups``).

    Backward, with g = gY as (N, OC, OH*OW):
    dW = sum over n of g[n] @ col[n]^T,   db = sum of g over N, OH, OW,
    dx = col2im(W_col^T @ g)  (each window's gradient added back where the window was:
    a transposed convolution of g with W); with stride 1 and an output larger than the input,
    the same dx as a convolution of g with the flipped filters (`_back_padding`).

    Under ``create_graph`` the same three products run as nodes: dx = conv_transpose2d(g, W)
    (`Deconvolution`), dW = `ConvolutionWeightGrad` of (x, g), db = g.sum(...), each
    differentiable in turn, so a convolution is differentiable any number of times.

    With stride 1 each output row runs on across the padding columns (``out[1]`` = the
    padded width rather than OW): then the elements at one kernel offset of every window
    are one contiguous run of the padded input, and im2col copies ~4x faster (in cache).
    The extra columns (windows that wrap round the edge) are computed and dropped, their
    gradient 0; they cost 7-25% more GEMM columns, so this is done only where the columns
    outnumber the output rows (C*KH*KW > OC; one-channel first layers were 30% slower).
    """

    saved_tensors = {"x": 0, "W": 1}  # x: read under create_graph only

    def forward(self, x: np.ndarray, W: np.ndarray,  # noqa: N803
                b: np.ndarray | None = None) -> np.ndarray:
        n, _, h, w = x.shape
        oc, _, kh, kw = W.shape
        (sh, sw), (ph, pw), (dh, dw) = self.stride, self.padding, self.dilation
        oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
        run_on = self.stride == (1, 1) and W[0].size * self.groups > oc
        self.xp = pad(x, self.padding, after=(int(run_on), 0))
        self.W, self.x_shape = W, x.shape
        self.out = oh, self.xp.shape[3] if run_on else ow
        y = self._correlate(self.xp, W, self.out).reshape(n, oc, *self.out)[..., :ow]
        if not y.flags.c_contiguous:  # run-on rows: the valid columns copied out to a
            # contiguous array, the bias added on the way
            return np.add(y, b[:, None, None]) if b is not None else np.ascontiguousarray(y)
        if b is not None:  # y is ours alone: the bias added in place (no second array)
            y += b[:, None, None]
        return y

    def backward(self, gy: Any) -> tuple[Any, ...]:
        W, need = self.W, self.needs_input_grad
        gx: Any
        gW: Any  # noqa: N806
        if isinstance(gy, Tensor):
            x, geometry = self.x, self._geometry()  # x: saved as a tensor by create_graph
            gx = Deconvolution.apply(gy, W, size=x.shape[2:], **geometry) if need[0] else None
            gW = ConvolutionWeightGrad.apply(x, gy, kernel=W.shape[2:],  # noqa: N806
                                             **geometry) if need[1] else None
        else:
            gx, gW = self._array_grads(gy)  # noqa: N806
        if len(need) == 2:
            return gx, gW
        return gx, gW, _bias_grad(gy) if need[2] else None

    def _array_grads(self, gy: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        W, need, xp, out = self.W, self.needs_input_grad, self.xp, self.out
        oc = W.shape[0]
        n, _, h, w = self.x_shape
        g = gy
        if out[1] != gy.shape[3]:  # run-on rows: zero gradient for the wrapped windows
            g = np.zeros((n, oc, *out), dtype=gy.dtype)
            g[..., :gy.shape[3]] = gy
        g = g.reshape(n, oc, out[0] * out[1])  # not -1: n may be 0
        back = self._back_padding(W.shape[2:])
        if need[0] and back is not None:  # dx as a correlation of gy: no col2im
            gx = Convolution(stride=(1, 1), padding=back, dilation=self.dilation,
                             groups=self.groups).forward(gy, _flipped(W, self.groups))
            gW = self._grads(g, W.shape[2:], out, xp=xp) if need[1] else None  # noqa: N806
            return gx, gW
        gxp = np.zeros_like(xp) if need[0] else None
        gW = self._grads(g, W.shape[2:], out, xp=xp if need[1] else None,  # noqa: N806
                         W=W if need[0] else None, gxp=gxp)
        ph, pw = self.padding
        return (None if gxp is None else gxp[:, :, ph:ph + h, pw:pw + w]), gW

    def _back_padding(self, kernel: Pair) -> Pair | None:
        """Q = D*(K - 1) - P on each side, where dx is better had as a correlation of gy with
        the flipped filters (`_flipped`), else None.

        With stride 1, dx[c, y, x] = sum over (oc, i, j) of W[oc, c, i, j] *
        gy[oc, y + P - D*i, x + P - D*j], and with i' = K - 1 - i that is a convolution of gy
        padded by Q: one im2col of gy and a GEMM over C_out*KH*KW, run over the *input's*
        pixels. col2im runs its GEMM over the output's pixels instead, but shares the
        columns with dW's. So the correlation pays only where the output is larger than the
        input (P > D*(K - 1)/2, as DeepConvNet's fourth layer: its backward 0.85x the time;
        with "same" padding the five other layers were 0.95-1.13x, so they keep col2im).
        """
        if self.stride != (1, 1):
            return None
        back = tuple(d * (k - 1) - p for k, p, d in zip(kernel, self.padding, self.dilation))
        if min(back) < 0 or sum(self.padding) <= sum(back):  # dx no cheaper this way
            return None
        return back[0], back[1]


class Deconvolution(_Conv):
    """Transposed convolution (DeZero's Deconv2d; PyTorch's conv_transpose2d): conv2d's input
    gradient run as a forward pass, so each input pixel spreads a weighted copy of the
    filter over the output, ``stride`` apart (upsampling). With W (C, OC/G, KH, KW) as the
    (OC_col, ...) weight of the convolution it is the adjoint of:

        Y = col2im(W_col^T @ x) + b,   cropped by ``padding`` on each side;
        OH = (H - 1)*SH - 2*PH + DH*(KH - 1) + output_padding + 1.

    Backward: the two other products of the same convolution, with gy as its input:
    dx = W_col @ col(gy)  (conv2d of gy with W),   dW = sum over n of x[n] @ col(gy)[n]^T
    (conv2d's weight gradient, x in the place of its output gradient),   db = sum of gy;
    under ``create_graph`` as the nodes `Convolution` and `ConvolutionWeightGrad`.
    """

    saved_tensors = {"x": 0, "W": 1}

    def __init__(self, stride: Pair, padding: Pair, dilation: Pair, groups: int,
                 size: Pair) -> None:
        super().__init__(stride, padding, dilation, groups)
        self.size = size  # (OH, OW), output_padding included

    def forward(self, x: np.ndarray, W: np.ndarray,  # noqa: N803
                b: np.ndarray | None = None) -> np.ndarray:
        n, c, h, w = x.shape
        (ph, pw), oc = self.padding, W.shape[1] * self.groups
        self.x, self.W = x, W
        yp = np.zeros((n, oc, self.size[0] + 2 * ph, self.size[1] + 2 * pw), dtype=x.dtype)
        self._grads(x.reshape(n, c, h * w), W.shape[2:], (h, w), W=W, gxp=yp)
        y = unpad(yp, self.padding)
        return np.add(y, b[:, None, None]) if b is not None else np.ascontiguousarray(y)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        x, W, need = self.x, self.W, self.needs_input_grad
        gx: Any
        gW: Any  # noqa: N806
        if isinstance(gy, Tensor):
            gx = _crop(Convolution.apply(gy, W, **self._geometry()), x.shape) if need[0] else None
            gW = ConvolutionWeightGrad.apply(gy, x, kernel=W.shape[2:],  # noqa: N806
                                             **self._geometry()) if need[1] else None
        else:
            gx, gW = self._array_grads(gy, x, W)  # noqa: N806
        if len(need) == 2:
            return gx, gW
        return gx, gW, _bias_grad(gy) if need[2] else None

    def _array_grads(self, gy: np.ndarray, x: np.ndarray, W: np.ndarray,  # noqa: N803
                     ) -> tuple[np.ndarray | None, np.ndarray | None]:
        need = self.needs_input_grad
        n, c, h, w = x.shape
        gyp = pad(gy, self.padding)
        gx = self._correlate(gyp, W, (h, w)).reshape(x.shape) if need[0] else None
        gW = (self._grads(x.reshape(n, c, h * w), W.shape[2:], (h, w), xp=gyp)  # noqa: N806
              if need[1] else None)
        return gx, gW


class ConvolutionWeightGrad(_Conv):
    """conv2d's weight gradient as a node, for ``create_graph``: of the convolution's input x
    and output gradient g (N, OC, OH, OW), dW = sum over n of g[n] @ col(x)[n]^T.

    It is bilinear in (x, g), so its backward is the two other products of the convolution:
    with G = dL/d(dW), dL/dx = col2im(G_col^T @ g) (conv_transpose2d of g with G) and
    dL/dg = G_col @ col(x) (conv2d of x with G).
    """

    saved_tensors = {"x": 0, "g": 1}

    def __init__(self, stride: Pair, padding: Pair, dilation: Pair, groups: int,
                 kernel: Pair) -> None:
        super().__init__(stride, padding, dilation, groups)
        self.kernel = kernel

    def forward(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.x, self.g = x, g
        n, oc = g.shape[:2]
        gw = self._grads(g.reshape(n, oc, g.shape[2] * g.shape[3]), self.kernel, g.shape[2:],
                         xp=pad(x, self.padding))
        assert gw is not None  # xp given
        return gw

    def backward(self, gw: Any) -> tuple[Any, Any]:
        x, g, need = self.x, self.g, self.needs_input_grad
        gx: Any = None
        gg: Any = None
        if isinstance(gw, Tensor):
            geometry = self._geometry()
            gx = Deconvolution.apply(g, gw, size=x.shape[2:], **geometry) if need[0] else None
            gg = _crop(Convolution.apply(x, gw, **geometry), g.shape) if need[1] else None
            return gx, gg
        n, oc, oh, ow = g.shape
        xp = pad(x, self.padding)
        if need[0]:
            gxp = np.zeros_like(xp)
            self._grads(g.reshape(n, oc, oh * ow), self.kernel, (oh, ow), W=gw, gxp=gxp)
            gx = unpad(gxp, self.padding)
        if need[1]:
            gg = self._correlate(xp, gw, (oh, ow)).reshape(g.shape)
        return gx, gg


def _flipped(W: np.ndarray, groups: int) -> np.ndarray:  # noqa: N803
    """The filters of conv2d's input gradient as a convolution: W (OC, C/G, KH, KW) turned
    180 degrees and with its channel axes swapped within each group: (C, OC/G, KH, KW)."""
    oc, c_g, kh, kw = W.shape
    w = W.reshape(groups, oc // groups, c_g, kh, kw)[..., ::-1, ::-1].swapaxes(1, 2)
    return np.ascontiguousarray(w).reshape(groups * c_g, oc // groups, kh, kw)


def _bias_grad(gy: Any) -> Any:
    """db = the sum of gy (N, OC, OH, OW) over N, OH and OW. For an array, as two products
    with vectors of ones (`sum_columns`, then `sum_rows`): 1.5-3x faster than NumPy's sum
    over axes (0, 2, 3) on the book's layers; a tensor (``create_graph``) sums as a node."""
    if isinstance(gy, Tensor):
        return gy.sum(axis=(0, 2, 3))
    n, oc, oh, ow = gy.shape
    return sum_rows(sum_columns(gy.reshape(n * oc, oh * ow)).reshape(n, oc))


def _crop(y: Tensor, shape: tuple[int, ...]) -> Tensor:
    """y cut to ``shape``'s height and width: a strided conv2d of a transposed convolution's
    output can see one more row than its input had (output_padding >= stride)."""
    return y if y.shape[2:] == shape[2:] else y[:, :, :shape[2], :shape[3]]


def pool_output_size(size: int, kernel: int, stride: int, padding: int,
                     ceil_mode: bool) -> int:
    """Windows along one axis: ``output_size``, or with ``ceil_mode`` one more window over
    the remainder, kept only if it starts inside the input or its left padding (PyTorch's
    rule: a window starting in the right padding would see no input at all)."""
    if not ceil_mode:
        return output_size(size, kernel, stride, padding)
    out = -(-(size + 2 * padding - kernel) // stride) + 1
    return out - 1 if (out - 1) * stride >= size + padding else out


class _Pooling(Function):
    """Shared by the pooling nodes: the window geometry and the gradient buffer.

    With ``ceil_mode`` the last window of a row may hang past the padded input; the input is
    then padded further at the bottom and right (``after``) so that every window is whole.
    """

    x_shape: tuple[int, ...]  # the input's shape, set by the subclass's forward

    def __init__(self, kernel: Pair, stride: Pair, padding: Pair, ceil_mode: bool = False,
                 ) -> None:
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.ceil_mode = ceil_mode
        # Windows that do not overlap (stride >= kernel, the usual case) let backward write
        # each offset's gradient instead of adding it: each input element is in one window.
        self.disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]

    def _geometry(self, x: np.ndarray) -> None:
        """The output size and the extra bottom/right padding ``ceil_mode`` needs."""
        self.x_shape = x.shape
        out, after = [], []
        for size, k, s, p in zip(x.shape[2:], self.kernel, self.stride, self.padding):
            out.append(pool_output_size(size, k, s, p, self.ceil_mode))
            after.append(max(0, (out[-1] - 1) * s + k - size - 2 * p))
        self.out: Pair = (out[0], out[1])
        self.after: Pair = (after[0], after[1])

    def _views(self, xp: np.ndarray) -> Iterator[np.ndarray]:
        """The per-kernel-offset views of a padded array of the input's shape."""
        return (view for _, _, view in window_offsets(xp, self.kernel, self.stride, self.out))

    def _input_grad(self, gy: np.ndarray, local: Iterable[Any]) -> np.ndarray:
        """The chain rule, one kernel offset at a time: the element at offset (i, j) of every
        window gets gy * dy/d(that element), ``local`` giving dy/d(element) per offset. They
        go into a zero buffer of the padded input's shape; the unpadded part is returned."""
        n, c, h, w = self.x_shape
        (ph, pw), after = self.padding, self.after
        gxp = np.zeros((n, c, h + 2 * ph + after[0], w + 2 * pw + after[1]), dtype=gy.dtype)
        for view, derivative in zip(self._views(gxp), local):
            if self.disjoint:  # each input element is in one window: write (2x faster than +=)
                np.multiply(gy, derivative, out=view)
            else:
                view += gy * derivative
        return unpad(gxp, self.padding, after)


class MaxPooling(_Pooling):
    """The book's Pooling layer: y = the largest element of each window; dL/dx = gy at that
    element (the first one, in row-major window order, when several tie — as PyTorch), 0
    elsewhere.

    Forward keeps a running max over the kernel offsets and, for each output, the offset
    where it was found (``argmax``, one small integer per output; the book stores the same
    per window). So dy/dx at offset o of a window is (argmax == o): 1 or 0. The backward is
    linear in gy for that fixed argmax: under ``create_graph`` it is the node `MaxPoolingGrad`.
    """

    saved_tensors: dict[str, int | str] = {}  # the argmax is a constant

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._geometry(x)
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = pad(x, self.padding, lowest, self.after)
        if not self.for_backward:  # no gradient will be asked: no argmax to keep
            return self._separable_max(xp)
        views = self._views(xp)
        y = next(views).copy()
        argmax = np.zeros(y.shape, dtype=np.min_scalar_type(self.kernel[0] * self.kernel[1]))
        for offset, view in enumerate(views, start=1):
            # Strictly greater, so the first max wins. Offsets only grow, so "argmax = offset
            # where greater" is a maximum: branch-free (a masked copy is ~50x slower).
            np.maximum(argmax, (view > y) * argmax.dtype.type(offset), out=argmax)
            np.maximum(y, view, out=y)
        self.argmax = argmax
        return y

    def _separable_max(self, xp: np.ndarray) -> np.ndarray:
        """The windows' max without the argmax (no gradient will be asked): the max of a
        rectangle is the max over its rows of the max over its columns, so first each row's
        max over the KW columns of every window, then the max over the KH rows: KW + KH
        passes instead of KH * KW (SimpleConvNet's pooling at batch 1000, 2x2: 25 ms against
        32 for the offset loop without the argmax, 65 with it)."""
        (kh, kw), (sh, sw), (oh, ow) = self.kernel, self.stride, self.out
        rows = xp[..., :sw * (ow - 1) + 1:sw].copy()  # column offset 0 of every window
        for j in range(1, kw):
            np.maximum(rows, xp[..., j:j + sw * (ow - 1) + 1:sw], out=rows)
        y = rows[:, :, :sh * (oh - 1) + 1:sh].copy()
        for i in range(1, kh):
            np.maximum(y, rows[:, :, i:i + sh * (oh - 1) + 1:sh], out=y)
        return y

    def backward(self, gy: Any) -> tuple[Any]:
        if isinstance(gy, Tensor):
            return (MaxPoolingGrad.apply(gy, like=self),)
        return (self._scatter(gy),)

    def _scatter(self, gy: np.ndarray) -> np.ndarray:
        """Each window's gy put at its argmax, 0 elsewhere: (N, C, H, W)."""
        at_max = (self.argmax == offset for offset in range(self.kernel[0] * self.kernel[1]))
        return self._input_grad(gy, at_max)

    def _select(self, z: np.ndarray) -> np.ndarray:
        """The adjoint of ``_scatter``: z (N, C, H, W) at each window's argmax: (N, C, OH, OW)."""
        y = np.zeros(self.argmax.shape, dtype=z.dtype)
        for offset, view in enumerate(self._views(pad(z, self.padding, after=self.after))):
            np.copyto(y, view, where=self.argmax == offset)
        return y


class MaxPoolingGrad(MaxPooling):
    """MaxPooling's backward as a node (for ``create_graph``): y = gy scattered to the
    argmax of each window of the forward pass (``like``), a fixed linear map; its backward
    is the adjoint, z at each argmax (`MaxPoolingSelect`), and that one's is this again."""

    def __init__(self, like: MaxPooling) -> None:
        self.__dict__.update({k: v for k, v in vars(like).items() if k in _WINDOW_STATE})

    def forward(self, gy: np.ndarray) -> np.ndarray:
        return self._scatter(gy)

    def backward(self, g: Any) -> tuple[Any]:
        if isinstance(g, Tensor):
            return (MaxPoolingSelect.apply(g, like=self),)
        return (self._select(g),)


class MaxPoolingSelect(MaxPoolingGrad):
    """z at the argmax of each window of a max pooling (``like``): MaxPoolingGrad's adjoint."""

    def forward(self, z: np.ndarray) -> np.ndarray:
        return self._select(z)

    def backward(self, g: Any) -> tuple[Any]:
        if isinstance(g, Tensor):
            return (MaxPoolingGrad.apply(g, like=self),)
        return (self._scatter(g),)


# what a node of MaxPoolingGrad or MaxPoolingSelect copies from the forward pass's node
_WINDOW_STATE = ("kernel", "stride", "padding", "ceil_mode", "disjoint", "x_shape", "out",
                 "after", "argmax")


class AvgPooling(_Pooling):
    """y = the mean of each window: y = (sum over the KH*KW offsets of the offset's view) / D;
    dL/dx = gy / D for every element of the window.

    D = KH*KW, padding zeros included (PyTorch's default ``count_include_pad=True``), except
    that a ``ceil_mode`` window hanging past the padding counts only what it covers of the
    padded input; with ``count_include_pad=False``, D counts only the input's own elements
    in the window (PyTorch's rules both). The backward is linear in gy: under
    ``create_graph`` it is the node `AvgPoolingGrad`, whose own backward is this pooling.
    """

    saved_tensors: dict[str, int | str] = {}  # linear: nothing of x is needed

    def __init__(self, kernel: Pair, stride: Pair, padding: Pair, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._geometry(x)
        views = self._views(pad(x, self.padding, after=self.after))
        y = next(views).copy()
        for view in views:
            y += view
        self.scale = self._reciprocal_counts(x.dtype)
        y *= self.scale
        return y

    def backward(self, gy: Any) -> tuple[Any]:
        if isinstance(gy, Tensor):
            return (AvgPoolingGrad.apply(gy, like=self),)
        return (self._spread(gy),)

    def _spread(self, gy: np.ndarray) -> np.ndarray:
        """gy / D added onto every element of its window: (N, C, H, W)."""
        return self._input_grad(gy, [self.scale] * (self.kernel[0] * self.kernel[1]))

    def _reciprocal_counts(self, dtype: np.dtype) -> Any:
        """1 / D: one number for whole windows, else an (OH, OW) array."""
        if self.count_include_pad and self.after == (0, 0):
            return dtype.type(1.0 / (self.kernel[0] * self.kernel[1]))
        counts = []
        for size, k, s, p, out in zip(self.x_shape[2:], self.kernel, self.stride, self.padding,
                                      self.out):
            start = np.arange(out) * s - p
            end = np.minimum(start + k, size + p)
            if not self.count_include_pad:
                start, end = np.maximum(start, 0), np.minimum(end, size)
            counts.append(end - start)
        return (1.0 / np.outer(*counts)).astype(dtype)


class AvgPoolingGrad(AvgPooling):
    """AvgPooling's backward as a node (for ``create_graph``): gy / D spread over each window
    of the forward pass (``like``); its backward, the adjoint, is that average pooling."""

    def __init__(self, like: AvgPooling) -> None:
        self.like = {k: getattr(like, k) for k in ("kernel", "stride", "padding", "ceil_mode",
                                                    "count_include_pad")}
        self.__dict__.update({k: v for k, v in vars(like).items() if k in _WINDOW_STATE})
        self.scale = like.scale

    def forward(self, gy: np.ndarray) -> np.ndarray:
        return self._spread(gy)

    def backward(self, g: Any) -> tuple[Any]:
        if isinstance(g, Tensor):
            return (AvgPooling.apply(g, **self.like),)
        return (AvgPooling(**self.like).forward(g),)


# ----------------------------------------------------------------------------- functional API
def _check_image(op: str, x: Tensor) -> None:
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {x.shape}; a single "
                         "grey image (H, W) is x.reshape(1, 1, H, W)")


def _check_windows(op: str, x: Tensor, kernel: Pair, padding: Pair,
                   dilation: Pair = (1, 1)) -> None:
    """The input is 4-D and every window fits in the padded input."""
    _check_image(op, x)
    padded = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    if span[0] > padded[0] or span[1] > padded[1]:
        what = f"kernel {kernel}" if dilation == (1, 1) else \
            f"kernel {kernel} dilated by {dilation} (spanning {span})"
        raise ValueError(f"{op}: {what} is larger than the padded input {padded} "
                         f"(input {x.shape}, padding {padding})")


def _check_weight(op: str, x: Tensor, W: Tensor, groups: Any, layout: str) -> int:  # noqa: N803
    check_floating(op, x)
    check_floating(op, W)
    if W.ndim != 4:
        raise ValueError(f"{op}: expected weight of shape {layout}, got {W.shape}")
    _check_image(op, x)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be an int >= 1, got {groups!r}")
    return int(groups)


def _check_bias(op: str, b: Tensor, channels: int, W: Tensor) -> None:  # noqa: N803
    if b.shape != (channels,):
        raise ValueError(f"{op}: bias has shape {b.shape}, expected ({channels},) for "
                         f"weight {W.shape}")


def conv2d(x: Any, W: Tensor, b: Tensor | None = None, stride: int | Pair = 1,  # noqa: N803
           padding: int | Pair = 0, dilation: int | Pair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in the book and PyTorch) of x (N, C, H, W) with
    filters W (OC, C/groups, KH, KW) plus bias b (OC,): output (N, OC, OH, OW).

    ``dilation`` spaces the kernel's taps (a 3x3 kernel with dilation 2 sees a 5x5 area);
    ``groups`` splits the channels into that many independent convolutions (C and OC both
    divisible by it; groups = C is a depthwise convolution).
    """
    x = as_tensor(x, W)
    groups = _check_weight("conv2d", x, W, groups, "(OC, C, KH, KW)")
    stride, padding = pair(stride, "stride", "conv2d", 1), pair(padding, "padding", "conv2d", 0)
    dilation = pair(dilation, "dilation", "conv2d", 1)
    c, oc = x.shape[1], W.shape[0]
    if c != W.shape[1] * groups:
        per_group = f" ({groups} groups of {W.shape[1]})" if groups > 1 else ""
        raise ValueError(f"conv2d: input has {c} channels but weight expects "
                         f"{W.shape[1] * groups}{per_group}: x {x.shape}, W {W.shape}")
    if oc % groups:
        raise ValueError(f"conv2d: {oc} output channels (W {W.shape}) do not split into "
                         f"{groups} groups")
    _check_windows("conv2d", x, (W.shape[2], W.shape[3]), padding, dilation)
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if b is None:
        return Convolution.apply(x, W, **params)
    _check_bias("conv2d", b, oc, W)
    return Convolution.apply(x, W, b, **params)


def conv_transpose2d(x: Any, W: Tensor, b: Tensor | None = None,  # noqa: N803
                     stride: int | Pair = 1, padding: int | Pair = 0,
                     output_padding: int | Pair = 0, groups: int = 1,
                     dilation: int | Pair = 1) -> Tensor:
    """Transposed convolution of x (N, C, H, W) with W (C, OC/groups, KH, KW) plus bias b (OC,)
    (PyTorch's ``conv_transpose2d``, DeZero's ``deconv2d``): the adjoint of ``conv2d``, an
    upsampling by ``stride``. Output (N, OC, OH, OW) with
    OH = (H - 1)*SH - 2*PH + DH*(KH - 1) + output_padding + 1: ``output_padding`` (smaller
    than the stride or the dilation) picks one of the input sizes that a strided conv2d maps
    to H."""
    op = "conv_transpose2d"
    x = as_tensor(x, W)
    groups = _check_weight(op, x, W, groups, "(C, OC/groups, KH, KW)")
    stride, padding = pair(stride, "stride", op, 1), pair(padding, "padding", op, 0)
    dilation = pair(dilation, "dilation", op, 1)
    extra = pair(output_padding, "output_padding", op, 0)
    c = x.shape[1]
    if c != W.shape[0]:
        raise ValueError(f"{op}: input has {c} channels but weight expects {W.shape[0]}: "
                         f"x {x.shape}, W {W.shape}")
    if c % groups:
        raise ValueError(f"{op}: {c} input channels do not split into {groups} groups")
    for e, s, d in zip(extra, stride, dilation):
        if e >= s and e >= d:
            raise ValueError(f"{op}: output_padding {extra} must be smaller than the stride "
                             f"{stride} or the dilation {dilation}")
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e in
                 zip(x.shape[2:], stride, padding, dilation, W.shape[2:], extra))
    if min(size) < 1:
        raise ValueError(f"{op}: output size {size} is not positive (input {x.shape}, "
                         f"W {W.shape}, stride {stride}, padding {padding})")
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
              "size": size}
    if b is None:
        return Deconvolution.apply(x, W, **params)
    _check_bias(op, b, W.shape[1] * groups, W)
    return Deconvolution.apply(x, W, b, **params)


def _pool(cls: type[_Pooling], op: str, x: Any, kernel_size: int | Pair,
          stride: int | Pair | None, padding: int | Pair, **options: bool) -> Tensor:
    x = as_tensor(x)
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    padding = pair(padding, "padding", op, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    _check_windows(op, x, kernel, padding)
    return cls.apply(x, kernel=kernel, stride=stride, padding=padding, **options)


def max_pool2d(x: Any, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0, *, ceil_mode: bool = False) -> Tensor:
    """Max pooling of x (N, C, H, W) over KH x KW windows; padding counts as -inf.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch. (The
    book's ``Pooling`` layer defaulted to stride 1 until a 2020 fix, which silently gave
    overlapping windows and a 4x larger output for the usual 2x2 pooling.) ``ceil_mode``
    rounds the output size up: a last, partial window covers the remainder (PyTorch's rule,
    ``pool_output_size``). Keyword-only: PyTorch has ``dilation`` in its place.
    """
    return _pool(MaxPooling, "max_pool2d", x, kernel_size, stride, padding,
                 ceil_mode=ceil_mode)


def avg_pool2d(x: Any, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Average pooling of x (N, C, H, W); ``stride`` defaults to ``kernel_size``. Padding
    zeros count in the mean unless ``count_include_pad=False``; ``ceil_mode`` as in
    ``max_pool2d`` (PyTorch's arguments, in PyTorch's order)."""
    check_floating("avg_pool2d", as_tensor(x))
    return _pool(AvgPooling, "avg_pool2d", x, kernel_size, stride, padding,
                 ceil_mode=ceil_mode, count_include_pad=count_include_pad)
