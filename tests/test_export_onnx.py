"""ONNX export: every model the command line trains runs in ONNX Runtime with mitbadak's
outputs, for any batch size; a model or checkpoint that cannot be exported gets one line."""

import re
import sys

import numpy as np
import pytest

import mitbadak as mb
from helpers import usage_error
from mitbadak import functional as F
from mitbadak import nn
from mitbadak.autograd.function import Function
from mitbadak.cli import main
from mitbadak.export import ExportError, to_onnx
from mitbadak.training import checkpoint

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def outputs(model, x):
    with mb.no_grad():
        return model(x).data


def with_statistics(model, shape, rng):
    """Non-trivial BatchNorm state: random gamma and beta, running statistics moved by a few
    training-mode forwards on shifted, scaled data; then evaluation mode."""
    for name, p in model.named_parameters():
        if name.endswith(("gamma", "beta")):
            p.data[...] = rng.normal(1 if name.endswith("gamma") else 0, 0.5, p.shape)
    model.train()
    for _ in range(3):
        model(rng.normal(0.5, 2.0, (8, *shape)).astype(np.float32))
    return model.eval()


MODELS = {  # every architecture `mitbadak train --model` builds
    "mlp": (lambda: nn.MLP(64, [32, 16], 10, batchnorm=True, dropout=0.2), (64,)),
    "simple-cnn": (lambda: nn.SimpleConvNet((1, 28, 28)), (1, 28, 28)),
    "deep-cnn": (lambda: nn.DeepConvNet((1, 28, 28)), (1, 28, 28)),
}


@pytest.mark.parametrize("name", MODELS)
def test_the_cli_models_run_in_onnx_runtime_as_in_mitbadak(name, tmp_path):
    rng = np.random.default_rng(0)
    mb.manual_seed(0)
    build, shape = MODELS[name]
    model = with_statistics(build(), shape, rng)
    path = to_onnx(model, rng.random((1, *shape), dtype=np.float32), tmp_path / "m.onnx")
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    assert {i.name for i in proto.graph.initializer} >= set(model.state_dict())
    for batch in (1, 17):
        x = rng.random((batch, *shape), dtype=np.float32)
        got = run_onnx(path, x)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, outputs(model, x), atol=1e-5, rtol=0)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu"])
def test_each_activation_runs_as_in_mitbadak(activation, tmp_path):
    rng = np.random.default_rng(1)
    model = nn.MLP(6, [5], 3, activation=activation).eval()
    path = to_onnx(model, np.zeros((2, 6), np.float32), tmp_path / "m.onnx")
    x = rng.normal(size=(17, 6)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(path, x), outputs(model, x), atol=1e-5, rtol=0)


class Arithmetic(nn.Module):
    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
        self.b = nn.Parameter(np.arange(3, dtype=np.float32))

    def forward(self, x):  # x (N, 2, 4)
        h = F.linear(x, self.W, self.b) * 2 - self.b / 3  # Affine on 3 axes, Mul, Sub, Div
        h = -(h.transpose(0, 2, 1) @ x) + 1  # Transpose, MatMul, Neg, Add: (N, 3, 4)
        return F.log_softmax(h.reshape(-1, 12), axis=1) + F.softmax(h, axis=1).reshape(-1, 12)


class Pooling(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):  # x (N, 2, 9, 9)
        h = F.avg_pool2d(self.bn(self.conv(x)), 3, stride=2, padding=1)
        return F.max_pool2d(h, 2, stride=1, padding=1).reshape(x.shape[0], 3, -1)


def test_arithmetic_transpose_and_softmax_run_as_in_mitbadak(tmp_path):
    model = Arithmetic().eval()
    x = np.random.default_rng(2).normal(size=(17, 2, 4)).astype(np.float32)
    path = to_onnx(model, x[:1], tmp_path / "m.onnx")
    np.testing.assert_allclose(run_onnx(path, x), outputs(model, x), atol=1e-5, rtol=0)


def test_padded_pooling_and_batchnorm2d_run_as_in_mitbadak(tmp_path):
    rng = np.random.default_rng(3)
    model = with_statistics(Pooling(), (2, 9, 9), rng)
    path = to_onnx(model, np.zeros((1, 2, 9, 9), np.float32), tmp_path / "m.onnx")
    x = rng.normal(size=(17, 2, 9, 9)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(path, x), outputs(model, x), atol=1e-5, rtol=0)


# ---------------------------------------------------------------------------------- bad input
def test_a_model_in_training_mode_is_refused(tmp_path):
    model = nn.MLP(4, [3], 2, dropout=0.5)
    with pytest.raises(ExportError, match=r"^to_onnx: the MLP is in training mode .*"
                                          r"call model\.eval\(\) first$"):
        to_onnx(model, np.zeros((1, 4), np.float32), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


class Double(Function):
    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return (2 * gy,)


@pytest.mark.parametrize("op, name", [(F.exp, "Exp"), (Double.apply, "Double")])
def test_an_op_with_no_mapping_is_named(op, name, tmp_path):
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return op(self.fc(x))

    with pytest.raises(ExportError, match=rf"^to_onnx: {name} has no ONNX mapping; supported: "
                                          r"Add, Affine, AvgPooling, .*Convolution"):
        to_onnx(Custom().eval(), np.zeros((1, 4), np.float32), tmp_path / "m.onnx")


def test_a_reshape_across_the_batch_axis_is_refused(tmp_path):
    class Pairs(nn.Module):
        def forward(self, x):
            return F.relu(x).reshape(x.shape[0] // 2, -1)

    with pytest.raises(ExportError, match=r"reshape from \(4, 3\) to \(2, -1\) changes the batch"):
        to_onnx(Pairs().eval(), np.zeros((4, 3), np.float32), tmp_path / "m.onnx")


def test_bad_examples_and_opsets_are_refused(tmp_path):
    model = nn.MLP(4, [3], 2).eval()
    with pytest.raises(ExportError, match=r"does not run on the example input of shape \(1, 5\)"):
        to_onnx(model, np.zeros((1, 5), np.float32), tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="example input must be a floating batch"):
        to_onnx(model, np.zeros((1, 4), np.int64), tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="opset 12 is not supported; choose one from 13"):
        to_onnx(model, np.zeros((1, 4), np.float32), tmp_path / "m.onnx", opset=12)


def test_without_onnx_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    with pytest.raises(ExportError, match=re.escape("pip install 'mitbadak[export]'")):
        to_onnx(nn.MLP(4, [3], 2).eval(), np.zeros((1, 4), np.float32), tmp_path / "m.onnx")


# ---------------------------------------------------------------------------------- the command


def test_export_of_a_trained_model_classifies_as_evaluate_does(tmp_path, capsys):
    assert main(["train", "--hidden", "16", "--batchnorm", "--dropout", "0.2", "--epochs", "2",
                 "--quiet", "--out", str(tmp_path)]) == 0
    usage_error(capsys, ["export", str(tmp_path / "best.npz"), "--format", "onnx", "--opset",
                         "12", "--out", str(tmp_path / "m.onnx")],
                "export: error: to_onnx: opset 12 is not supported")
    assert main(["evaluate", str(tmp_path / "best.npz"), "--out", str(tmp_path)]) == 0
    evaluated = re.search(r"accuracy (\d\.\d{4}) \((\d+) of", capsys.readouterr().out)
    out = tmp_path / "model.onnx"
    assert main(["export", str(tmp_path / "best.npz"), "--format", "onnx",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"onnx: {out}\n"
    _, (x, t) = mb.data.load_dataset("digits")
    correct = int((run_onnx(out, x).argmax(axis=1) == t).sum())
    assert evaluated and correct == int(evaluated[2])


def test_export_as_safetensors_loads_back_the_same_model(tmp_path, capsys):
    pytest.importorskip("safetensors")
    assert main(["train", "--hidden", "8", "--batchnorm", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path)]) == 0
    out = tmp_path / "model.safetensors"
    assert main(["export", str(tmp_path / "best.npz"), "--format", "safetensors",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.endswith(f"safetensors: {out}\n")
    saved = checkpoint.load(tmp_path / "best.npz").model.state_dict()
    loaded = mb.export.load_safetensors(out).state_dict()
    assert saved.keys() == loaded.keys()
    assert all(np.array_equal(saved[k], loaded[k]) for k in saved)


def test_export_refuses_what_is_not_a_model_checkpoint(tmp_path, capsys):
    text = tmp_path / "notes.npz"
    text.write_text("not a checkpoint\n")
    usage_error(capsys, ["export", str(text), "--format", "onnx", "--out",
                         str(tmp_path / "m.onnx")], "notes.npz: not a mitbadak checkpoint")

    class Custom(nn.Module):  # saved without an architecture to rebuild
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

    custom = checkpoint.save(tmp_path / "custom.npz", Custom())
    usage_error(capsys, ["export", str(custom), "--format", "onnx", "--out",
                         str(tmp_path / "m.onnx")], "custom.npz: holds no architecture")
    assert not (tmp_path / "m.onnx").exists()
