"""ONNX export of conv2d's dilation and groups, conv_transpose2d, and pooling's ceil_mode and
count_include_pad: the exported model runs in ONNX Runtime with mitbadak's outputs."""

import numpy as np
import pytest

from mitbadak import nn
from mitbadak.export import to_onnx

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("layers", [
    [nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2),
     nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1, groups=2)],
    [nn.ConvTranspose2d(4, 3, (2, 3), stride=(2, 1), dilation=(1, 2))],
    [nn.MaxPool2d(2, ceil_mode=True), nn.AvgPool2d(3, 2, 1, ceil_mode=True)],
    [nn.AvgPool2d(3, 2, 1, count_include_pad=False), nn.AvgPool2d(2, ceil_mode=True)],
])
def test_conv_options_run_as_in_mitbadak(tmp_path, layers):
    model = nn.Sequential(*layers).eval()
    rng = np.random.default_rng(1)
    for p in model.parameters():
        p.data[...] = rng.normal(size=p.shape)
    path = to_onnx(model, np.zeros((1, 4, 9, 7), np.float32), tmp_path / "m.onnx")
    x = rng.normal(size=(5, 4, 9, 7)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], model(x).data,
                               atol=1e-4, rtol=1e-5)
