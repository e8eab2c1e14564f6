"""The ``attention-maps`` and ``transformer-vs-lstm`` lessons, quick: numbers and figures."""

import json

import numpy as np

from mitbadak.cli import main
from mitbadak.experiments import run_experiment


def test_attention_maps_quick(tmp_path, capsys):
    assert main(["experiment", "attention-maps", "--quick", "--out", str(tmp_path)]) == 0
    assert "mean look-back" in capsys.readouterr().out
    result = json.loads((tmp_path / "attention-maps.json").read_text())["result"]
    maps = np.asarray(result["maps"])
    t = len(result["line"])
    assert maps.shape == (1, 2, t, t)  # quick: 1 layer, 2 heads
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    assert np.all(np.triu(maps, 1) == 0)
    assert result["loss"][-1] < result["loss"][0]
    assert (tmp_path / "attention-maps.png").read_bytes().startswith(b"\x89PNG")


def test_transformer_vs_lstm_quick(tmp_path):
    report = run_experiment("transformer-vs-lstm", tmp_path, quick=True)
    result = report.result
    for key in ("lstm", "gpt"):
        curve = result[key]
        assert curve["seconds"][0] == 0 and curve["seconds"][-1] >= result["seconds"]
        assert curve["valid_loss"][-1] < curve["valid_loss"][0]  # both learn
    ratio = result["gpt"]["parameters"] / result["lstm"]["parameters"]
    assert 0.6 < ratio < 1.6  # of similar size
    assert "validation loss" in report.summary
    assert (tmp_path / "transformer-vs-lstm.png").read_bytes().startswith(b"\x89PNG")
