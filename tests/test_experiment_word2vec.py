"""The word2vec lesson: quick run, its numbers and figures."""

import json

import numpy as np
import pytest

from mitbadak.experiments import run_experiment


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run_experiment("word2vec", tmp_path_factory.mktemp("w2v"), quick=True)


def test_word2vec_quick_names_its_dataset_and_learns(report):
    result = report.result
    assert result["dataset"].startswith("tinyshakespeare") and "Penn Treebank" in result["book"]
    assert result["words"] == 30_000 and result["vocab_size"] == 1000
    assert 0 < result["unk_share"] < 0.5
    cbow = result["cbow"]
    chance = (1 + cbow["negatives"]) * np.log(2)  # every score 0 at the start
    assert cbow["loss_curve"][0] < chance + 0.05 and cbow["loss_curve"][-1] < chance - 0.5
    for method in ("count_based", "cbow"):
        neighbours = result[method]["neighbours"]
        assert set(neighbours) == {"you", "king", "love", "good", "death", "father"}
        for query, ranked in neighbours.items():
            assert len(ranked) == 5 and query not in [w for w, _ in ranked]
            similarities = [s for _, s in ranked]
            assert similarities == sorted(similarities, reverse=True) and similarities[0] <= 1
        xy = np.array(result[method]["projection"])
        assert xy.shape == (len(result["projected_words"]), 2) and np.isfinite(xy).all()
    assert "<unk>" not in result["projected_words"]


def test_word2vec_writes_json_and_figures(report):
    names = sorted(p.name for p in report.files)
    assert names == ["word2vec-loss.png", "word2vec.json", "word2vec.png"]
    record = json.loads(next(p for p in report.files if p.suffix == ".json").read_text())
    assert record["result"]["dataset"] == report.result["dataset"]
    for path in report.files:
        if path.suffix == ".png":
            assert path.read_bytes().startswith(b"\x89PNG")
    assert "Penn Treebank" in report.summary and "king" in report.summary
