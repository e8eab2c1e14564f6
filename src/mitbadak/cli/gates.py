"""``mitbadak gates``: the truth tables of the book's perceptron gates AND, NAND, OR and XOR."""

from __future__ import annotations

import argparse

from mitbadak.experiments.perceptron import GATES, TRUTH_TABLE_INPUTS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gates", help="print the truth tables of AND, NAND, OR and XOR",
        description="Truth tables of the perceptron gates (AND, NAND and OR are single "
                    "perceptrons with the book's weights; XOR = AND(NAND, OR) has two layers).")
    parser.set_defaults(func=run)


def truth_table() -> str:
    """One row per input pair, one column per gate."""
    lines = ["x1 x2 | " + " ".join(f"{name:>4}" for name in GATES)]
    lines.append("-" * len(lines[0]))
    for x1, x2 in TRUTH_TABLE_INPUTS:
        outputs = " ".join(f"{gate(x1, x2):>4}" for gate in GATES.values())
        lines.append(f"{x1:>2} {x2:>2} | {outputs}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    print(truth_table())
    return 0
