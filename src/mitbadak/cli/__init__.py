"""The ``mitbadak`` command: one subcommand per module in this package.

Each subcommand module defines ``add_parser(subparsers)``, which registers its arguments and
sets ``func`` to the function that runs it. A user error (a bad flag value, a missing file)
raises ``UsageError``: it is printed as one line and the command exits with status 2, without
a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

SUBCOMMANDS = ["train", "evaluate", "predict", "experiment", "gates"]


class UsageError(Exception):
    """A mistake in what the user asked for; reported without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mitbadak",
        description="Deep learning from the very bottom: train, evaluate and explore networks.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"mitbadak.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except UsageError as error:
        print(f"mitbadak {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`mitbadak ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
