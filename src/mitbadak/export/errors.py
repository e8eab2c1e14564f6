"""Errors of `mitbadak.export`."""


class ExportError(ValueError):
    """A model or file that cannot be exported or imported; the message is one line."""
