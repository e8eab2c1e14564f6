"""The book-literal kernels (functional/reference.py) as oracles for the fast ones.

F.conv2d, F.max_pool2d, F.avg_pool2d, F.cross_entropy and the fast im2col/col2im must give
the reference's values and gradients to float64 round-off, over hypothesis-drawn shapes,
strides and paddings (derandomized: the same examples every run).
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mitbadak as mb
from helpers import t64
from mitbadak import functional as F
from mitbadak.functional import im2col as fast
from mitbadak.functional import reference as ref

examples = settings(max_examples=25, deadline=None, derandomize=True)
pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))
ROUND_OFF = {"rtol": 1e-12, "atol": 1e-12}


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, **ROUND_OFF)


@st.composite
def conv_case(draw):
    """(x, W, b, upstream gradient, stride, padding) with every window inside the padding."""
    n, c, oc = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(pairs)
    stride, padding = draw(pairs), draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    assume(kh <= h + 2 * padding[0] and kw <= w + 2 * padding[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x, W, b = rng.normal(size=(n, c, h, w)), rng.normal(size=(oc, c, kh, kw)), rng.normal(size=oc)
    oh = fast.output_size(h, kh, stride[0], padding[0])
    ow = fast.output_size(w, kw, stride[1], padding[1])
    return x, W, b, rng.normal(size=(n, oc, oh, ow)), stride, padding


@st.composite
def pool_case(draw):
    """(x, kernel, stride, padding, upstream gradient); padding at most half the kernel."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kernel, stride = draw(pairs), draw(pairs)
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    assume(kernel[0] <= h + 2 * padding[0] and kernel[1] <= w + 2 * padding[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    # a shuffled grid: no ties, so the max of each window is one element
    x = rng.permutation(n * c * h * w).reshape(n, c, h, w) * 0.1 - 1.0
    oh = fast.output_size(h, kernel[0], stride[0], padding[0])
    ow = fast.output_size(w, kernel[1], stride[1], padding[1])
    return x, kernel, stride, padding, rng.normal(size=(n, c, oh, ow))


# -------------------------------------------------------------------------- im2col, col2im
@examples
@given(conv_case())
def test_im2col_is_the_books_im2col_in_another_layout(case):
    x, W, _, _, stride, padding = case
    _, _, kh, kw = W.shape
    book = ref.im2col(x, kh, kw, stride, padding)
    ours = fast.im2col(x, kh, kw, stride, padding)  # (N, C*KH*KW, OH*OW): a window per column
    np.testing.assert_array_equal(ours.transpose(0, 2, 1).reshape(book.shape), book)


@examples
@given(conv_case())
def test_col2im_is_the_books_col2im_in_another_layout(case):
    x, W, _, _, stride, padding = case
    _, _, kh, kw = W.shape
    n = x.shape[0]
    book_col = np.random.default_rng(1).normal(size=ref.im2col(x, kh, kw, stride, padding).shape)
    ours_col = book_col.reshape(n, -1, book_col.shape[1]).transpose(0, 2, 1)
    close(fast.col2im(ours_col, x.shape, kh, kw, stride, padding),
          ref.col2im(book_col, x.shape, kh, kw, stride, padding))


@examples
@given(conv_case())
def test_reference_col2im_is_the_adjoint_of_im2col(case):
    # <im2col(x), c> = <x, col2im(c)> for every x and c: col2im is im2col's transpose
    x, W, _, _, stride, padding = case
    _, _, kh, kw = W.shape
    col = ref.im2col(x, kh, kw, stride, padding)
    c = np.random.default_rng(2).normal(size=col.shape)
    close(np.vdot(col, c), np.vdot(x, ref.col2im(c, x.shape, kh, kw, stride, padding)))


def test_reference_im2col_the_books_example():
    # chapter 7: a 3-channel 7x7 image and a 5x5 filter give 9 windows of 75 values
    x = np.arange(10 * 3 * 7 * 7, dtype=np.float64).reshape(10, 3, 7, 7)
    col = ref.im2col(x, 5, 5, stride=1, padding=0)
    assert col.shape == (90, 75)
    np.testing.assert_array_equal(col[0], x[0, :, :5, :5].ravel())
    np.testing.assert_array_equal(col[1], x[0, :, :5, 1:6].ravel())


# ------------------------------------------------------------------------------ convolution
@examples
@given(conv_case())
def test_conv2d_equals_the_books_convolution(case):
    x, W, b, gy, stride, padding = case
    xt, Wt, bt = t64(x), t64(W), t64(b)
    y = F.conv2d(xt, Wt, bt, stride=stride, padding=padding)
    close(y.data, ref.conv2d_forward(x, W, b, stride, padding))
    y.backward(gy)
    dx, dW, db = ref.conv2d_backward(gy, x, W, stride, padding)
    close(xt.grad, dx)
    close(Wt.grad, dW)
    close(bt.grad, db)


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (1, 2), (2, 1), ((2, 1), (0, 2))])
@pytest.mark.parametrize("chunk_bytes", [1, 3 * 4 * 27 * 9 * 8, 1 << 30])  # 1, 3 or all samples
def test_conv2d_chunks_equal_the_books_convolution(monkeypatch, stride, padding, chunk_bytes):
    # the weight gradient is summed chunk by chunk (as col @ gy^T) and dx scattered chunk by
    # chunk: on odd sizes, with every chunk size, both equal the book's im2col to round-off
    from mitbadak.functional.conv import Convolution
    monkeypatch.setattr(Convolution, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(7)
    x, W, b = rng.normal(size=(7, 3, 7, 9)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    xt, Wt, bt = t64(x), t64(W), t64(b)
    y = F.conv2d(xt, Wt, bt, stride=stride, padding=padding)
    close(y.data, ref.conv2d_forward(x, W, b, stride, padding))
    gy = rng.normal(size=y.shape)
    y.backward(gy)
    for grad, expected in zip((xt.grad, Wt.grad, bt.grad),
                              ref.conv2d_backward(gy, x, W, stride, padding)):
        close(grad, expected)


# ---------------------------------------------------------------------------------- pooling
@examples
@given(pool_case())
def test_max_pool2d_equals_the_books_pooling(case):
    x, kernel, stride, padding, gy = case
    xt = t64(x)
    y = F.max_pool2d(xt, kernel, stride, padding)
    expected, argmax = ref.max_pool2d_forward(x, kernel, stride, padding)
    np.testing.assert_array_equal(y.data, expected)  # a max is one of the inputs: exact
    y.backward(gy)
    close(xt.grad, ref.max_pool2d_backward(gy, argmax, x.shape, kernel, stride, padding))


def test_max_pool2d_ties_go_to_the_first_element_in_both():
    x = np.zeros((1, 1, 4, 4))
    gy = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    xt = t64(x)
    F.max_pool2d(xt, 2).backward(gy)
    _, argmax = ref.max_pool2d_forward(x, (2, 2), (2, 2))
    np.testing.assert_array_equal(xt.grad, ref.max_pool2d_backward(gy, argmax, x.shape, (2, 2),
                                                                     (2, 2)))
    assert xt.grad[0, 0, 0, 0] == 1 and xt.grad[0, 0, 1, 1] == 0


@examples
@given(pool_case())
def test_avg_pool2d_equals_pooling_by_im2col(case):
    x, kernel, stride, padding, gy = case
    xt = t64(x)
    y = F.avg_pool2d(xt, kernel, stride, padding)
    close(y.data, ref.avg_pool2d_forward(x, kernel, stride, padding))
    y.backward(gy)
    close(xt.grad, ref.avg_pool2d_backward(gy, x.shape, kernel, stride, padding))


# ------------------------------------------------------------------- softmax, cross-entropy
@st.composite
def logits_case(draw):
    """(logits (N, C), targets: class indices, one-hot or probability rows, upstream dL/dL)."""
    n, classes = draw(st.integers(1, 6)), draw(st.integers(1, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    # scales up to 30: large logits, yet no probability below float64's normal range (e^-708),
    # where the book's log(softmax) loses digits that the fused log-sum-exp keeps
    x = rng.normal(scale=draw(st.sampled_from([1.0, 10.0, 30.0])), size=(n, classes))
    labels = rng.integers(0, classes, size=n)
    kind = draw(st.sampled_from(["indices", "one-hot", "probabilities"]))
    if kind == "indices":
        t = labels
    elif kind == "one-hot":
        t = np.eye(classes)[labels]
    else:
        t = rng.dirichlet(np.ones(classes), size=n)
    return x, t, draw(st.sampled_from([1.0, 0.5, -3.0]))


@examples
@given(logits_case())
def test_softmax_equals_the_books_softmax(case):
    x = case[0]
    close(F.softmax(mb.tensor(x, dtype=np.float64)).data, ref.softmax(x))


def test_reference_softmax_survives_the_books_overflow_example():
    a = np.array([1010.0, 1000.0, 990.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(a) / np.exp(a).sum()
    assert np.isnan(naive).all()
    np.testing.assert_allclose(ref.softmax(a), [9.99954600e-01, 4.53978686e-05, 2.06106005e-09],
                               rtol=1e-8)


@examples
@given(logits_case())
def test_cross_entropy_equals_the_books_softmax_with_loss(case):
    x, t, gy = case
    loss, y = ref.softmax_with_loss_forward(x, t)
    xt = t64(x)
    out = F.cross_entropy(xt, t)
    close(out.item(), loss)
    out.backward(np.array(gy))
    close(xt.grad, ref.softmax_with_loss_backward(y, t, gy))


def test_cross_entropy_error_the_books_example_and_guard():
    # chapter 4: t = class 2; y puts 0.6 on it -> 0.51, 0.1 on it -> 2.30
    y = np.array([[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0],
                  [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]])
    assert ref.cross_entropy_error(y[:1], np.array([2])) == pytest.approx(0.510825, abs=1e-6)
    assert ref.cross_entropy_error(y[1:], np.eye(10)[[2]]) == pytest.approx(2.302584, abs=1e-6)
    # the 1e-7 guard keeps log(0) finite; without it the loss is inf
    assert ref.cross_entropy_error(y[:1], np.array([3])) == pytest.approx(-np.log(1e-7))
    with np.errstate(divide="ignore"):
        assert ref.cross_entropy_error(y[:1], np.array([3]), eps=0.0) == np.inf
