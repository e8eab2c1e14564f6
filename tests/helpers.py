"""Helpers shared by the test modules (imported as ``from helpers import ...``: pytest puts
this directory on sys.path)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mitbadak.cli import main


def usage_error(capsys: pytest.CaptureFixture[str], argv: Sequence[str], expected: str,
                one_line: bool = True) -> str:
    """Run ``mitbadak argv``: it must exit with status 2 and print ``expected`` on stderr, on
    one line unless ``one_line=False`` (a report such as the places a dataset was looked for),
    with no traceback: the command line's contract for bad input."""
    try:
        status = main(list(argv))
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert expected in err and "Traceback" not in err, err
    assert not one_line or len(err.strip().splitlines()) == 1, err
    return err
