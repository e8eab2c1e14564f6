"""Whether to show a progress bar, and which: the one rule behind every bar in mitbadak.

* In a Jupyter notebook (the ``ipykernel`` module is loaded: the process is a notebook's
  kernel) a bar is shown through `tqdm.auto`, which draws an ipywidgets widget when
  ipywidgets is installed (and tqdm's text bar otherwise).
* In a terminal (standard error is a tty) a bar is shown, tqdm's text bar.
* Anywhere else (output piped to a file, a log, CI) there is no bar at all: a bar there is
  only carriage returns filling the log; the callers' plain lines (the Trainer's per-epoch
  line) are all that is printed.
"""

from __future__ import annotations

import sys
from typing import Any


def shows_progress() -> bool:
    """True in a notebook's kernel or when standard error is a terminal (see module docstring)."""
    if "ipykernel" in sys.modules:
        return True
    stderr = sys.stderr
    return stderr is not None and stderr.isatty()


def progress_bar(**options: Any) -> Any:
    """A `tqdm.auto.tqdm` bar made with ``options``, or None where no bar should be shown."""
    if not shows_progress():
        return None
    from tqdm.auto import tqdm  # imported here: `import mitbadak` does not need tqdm

    return tqdm(**options)
