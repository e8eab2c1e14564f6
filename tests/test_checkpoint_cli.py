"""``mitbadak evaluate`` and ``predict`` on checkpoints that do not fit the dataset they name,
or whose metadata is malformed: one line and exit status 2, never a traceback."""

import matplotlib.image
import numpy as np
import pytest

from mitbadak import nn
from mitbadak.cli import main
from mitbadak.training import checkpoint


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "digit.png"
    matplotlib.image.imsave(path, np.eye(8), cmap="gray")
    return str(path)


def one_line_error(capsys, argv, expected):
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert expected in err and "Traceback" not in err and err.count("\n") == 1, err


@pytest.mark.parametrize("model, settings, expected", [
    (nn.MLP(64, [10], 20), {"dataset": "digits"},
     "the model gives 20 outputs, but digits has 10 classes"),
    (nn.MLP(784, [10], 3), {"dataset": "mnist"},
     "the model gives 3 outputs, but mnist has 10 classes"),
    (nn.MLP(64, [10], 10), {"dataset": "imagenet"}, "names dataset 'imagenet'"),
    (nn.MLP(64, [10], 10), {"dataset": ["digits"]}, "names dataset ['digits']"),
    (nn.MLP(64, [10], 10), ["digits"], "its settings are a list, not an object"),
])
def test_evaluate_and_predict_refuse_a_model_that_does_not_fit_its_dataset(
        tmp_path, capsys, image, model, settings, expected):
    path = str(checkpoint.save(tmp_path / "c.npz", model, settings=settings))
    one_line_error(capsys, ["evaluate", path], expected)
    one_line_error(capsys, ["predict", path, image], expected)


def test_evaluate_refuses_inputs_of_another_size(tmp_path, capsys):
    path = str(checkpoint.save(tmp_path / "c.npz", nn.MLP(49, [10], 10),
                               settings={"dataset": "digits"}))
    one_line_error(capsys, ["evaluate", path], "the model takes inputs of shape (49,), but "
                                               "digits gives (64,)")


def test_malformed_training_metadata(tmp_path, capsys):
    path = str(checkpoint.save(tmp_path / "c.npz", nn.MLP(64, [10], 10),
                               settings={"dataset": "digits"}, training=[3]))
    one_line_error(capsys, ["evaluate", path], "its training state is a list, not an object")


def test_a_fitting_checkpoint_still_predicts(tmp_path, capsys, image):
    path = str(checkpoint.save(tmp_path / "c.npz", nn.MLP(64, [10], 10),
                               settings={"dataset": "digits"}))
    assert main(["predict", path, image]) == 0
    assert capsys.readouterr().out.startswith(f"{image}: ")
