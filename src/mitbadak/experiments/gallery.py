"""Regenerate the figure gallery: every experiment's JSON and figures, into docs/figures.

    python -m mitbadak.experiments.gallery [NAME ...] [--out docs/figures] [--quick]

Runs the full (not quick) version of each experiment, or of the ones named, unless ``--quick``.
``make figures`` calls this.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mitbadak.experiments import EXPERIMENTS, run_experiment


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mitbadak.experiments.gallery",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"experiments to run (default: all of {', '.join(EXPERIMENTS)})")
    parser.add_argument("--out", default="docs/figures", help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="the quick versions")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {', '.join(unknown)}; choose from "
                     + ", ".join(EXPERIMENTS))
    for name in args.names or EXPERIMENTS:
        report = run_experiment(name, args.out, quick=args.quick)
        print(f"== {name} ({report.seconds:.1f} s): "
              + ", ".join(path.name for path in report.files))
        print(report.summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
