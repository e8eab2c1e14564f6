"""The ``language-model`` lesson: its quick form trains, measures perplexities per epoch,
samples text at each temperature, and draws its figure."""

import json

from mitbadak.cli import main
from mitbadak.experiments import compute


def test_quick_lesson_learns_and_samples():
    result = compute("language-model", quick=True)
    assert result["epoch"] == [1, 2] and result["vocabulary"] == 65
    valid = result["valid_perplexity"]
    assert valid[-1] < valid[0] < 65  # better than a blind guess, and improving
    assert set(result["samples"]) == {"0.5", "0.8", "1"}
    for sample in result["samples"].values():
        assert sample.startswith("ROMEO:") and len(sample) == len("ROMEO:") + 80
    assert result["book"]["test_perplexity"] == 75.76


def test_quick_lesson_writes_json_and_figure(tmp_path, capsys):
    assert main(["experiment", "language-model", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "validation perplexity" in out and "sample at temperature 0.8" in out
    record = json.loads((tmp_path / "language-model.json").read_text())
    assert record["result"]["samples"]["0.8"].startswith("ROMEO:")
    assert (tmp_path / "language-model.png").read_bytes().startswith(b"\x89PNG")
