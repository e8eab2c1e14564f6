"""The sequel's seq2seq, attention and rnn-gradients lessons: quick runs that show each lesson
and write their figures and JSON."""

import json

import numpy as np
import pytest

from mitbadak import nn
from mitbadak.experiments import run_experiment
from mitbadak.experiments.rnn_gradients import book_norms, book_wh, through_time

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rnn_report(tmp_path_factory):
    return run_experiment("rnn-gradients", tmp_path_factory.mktemp("rnn"), quick=True)


@pytest.fixture(scope="module")
def rnn_gradients(rnn_report):
    return rnn_report.result


def test_the_books_loop_explodes_and_vanishes(rnn_gradients):
    runs = rnn_gradients["book"]["runs"]
    explode, vanish = runs["explode"]["norms"], runs["vanish"]["norms"]
    assert len(explode) == 20 and explode[-1] > 50 * explode[0]
    assert vanish[-1] < 1e-3 * vanish[0]
    assert runs["vanish"]["largest_singular_value"] > 1 > runs["vanish"]["spectral_radius"]


def test_backprop_through_rnn_cell_at_rest_is_the_books_loop():
    """At h = 0 with no input or bias, tanh' = 1 and the engine's dL/dh_t through nn.RNNCell
    is the book's dh @ Wh.T, step for step."""
    cell = nn.RNNCell(3, 3, nonlinearity="tanh")
    for p in cell.parameters():
        p.data = np.zeros_like(p.data, dtype=np.float64)
    cell.weight_hh.data = book_wh(1.0).T.copy()  # torch's layout: h @ weight_hh.T = h @ Wh
    x = np.zeros((2, 21, 3))
    norms = through_time(cell, x)["h"]
    np.testing.assert_allclose(norms[-2::-1], book_norms(1.0), rtol=1e-6)


def test_gradients_through_the_layers(rnn_gradients):
    runs = rnn_gradients["layers"]["runs"]
    vanish, explode = runs["RNN, W_h scale 0.5"]["h"], runs["RNN, W_h scale 2"]["h"]
    assert vanish[0] < 1e-8 * vanish[-1]
    assert explode[0] > 100 * explode[-1]
    forgets, remembers = runs["LSTM, forget bias 0"]["c"], runs["LSTM, forget bias 3"]["c"]
    assert forgets[0] < 1e-6 * forgets[-1]
    assert remembers[0] > 0.1 * remembers[-1]


def test_clipping_tames_exploding_gradients(rnn_gradients):
    runs = rnn_gradients["clipping"]["runs"]
    assert runs["unclipped"]["diverged"]
    clipped = runs["clipped"]
    assert not clipped["diverged"]
    assert np.mean(clipped["loss"][-10:]) < np.mean(clipped["loss"][:10])


def test_seq2seq_lesson_trains_three_variants_and_draws_them(tmp_path):
    report = run_experiment("seq2seq", tmp_path, quick=True)
    assert sorted(p.name for p in report.files) == ["seq2seq.json", "seq2seq.png"]
    assert (tmp_path / "seq2seq.png").read_bytes().startswith(PNG_MAGIC)
    record = json.loads((tmp_path / "seq2seq.json").read_text())
    result = record["result"]
    assert result["dataset"].startswith("addition")
    assert set(result["runs"]) == set(result["book_accuracy"]) == {
        "plain", "reversed", "peeky+reversed"}
    for run_ in result["runs"].values():
        assert len(run_["test_accuracy"]) == result["settings"]["epochs"]
        assert np.mean(run_["loss"][-5:]) < run_["loss"][0]  # it learns something
        assert all(len(e["guess"]) == 4 for e in run_["examples"])
    assert "peeky+reversed" in report.summary


def test_attention_lesson_draws_accuracy_and_heat_maps(tmp_path):
    report = run_experiment("attention", tmp_path, quick=True)
    assert sorted(p.name for p in report.files) == [
        "attention-heatmaps.png", "attention.json", "attention.png"]
    for path in report.files:
        if path.suffix == ".png":
            assert path.read_bytes().startswith(PNG_MAGIC)
    result = json.loads((tmp_path / "attention.json").read_text())["result"]
    assert result["dataset"].startswith("dates")
    assert np.mean(result["loss"][-5:]) < result["loss"][0]
    for item in result["attention_maps"]:
        weights = np.array(item["weights"])
        assert weights.shape == (len(item["answer"]), len(item["question"])) == (10, 29)
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-3)


def test_rnn_gradients_lesson_writes_two_figures(rnn_report):
    assert sorted(p.name for p in rnn_report.files) == [
        "rnn-gradients-clipping.png", "rnn-gradients.json", "rnn-gradients.png"]
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in rnn_report.files
               if p.suffix == ".png")
    assert "diverged" in rnn_report.summary
