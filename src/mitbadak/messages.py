"""How the library words an error it passes on: every message it raises is one line."""

from __future__ import annotations


def one_line(error: BaseException) -> str:
    """``error``'s message with its line breaks and runs of spaces folded into single spaces
    (the exception's type name if it has no message), to quote inside one of our own."""
    return " ".join(str(error).split()) or type(error).__name__
