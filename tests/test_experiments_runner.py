"""The experiment framework: registry, runner, JSON and figures, the command line, the gallery."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mitbadak import experiments
from mitbadak.cli import main
from mitbadak.experiments import EXPERIMENTS, ExperimentError, compute, run_experiment
from mitbadak.experiments._report import to_json
from mitbadak.experiments.gallery import main as gallery_main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_follows_the_protocol(name):
    module = experiments.load(name)
    assert callable(module.run) and callable(module.draw) and callable(module.summary)
    assert experiments.describe(name)  # the first docstring line, shown by --list


def test_unknown_experiment_and_refused_option_name_the_choices():
    with pytest.raises(ExperimentError, match="perceptron, activations"):
        experiments.load("nope")
    with pytest.raises(ExperimentError, match="--dataset"):
        compute("gradient", quick=True, dataset="digits")


def test_run_experiment_writes_json_and_pngs(tmp_path):
    report = run_experiment("perceptron", tmp_path / "out", quick=True)
    names = sorted(p.name for p in report.files)
    assert names == ["perceptron-learning.png", "perceptron.json", "perceptron.png"]
    record = json.loads((tmp_path / "out" / "perceptron.json").read_text())
    assert record["experiment"] == "perceptron" and record["quick"] is True
    assert record["result"]["gates"]["XOR"]["learned"]["converged"] is False
    for path in report.files:
        if path.suffix == ".png":
            assert path.read_bytes().startswith(PNG_MAGIC)
    assert not list((tmp_path / "out").glob(".*"))  # no temporary files left behind


def test_json_is_strict_and_keeps_lists_of_numbers_on_one_line():
    text = to_json({"a": [1.0, float("nan"), float("inf")], "b": {"c": np.float32(0.5)},
                    "d": np.arange(3)})
    assert json.loads(text) == {"a": [1.0, "nan", "inf"], "b": {"c": 0.5}, "d": [0, 1, 2]}
    assert '"a": [1.0, "nan", "inf"]' in text


def test_cli_list(capsys):
    assert main(["experiment", "--list"]) == 0
    out = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert name in out


def test_cli_runs_a_quick_experiment(tmp_path, capsys):
    assert main(["experiment", "gradient", "--quick", "--out", str(tmp_path)]) == 0
    assert "lr 0.1" in capsys.readouterr().out
    assert (tmp_path / "gradient.json").is_file()
    assert (tmp_path / "gradient.png").read_bytes().startswith(PNG_MAGIC)


def test_cli_reports_usage_errors(tmp_path, capsys):
    assert main(["experiment", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
    assert main(["experiment", "gradient", "--dataset", "digits", "--out", str(tmp_path)]) == 2
    assert "takes no option --dataset" in capsys.readouterr().err
    assert main(["experiment", "--out", str(tmp_path)]) == 2


def test_gallery_regenerates_named_experiments(tmp_path, capsys):
    assert gallery_main(["activations", "--quick", "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        "activations.json", "activations.png", "activations-softmax.png"}
    with pytest.raises(SystemExit):
        gallery_main(["nope"])


def test_numbers_need_no_matplotlib():
    """`import mitbadak` loads NumPy alone, and computing an experiment draws nothing."""
    code = ("import sys, mitbadak, mitbadak.experiments as e; "
            "e.compute('perceptron', quick=True); e.compute('activations', quick=True); "
            "print('matplotlib' in sys.modules)")
    here = str(Path(experiments.__file__).parents[2])  # this mitbadak, not an installed one
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parent,
                          env={**os.environ, "PYTHONPATH": here})
    assert done.stdout.strip() == "False"


def test_python_dash_m_mitbadak():
    done = subprocess.run([sys.executable, "-m", "mitbadak", "gates"], capture_output=True,
                          text=True, check=True)
    assert "XOR" in done.stdout
