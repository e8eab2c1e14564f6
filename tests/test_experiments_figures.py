"""The experiments draw as `mitbadak train` does (matplotlib's Figure API): a notebook's backend
is left alone and pyplot is never imported."""

import os
import subprocess
import sys
from pathlib import Path

import mitbadak


def test_drawing_leaves_the_backend_alone_and_never_imports_pyplot(tmp_path):
    code = f"""
import sys, matplotlib
matplotlib.use("svg")  # a session's own choice, as a notebook's inline backend would be
from mitbadak.experiments import run_experiment
from mitbadak.training import History
from mitbadak.viz.figures import learning_curves
for name in ("activations", "perceptron"):
    run_experiment(name, {str(tmp_path)!r}, quick=True)
history = History(loss=[2.0, 1.0], epoch=[1], train_loss=[1.0], train_accuracy=[0.5],
                  test_loss=[1.0], test_accuracy=[0.5], seconds=[0.1])
learning_curves(history, {str(tmp_path / "curves.png")!r})
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    here = str(Path(mitbadak.__file__).parents[1])  # the mitbadak under test, in a new process
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": here})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["svg", "False"]
    assert (tmp_path / "perceptron.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "activations.png").read_bytes().startswith(b"\x89PNG")
