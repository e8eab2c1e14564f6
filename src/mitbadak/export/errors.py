"""The one error of `mitbadak.export`, shared by its ONNX and safetensors halves."""

from __future__ import annotations


class ExportError(ValueError):
    """A model or file that cannot be exported/imported, with a one-line message."""
