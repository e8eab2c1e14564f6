"""Every script in examples/ runs as a reader would run it: its own process, exit status 0,
and the line of output that shows it did its job."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# The line each example must print (a regular expression); an example not named here must
# print at least one line. Add yours when you add an example.
EXPECTED = {
    "xor.py": r"predictions: \[0 1 1 0\] targets: \[0 1 1 0\]\ngradcheck passed",
}


def test_there_are_examples():
    assert EXAMPLES, "no examples/*.py found"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    if re.search(r"^\s*(import|from) torch\b", script.read_text(encoding="utf-8"), re.M) \
            and importlib.util.find_spec("torch") is None:
        pytest.skip(f"{script.name} needs torch")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]), MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{script.name} exited with {done.returncode}:\n{done.stderr}"
    expected = EXPECTED.get(script.name, r"\S")
    assert re.search(expected, done.stdout), f"{script.name} printed:\n{done.stdout}"
