"""The update rules: first steps by hand, the book's chapter-6 trajectories, PyTorch parity,
training a small MLP, dtype and memory behaviour."""

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import optim

START = (-7.0, 2.0)


def book_grad(xy):
    """Gradient of the book's f(x, y) = x**2 / 20 + y**2."""
    return np.array([xy[0] / 10, 2 * xy[1]])


def trajectory(opt_cls, steps=30, **kwargs):
    """Positions after each of ``steps`` updates from (-7, 2), in float64."""
    p = mb.tensor(START, dtype=np.float64, requires_grad=True)
    opt = opt_cls([p], **kwargs)
    positions = []
    for _ in range(steps):
        p.grad = book_grad(p.data)
        opt.step()
        positions.append(p.data.copy())
    return np.array(positions)


# name, our class and settings, torch class name and settings
CASES = [
    ("sgd", optim.SGD, dict(lr=0.95), "SGD", dict(lr=0.95)),
    ("momentum", optim.Momentum, dict(lr=0.1), "SGD", dict(lr=0.1, momentum=0.9)),
    ("nesterov", optim.Nesterov, dict(lr=0.1), "SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("adagrad", optim.AdaGrad, dict(lr=1.5), "Adagrad", dict(lr=1.5)),
    ("rmsprop", optim.RMSProp, dict(lr=0.1), "RMSprop", dict(lr=0.1)),
    ("adam", optim.Adam, dict(lr=0.3), "Adam", dict(lr=0.3)),
    ("adamw", optim.AdamW, dict(lr=0.3), "AdamW", dict(lr=0.3)),
]
# the same with weight decay (L2 for all but AdamW, whose decay is decoupled)
DECAY_CASES = [
    (f"{name}+wd", cls, {**kw, "weight_decay": 0.1}, tname, {**tkw, "weight_decay": 0.1})
    for name, cls, kw, tname, tkw in CASES
]


@pytest.mark.parametrize(
    "cls, kwargs, torch_name, torch_kwargs",
    [pytest.param(*case[1:], id=case[0]) for case in CASES + DECAY_CASES],
)
def test_book_function_follows_torch(cls, kwargs, torch_name, torch_kwargs):
    torch = pytest.importorskip("torch")
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, torch_name)([p], **torch_kwargs)
    expected = []
    for _ in range(30):
        p.grad = torch.from_numpy(book_grad(p.detach().numpy()))
        opt.step()
        expected.append(p.detach().numpy().copy())
    # the README says "checked to 1e-13" (float64 rounding leaves ~2e-15)
    assert np.abs(trajectory(cls, **kwargs) - np.array(expected)).max() < 1e-13


def test_first_steps_by_hand():
    # at (-7, 2) the gradient is g = (-0.7, 4)
    first = {name: trajectory(cls, steps=1, **kw)[0] for name, cls, kw, *_ in CASES}
    np.testing.assert_allclose(first["sgd"], [-7 + 0.95 * 0.7, 2 - 0.95 * 4], rtol=0, atol=1e-12)
    # momentum: the velocity starts at 0, so the first step is plain SGD
    np.testing.assert_allclose(first["momentum"], [-7 + 0.07, 2 - 0.4], rtol=0, atol=1e-12)
    # nesterov: lr * (g + 0.9 * g)
    np.testing.assert_allclose(first["nesterov"], [-7 + 0.133, 2 - 0.76], rtol=0, atol=1e-12)
    # adagrad: h = g*g, so the step is lr * g / (|g| + eps), about lr * sign(g)
    np.testing.assert_allclose(
        first["adagrad"], [-7 + 1.5 * 0.7 / (0.7 + 1e-10), 2 - 1.5 * 4 / (4 + 1e-10)], atol=1e-12
    )
    # rmsprop: h = 0.01 g*g, so the step is lr * g / (0.1 |g| + eps), about 10 lr sign(g)
    np.testing.assert_allclose(
        first["rmsprop"], [-7 + 0.1 * 0.7 / (0.07 + 1e-8), 2 - 0.1 * 4 / (0.4 + 1e-8)], atol=1e-12
    )
    # adam: m_hat = g and v_hat = g*g, so the step is lr * g / (|g| + eps)
    np.testing.assert_allclose(
        first["adam"], [-7 + 0.3 * 0.7 / (0.7 + 1e-8), 2 - 0.3 * 4 / (4 + 1e-8)], atol=1e-12
    )
    # adamw: first W * (1 - 0.3 * 0.01), then the Adam step
    np.testing.assert_allclose(first["adamw"], [-7 * 0.997 + 0.3, 2 * 0.997 - 0.3], atol=1e-8)


def test_book_chapter6_end_points():
    """The positions after 30 updates of the book's optimizer_compare_naive.py (its Adam puts
    eps elsewhere and its AdaGrad uses eps = 1e-7: no visible difference)."""
    book = {"sgd": (-0.35, 0.085), "momentum": (0.90, 0.088),
            "adagrad": (-0.12, 0.000), "adam": (0.14, 0.32)}
    for name, cls, kw, *_ in CASES:
        if name in book:
            np.testing.assert_allclose(trajectory(cls, **kw)[-1], book[name], atol=0.006)


def make_mlp_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    labels = (x @ rng.standard_normal((4, 3))).argmax(axis=1)
    shapes = [(4, 16), (16,), (16, 3), (3,)]
    params = [mb.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]
    return x, labels, params


def mlp_loss(x, labels, params):
    W1, b1, W2, b2 = params
    return F.cross_entropy(F.linear(F.relu(F.linear(x, W1, b1)), W2, b2), labels)


MLP_SETTINGS = {
    "sgd": dict(lr=0.5), "momentum": dict(lr=0.1), "nesterov": dict(lr=0.1),
    "adagrad": dict(lr=0.1), "rmsprop": dict(lr=0.01), "adam": dict(lr=0.01),
    "adamw": dict(lr=0.01),
}


@pytest.mark.parametrize("name", sorted(MLP_SETTINGS))
def test_each_optimizer_trains_a_small_mlp_in_float32(name):
    x, labels, params = make_mlp_problem()
    opt = optim.OPTIMIZERS[name](params, **MLP_SETTINGS[name])
    first = float(mlp_loss(x, labels, params).data)
    for _ in range(60):
        opt.zero_grad()
        mlp_loss(x, labels, params).backward()
        opt.step()
    assert float(mlp_loss(x, labels, params).data) < 0.5 * first
    for p in params:
        assert p.dtype == np.float32
        for value in opt.state[p].values():
            assert not isinstance(value, np.ndarray) or value.dtype == np.float32


@pytest.mark.parametrize("name", sorted(MLP_SETTINGS))
def test_updates_in_place_and_leaves_grad_alone(name):
    rng = np.random.default_rng(1)
    p = mb.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    opt = optim.OPTIMIZERS[name]([p], weight_decay=0.1, **MLP_SETTINGS[name])
    data = p.data
    for _ in range(3):
        grad = rng.standard_normal((5, 3)).astype(np.float32)
        p.grad = grad
        kept = grad.copy()
        opt.step()
        assert p.data is data and p.data.dtype == np.float32
        assert p.grad is grad and np.array_equal(grad, kept)


def test_zero_dimensional_parameters():
    x = mb.tensor(3.0, dtype=np.float64, requires_grad=True)
    opt = optim.Adam([x], lr=0.1)
    for _ in range(5):
        x.grad = np.asarray(2 * x.data)
        opt.step()
    assert x.shape == () and x.data < 3.0


def test_torch_spellings_and_names():
    assert optim.Adagrad is optim.AdaGrad and optim.RMSprop is optim.RMSProp
    assert sorted(optim.OPTIMIZERS) == sorted(MLP_SETTINGS)


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in CASES + DECAY_CASES])
def test_a_large_parameter_in_pieces_gets_the_same_bits(case, monkeypatch):
    """A parameter above CHUNK numbers is updated in cache-sized pieces (Optimizer.step); the
    arithmetic on each number is the same, so the result is bitwise the whole-array update's,
    for a transposed (non-contiguous) gradient too."""
    from mitbadak.optim import optimizer

    _, cls, kwargs, _, _ = case
    rng = np.random.default_rng(3)
    start = rng.standard_normal((300, 250)).astype(np.float32)  # 75,000 > CHUNK = 65,536
    grads = [rng.standard_normal((250, 300)).astype(np.float32).T for _ in range(4)]

    def run(chunk):
        monkeypatch.setattr(optimizer, "CHUNK", chunk)
        p = mb.tensor(start.copy(), requires_grad=True)
        opt = cls([p], **kwargs)
        for g in grads:
            p.grad = g
            opt.step()
        return p.data, opt.state[p]

    whole, whole_state = run(10**9)
    in_pieces, pieces_state = run(optimizer.CHUNK)
    np.testing.assert_array_equal(in_pieces, whole)
    for name in cls.buffer_names:
        np.testing.assert_array_equal(pieces_state[name], whole_state[name])
    assert not np.array_equal(whole, start)
