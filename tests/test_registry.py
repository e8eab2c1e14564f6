"""One architecture registry: the command line and checkpoints both build from it."""

import pytest

from mitbadak import nn
from mitbadak.cli._common import input_shape
from mitbadak.cli.train import EPOCHS, MODELS, _build
from mitbadak.training import checkpoint
from mitbadak.training.registry import ARCHITECTURES, architecture, build_model, model_config


def test_each_entry_names_class_input_kind_cli_name_and_epochs():
    assert list(ARCHITECTURES) == ["MLP", "SimpleConvNet", "DeepConvNet"]
    mlp = ARCHITECTURES["MLP"]
    assert (mlp.cls, mlp.input, mlp.cli_name, mlp.epochs["digits"]) == (nn.MLP, "flat", "mlp", 40)
    assert ARCHITECTURES["DeepConvNet"].input == "image"
    assert architecture("simple-cnn") is architecture("SimpleConvNet")
    with pytest.raises(ValueError, match=r"'nope'; known: MLP \(mlp\), SimpleConvNet"):
        architecture("nope")


def test_the_cli_takes_its_choices_and_epochs_from_the_registry():
    assert MODELS == {a.cli_name: a.name for a in ARCHITECTURES.values()}
    assert EPOCHS["deep-cnn"] == {"digits": 30, "mnist": 10, "fashion-mnist": 15}
    for arch in ARCHITECTURES.values():
        settings = {"model": arch.cli_name, "dataset": "digits", "init": "he", "seed": 0,
                    "hidden": [4], "activation": "relu", "batchnorm": False, "dropout": 0.0,
                    "weight_decay": 0.0, "optimizer": "sgd", "lr": None,
                    "schedule": "constant", "epochs": 1}
        shape = (64,) if arch.input == "flat" else (1, 8, 8)
        model, _, _ = _build(settings, shape)
        assert type(model) is arch.cls
        assert arch.input_shape(model_config(model)) == shape


@pytest.mark.parametrize("model, shape", [
    (nn.MLP(64, [10], 10), (64,)),
    (nn.SimpleConvNet(input_dim=(1, 8, 8), conv_channels=2, hidden_size=5), (1, 8, 8))])
def test_a_checkpoint_knows_its_input_shape_and_rebuilds(tmp_path, model, shape):
    checkpoint.save(tmp_path / "m.npz", model)
    saved = checkpoint.load(tmp_path / "m.npz")
    assert saved.model_config["type"] == type(model).__name__  # {"type": "MLP", ...} as ever
    assert input_shape(saved) == shape
    assert type(build_model(saved.model_config)) is type(model)
