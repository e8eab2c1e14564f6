"""``mitbadak experiment NAME [--quick] [--out DIR]``: run one of the book's experiments.

Writes ``<out>/<name>.json`` with the numbers and the figures (PNG) next to it, then prints a
short summary. ``mitbadak experiment --list`` names every experiment.
"""

from __future__ import annotations

import argparse

from mitbadak.cli import UsageError
from mitbadak.cli.train import seed
from mitbadak.data import DATASETS, DatasetNotFoundError

LANGUAGES = ("en", "ko")  # as experiments._report.LANGUAGES (not imported: --help stays fast)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "experiment", help="run one of the book's experiments and draw its figures",
        description="Run one of the book's experiments: its numbers go to <out>/<name>.json "
                    "and its figures to <out>/<name>*.png.")
    parser.add_argument("name", nargs="?", help="the experiment (see --list)")
    parser.add_argument("--list", action="store_true", help="list the experiments and exit")
    parser.add_argument("--quick", action="store_true",
                        help="a smaller, faster version (seconds) of the experiment")
    parser.add_argument("--out", default="runs/experiments", metavar="DIR",
                        help="directory for the JSON and the figures (default: %(default)s)")
    parser.add_argument("--dataset", choices=DATASETS,
                        help="dataset for experiments that train or evaluate a network")
    parser.add_argument("--seed", type=seed, help="random seed (default: the experiment's)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="processes for experiments that run trials in parallel "
                             "(hyperparams; default: the available cores)")
    parser.add_argument("--trials", type=int, metavar="N",
                        help="trials of a search (hyperparams; default: the experiment's)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the trials on the Dask cluster whose scheduler is at ADDRESS, "
                             "e.g. tcp://host:8786 (hyperparams; needs "
                             "`pip install 'mitbadak[cluster]'`)")
    parser.add_argument("--lang", choices=LANGUAGES, default="en",
                        help="language of the figures' text: en or ko (Korean; needs a Korean "
                             "font such as fonts-nanum) (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mitbadak import experiments  # imported here so that `mitbadak --help` stays fast

    if args.list:
        width = max(map(len, experiments.EXPERIMENTS))
        for name in experiments.EXPERIMENTS:
            print(f"{name:<{width}}  {experiments.describe(name)}")
        return 0
    if args.name is None:
        raise UsageError("name an experiment: " + ", ".join(experiments.EXPERIMENTS)
                         + " (or --list)")
    from mitbadak.viz.i18n import FontNotFoundError

    options = {key: value for key in ("dataset", "seed", "workers", "trials", "scheduler")
               if (value := getattr(args, key)) is not None}
    try:
        report = experiments.run_experiment(args.name, args.out, quick=args.quick,
                                            lang=args.lang, **options)
    except (experiments.ExperimentError, DatasetNotFoundError, FontNotFoundError) as error:
        raise UsageError(str(error)) from None
    print(report.summary)
    print(f"wrote {len(report.files)} files in {args.out} ({report.seconds:.1f} s): "
          + ", ".join(path.name for path in report.files))
    return 0
