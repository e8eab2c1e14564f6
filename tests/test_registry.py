"""One architecture registry: the command line and checkpoints both build from it."""

import pytest

from mitbadak import nn
from mitbadak.cli._common import input_shape
from mitbadak.cli.train import EPOCHS, MODELS, _build
from mitbadak.training import checkpoint
from mitbadak.training.registry import ARCHITECTURES, architecture, build_model, model_config


def test_each_entry_names_class_input_kind_cli_name_and_epochs():
    assert list(ARCHITECTURES) == ["MLP", "SimpleConvNet", "DeepConvNet", "LSTMLanguageModel",
                                  "GPT"]
    mlp = ARCHITECTURES["MLP"]
    assert (mlp.cls, mlp.input, mlp.cli_name, mlp.epochs["digits"]) == (nn.MLP, "flat", "mlp", 40)
    assert ARCHITECTURES["DeepConvNet"].input == "image"
    assert architecture("simple-cnn") is architecture("SimpleConvNet")
    with pytest.raises(ValueError, match=r"'nope'; known: MLP \(mlp\), SimpleConvNet"):
        architecture("nope")


def test_the_cli_takes_its_choices_and_epochs_from_the_registry():
    assert MODELS == {a.cli_name: a.name for a in ARCHITECTURES.values()}
    assert EPOCHS["deep-cnn"] == {"digits": 30, "mnist": 10, "fashion-mnist": 15}
    for arch in (a for a in ARCHITECTURES.values() if a.input != "tokens"):
        settings = {"model": arch.cli_name, "dataset": "digits", "init": "he", "seed": 0,
                    "hidden": [4], "activation": "relu", "batchnorm": False, "dropout": 0.0,
                    "weight_decay": 0.0, "optimizer": "sgd", "lr": None,
                    "schedule": "constant", "epochs": 1}
        shape = (64,) if arch.input == "flat" else (1, 8, 8)
        model, _, _ = _build(settings, shape)
        assert type(model) is arch.cls
        assert arch.input_shape(model_config(model)) == shape


def test_a_language_model_entry_builds_from_the_command_line_settings():
    arch = architecture("lstm")
    assert (arch.name, arch.input, arch.cls) == ("LSTMLanguageModel", "tokens",
                                                 nn.LSTMLanguageModel)
    settings = {**arch.settings, "hidden": 8, "layers": 1}
    model = build_model({"type": arch.name, **arch.arguments(settings, 30)})
    assert model_config(model) == {"type": "LSTMLanguageModel", "vocab_size": 30,
                                   "embed_dim": 8, "hidden_size": 8, "num_layers": 1,
                                   "dropout": 0.2, "tie_weights": True}
    with pytest.raises(ValueError, match="takes token ids of any length"):
        arch.input_shape(model_config(model))


@pytest.mark.parametrize("model, shape", [
    (nn.MLP(64, [10], 10), (64,)),
    (nn.SimpleConvNet(input_dim=(1, 8, 8), conv_channels=2, hidden_size=5), (1, 8, 8))])
def test_a_checkpoint_knows_its_input_shape_and_rebuilds(tmp_path, model, shape):
    checkpoint.save(tmp_path / "m.npz", model)
    saved = checkpoint.load(tmp_path / "m.npz")
    assert saved.model_config["type"] == type(model).__name__  # {"type": "MLP", ...} as ever
    assert input_shape(saved) == shape
    assert type(build_model(saved.model_config)) is type(model)
