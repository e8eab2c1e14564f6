"""``python -m mitbadak ...``: the same as the ``mitbadak`` command."""

import sys

from mitbadak.cli import main

sys.exit(main())
