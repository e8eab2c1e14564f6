"""Smoke test of benchmarks/bench_peers.py: a quick run of one tiny workload with mitbadak and
the NumPy floor, a peer that is missing, and bad arguments. No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench_peers  # noqa: E402


def test_quick_run_prints_a_table_and_reports_a_missing_peer(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mygrad", None)  # importing it now raises ImportError
    monkeypatch.delitem(sys.modules, "peers.mygrad_peer", raising=False)
    bench_peers.main(["--quick", "--rounds", "2", "--workloads", "b", "--peers", "floor,mygrad"])
    out = capsys.readouterr().out
    assert "mygrad: not installed" in out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    ratio_header, ratio_row, loss_header, loss_row = rows
    assert ratio_header.split(" | ")[1:] == ["mitbadak ms", "NumPy floor |"]
    assert ratio_row.startswith("| b. 784-100x4-10")
    median, spread = ratio_row.split(" | ")[-1].rstrip(" |").split(" ", 1)
    low, high = (float(v) for v in spread.strip("()").split("–"))
    assert 0 < low <= float(median) <= high
    assert loss_header.split(" | ")[1:] == ["mitbadak", "NumPy floor |"]
    # the same weights, batches and steps: the same loss on the fixed batch, before and after
    ours, floor = ([float(v) for v in cell.split(",")[0].split(" → ")]
                   for cell in loss_row.split(" | ")[1:])
    assert ours == pytest.approx(floor, abs=1e-4)
    assert ours[1] < ours[0]
    assert "NOT TRAINING" not in out


def test_a_workload_the_floor_does_not_cover_is_a_dash():
    result = bench_peers.Result(covered=False)
    assert bench_peers.ratio_cell([1.0], result) == "—"


@pytest.mark.parametrize("args, message", [
    (["--workloads", "z"], "unknown workload z"),
    (["--peers", "keras"], "unknown peer keras"),
    (["--rounds", "0"], "--rounds must be >= 1"),
])
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench_peers.main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_docs_show_the_command_without_the_note():
    line = bench_peers.command_line(["--threads", "1", "--write-docs", "--note", "loaded",
                                     "--rounds", "3"])
    assert line == "python benchmarks/bench_peers.py --threads 1 --rounds 3"
