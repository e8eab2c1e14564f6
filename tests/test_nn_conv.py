"""Conv2d, MaxPool2d, AvgPool2d, Flatten and BatchNorm2d modules: weights, parity with
torch.nn, errors, and a small convolutional network that learns."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import nn, optim
from mitbadak.functional.conv import conv2d
from mitbadak.nn import AvgPool2d, BatchNorm2d, Conv2d, Flatten, MaxPool2d
from mitbadak.numerical import gradcheck


def test_conv2d_weights_and_state_dict():
    conv = Conv2d(3, 8, 5, padding=2)
    assert conv.W.shape == (8, 3, 5, 5) and conv.b.shape == (8,)
    assert conv.W.dtype == np.float32 and np.all(conv.b.data == 0)
    assert list(conv.state_dict()) == ["W", "b"]
    assert Conv2d(3, 8, (3, 1), bias=False).b is None
    assert list(Conv2d(3, 8, 3, bias=False).state_dict()) == ["W"]
    assert repr(conv) == ("Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2), "
                          "bias=True)")


def test_conv2d_initial_weights_use_the_filter_fan_in():
    mb.manual_seed(0)
    he = Conv2d(16, 64, 3).W.data  # fan_in = 16 * 3 * 3
    assert he.std() == pytest.approx(np.sqrt(2 / 144), rel=0.03)
    assert Conv2d(1, 30, 5, init=0.01).W.data.std() == pytest.approx(0.01, rel=0.1)
    a, b = (Conv2d(2, 3, 3, generator=np.random.default_rng(7)).W.data for _ in range(2))
    np.testing.assert_array_equal(a, b)


def test_conv2d_forward_and_gradients():
    conv = Conv2d(2, 3, 3, stride=2, padding=1).to(np.float64)
    conv.b.data[:] = [0.5, -1.0, 2.0]
    x = mb.tensor(np.random.default_rng(1).normal(size=(2, 2, 7, 6)), dtype=np.float64,
                  requires_grad=True)
    y = conv(x)
    assert y.shape == (2, 3, 4, 3)
    np.testing.assert_array_equal(y.data, conv2d(x, conv.W, conv.b, 2, 1).data)
    gradcheck(lambda x, W, b: conv2d(x, W, b, 2, 1), [x, conv.W, conv.b])


def test_pool_modules():
    x = mb.tensor(np.arange(32.0).reshape(1, 2, 4, 4))
    assert MaxPool2d(2)(x).data[0, 1].tolist() == [[21, 23], [29, 31]]
    assert AvgPool2d(2)(x).data[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert MaxPool2d(3, stride=1, padding=1)(x).shape == (1, 2, 4, 4)
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert MaxPool2d(3, 2).stride == (2, 2)


def test_flatten():
    x = mb.tensor(np.zeros((4, 3, 2, 5)), requires_grad=True)
    y = Flatten()(x)
    assert y.shape == (4, 30)
    assert Flatten(start_dim=2)(x).shape == (4, 3, 10)
    y.sum().backward()
    assert x.grad.shape == (4, 3, 2, 5)


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"Conv2d\(1, 30, kernel_size=\(5, 5\).*\): expected "
                                         r"input \(N, 1, H, W\), got \(2, 3, 28, 28\)"):
        Conv2d(1, 30, 5)(np.zeros((2, 3, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match=r"Conv2d\(.*\): expected input \(N, 1, H, W\), "
                                         r"got \(28, 28\)"):
        Conv2d(1, 30, 5)(np.zeros((28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=\(2, 2\).*\): expected "
                                         r"input \(N, C, H, W\), got \(30, 24, 24\)"):
        MaxPool2d(2)(np.zeros((30, 24, 24), dtype=np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(4, .*\): expected input \(N, C, H, W\) "
                                         r"with C = 4, got \(8, 4\)"):
        BatchNorm2d(4)(mb.tensor(np.zeros((8, 4))))
    with pytest.raises(ValueError, match="Conv2d: stride must be an int >= 1"):
        Conv2d(1, 2, 3, stride=0)


def test_modules_match_torch():
    """Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d -> AvgPool2d -> Flatten, float64, two
    training steps (running statistics included) and one evaluation."""
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    ours = nn.Sequential(Conv2d(3, 4, 3, padding=1), BatchNorm2d(4), nn.ReLU(),
                         MaxPool2d(2), AvgPool2d(3, stride=1, padding=1), Flatten())
    ours.to(np.float64)
    theirs = tnn.Sequential(tnn.Conv2d(3, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.ReLU(),
                            tnn.MaxPool2d(2), tnn.AvgPool2d(3, stride=1, padding=1),
                            tnn.Flatten()).double()
    with torch.no_grad():
        theirs[0].weight.copy_(torch.tensor(ours[0].W.data))
        theirs[0].bias.zero_()  # ours starts at 0, as the book's
    rng = np.random.default_rng(2)
    for training in (True, True, False):
        ours.train(training)
        theirs.train(training)
        x = rng.normal(size=(5, 3, 8, 7))
        v = rng.normal(size=(5, 4 * 4 * 3))
        y, yt = ours(mb.tensor(x, dtype=np.float64)), theirs(torch.tensor(x))
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-7, atol=1e-10)
        ours.zero_grad()
        theirs.zero_grad()
        (y * v).sum().backward()
        (yt * torch.tensor(v)).sum().backward()
        for p, q in [(ours[0].W, theirs[0].weight), (ours[0].b, theirs[0].bias),
                     (ours[1].gamma, theirs[1].weight), (ours[1].beta, theirs[1].bias)]:
            np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(ours[1].running_var, theirs[1].running_var.numpy(),
                                   rtol=1e-10)


def test_a_small_convnet_learns():
    """The book's SimpleConvNet shape (conv - relu - pool - affine - relu - affine), shrunk:
    it fits 32 random 8x8 images to 4 random labels."""
    mb.manual_seed(0)
    model = nn.Sequential(Conv2d(1, 6, 3), nn.ReLU(), MaxPool2d(2), Flatten(),
                          nn.Linear(6 * 3 * 3, 20), nn.ReLU(), nn.Linear(20, 4))
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 1, 8, 8)).astype(np.float32)
    t = rng.integers(0, 4, 32)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = mb.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    assert model[0].W.grad.dtype == np.float32


def test_flatten_an_empty_batch():
    x = mb.tensor(np.zeros((0, 3, 4, 4)), requires_grad=True)
    y = Flatten()(x)
    y.sum().backward()
    assert y.shape == (0, 48) and x.grad.shape == x.shape


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.MLP(64, [16], 10, batchnorm=True), (0, 64)),
    (lambda: nn.SimpleConvNet((1, 8, 8), conv_channels=4, hidden_size=8), (0, 1, 8, 8)),
    (lambda: nn.DeepConvNet((1, 8, 8)), (0, 1, 8, 8)),
])
def test_networks_on_an_empty_batch(make, shape):
    """MLPs and CNNs behave alike: eval mode gives (0, classes); training mode runs too, but
    a BatchNorm in it refuses a batch that has no statistics."""
    model = make()
    assert model.eval()(mb.tensor(np.zeros(shape, dtype=np.float32))).shape == (0, 10)
    x = mb.tensor(np.zeros(shape, dtype=np.float32))
    if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
        with pytest.raises(ValueError, match="empty batch"):
            model.train()(x)
    else:
        out = model.train()(x)
        assert out.shape == (0, 10)
