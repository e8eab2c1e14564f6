"""safetensors export: an exact round trip, the same outputs in PyTorch, one line for a bad file."""

import json
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import nn
from mitbadak.export.errors import ExportError
from mitbadak.training.registry import model_config

safetensors = pytest.importorskip("safetensors")
from safetensors.numpy import load_file, save_file  # noqa: E402

from mitbadak.export import safetensors as export  # noqa: E402
from mitbadak.export.safetensors import load_safetensors, save_safetensors  # noqa: E402


def randomised(model, seed=0):
    """``model`` with random weights near its initial ones (so the logits stay of order 1)
    and non-trivial BatchNorm statistics: every number differs from its initial value."""
    rng = np.random.default_rng(seed)
    model.load_state_dict({
        name: (rng.uniform(0.5, 2.0, a.shape) if name.endswith("running_var")
               else a + 0.1 * rng.standard_normal(a.shape)).astype(a.dtype)
        for name, a in model.state_dict().items()})
    return model


MODELS = {
    "mlp-batchnorm-dropout": lambda: nn.MLP(12, [16, 8], 5, batchnorm=True, dropout=0.3),
    "mlp-leaky-relu": lambda: nn.MLP(12, [7], 3, activation="leaky_relu"),
    "mlp-sigmoid": lambda: nn.TwoLayerNet(12, 6, 4),
    "simple-cnn": lambda: nn.SimpleConvNet((1, 8, 8), conv_channels=4, hidden_size=10),
    "deep-cnn": lambda: nn.DeepConvNet((2, 8, 8), channels=(3, 3, 4, 4, 5, 5), hidden_size=9,
                                       logit_dropout=0.5),
}


def example(model, batch, seed=1):
    shape = (model_config(model).get("input_size"),) if isinstance(model, nn.MLP) \
        else tuple(model.config["input_dim"])
    return np.random.default_rng(seed).standard_normal((batch, *shape)).astype(np.float32)


def outputs(model, x):
    with mb.no_grad():
        return model.eval()(mb.tensor(x)).data


def assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        assert sa[name].dtype == sb[name].dtype, name
        assert sa[name].tobytes() == sb[name].tobytes(), name


@pytest.mark.parametrize("name", MODELS)
def test_round_trip_is_exact(tmp_path, name):
    model = randomised(MODELS[name]())
    model.train()
    path = save_safetensors(model, tmp_path / "model.safetensors")
    loaded = load_safetensors(path)
    assert type(loaded) is (nn.MLP if isinstance(model, nn.MLP) else type(model))
    assert model_config(loaded) == model_config(model)
    assert not loaded.training
    assert_same_state(model, loaded)
    x = example(model, 5)
    np.testing.assert_array_equal(outputs(loaded, x), outputs(model, x))


@given(hidden=st.lists(st.integers(1, 9), min_size=0, max_size=3), batchnorm=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_round_trip_is_exact_for_any_mlp(tmp_path_factory, hidden, batchnorm, dtype):
    model = randomised(nn.MLP(3, hidden, 2, batchnorm=batchnorm).to(dtype))
    path = save_safetensors(model, tmp_path_factory.mktemp("mlp") / "m.safetensors")
    assert_same_state(model, load_safetensors(path))


def test_the_file_holds_torch_names_and_layouts_and_the_metadata(tmp_path):
    model = randomised(MODELS["mlp-batchnorm-dropout"]())
    path = save_safetensors(model, tmp_path / "m.safetensors")
    arrays = load_file(path)
    assert sorted(arrays) == sorted([
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean",
        "5.running_var", "5.num_batches_tracked", "8.weight", "8.bias"])
    state = model.state_dict()
    np.testing.assert_array_equal(arrays["0.weight"], state["layers.0.W"].T)  # (out, in)
    np.testing.assert_array_equal(arrays["1.weight"], state["layers.1.gamma"])
    np.testing.assert_array_equal(arrays["5.running_var"], state["layers.5.running_var"])
    assert arrays["1.num_batches_tracked"].dtype == np.int64
    with safetensors.safe_open(path, framework="np") as file:
        metadata = file.metadata()
    assert metadata["format"] == "mitbadak"
    assert metadata["mitbadak_version"] == mb.__version__
    assert json.loads(metadata["config"]) == model_config(model)
    assert metadata["torch"].startswith("torch.nn.Sequential(\n    torch.nn.Linear(")


def test_a_convolution_keeps_its_layout(tmp_path):
    model = randomised(MODELS["simple-cnn"]())
    arrays = load_file(save_safetensors(model, tmp_path / "c.safetensors"))
    np.testing.assert_array_equal(arrays["0.weight"], model.layers[0].W.data)  # (OC, C, KH, KW)


def test_the_write_is_atomic_and_replaces_the_old_file(tmp_path):
    path = tmp_path / "m.safetensors"
    save_safetensors(nn.MLP(3, [4], 2), path)
    model = randomised(nn.MLP(3, [5], 2))
    save_safetensors(model, path)
    assert_same_state(model, load_safetensors(path))
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


# ------------------------------------------------------------------------------- PyTorch

@pytest.mark.parametrize("batch", [1, 17])
@pytest.mark.parametrize("name", MODELS)
def test_to_torch_gives_the_same_outputs(tmp_path, name, batch):
    torch = pytest.importorskip("torch")
    model = randomised(MODELS[name]())
    path = save_safetensors(model, tmp_path / "m.safetensors")
    x = example(model, batch)
    for net in (export.to_torch(model), export.to_torch(path)):
        assert not net.training
        assert sorted(net.state_dict()) == sorted(load_file(path))
        with torch.no_grad():
            got = net(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, outputs(model, x), rtol=0, atol=1e-5)


def test_the_metadata_torch_source_loads_the_file_strictly(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file as load_torch

    model = randomised(MODELS["deep-cnn"]())
    path = save_safetensors(model, tmp_path / "m.safetensors")
    with safetensors.safe_open(path, framework="pt") as file:
        source = file.metadata()["torch"]
    net = eval(source, {"torch": torch})  # the source the user pastes; a test's own file
    net.load_state_dict(load_torch(path))  # strict: every key, num_batches_tracked too
    x = example(model, 17)
    with torch.no_grad():
        got = net.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, outputs(model, x), rtol=0, atol=1e-5)


def test_the_documented_lines_load_the_file_into_torch(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    lines = textwrap.dedent(export.__doc__.rsplit("::\n", 1)[1])
    model = randomised(nn.MLP(64, [100], 10, batchnorm=True))
    monkeypatch.chdir(tmp_path)
    save_safetensors(model, "model.safetensors")
    x = example(model, 17)
    for part in lines.split("\n\n"):  # the to_torch way, then the plain torch one
        scope = {}
        exec(part, scope)
        with torch.no_grad():
            got = scope["net"](torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, outputs(model, x), rtol=0, atol=1e-5)


def test_weights_changed_in_torch_come_back_to_mitbadak(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file as save_torch

    model = randomised(MODELS["simple-cnn"]())
    path = save_safetensors(model, tmp_path / "m.safetensors")
    net = export.to_torch(path)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1.5)  # fine-tuned in PyTorch
    with safetensors.safe_open(path, framework="pt") as file:
        metadata = file.metadata()
    save_torch(net.state_dict(), path, metadata=metadata)
    x = example(model, 17)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(outputs(load_safetensors(path), x), expected, rtol=0, atol=1e-5)


# ------------------------------------------------------------------------------ bad input

def refused(path, *words):
    with pytest.raises(ExportError) as caught:
        load_safetensors(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message, message
    for word in words:
        assert word in message, message
    return message


def rewritten(tmp_path, change):
    """A file save_safetensors wrote for a small BatchNorm MLP, its arrays changed by
    ``change`` (a function of the dict) and its metadata kept."""
    path = save_safetensors(nn.MLP(3, [4], 2, batchnorm=True), tmp_path / "m.safetensors")
    with safetensors.safe_open(path, framework="np") as file:
        metadata = file.metadata()
    arrays = load_file(path)
    change(arrays)
    save_file(arrays, path, metadata=metadata)
    return path


def test_a_text_file_is_refused(tmp_path):
    path = tmp_path / "notes.safetensors"
    path.write_text("these are not weights, just a few words of text\n")
    refused(path, "cannot be read as safetensors")


def test_a_missing_file_is_refused(tmp_path):
    refused(tmp_path / "nowhere.safetensors", "cannot be read")


def test_a_safetensors_file_without_mitbadak_metadata_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": np.zeros((2, 3), np.float32)}, path)
    refused(path, "without mitbadak's metadata")
    save_file({"weight": np.zeros((2, 3), np.float32)}, path, metadata={"format": "pt"})
    refused(path, "without mitbadak's metadata")


@pytest.mark.parametrize("config, words", [
    ("{not json", ["config is not a JSON object"]),
    ('{"type": "os.system"}', ["unknown model type 'os.system'"]),
    ('{"type": "MLP", "input_size": -1}', ["cannot build a MLP"]),
])
def test_a_bad_config_is_refused(tmp_path, config, words):
    path = tmp_path / "m.safetensors"
    save_file({"0.weight": np.zeros((2, 3), np.float32)}, path,
              metadata={"format": "mitbadak", "format_version": "1", "config": config})
    refused(path, *words)


def test_another_format_version_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    save_file({"0.weight": np.zeros((2, 3), np.float32)}, path,
              metadata={"format": "mitbadak", "format_version": "9", "config": "{}"})
    refused(path, "format version '9'")


def test_a_missing_tensor_is_refused(tmp_path):
    refused(rewritten(tmp_path, lambda a: a.pop("1.running_var")), "'1.running_var'", "misses")


def test_an_extra_tensor_is_refused(tmp_path):
    def add(arrays):
        arrays["9.weight"] = np.zeros(2, np.float32)

    refused(rewritten(tmp_path, add), "'9.weight'")


def test_a_tensor_of_the_wrong_shape_is_refused(tmp_path):
    def transpose(arrays):
        arrays["0.weight"] = np.ascontiguousarray(arrays["0.weight"].T)  # mitbadak's layout

    refused(rewritten(tmp_path, transpose), "'0.weight'", "shape (3, 4)", "(4, 3)")


def test_a_tensor_of_integers_is_refused(tmp_path):
    def integers(arrays):
        arrays["0.bias"] = np.zeros(4, np.int32)

    refused(rewritten(tmp_path, integers), "'0.bias'", "I32")


def test_a_tensor_numpy_cannot_read_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file as save_torch

    path = save_safetensors(nn.MLP(3, [4], 2), tmp_path / "m.safetensors")
    with safetensors.safe_open(path, framework="np") as file:
        metadata = file.metadata()
    tensors = {name: torch.from_numpy(a) for name, a in load_file(path).items()}
    tensors["0.bias"] = tensors["0.bias"].to(torch.bfloat16)
    save_torch(tensors, path, metadata=metadata)
    refused(path, "'0.bias'", "BF16")


def test_torch_count_of_batches_may_be_absent(tmp_path):
    path = rewritten(tmp_path, lambda a: a.pop("1.num_batches_tracked"))
    assert isinstance(load_safetensors(path), nn.MLP)


def test_a_model_that_is_not_registered_is_refused(tmp_path):
    with pytest.raises(ExportError, match=r"^cannot export a Sequential: only the registered"):
        save_safetensors(nn.Sequential(nn.Linear(2, 3)), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_a_layer_without_a_torch_twin_is_refused(tmp_path):
    class Square(nn.Module):
        def forward(self, x):
            return x * x

    model = nn.MLP(3, [4], 2)
    setattr(model.layers, "1", Square())  # in place of the ReLU
    with pytest.raises(ExportError, match="layer 1, Square, has no known torch.nn equivalent"):
        save_safetensors(model, tmp_path / "m.safetensors")


def test_without_the_safetensors_package_the_error_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)  # import raises ImportError
    with pytest.raises(ExportError, match=r"pip install 'mitbadak\[export\]'"):
        save_safetensors(nn.MLP(3, [4], 2), tmp_path / "m.safetensors")


def test_to_torch_keeps_every_layer_option():
    """Dilation and groups of a convolution, ceil_mode and count_include_pad of pooling: a
    model built by hand (not from the registry) with each option away from its default."""
    torch = pytest.importorskip("torch")

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.Sequential(
                nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2), nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
                nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))

        def forward(self, x):
            return self.layers(x)

    model = randomised(Net())
    x = np.random.default_rng(1).standard_normal((2, 4, 9, 9)).astype(np.float32)
    net = export.to_torch(model)
    with torch.no_grad():
        got = net(torch.from_numpy(x)).numpy()
    with mb.no_grad():
        want = model(mb.tensor(x)).data
    assert got.shape == want.shape == (2, 6, 3, 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
