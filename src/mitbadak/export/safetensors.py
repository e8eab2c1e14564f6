"""A model's weights as a safetensors file, under PyTorch's names and layouts, and back.

safetensors (Hugging Face) is a header of JSON and the raw bytes of each tensor: reading it
can only ever produce arrays, never run code, and PyTorch and most of the ecosystem read it.
`save_safetensors` writes a registered model (`training.registry`: MLP, SimpleConvNet,
DeepConvNet) so that the equivalent ``torch.nn.Sequential`` loads the file with
``load_state_dict``; `load_safetensors` rebuilds the mitbadak model from it, bit for bit.

Every registered architecture keeps its layers in ``model.layers``, an `nn.Sequential`, and
PyTorch has a layer of the same name and meaning for each (Linear, Conv2d, BatchNorm1d/2d,
ReLU, Sigmoid, Tanh, LeakyReLU, Identity, Softmax, Dropout, Flatten, MaxPool2d, AvgPool2d), so
the torch model is ``torch.nn.Sequential`` of those layers in the same order, and layer ``i``'s
tensors are named ``"<i>.<name>"``. The names and layouts, mitbadak -> file (= torch):

    Linear       W (in, out)         -> <i>.weight (out, in)   transposed: y = x @ weight.T + bias
                 b (out,)            -> <i>.bias
    Conv2d       W (OC, C, KH, KW)   -> <i>.weight             the same layout
                 b (OC,)             -> <i>.bias
    BatchNorm    gamma, beta         -> <i>.weight, <i>.bias
                 running_mean, _var  -> <i>.running_mean, <i>.running_var
                 (none)              -> <i>.num_batches_tracked, int64 0: torch's
                                        load_state_dict wants it; with a momentum it is unused

So ``layers.0.W`` of an MLP is ``0.weight``. The string metadata holds ``"format":
"mitbadak"``, ``"format_version"``, ``"mitbadak_version"``, ``"config"`` (the architecture as
JSON, what `training.registry.build_model` takes) and ``"torch"``: the Python source of the
equivalent ``torch.nn.Sequential``, to paste. Loading trusts nothing in the file: a file that
is not safetensors, has no mitbadak metadata, or whose tensors miss, add to or differ in shape
or type from what the architecture holds is refused with one `ExportError` line that names it.

The file needs the ``safetensors`` package (``pip install 'mitbadak[export]'``); `to_torch`
also needs PyTorch, imported only when it is called. To use the file in PyTorch, either let
mitbadak build the torch model, or write it yourself (here for ``MLP(64, [100], 10,
batchnorm=True)``; the metadata's ``"torch"``, ``safetensors.safe_open(path, "np").metadata()
["torch"]``, is the definition for any exported model). A file PyTorch writes back with the
same metadata (``safetensors.torch.save_file(net.state_dict(), path, metadata)``) loads into
mitbadak again::

    from mitbadak.export.safetensors import to_torch
    net = to_torch("model.safetensors")  # a torch.nn.Sequential in eval mode

    import torch
    from safetensors.torch import load_file
    net = torch.nn.Sequential(torch.nn.Linear(64, 100), torch.nn.BatchNorm1d(100),
                              torch.nn.ReLU(), torch.nn.Linear(100, 10))
    net.load_state_dict(load_file("model.safetensors"))
    net.eval()
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

import mitbadak
from mitbadak import nn
from mitbadak.export.errors import ExportError, require
from mitbadak.fileio import atomic_write
from mitbadak.messages import one_line
from mitbadak.training.registry import ARCHITECTURES, build_model, model_config

if TYPE_CHECKING:
    import torch

FORMAT = "mitbadak"
FORMAT_VERSION = "1"
FLOAT_DTYPES = ("F16", "F32", "F64")
"""The safetensors dtypes a weight may have: those NumPy reads."""

_RENAMES = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias",
            "running_mean": "running_mean", "running_var": "running_var"}
"""mitbadak's parameter and buffer names -> PyTorch's."""


def _window(layer: Any) -> dict[str, Any]:
    return {"kernel_size": layer.kernel_size, "stride": layer.stride, "padding": layer.padding}


def _pool(layer: Any) -> dict[str, Any]:
    return {**_window(layer), "ceil_mode": layer.ceil_mode}


def _batch_norm(layer: Any) -> dict[str, Any]:
    return {"num_features": layer.num_features, "eps": layer.eps, "momentum": layer.momentum,
            "affine": layer.affine}


def _none(layer: Any) -> dict[str, Any]:
    return {}


_TORCH_ARGUMENTS: dict[type[nn.Module], Callable[[Any], dict[str, Any]]] = {
    nn.Linear: lambda layer: {"in_features": layer.in_features,
                              "out_features": layer.out_features, "bias": layer.b is not None},
    nn.Conv2d: lambda layer: {"in_channels": layer.in_channels,
                              "out_channels": layer.out_channels, **_window(layer),
                              "dilation": layer.dilation, "groups": layer.groups,
                              "bias": layer.b is not None},
    nn.BatchNorm1d: _batch_norm, nn.BatchNorm2d: _batch_norm,
    nn.ReLU: _none, nn.Sigmoid: _none, nn.Tanh: _none, nn.Identity: _none,
    nn.LeakyReLU: lambda layer: {"negative_slope": layer.negative_slope},
    nn.Softmax: lambda layer: {"dim": layer.axis},
    nn.Dropout: lambda layer: {"p": layer.p},
    nn.Flatten: lambda layer: {"start_dim": layer.start_dim},
    nn.MaxPool2d: _pool,
    nn.AvgPool2d: lambda layer: {**_pool(layer), "count_include_pad": layer.count_include_pad},
}
"""Each mitbadak layer that has a ``torch.nn`` twin of the same class name: the keyword
arguments that build the twin (``torch.nn.Linear(in_features=64, out_features=100, ...)``)."""


class _Tensor(NamedTuple):
    """One tensor of the file: its name there (torch's), the mitbadak state_dict name it comes
    from (None for torch's ``num_batches_tracked``), and whether it is stored transposed."""

    name: str
    source: str | None
    transposed: bool = False


def _layers(model: nn.Module) -> list[nn.Module]:
    """``model.layers``, checked: an `nn.Sequential` with a torch twin for each layer."""
    layers = getattr(model, "layers", None)
    if not isinstance(layers, nn.Sequential) or [name for name, _ in layers.named_children()] \
            != [str(i) for i in range(len(layers))]:
        raise ExportError(f"cannot export a {type(model).__name__}: its layers are not an "
                          "nn.Sequential in model.layers, named 0, 1, ...")
    for index, layer in enumerate(layers):
        if type(layer) not in _TORCH_ARGUMENTS:
            raise ExportError(f"cannot export a {type(model).__name__}: layer {index}, "
                              f"{type(layer).__name__}, has no known torch.nn equivalent")
    return list(layers)


def _state_names(module: nn.Module) -> list[str]:
    return [name for name, _ in module.named_parameters()] + [
        name for name, _ in module.named_buffers()]


def _tensors(model: nn.Module) -> list[_Tensor]:
    """The file's tensors for ``model``, in order (see the module docstring's table)."""
    tensors = []
    for index, layer in enumerate(_layers(model)):
        for name in _state_names(layer):
            tensors.append(_Tensor(f"{index}.{_RENAMES[name]}", f"layers.{index}.{name}",
                                   transposed=isinstance(layer, nn.Linear) and name == "W"))
        if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            tensors.append(_Tensor(f"{index}.num_batches_tracked", None))
    if sorted(t.source for t in tensors if t.source) != sorted(_state_names(model)):
        raise ExportError(f"cannot export a {type(model).__name__}: it holds parameters or "
                          "buffers outside model.layers")
    return tensors


def _arrays(model: nn.Module) -> dict[str, np.ndarray]:
    """The file's arrays for ``model``: its state under torch's names and layouts."""
    state = model.state_dict()
    arrays = {}
    for tensor in _tensors(model):
        if tensor.source is None:
            arrays[tensor.name] = np.zeros((), dtype=np.int64)
        else:
            array = state[tensor.source]
            arrays[tensor.name] = np.ascontiguousarray(array.T if tensor.transposed else array)
    return arrays


def torch_source(model: nn.Module) -> str:
    """The Python source of the ``torch.nn.Sequential`` equivalent to ``model``."""
    lines = []
    for layer in _layers(model):
        arguments = ", ".join(f"{key}={value!r}"
                              for key, value in _TORCH_ARGUMENTS[type(layer)](layer).items())
        lines.append(f"    torch.nn.{type(layer).__name__}({arguments}),\n")
    return "torch.nn.Sequential(\n" + "".join(lines) + ")"


def save_safetensors(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``model``'s parameters and buffers to ``path`` as safetensors, under PyTorch's
    names and layouts, with its architecture as metadata (see the module docstring); atomically.
    Returns the path. A model that is not of a registered architecture is refused: nothing
    could rebuild it from the file."""
    numpy_api = require("safetensors.numpy")
    config = model_config(model)
    if config is None:
        raise ExportError(f"cannot export a {type(model).__name__}: only the registered "
                          f"architectures ({', '.join(ARCHITECTURES)}) can be rebuilt from a "
                          "file")
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "mitbadak_version": mitbadak.__version__, "config": json.dumps(config),
                "torch": torch_source(model)}
    return atomic_write(path, numpy_api.save(_arrays(model), metadata=metadata))


def _rebuild(path: Path, metadata: dict[str, str]) -> nn.Module:
    """The freshly initialised model that the file's metadata describes."""
    if metadata.get("format") != FORMAT:
        raise ExportError(f"{path}: a safetensors file without mitbadak's metadata (format "
                          f"{FORMAT!r}); save_safetensors writes it")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ExportError(f"{path}: format version {metadata.get('format_version')!r}, this "
                          f"mitbadak reads version {FORMAT_VERSION}")
    try:
        config = json.loads(metadata.get("config", ""))
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise ExportError(f"{path}: its metadata's config is not a JSON object")
    try:
        return build_model(config)
    except ValueError as error:
        raise ExportError(f"{path}: {one_line(error)}") from None


def _read(path: Path, file: Any) -> nn.Module:
    """The model that the open safetensors ``file`` holds, its weights loaded."""
    model = _rebuild(path, file.metadata() or {})
    tensors = _tensors(model)
    found = set(file.keys())
    missing = [t.name for t in tensors if t.name not in found and t.source is not None]
    unexpected = sorted(found - {t.name for t in tensors})
    kind = type(model).__name__
    if missing:
        raise ExportError(f"{path}: misses tensor {missing[0]!r} of the {kind} it describes")
    if unexpected:
        raise ExportError(f"{path}: has tensor {unexpected[0]!r}, which the {kind} it "
                          "describes does not hold")
    own = model.state_dict()
    state = {}
    for tensor in tensors:
        if tensor.source is None:
            continue  # torch's count of batches: mitbadak keeps none
        view = file.get_slice(tensor.name)  # the header's dtype and shape: nothing read yet
        shape = tuple(view.get_shape())
        expected = own[tensor.source].shape[::-1] if tensor.transposed \
            else own[tensor.source].shape
        if shape != expected:
            raise ExportError(f"{path}: tensor {tensor.name!r} has shape {shape}, the "
                              f"{kind} it describes needs {expected}")
        if view.get_dtype() not in FLOAT_DTYPES:
            raise ExportError(f"{path}: tensor {tensor.name!r} is {view.get_dtype()}, not one "
                              f"of {', '.join(FLOAT_DTYPES)}")
        array = file.get_tensor(tensor.name)
        state[tensor.source] = array.T if tensor.transposed else array
    dtypes = {array.dtype for array in state.values()}
    if len(dtypes) == 1:  # a float64 (or float16) model comes back as it was saved
        model.to(dtypes.pop())
    model.load_state_dict(state)
    return model.eval()


def load_safetensors(path: str | os.PathLike) -> nn.Module:
    """The model in the safetensors file ``path`` that `save_safetensors` wrote: rebuilt from
    its metadata, its weights loaded (bit for bit), in eval mode. Anything wrong with the file
    is one `ExportError` line naming it."""
    safetensors = require("safetensors")
    path = Path(path)
    try:
        with safetensors.safe_open(path, framework="np") as file:
            return _read(path, file)
    except (OSError, safetensors.SafetensorError) as error:
        raise ExportError(f"{path}: cannot be read as safetensors: {one_line(error)}") from None


def to_torch(model: nn.Module | str | os.PathLike) -> torch.nn.Sequential:
    """The ``torch.nn.Sequential`` equivalent to ``model`` (a mitbadak model, or the path of a
    file `save_safetensors` wrote), holding its weights, in eval mode. Its ``state_dict()``
    keys are the file's tensor names. Needs PyTorch."""
    torch = require("torch", "pip install torch")
    if not isinstance(model, nn.Module):
        model = load_safetensors(model)
    net = torch.nn.Sequential(*(
        getattr(torch.nn, type(layer).__name__)(**_TORCH_ARGUMENTS[type(layer)](layer))
        for layer in _layers(model)))
    dtype = next(model.parameters()).data.dtype
    net.to(getattr(torch, dtype.name))
    net.load_state_dict({name: torch.from_numpy(array) for name, array in _arrays(model).items()})
    return net.eval()
