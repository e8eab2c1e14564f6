"""The ``mitbadak`` command: one subcommand per module in this package.

Each subcommand module defines ``add_parser(subparsers)``, which registers its arguments and
sets ``func`` to the function that runs it. A user error (a bad flag value, a missing file)
raises ``UsageError``: it is printed as one line and the command exits with status 2, without
a traceback. So are a bad flag (argparse's error, without its usage block), the library's own
errors (a damaged checkpoint, a dataset not found, ...), an `OSError` (a file that cannot be
read or written, a full disk) and a `MemoryError`. Any other exception is a bug in mitbadak:
it keeps its traceback, for a report.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

SUBCOMMANDS = ["train", "evaluate", "predict", "export", "experiment", "gates", "sample"]


class UsageError(Exception):
    """A mistake in what the user asked for; reported without a traceback."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, whose error is one line naming the mistake and where help is, not
    the usage block; the subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="mitbadak",
        description="Deep learning from the very bottom: train, evaluate and explore networks.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"mitbadak.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to repeat the command in a hint
    try:
        _check_environment()
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`mitbadak ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:
        if not isinstance(error, _user_errors()):
            raise  # a bug: its traceback is what a report needs
        print(f"mitbadak {args.command}: error: {describe_error(error)}", file=sys.stderr)
        return 2


def _check_environment() -> None:
    """Refuse a bad MITBADAK_BLAS_THREADS or MITBADAK_KEEP_MEMORY before any work, as any
    other bad setting."""
    from mitbadak import blas, memory

    try:
        blas.environment_setting()
        memory.environment_setting()
    except ValueError as error:
        raise UsageError(str(error)) from None


def describe_error(error: BaseException) -> str:
    """One line for a user error: an OSError as "PATH: reason", a MemoryError as such."""
    if isinstance(error, OSError) and error.strerror:
        paths = [p for p in (error.filename, error.filename2) if p is not None]
        return ": ".join([*map(str, paths), error.strerror])
    if isinstance(error, MemoryError):
        return f"out of memory{f' ({error})' if str(error) else ''}"
    return str(error)


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that report a problem with the input or the machine, not a bug. (Imported
    here, when one is raised, so that `mitbadak --help` does not load the library.)"""
    from mitbadak.data import DatasetNotFoundError, DownloadError
    from mitbadak.experiments import ExperimentError
    from mitbadak.export.errors import ExportError
    from mitbadak.training.checkpoint import CheckpointError

    return (UsageError, CheckpointError, DatasetNotFoundError, DownloadError, ExperimentError,
            ExportError, OSError, MemoryError)


if __name__ == "__main__":
    sys.exit(main())
