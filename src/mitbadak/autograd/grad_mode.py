"""Gradient mode: whether new operations are recorded on the computational graph.

Inference and evaluation need no backward pass, so recording the graph there only costs time
and memory. ``no_grad`` turns recording off, as a context manager or a decorator, exactly like
``torch.no_grad``. The flag is per thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    enabled = True


_state = _State()


def is_enabled() -> bool:
    """True when operations are being recorded for backward (the default)."""
    return _state.enabled


class _GradMode:
    """Sets the flag for the duration of a ``with`` block or of a decorated function call."""

    enabled: bool

    def __enter__(self) -> None:
        self._previous = _state.enabled
        _state.enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        _state.enabled = self._previous

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801  (named like torch.no_grad)
    """Disable graph recording: ``with mb.no_grad(): ...`` or ``@mb.no_grad()``."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Re-enable graph recording inside a ``no_grad`` region."""

    enabled = True
