"""Every notebook in notebooks/ runs top to bottom without an error (issue 19).

Each notebook runs in a kernel started from this interpreter (a temporary kernelspec whose argv
is ``sys.executable -m ipykernel_launcher``), so the mitbadak under test is the one imported,
in a temporary copy of notebooks/ so the figures it writes land there, with MPLBACKEND=Agg.
The exercise cells hold working solutions, so the check cells' asserts really run (and a
wrong solution must make them fail). Notebooks are committed without outputs, and their
links to the library's source files must resolve.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL = "mitbadak-test"
CELL_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """JUPYTER_PATH pointing at a kernelspec that runs this interpreter."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mitbadak (test)", "language": "python"}))
    src = str(Path(__file__).resolve().parents[1] / "src")
    pythonpath = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    return {"JUPYTER_PATH": str(root), "MPLBACKEND": "Agg", "PYTHONPATH": pythonpath}


def execute(notebook: Any, kernel_env: dict[str, str], tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``notebook`` in a copy of notebooks/; raises CellExecutionError on any error."""
    for name, value in kernel_env.items():
        monkeypatch.setenv(name, value)
    workdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, workdir)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs(path: Path, kernel_env: dict[str, str], tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    execute(nbformat.read(path, as_version=4), kernel_env, tmp_path, monkeypatch)


#: (notebook, a line of an exercise's reference solution, a wrong version of it): the
#: exercise's check cell must fail on the wrong one, or it checks nothing.
WRONG_SOLUTIONS = [
    ("ch02_perceptron.ipynb", "w1, w2, b = -0.5, -0.5, 0.2", "w1, w2, b = -0.5, -0.5, 0.7"),
    ("ch03_neural_networks.ipynb", "e = np.exp(a - a.max(axis=1, keepdims=True))",
     "e = np.exp(a)"),
    ("ch04_learning.ipynb", "return (gy * self.y * (1 - self.y),)", "return (gy * self.y,)"),
    ("ch05_backpropagation.ipynb", "return gy * self.b, gy * self.a",
     "return gy * self.a, gy * self.b"),
    ("ch06_learning_techniques.ipynb", "v = alpha * v + g", "v = alpha * v - g"),
    ("ch07_cnn.ipynb", ".max(axis=(3, 5))", ".mean(axis=(3, 5))"),
    ("ch08_deep_learning.ipynb", "kernel + out_channels", "kernel"),
    ("seq2_word_vectors.ipynb", "np.log2(C * N / np.outer(S, S) + eps)",
     "np.log2(C / np.outer(S, S) + eps)"),
    ("seq5_rnn.ipynb", "h_prev @ W_hh.T + b_hh", "h_prev @ W_hh + b_hh"),
    ("seq6_lstm.ipynb", "c = f * c_prev + i * g", "c = i * c_prev + f * g"),
    ("seq7_seq2seq.ipynb", "scores = model(xs, ts[:, :-1])", "scores = model(xs, ts[:, 1:])"),
    ("seq8_attention.ipynb", "return e / e.sum(axis=1, keepdims=True)", "return e / e.sum()"),
]


@pytest.mark.parametrize("name, right, wrong", WRONG_SOLUTIONS, ids=[c[0] for c in WRONG_SOLUTIONS])
def test_check_cell_rejects_a_wrong_solution(name: str, right: str, wrong: str,
                                             kernel_env: dict[str, str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cells = [cell for cell in notebook.cells if right in cell.source]
    assert len(cells) == 1, f"{name}: no single cell holds {right!r}; update WRONG_SOLUTIONS"
    cells[0].source = cells[0].source.replace(right, wrong)
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="Error"):
        execute(notebook, kernel_env, tmp_path, monkeypatch)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    ran = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
           and (cell.outputs or cell.execution_count is not None)]
    assert not ran, f"{path.name}: cells {ran} hold outputs; clear them before committing"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_links_resolve(path: Path) -> None:
    """Every relative link in a markdown cell (the source files each tour points to) exists."""
    notebook = nbformat.read(path, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    targets = [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in t]
    missing = [t for t in targets if not (NOTEBOOKS / t.split("#")[0]).exists()]
    assert not missing, f"{path.name}: links to missing files {missing}"
