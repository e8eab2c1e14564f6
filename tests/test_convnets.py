"""The book's SimpleConvNet and DeepConvNet recipes: shapes on 28x28 and 8x8 images, rebuilding
from config and checkpoints, learning, the command line with --model, and the filters
experiment."""

import json

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn, optim
from mitbadak.cli import main
from mitbadak.data import load_dataset
from mitbadak.experiments import run_experiment
from mitbadak.numerical import gradcheck
from mitbadak.training import checkpoint
from mitbadak.training.trainer import predict


def first_linear(model):
    return next(layer for layer in model.layers if isinstance(layer, nn.Linear))


@pytest.mark.parametrize(("network", "side", "fan_in"), [
    (nn.SimpleConvNet, 28, 30 * 12 * 12), (nn.SimpleConvNet, 8, 30 * 2 * 2),
    (nn.DeepConvNet, 28, 64 * 4 * 4), (nn.DeepConvNet, 8, 64 * 1 * 1)])
def test_recipes_fit_mnist_and_digits_sizes(network, side, fan_in):
    model = network(input_dim=(1, side, side))
    assert first_linear(model).in_features == fan_in
    assert model(np.zeros((3, 1, side, side), np.float32)).shape == (3, 10)


def test_deep_convnet_is_the_books_architecture():
    model = nn.DeepConvNet()
    convs = [layer for layer in model.layers if isinstance(layer, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 16, 32, 32, 64, 64]
    assert [c.padding[0] for c in convs] == [1, 1, 1, 2, 1, 1]
    assert sum(isinstance(layer, nn.MaxPool2d) for layer in model.layers) == 3
    assert [type(layer).__name__ for layer in model.layers][-5:] == [
        "Flatten", "Linear", "ReLU", "Dropout", "Linear"]
    assert isinstance(nn.DeepConvNet(logit_dropout=0.5).layers[-1], nn.Dropout)
    mb.manual_seed(0)
    he = nn.DeepConvNet().layers[12].W.data  # conv 64 -> 64, fan-in 64 * 3 * 3
    assert he.std() == pytest.approx(np.sqrt(2 / 576), rel=0.05)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: nn.DeepConvNet(input_dim=(1, 3, 3)), "layer 14, MaxPool2d"),
    (lambda: nn.SimpleConvNet(input_dim=(1, 4, 4)), "layer 0, Conv2d"),
    (lambda: nn.SimpleConvNet(input_dim=(28, 28)), "input_dim must be (channels, height"),
    (lambda: nn.DeepConvNet(channels=(16, 32)), "the 6 convolutions"),
])
def test_recipes_refuse_what_cannot_work(make, message):
    with pytest.raises(ValueError, match="ConvNet: ") as error:
        make()
    assert message in str(error.value)


@pytest.mark.parametrize("network", [nn.SimpleConvNet, nn.DeepConvNet])
def test_checkpoint_rebuilds_the_network_from_its_config(network, tmp_path):
    mb.manual_seed(0)
    model = network(input_dim=(1, 8, 8), init=0.05)
    assert json.loads(json.dumps(model.config)) == model.config
    assert type(model)(**model.config).config == model.config
    x = load_dataset("digits", flatten=False)[1][0][:5]
    checkpoint.save(tmp_path / "cnn.npz", model)
    loaded = checkpoint.load(tmp_path / "cnn.npz").model
    assert type(loaded) is network and loaded.config == model.config
    np.testing.assert_array_equal(predict(loaded, x), predict(model, x))


def test_simple_convnet_gradients_match_numerical_ones():
    """The book's ch07 gradient_check.py: 10 filters of 3x3 on a random 10x10 image, hidden 10."""
    mb.manual_seed(0)
    model = nn.SimpleConvNet(input_dim=(1, 10, 10), conv_channels=10, kernel_size=3,
                             hidden_size=10, init=0.1).to(np.float64)
    x = np.random.default_rng(0).random((2, 1, 10, 10))
    gradcheck(lambda *params: F.cross_entropy(model(x), np.array([1, 7])),
              list(model.parameters()))


def test_simple_convnet_learns_a_small_batch():
    (x, t), _ = load_dataset("digits", flatten=False)
    mb.manual_seed(0)
    model = nn.SimpleConvNet(input_dim=(1, 8, 8))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model(x[:64]), t[:64])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


@pytest.mark.parametrize("model", ["simple-cnn", "deep-cnn"])
def test_train_evaluate_predict_a_cnn_from_the_command_line(model, tmp_path, capsys):
    import matplotlib.image

    out = tmp_path / "run"
    assert main(["train", "--model", model, "--dataset", "digits", "--epochs", "1",
                 "--quiet", "--out", str(out)]) == 0
    saved = checkpoint.load(out / "last.npz")
    assert saved.meta["settings"]["model"] == model and "hidden" not in saved.meta["settings"]
    assert saved.model_config["input_dim"] == [1, 8, 8]
    capsys.readouterr()
    assert main(["evaluate", str(out / "last.npz")]) == 0
    _, (x, t) = load_dataset("digits", flatten=False)
    accuracy = (predict(saved.model, x).argmax(axis=1) == t).mean()
    assert f"digits test set: accuracy {accuracy:.4f}" in capsys.readouterr().out
    image = tmp_path / "digit.png"
    matplotlib.image.imsave(image, 1 - np.kron(x[0, 0], np.ones((8, 8))), cmap="gray",
                            vmin=0, vmax=1)
    assert main(["predict", str(out / "last.npz"), str(image)]) == 0
    label = predict(saved.model, x[:1]).argmax()
    assert capsys.readouterr().out.startswith(f"{image}: {label} ")


def test_train_refuses_mlp_flags_for_a_cnn(tmp_path, capsys):
    status = main(["train", "--model", "simple-cnn", "--hidden", "50", "--batchnorm",
                   "--out", str(tmp_path)])
    assert status == 2
    assert "--hidden, --batchnorm: for --model mlp only" in capsys.readouterr().err


def test_filters_experiment_shows_structure_appearing(tmp_path):
    report = run_experiment("filters", tmp_path, quick=True, dataset="digits")
    assert sorted(path.name for path in report.files) == [
        "filters-activations.png", "filters.json", "filters.png"]
    result = report.result
    correlation = result["neighbour_correlation"]
    assert abs(correlation["before"]) < 0.1 and correlation["after"] > 0.35
    assert result["test_accuracy"]["before"] < 0.2 < 0.8 < result["test_accuracy"]["after"]
    assert np.shape(result["filters"]["after"]) == (30, 5, 5)
    assert np.shape(result["activations"]) == (30, 4, 4)
