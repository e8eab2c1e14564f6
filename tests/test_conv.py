"""conv2d, max_pool2d, avg_pool2d, im2col and col2im: numerical gradients, PyTorch parity,
the im2col definition and adjointness, dtypes and shape errors.

Geometries (sizes, kernels, strides, paddings, odd or not) are drawn by hypothesis.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mitbadak as mb
from helpers import t64
from mitbadak.functional.conv import Convolution, avg_pool2d, conv2d, max_pool2d
from mitbadak.functional.im2col import col2im, im2col, output_size
from mitbadak.numerical import gradcheck

few = settings(max_examples=12, deadline=None, derandomize=True)
pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def conv_geometry(draw):
    """(x shape, W shape, stride, padding) where every window fits in the padded input."""
    n, c, oc = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    kh, kw = draw(pairs)
    stride, padding = draw(pairs), draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    assume(kh <= h + 2 * padding[0] and kw <= w + 2 * padding[1])
    return (n, c, h, w), (oc, c, kh, kw), stride, padding


@st.composite
def pool_geometry(draw):
    """(x shape, kernel, stride, padding) with padding at most half the kernel (as torch)."""
    n, c, h, w = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
                  draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    kernel, stride = draw(pairs), draw(pairs)
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    assume(kernel[0] <= h + 2 * padding[0] and kernel[1] <= w + 2 * padding[1])
    return (n, c, h, w), kernel, stride, padding


def distinct(shape, seed):
    """Values with no ties (a shuffled grid, 0.1 apart): max pooling is differentiable."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


def check(f, *inputs):
    result = gradcheck(f, inputs, raise_exception=False)
    assert max(result.max_rel_error) <= 1e-6, result


# --------------------------------------------------------------------------------- im2col
def test_im2col_book_example_shape():
    # the book's example: one 3-channel 7x7 image, 5x5 filter -> 9 windows of 75 values
    assert im2col(np.zeros((1, 3, 7, 7)), 5, 5, stride=1, padding=0).shape == (1, 75, 9)
    assert im2col(np.zeros((10, 3, 7, 7)), 5, 5, stride=1, padding=0).shape == (10, 75, 9)


@few
@given(conv_geometry())
def test_im2col_matches_its_definition(geometry):
    x_shape, (_, c, kh, kw), (sh, sw), (ph, pw) = geometry
    x = np.random.default_rng(0).normal(size=x_shape)
    col = im2col(x, kh, kw, (sh, sw), (ph, pw))
    n, _, h, w = x_shape
    oh, ow = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    expected = np.empty((n, c, kh, kw, oh, ow))
    for y in range(oh):
        for x_ in range(ow):
            window = xp[:, :, sh * y:sh * y + kh, sw * x_:sw * x_ + kw]
            expected[:, :, :, :, y, x_] = window
    np.testing.assert_array_equal(col, expected.reshape(n, c * kh * kw, oh * ow))


@few
@given(conv_geometry())
def test_col2im_is_the_adjoint_of_im2col(geometry):
    """<col2im(c), x> == <c, im2col(x)> for all x and c: col2im is im2col's transpose."""
    x_shape, (_, _, kh, kw), stride, padding = geometry
    rng = np.random.default_rng(1)
    x = rng.normal(size=x_shape)
    col = im2col(x, kh, kw, stride, padding)
    c = rng.normal(size=col.shape)
    lhs = np.sum(col2im(c, x_shape, kh, kw, stride, padding) * x)
    np.testing.assert_allclose(lhs, np.sum(c * col), rtol=1e-12)


# ---------------------------------------------------------------------- numerical gradients
@few
@given(conv_geometry(), st.booleans())
def test_conv2d_gradients(geometry, bias):
    x_shape, w_shape, stride, padding = geometry
    rng = np.random.default_rng(2)
    inputs = [t64(rng.normal(size=x_shape)), t64(rng.normal(size=w_shape))]
    if bias:
        inputs.append(t64(rng.normal(size=w_shape[0])))
    check(lambda *a: conv2d(*a, stride=stride, padding=padding), *inputs)


@few
@given(pool_geometry())
def test_max_pool2d_gradient(geometry):
    x_shape, kernel, stride, padding = geometry
    check(lambda x: max_pool2d(x, kernel, stride, padding), t64(distinct(x_shape, 3)))


@few
@given(pool_geometry())
def test_avg_pool2d_gradient(geometry):
    x_shape, kernel, stride, padding = geometry
    x = t64(np.random.default_rng(4).normal(size=x_shape))
    check(lambda x: avg_pool2d(x, kernel, stride, padding), x)


# ------------------------------------------------------------------------ parity with torch
def assert_close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-7, atol=1e-12)


def parity(ours, theirs, arrays, seed):
    """Same values, and the same gradients of sum(y * v) for a random v."""
    torch = pytest.importorskip("torch")
    mine = [t64(a) for a in arrays]
    ref = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, y_ref = ours(*mine), theirs(*ref)
    assert_close(y.data, y_ref)
    v = np.random.default_rng(seed).normal(size=y.shape)
    (y * v).sum().backward()
    (y_ref * torch.tensor(v)).sum().backward()
    for a, b in zip(mine, ref):
        assert_close(a.grad, b.grad)


@few
@given(conv_geometry(), st.booleans())
def test_conv2d_matches_torch(geometry, bias):
    tf = pytest.importorskip("torch").nn.functional
    x_shape, w_shape, stride, padding = geometry
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=x_shape), rng.normal(size=w_shape)]
    if bias:
        arrays.append(rng.normal(size=w_shape[0]))
    parity(lambda *a: conv2d(*a, stride=stride, padding=padding),
           lambda *a: tf.conv2d(*a, stride=stride, padding=padding), arrays, 6)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", [
    ((3, 2, 5, 6), (4, 2, 3, 3), 1, 1),  # stride 1, C*KH*KW > OC: rows run on across the padding
    ((3, 2, 4, 6), (3, 2, 3, 2), 1, (3, 0)),  # the same, padding wider than the kernel
    ((3, 1, 5, 6), (4, 1, 2, 2), 1, 0),  # stride 1, C*KH*KW <= OC: rows of OW columns
    ((3, 2, 7, 6), (2, 2, 3, 3), (2, 1), 1),  # other strides: rows of OW columns
])
@pytest.mark.parametrize("chunk_bytes", [1, Convolution.CHUNK_BYTES])  # a chunk per sample, or one
def test_conv2d_layouts_and_chunks_match_torch(monkeypatch, x_shape, w_shape, stride, padding,
                                               chunk_bytes):
    tf = pytest.importorskip("torch").nn.functional
    monkeypatch.setattr(Convolution, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(13)
    arrays = [rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])]
    parity(lambda *a: conv2d(*a, stride=stride, padding=padding),
           lambda *a: tf.conv2d(*a, stride=stride, padding=padding), arrays, 14)


@few
@given(pool_geometry(), st.sampled_from(["max", "avg"]))
def test_pooling_matches_torch(geometry, kind):
    tf = pytest.importorskip("torch").nn.functional
    x_shape, kernel, stride, padding = geometry
    ours, theirs = {"max": (max_pool2d, tf.max_pool2d), "avg": (avg_pool2d, tf.avg_pool2d)}[kind]
    parity(lambda x: ours(x, kernel, stride, padding),
           lambda x: theirs(x, kernel, stride, padding),
           [np.random.default_rng(7).normal(size=x_shape)], 8)


@pytest.mark.parametrize("stride", [1, 2])  # overlapping and disjoint windows
def test_max_pool2d_ties_go_to_the_first_max_as_torch(stride):
    torch = pytest.importorskip("torch")
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0], [2.0, 0.0, 2.0]]]])
    parity(lambda x: max_pool2d(x, 2, stride),
           lambda x: torch.nn.functional.max_pool2d(x, 2, stride), [x], 9)


def test_simple_convnet_layer_float32_close_to_torch():
    """The book's SimpleConvNet layer in float32: conv 30x5x5 on 28x28, ReLU, 2x2 max pool."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x, W, b = (rng.normal(size=s).astype(np.float32) for s in
               [(4, 1, 28, 28), (30, 1, 5, 5), (30,)])
    Wm, bm = mb.tensor(W, requires_grad=True), mb.tensor(b, requires_grad=True)  # noqa: N806
    Wt, bt = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)  # noqa: N806
    y = max_pool2d(mb.functional.relu(conv2d(x, Wm, bm)), 2)
    y_ref = torch.nn.functional.max_pool2d(torch.relu(
        torch.nn.functional.conv2d(torch.tensor(x), Wt, bt)), 2)
    assert y.shape == (4, 30, 12, 12) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    y_ref.sum().backward()
    np.testing.assert_allclose(Wm.grad, Wt.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(bm.grad, bt.grad.numpy(), rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------------- dtypes and defaults
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_in_values_and_gradients(dtype):
    rng = np.random.default_rng(11)
    x = mb.tensor(rng.normal(size=(2, 3, 6, 6)), dtype=dtype, requires_grad=True)
    W = mb.tensor(rng.normal(size=(4, 3, 3, 3)), dtype=dtype, requires_grad=True)  # noqa: N806
    b = mb.tensor(np.zeros(4), dtype=dtype, requires_grad=True)
    y = avg_pool2d(max_pool2d(conv2d(x, W, b, padding=1), 2, 1, 1), 2)
    assert y.dtype == dtype
    y.sum().backward()
    for t in (x, W, b):
        assert t.grad.dtype == dtype and t.grad.shape == t.shape


def test_pooling_stride_defaults_to_kernel_size():
    x = mb.tensor(np.arange(36.0).reshape(1, 1, 6, 6))
    assert max_pool2d(x, 2).shape == (1, 1, 3, 3)
    assert avg_pool2d(x, 3).shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(max_pool2d(x, 3).data[0, 0], [[14, 17], [32, 35]])


def test_conv2d_without_input_gradient_or_bias():
    rng = np.random.default_rng(12)
    x = mb.tensor(rng.normal(size=(2, 1, 5, 5)))  # data: no gradient wanted
    W = mb.tensor(rng.normal(size=(3, 1, 3, 3)), requires_grad=True)  # noqa: N806
    conv2d(x, W, stride=(2, 1), padding=(0, 1)).sum().backward()
    assert x.grad is None and W.grad.shape == (3, 1, 3, 3)


# --------------------------------------------------------------------------------- errors
def test_conv2d_channel_mismatch_names_both_shapes():
    x, W = mb.tensor(np.zeros((2, 3, 28, 28))), mb.tensor(np.zeros((30, 1, 5, 5)))  # noqa: N806
    with pytest.raises(ValueError, match=r"conv2d: input has 3 channels but weight expects 1: "
                                         r"x \(2, 3, 28, 28\), W \(30, 1, 5, 5\)"):
        conv2d(x, W)


@pytest.mark.parametrize("call, message", [
    (lambda: conv2d(np.zeros((1, 1, 4, 4)), mb.tensor(np.zeros((2, 1, 5, 5)))),
     r"conv2d: kernel \(5, 5\) is larger than the padded input \(4, 4\)"),
    (lambda: conv2d(np.zeros((28, 28)), mb.tensor(np.zeros((2, 1, 5, 5)))),
     r"conv2d: expected input of shape \(N, C, H, W\), got \(28, 28\)"),
    (lambda: conv2d(np.zeros((1, 1, 8, 8)), mb.tensor(np.zeros((2, 5, 5)))),
     r"conv2d: expected weight of shape \(OC, C, KH, KW\), got \(2, 5, 5\)"),
    (lambda: conv2d(np.zeros((1, 1, 8, 8)), mb.tensor(np.zeros((2, 1, 5, 5))),
                    mb.tensor(np.zeros(3))),
     r"conv2d: bias has shape \(3,\), expected \(2,\)"),
    (lambda: conv2d(np.zeros((1, 1, 8, 8)), mb.tensor(np.zeros((2, 1, 5, 5))), stride=0),
     r"conv2d: stride must be an int >= 1"),
    (lambda: max_pool2d(np.zeros((1, 1, 8, 8)), 2, padding=(0, 2)),
     r"max_pool2d: padding \(0, 2\) must be at most half the kernel \(2, 2\)"),
    (lambda: avg_pool2d(np.zeros((1, 8, 8)), 2),
     r"avg_pool2d: expected input of shape \(N, C, H, W\), got \(1, 8, 8\)"),
    (lambda: max_pool2d(np.zeros((1, 1, 2, 8)), 3),
     r"max_pool2d: kernel \(3, 3\) is larger than the padded input \(2, 8\)"),
])
def test_shape_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------- integer input, empty batch
@pytest.mark.parametrize("op, name", [
    (lambda x: avg_pool2d(x, 2), "avg_pool2d"),
    (lambda x: conv2d(x, mb.tensor(np.ones((1, 1, 2, 2), dtype=np.int64))), "conv2d"),
])
def test_floating_ops_refuse_integer_images(op, name):
    """An average of 3s is 3, not the 0 an integer buffer used to truncate it to."""
    with pytest.raises(TypeError, match=rf"{name}: expected a floating-point .*int64.*astype"):
        op(mb.tensor(np.full((1, 1, 4, 4), 3)))


def test_max_pool2d_keeps_integer_images():
    y = max_pool2d(mb.tensor(np.arange(16).reshape(1, 1, 4, 4)), 2)
    assert y.dtype == np.int64 and y.data.ravel().tolist() == [5, 7, 13, 15]


@pytest.mark.parametrize("padding", [0, 1])
def test_an_empty_batch_goes_forward_and_back(padding):
    x = mb.tensor(np.zeros((0, 2, 5, 5)), dtype=np.float64, requires_grad=True)
    W = mb.tensor(np.ones((3, 2, 3, 3)), dtype=np.float64, requires_grad=True)
    b = mb.tensor(np.ones(3), dtype=np.float64, requires_grad=True)
    y = max_pool2d(conv2d(x, W, b, padding=padding), 2) + avg_pool2d(
        conv2d(x, W, b, padding=padding), 2)
    y.sum().backward()
    assert y.shape[0] == 0 and x.grad.shape == x.shape
    assert np.all(W.grad == 0) and np.all(b.grad == 0)  # no sample, no gradient


@settings(max_examples=40, deadline=None, derandomize=True)
@given(pool_geometry(), st.booleans(), st.sampled_from([np.float32, np.float64, np.int64]))
def test_max_pool2d_without_a_gradient_gives_the_same_values(geometry, ceil_mode, dtype):
    """Inference (nothing requires a gradient) takes the separable max, no argmax: the very
    values of the training path, ties, nan and -inf included."""
    x_shape, kernel, stride, padding = geometry
    x = np.random.default_rng(3).integers(-2, 3, x_shape).astype(dtype)  # many ties
    if dtype != np.int64:
        x.flat[::5] = np.nan
        x.flat[1::7] = -np.inf
    with mb.no_grad():
        fast = max_pool2d(mb.tensor(x, dtype=dtype, requires_grad=dtype != np.int64), kernel,
                          stride, padding, ceil_mode=ceil_mode)
    assert fast.creator is None
    trained = max_pool2d(mb.tensor(x, dtype=dtype, requires_grad=dtype != np.int64), kernel,
                         stride, padding, ceil_mode=ceil_mode)
    assert fast.dtype == trained.dtype and fast.shape == trained.shape
    np.testing.assert_array_equal(fast.data, trained.data)
