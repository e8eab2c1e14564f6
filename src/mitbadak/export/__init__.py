"""Take a trained model elsewhere: ONNX (one file that ONNX Runtime runs anywhere) and
safetensors (the weights under PyTorch's names, without pickle).

``mb.export`` loads on first use; the ``onnx`` and ``safetensors`` packages only when a file
is written or read (``pip install 'mitbadak[export]'``).
"""

from mitbadak.export.errors import ExportError
from mitbadak.export.onnx import to_onnx
from mitbadak.export.safetensors import load_safetensors, save_safetensors

__all__ = ["ExportError", "load_safetensors", "save_safetensors", "to_onnx"]
