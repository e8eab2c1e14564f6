"""Every notebook in notebooks/ runs top to bottom without an error (issue 19).

Each notebook runs in a kernel started from this interpreter (a temporary kernelspec whose argv
is ``sys.executable -m ipykernel_launcher``), so the mitbadak under test is the one imported,
in a temporary copy of notebooks/ so the figures it writes land there, with MPLBACKEND=Agg.
The exercise cells hold working solutions, so the check cells' asserts really run.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

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


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs(path: Path, kernel_env: dict[str, str], tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in kernel_env.items():
        monkeypatch.setenv(name, value)
    workdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, workdir)
    notebook = nbformat.read(workdir / path.name, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    ran = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
           and (cell.outputs or cell.execution_count is not None)]
    assert not ran, f"{path.name}: cells {ran} hold outputs; clear them before committing"
