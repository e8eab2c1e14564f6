"""The ``language-model`` lesson: its quick form trains, measures perplexities per epoch,
samples text at each temperature, and writes its JSON and figure."""

import json

from mitbadak.cli import main


def test_quick_lesson_learns_samples_and_draws(tmp_path, capsys):
    assert main(["experiment", "language-model", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "best validation perplexity" in out and "sample at temperature 0.8" in out
    result = json.loads((tmp_path / "language-model.json").read_text())["result"]
    assert result["epoch"] == [1, 2] and result["vocabulary"] == 65
    valid = result["valid_perplexity"]
    assert valid[-1] < valid[0] and valid[-1] < 20  # improving, far below a blind guess (65)
    assert set(result["samples"]) == {"0.5", "0.8", "1"}
    for sample in result["samples"].values():
        assert sample.startswith("ROMEO:") and len(sample) == len("ROMEO:") + 80
    assert result["book"]["test_perplexity"] == 75.76
    assert (tmp_path / "language-model.png").read_bytes().startswith(b"\x89PNG")
