"""Errors of `mitbadak.export`."""


import importlib
from types import ModuleType

INSTALL = "pip install 'mitbadak[export]'"
"""How to install the optional packages that `mitbadak.export` needs."""


class ExportError(ValueError):
    """A model or file that cannot be exported or imported; the message is one line."""


def require(package: str, install: str = INSTALL) -> ModuleType:
    """``import package``, or an ExportError saying how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise ExportError(f"{package} is not installed: {install}") from None
