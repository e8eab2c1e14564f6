"""nn.Conv2d's dilation and groups, nn.ConvTranspose2d, the pooling modules' ceil_mode and
count_include_pad: shapes, initialisation, repr, errors, and torch parity."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import nn


def test_grouped_conv2d_weight_shape_and_fan_in():
    conv = nn.Conv2d(16, 32, 3, groups=4, dilation=2)
    assert conv.W.shape == (32, 4, 3, 3)
    # He: std = sqrt(2 / fan_in), fan_in = 16/4 * 3 * 3 = 36
    assert conv.W.data.std() == pytest.approx(np.sqrt(2 / 36), rel=0.1)
    assert repr(conv).endswith("bias=True, dilation=(2, 2), groups=4)")
    assert nn.Conv2d(2, 3, 3)(np.zeros((1, 2, 7, 7), np.float32)).shape == (1, 3, 5, 5)
    assert conv(np.zeros((1, 16, 9, 9), np.float32)).shape == (1, 32, 5, 5)


def test_conv_transpose2d_module_shapes():
    up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    assert up.W.shape == (8, 4, 3, 3) and up.b.shape == (4,)
    assert up(np.zeros((2, 8, 7, 7), np.float32)).shape == (2, 4, 14, 14)  # exactly 2x
    assert repr(up) == ("ConvTranspose2d(8, 4, kernel_size=(3, 3), stride=(2, 2), "
                        "padding=(1, 1), bias=True, output_padding=(1, 1))")
    assert list(nn.ConvTranspose2d(4, 6, 2, groups=2, bias=False).state_dict()) == ["W"]


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"Conv2d: in_channels 4 and out_channels 6 must "
                                           r"both be divisible by groups 4"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=0),
     r"ConvTranspose2d: groups must be a positive int, got 0"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, output_padding=-1),
     r"ConvTranspose2d: output_padding must be an int >= 0"),
])
def test_module_errors_name_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_conv_transpose2d_refuses_the_wrong_channels():
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(3, 2.*expected input \(N, 3, H, W\)"):
        nn.ConvTranspose2d(3, 2, 2)(np.zeros((1, 2, 4, 4), np.float32))


def test_pool_modules_options():
    x = mb.tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape == (1, 1, 3, 3)
    assert nn.MaxPool2d(2)(x).shape == (1, 1, 2, 2)
    avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    assert avg(x).data[0, 0, 0, 0] == pytest.approx(np.mean([0, 1, 5, 6]))
    assert repr(avg) == ("AvgPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                         "count_include_pad=False)")
    assert repr(nn.MaxPool2d(2, ceil_mode=True)).endswith("ceil_mode=True)")


def test_modules_match_torch():
    """Conv2d (dilated, grouped) -> ReLU -> MaxPool2d (ceil) -> ConvTranspose2d ->
    AvgPool2d (count_include_pad=False), float64: values and every parameter's gradient."""
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    ours = nn.Sequential(nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2), nn.ReLU(),
                         nn.MaxPool2d(2, ceil_mode=True),
                         nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1,
                                            groups=2),
                         nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False))
    ours.to(np.float64)
    theirs = tnn.Sequential(tnn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2), tnn.ReLU(),
                            tnn.MaxPool2d(2, ceil_mode=True),
                            tnn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1,
                                                groups=2),
                            tnn.AvgPool2d(3, 2, 1, ceil_mode=True,
                                          count_include_pad=False)).double()
    rng = np.random.default_rng(3)
    with torch.no_grad():
        for index in (0, 3):
            theirs[index].weight.copy_(torch.tensor(ours[index].W.data))
            ours[index].b.data[...] = rng.normal(size=ours[index].b.shape)
            theirs[index].bias.copy_(torch.tensor(ours[index].b.data))
    x = rng.normal(size=(2, 4, 7, 9))
    y, yt = ours(mb.tensor(x, dtype=np.float64)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-7, atol=1e-10)
    v = rng.normal(size=y.shape)
    (y * v).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    for index in (0, 3):
        np.testing.assert_allclose(ours[index].W.grad, theirs[index].weight.grad.numpy(),
                                   rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(ours[index].b.grad, theirs[index].bias.grad.numpy(),
                                   rtol=1e-7, atol=1e-10)
