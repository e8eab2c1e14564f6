"""Every Python example in the README runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
OPTIONAL = ("onnx", "onnxruntime", "safetensors", "torch")  # extras: a block needing one skips


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write files (checkpoints, runs/)
    for package in re.findall(rf"^(?:import|from) ({'|'.join(OPTIONAL)})\b", BLOCKS[index], re.M):
        pytest.importorskip(package)
    exec(compile(BLOCKS[index], f"README.md python block {index}", "exec"), {})


def test_every_relative_link_in_the_readme_exists():
    text = README.read_text(encoding="utf-8")
    links = [t for t in re.findall(r"\]\(([^)#]+)\)", text) if "://" not in t]
    assert links
    missing = [t for t in links if not (README.parent / t).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"


def test_the_learners_map_names_what_each_file_defines():
    text = README.read_text(encoding="utf-8")
    section = text.split("## A learner's map", 1)[1].split("\n## ", 1)[0]
    checked = 0
    for row in re.findall(r"^\|(?!---).*\|$", section, re.M)[1:]:
        where = row.rstrip("|").rsplit("|", 1)[1]
        for path, names in re.findall(r"\]\(([^)]+)\)([^\[]*)", where):
            assert (README.parent / path).is_file(), f"README's map: no file {path}"
            source = (README.parent / path).read_text(encoding="utf-8")
            for name in re.findall(r"`([\w.]+)`", names):
                *owner, leaf = name.split(".")
                for defined in [*owner, leaf]:
                    assert re.search(rf"^\s*(def|class) {defined}\b", source, re.M), \
                        f"README's map: {path} defines no {defined}"
                checked += 1
    assert checked >= 40
