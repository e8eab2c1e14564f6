"""ONNX export: the graph mitbadak records for one forward pass, written as an ONNX model.

ONNX is one file that ONNX Runtime runs everywhere (an app, a browser, a phone). mitbadak
needs no tracer of its own to make one: a forward pass with gradients on already records
every op as a node (`Function`) that keeps its inputs and its settings. So `to_onnx` runs the
model once on an example input that requires a gradient, then walks the nodes from the
output back to that input, in topological order, and writes each as ONNX operators (`OPS`):

    Affine -> Gemm (MatMul + Add for inputs of more than two axes)   Convolution -> Conv
    Deconvolution -> ConvTranspose (dilations, groups and output_padding as attributes)
    ReLU, Sigmoid, Tanh, LeakyReLU, Softmax, LogSoftmax -> the op of the same name
    BatchNormalization (evaluation) -> BatchNormalization with the running statistics
    MaxPooling -> MaxPool     AvgPooling -> AveragePool (ceil_mode and count_include_pad as
    attributes: by default mitbadak's zero padding counts in the mean)
    Reshape -> Flatten or Reshape
    Add, Sub, Mul, Div, Neg, MatMul, Transpose -> the op of the same name

Dropout in evaluation mode records no node (it returns its input), so it is the identity
there by construction. Each leaf of the graph becomes the graph's input ``"input"`` (the
example), or an initializer: a parameter or buffer under its name in ``model.state_dict()``
(``layers.0.W``), any other constant as ``constant_<k>``. The output is ``"output"``.

The batch axis stays free ("N"): every op above works on any batch size, and a reshape
keeps axis 0 as it is (ONNX's 0 in a Reshape's shape) or lets it be computed (-1); the other
axes keep the sizes the example gave them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mitbadak.autograd import grad_mode
from mitbadak.autograd.function import Function
from mitbadak.autograd.tensor import Tensor
from mitbadak.export.errors import ExportError, require
from mitbadak.fileio import atomic_write
from mitbadak.functional import activation, arithmetic, conv, normalization, shape

if TYPE_CHECKING:
    from mitbadak.nn.module import Module

MIN_OPSET = 13  # Softmax over one axis (before 13 it flattened the trailing axes)


class _Graph:
    """The ONNX graph being built: its nodes, its initializers and the names of values."""

    def __init__(self, helper: Any, numpy_helper: Any, names: dict[int, str]) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.names = names  # id(array) -> the model's name for it (parameters, buffers)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._constants: dict[int, tuple[str, np.ndarray]] = {}  # the array kept: its id stays its

    def node(self, op_type: str, inputs: list[str], output: str, **attributes: Any) -> None:
        self.nodes.append(self.helper.make_node(op_type, inputs, [output], **attributes))

    def constant(self, array: np.ndarray) -> str:
        """The initializer holding ``array`` (one per array), named as the model names it."""
        if id(array) not in self._constants:
            name = self.names.get(id(array), f"constant_{len(self._constants)}")
            self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
            self._constants[id(array)] = name, array
        return self._constants[id(array)][0]


Emit = Callable[[_Graph, Any, list[str], str], None]  # (graph, node, input names, output name)


def _affine(g: _Graph, fn: arithmetic.Affine, inputs: list[str], output: str) -> None:
    """Y = X @ W + b: Gemm for a batch of vectors, MatMul (+ Add) for more leading axes."""
    if fn.x.ndim == 2:
        g.node("Gemm", inputs, output)
    elif len(inputs) == 2:
        g.node("MatMul", inputs, output)
    else:
        g.node("MatMul", inputs[:2], output + "_matmul")
        g.node("Add", [output + "_matmul", inputs[2]], output)


def _batch_norm(g: _Graph, fn: normalization.BatchNormalization, inputs: list[str],
                output: str) -> None:
    """Evaluation mode only: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta."""
    if fn.training:
        raise ExportError("to_onnx: batch_norm runs in training mode (batch statistics); "
                          "call model.eval() first")
    assert fn.running_mean is not None and fn.running_var is not None  # batch_norm checked
    stats = [g.constant(fn.running_mean), g.constant(fn.running_var)]
    g.node("BatchNormalization", inputs + stats, output, epsilon=fn.eps)


def _window(fn: conv._Conv | conv._Pooling, kernel: tuple[int, int]) -> dict[str, Any]:
    """ONNX's window attributes; its pads are (top, left, bottom, right)."""
    (sh, sw), (ph, pw) = fn.stride, fn.padding
    return {"kernel_shape": list(kernel), "strides": [sh, sw], "pads": [ph, pw, ph, pw]}


def _conv(fn: conv._Conv) -> dict[str, Any]:
    """A convolution's attributes: the window, dilations and groups."""
    return {**_window(fn, fn.W.shape[2:]), "dilations": list(fn.dilation), "group": fn.groups}


def _deconv(g: _Graph, fn: conv.Deconvolution, inputs: list[str], output: str) -> None:
    """ONNX's output_padding is what ``size`` has beyond the windows of the input."""
    spans = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
             zip(fn.x.shape[2:], fn.stride, fn.padding, fn.dilation, fn.W.shape[2:])]
    g.node("ConvTranspose", inputs, output, **_conv(fn),
           output_padding=[size - span for size, span in zip(fn.size, spans)])


def _reshape(g: _Graph, fn: shape.Reshape, inputs: list[str], output: str) -> None:
    """Keep axis 0 free: it is copied from the input (ONNX's 0) or computed (-1)."""
    target, x_shape = list(fn.shape), fn.x_shape
    keeps_batch = bool(target) and bool(x_shape) and target[0] == x_shape[0]
    if keeps_batch and len(target) == 2 and -1 not in target:  # (N, ...) -> (N, rest)
        g.node("Flatten", inputs, output, axis=1)
        return
    if keeps_batch:
        target[0] = 0
    elif not target or target[0] != -1:
        raise ExportError(f"to_onnx: a reshape from {x_shape} to {tuple(fn.shape)} changes "
                          "the batch axis 0, which the exported model keeps free")
    g.node("Reshape", [inputs[0], g.constant(np.array(target, dtype=np.int64))], output)


def _same(op_type: str) -> Emit:
    """An op that ONNX has under ``op_type``, with no attributes."""
    return lambda g, fn, inputs, output: g.node(op_type, inputs, output)


OPS: dict[type[Function], Emit] = {
    arithmetic.Affine: _affine,
    activation.ReLUFunction: _same("Relu"),
    activation.SigmoidFunction: _same("Sigmoid"),
    activation.TanhFunction: _same("Tanh"),
    activation.LeakyReLUFunction:
        lambda g, fn, inputs, output: g.node("LeakyRelu", inputs, output, alpha=fn.slope),
    activation.SoftmaxFunction:
        lambda g, fn, inputs, output: g.node("Softmax", inputs, output, axis=fn.axis),
    activation.LogSoftmax:
        lambda g, fn, inputs, output: g.node("LogSoftmax", inputs, output, axis=fn.axis),
    normalization.BatchNormalization: _batch_norm,
    conv.Convolution: lambda g, fn, inputs, output: g.node("Conv", inputs, output, **_conv(fn)),
    conv.Deconvolution: _deconv,
    conv.MaxPooling: lambda g, fn, inputs, output: g.node(
        "MaxPool", inputs, output, ceil_mode=int(fn.ceil_mode), **_window(fn, fn.kernel)),
    conv.AvgPooling: lambda g, fn, inputs, output: g.node(
        "AveragePool", inputs, output, ceil_mode=int(fn.ceil_mode),
        count_include_pad=int(fn.count_include_pad), **_window(fn, fn.kernel)),
    shape.Reshape: _reshape,
    shape.Transpose: lambda g, fn, inputs, output: g.node(
        "Transpose", inputs, output, perm=list(fn.axes or range(fn.inputs[0].ndim)[::-1])),
    arithmetic.Add: _same("Add"),
    arithmetic.Sub: _same("Sub"),
    arithmetic.Mul: _same("Mul"),
    arithmetic.Div: _same("Div"),
    arithmetic.Neg: _same("Neg"),
    arithmetic.MatMul: _same("MatMul"),
}
"""Each mapped node's class and how it is written in ONNX."""


def _nodes(output: Tensor) -> list[Function]:
    """The nodes that made ``output``, each after the nodes of its inputs (a depth-first walk
    with an explicit stack: a deep network does not hit Python's recursion limit)."""
    order: list[Function] = []
    seen: set[int] = set()
    stack: list[tuple[Function, bool]] = [(output.creator, False)] if output.creator else []
    while stack:
        fn, inputs_done = stack.pop()
        if inputs_done:
            order.append(fn)
            continue
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.append((fn, True))
        stack.extend((x.creator, False) for x in fn.inputs or () if x.creator is not None
                     and id(x.creator) not in seen)
    return order


def _trace(model: Module, example: np.ndarray) -> tuple[Tensor, Tensor]:
    """The model run once on ``example`` with every op recorded: (input leaf, output)."""
    x = Tensor(example, requires_grad=True)
    try:
        with grad_mode.enable_grad():
            y = model(x)
    except ValueError as error:
        raise ExportError(f"to_onnx: the model does not run on the example input of shape "
                          f"{example.shape}: {error}") from None
    if not isinstance(y, Tensor) or y.creator is None:
        raise ExportError("to_onnx: the model's output is not a tensor computed from its input")
    return x, y


def to_onnx(model: Module, example_input: Any, path: str | Path, opset: int = 17) -> Path:
    """Write ``model`` (in evaluation mode) as an ONNX file at ``path``, checked by
    ``onnx.checker``; returns the path. ``example_input`` is one batch the model takes, e.g.
    ``np.zeros((1, 784), np.float32)``: its shape past the batch axis is fixed in the file,
    the batch size is not. Raises `ExportError` (one line) for a model in training mode, an
    op with no ONNX mapping (see `OPS`), or an opset outside what ``onnx`` supports."""
    onnx = require("onnx")
    if any(module.training for module in model.modules()):
        raise ExportError(f"to_onnx: the {type(model).__name__} is in training mode (dropout "
                          "on, batch statistics in BatchNorm); call model.eval() first")
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ExportError(f"to_onnx: opset {opset} is not supported; choose one from "
                          f"{MIN_OPSET} to {onnx.defs.onnx_opset_version()}")
    example = np.asarray(example_input.data if isinstance(example_input, Tensor)
                         else example_input)
    if example.ndim < 1 or example.dtype.kind != "f":
        raise ExportError(f"to_onnx: the example input must be a floating batch (N, ...), got "
                          f"{example.dtype} of shape {example.shape}")
    x, y = _trace(model, example)
    names = {id(p.data): name for name, p in model.named_parameters()}
    names.update((id(b), name) for name, b in model.named_buffers())
    graph = _Graph(onnx.helper, onnx.numpy_helper, names)
    nodes = _nodes(y)
    outputs = {id(fn): f"{fn.name}_{i}" for i, fn in enumerate(nodes)}
    outputs[id(y.creator)] = "output"
    for fn in nodes:
        emit = OPS.get(type(fn))
        if emit is None:
            supported = ", ".join(sorted(op.__name__ for op in OPS))
            raise ExportError(f"to_onnx: {fn.name} has no ONNX mapping; supported: {supported}")
        inputs = [outputs[id(t.creator)] if t.creator is not None
                  else "input" if t is x else graph.constant(t.data) for t in fn.inputs or ()]
        emit(graph, fn, inputs, outputs[id(fn)])
    tensor_type = onnx.helper.np_dtype_to_tensor_dtype(example.dtype)
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes, "mitbadak", initializer=graph.initializers,
            inputs=[onnx.helper.make_tensor_value_info(
                "input", tensor_type, ["N", *example.shape[1:]])],
            outputs=[onnx.helper.make_tensor_value_info(
                "output", onnx.helper.np_dtype_to_tensor_dtype(y.dtype),
                ["N", *y.shape[1:]] if y.ndim else [])]),
        opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="mitbadak")
    proto.ir_version = onnx.helper.find_min_ir_version_for(proto.opset_import)  # older runtimes
    onnx.checker.check_model(proto, full_check=True)
    return atomic_write(path, proto.SerializeToString())
