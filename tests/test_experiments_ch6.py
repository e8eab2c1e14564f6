"""The chapter-6 experiments in quick form: each runs in seconds and shows its lesson.

Most use the embedded 8x8 digits so they run anywhere; the overfitting lesson needs a harder
task than digits (on 300 digits the unregularised net already generalises well), so that test
uses Fashion-MNIST and is skipped where it is not on disk.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mitbadak.data import DatasetNotFoundError, load_dataset
from mitbadak.experiments import ExperimentError, compute, run_experiment
from mitbadak.experiments import init_histograms as histograms_module
from mitbadak.experiments._data import find_dataset, find_splits
from mitbadak.experiments._training import fit_lesson, make_optimizer
from mitbadak.nn import MLP
from mitbadak.viz.figures import smooth_curve as smooth


def test_optimizer_paths_match_the_book_and_sgd_trains_slowest():
    result = compute("optimizers", quick=True, dataset="digits")
    runs = result["paths"]["runs"]
    for name, (x, y, f) in result["paths"]["book_final"].items():
        assert runs[name]["final"] == pytest.approx([x, y], abs=0.01)
        assert runs[name]["final_f"] == pytest.approx(f, rel=0.02)
    final = {name: run["final_loss"] for name, run in result["training"]["runs"].items()}
    others = [loss for name, loss in final.items() if name != "sgd"]
    assert final["sgd"] > 2 * max(others)


def test_init_histograms_sigmoid_std_1_saturates_and_std_001_collapses():
    result = compute("init-histograms", quick=True)
    settings = {s["name"]: s["layers"] for s in result["settings"]}
    assert np.mean([layer["saturated"] for layer in settings["sigmoid, std 1"]]) > 0.5
    assert all(layer["std"] < 0.03 for layer in settings["sigmoid, std 0.01"])
    assert all(layer["saturated"] < 0.01 for layer in settings["sigmoid, xavier"])
    assert settings["relu, std 0.01"][-1]["std"] < 1e-4
    he = [layer["std"] for layer in settings["relu, he"]]
    assert max(he) / min(he) < 1.5  # He keeps the spread from layer to layer


def test_init_compare_std_001_does_not_learn_while_he_does():
    result = compute("init-compare", quick=True, dataset="digits")
    relu = result["panels"][0]
    assert (relu["activation"], relu["lr"]) == ("relu", 0.01)
    assert relu["runs"]["std 0.01"]["final_loss"] == pytest.approx(math.log(10), abs=0.05)
    assert relu["runs"]["He"]["final_loss"] < 1.0


def test_batchnorm_beats_no_batchnorm_at_small_scales():
    result = compute("batchnorm", quick=True, dataset="digits")
    small = [run for run in result["runs"] if run["scale"] < 0.05]
    wins = sum(run["batchnorm"]["accuracy"][-1] > run["plain"]["accuracy"][-1] + 0.3
               for run in small)
    assert wins >= len(small) - 1
    assert result["runs"][0]["plain"]["diverged"]  # w = 1 overflows without BatchNorm


def test_regularisation_narrows_the_train_test_gap():
    try:
        load_dataset("fashion-mnist", download=False, progress=False)
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not on disk")
    result = compute("overfitting", quick=True, dataset="fashion-mnist")
    gaps = {label: run["gap"] for label, run in result["runs"].items()}
    assert result["runs"]["none"]["train"][-1] > 0.9
    assert gaps["weight decay 0.1"] < gaps["none"] - 0.05
    assert gaps["dropout 0.2"] < gaps["none"] - 0.05


def test_hyperparams_parallel_equals_serial():
    serial = compute("hyperparams", quick=True, dataset="digits", workers=1)
    parallel = compute("hyperparams", quick=True, dataset="digits", workers=2)
    assert parallel["workers"] == 2
    assert serial["trials"] == parallel["trials"]
    lrs = [trial["lr"] for trial in serial["trials"]]
    assert all(1e-6 <= lr <= 1e-2 for lr in lrs) and len(set(lrs)) == len(lrs)
    with pytest.raises(ExperimentError, match="workers"):
        compute("hyperparams", quick=True, dataset="digits", workers=0)


def test_experiment_writes_json_and_figures(tmp_path):
    report = run_experiment("init-histograms", tmp_path, quick=True)
    assert [p.name for p in report.files] == ["init-histograms.json", "init-histograms.png"]
    saved = json.loads((tmp_path / "init-histograms.json").read_text())
    assert saved["result"]["settings"][0]["name"] == "sigmoid, std 1"
    assert "sigmoid, std 1" in report.summary


def test_train_records_loss_per_iteration_and_accuracy_per_epoch():
    (x, t), _ = load_dataset("digits")
    x, t = x[:250], t[:250]
    model = MLP(64, [20], 10)
    history = fit_lesson(model, make_optimizer("sgd", model, 0.1), (x, t), batch_size=100, epochs=2,
                    evaluate=True)
    assert len(history.loss) == 6  # 3 batches (100, 100, 50) per epoch
    assert len(history.train_accuracy) == 3  # before training and after each epoch
    history = fit_lesson(model, make_optimizer("sgd", model, 0.1), (x, t), batch_size=100,
                    iterations=4, evaluate=True)
    assert len(history.loss) == 4 and len(history.train_accuracy) == 2


def test_weight_decay_applies_to_weights_only():
    model = MLP(4, [3], 2, batchnorm=True)
    optimizer = make_optimizer("sgd", model, 0.1, weight_decay=0.5)
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.5 and all(p.ndim == 2 for p in decayed["params"])
    assert plain["weight_decay"] == 0.0 and all(p.ndim == 1 for p in plain["params"])


def test_smooth_keeps_length_and_constants():
    assert smooth([2.0] * 30) == pytest.approx([2.0] * 30)
    assert len(smooth(np.arange(50.0))) == 50


def test_default_dataset_is_named():
    name, (x, _) = find_dataset(None)
    assert name in ("mnist", "fashion-mnist", "digits")
    assert find_splits("digits")[0] == "digits" and x.ndim == 2


def test_saturated_share_definition():
    y = np.array([0.0, 0.02, 0.5, 0.98, 1.0])
    assert histograms_module.saturated_share("sigmoid", y) == pytest.approx(0.8)
    assert histograms_module.saturated_share("relu", np.array([0.0, 0.0, 1.0, 2.0])) == 0.5
