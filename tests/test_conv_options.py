"""conv2d's dilation and groups, conv_transpose2d, pooling's ceil_mode and count_include_pad:
numerical gradients and PyTorch parity (values and gradients) on hypothesis-drawn geometries,
and one clear error per bad argument."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mitbadak as mb
from helpers import t64
from mitbadak import functional as F
from mitbadak.functional.conv import Convolution, pool_output_size
from mitbadak.functional.im2col import pair
from mitbadak.numerical import gradcheck

few = settings(max_examples=12, deadline=None, derandomize=True)
pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def conv_geometry(draw):
    """(x shape, W shape, stride, padding, dilation, groups): every dilated window fits."""
    groups = draw(st.integers(1, 3))
    n, c, oc = draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), \
        groups * draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    (kh, kw), stride, dilation = draw(pairs), draw(pairs), draw(pairs)
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    assume(dilation[0] * (kh - 1) < h + 2 * padding[0])
    assume(dilation[1] * (kw - 1) < w + 2 * padding[1])
    return (n, c, h, w), (oc, c // groups, kh, kw), stride, padding, dilation, groups


@st.composite
def deconv_geometry(draw):
    """(x shape, W shape, stride, padding, output_padding, dilation, groups), output >= 1."""
    groups = draw(st.integers(1, 3))
    n, c, oc_g = draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    (kh, kw), stride, dilation = draw(pairs), draw(pairs), draw(pairs)
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    for size, k, s, p, d, e in zip((h, w), (kh, kw), stride, padding, dilation, extra):
        assume((size - 1) * s - 2 * p + d * (k - 1) + e + 1 >= 1)
    return (n, c, h, w), (c, oc_g, kh, kw), stride, padding, extra, dilation, groups


@st.composite
def pool_geometry(draw):
    """(x shape, kernel, stride, padding, ceil_mode, count_include_pad), as torch allows."""
    x_shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
               draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    kernel, stride = draw(pairs), draw(pairs)
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    assume(kernel[0] <= x_shape[2] + 2 * padding[0] and kernel[1] <= x_shape[3] + 2 * padding[1])
    return x_shape, kernel, stride, padding, draw(st.booleans()), draw(st.booleans())


def check(f, *inputs):
    result = gradcheck(f, inputs, raise_exception=False)
    assert max(result.max_rel_error) <= 1e-6, result


def parity(ours, theirs, arrays, seed):
    """Same values, and the same gradients of sum(y * v) for a random v."""
    torch = pytest.importorskip("torch")
    mine = [t64(a) for a in arrays]
    ref = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, y_ref = ours(*mine), theirs(*ref)
    assert y.shape == tuple(y_ref.shape)
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=1e-7, atol=1e-12)
    v = np.random.default_rng(seed).normal(size=y.shape)
    (y * v).sum().backward()
    (y_ref * torch.tensor(v)).sum().backward()
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-7, atol=1e-12)


def arrays_for(x_shape, w_shape, bias_channels, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=x_shape), rng.normal(size=w_shape)]
    return arrays + [rng.normal(size=bias_channels)] if bias_channels else arrays


def distinct(shape, seed):
    """Values with no ties: max pooling is differentiable there."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


# ------------------------------------------------------------------ conv2d: dilation, groups
@few
@given(conv_geometry(), st.booleans())
def test_conv2d_dilation_groups_gradients(geometry, bias):
    x_shape, w_shape, stride, padding, dilation, groups = geometry
    arrays = arrays_for(x_shape, w_shape, w_shape[0] if bias else 0, 1)
    check(lambda *a: F.conv2d(*a, stride=stride, padding=padding, dilation=dilation,
                              groups=groups), *[t64(a) for a in arrays])


@few
@given(conv_geometry(), st.booleans())
def test_conv2d_dilation_groups_match_torch(geometry, bias):
    tf = pytest.importorskip("torch").nn.functional
    x_shape, w_shape, stride, padding, dilation, groups = geometry
    arrays = arrays_for(x_shape, w_shape, w_shape[0] if bias else 0, 2)
    if not bias:
        arrays.append(None)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    parity(lambda x, W, b=None: F.conv2d(x, W, b, **options),  # noqa: N803
           lambda x, W, b=None: tf.conv2d(x, W, b, **options),  # noqa: N803
           [a for a in arrays if a is not None], 3)


@pytest.mark.parametrize("chunk_bytes", [1, Convolution.CHUNK_BYTES])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", [
    ((3, 4, 7, 8), (6, 2, 3, 3), 1, 2, 2, 2),  # stride 1 and groups: rows run on, dilated
    ((3, 6, 6, 6), (6, 1, 3, 3), 1, 1, 1, 6),  # depthwise
    ((2, 4, 9, 7), (4, 2, 2, 3), (2, 1), (1, 0), (3, 2), 2),
])
def test_conv2d_grouped_layouts_and_chunks_match_torch(monkeypatch, chunk_bytes, x_shape,
                                                       w_shape, stride, padding, dilation,
                                                       groups):
    tf = pytest.importorskip("torch").nn.functional
    monkeypatch.setattr(Convolution, "CHUNK_BYTES", chunk_bytes)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    parity(lambda *a: F.conv2d(*a, **options), lambda *a: tf.conv2d(*a, **options),
           arrays_for(x_shape, w_shape, w_shape[0], 4), 5)


def test_grouped_conv2d_is_independent_convolutions():
    """groups=2 is two convolutions side by side: the halves of the channels never mix."""
    rng = np.random.default_rng(6)
    x, W = rng.normal(size=(2, 4, 5, 5)), rng.normal(size=(6, 2, 3, 3))  # noqa: N806
    y = F.conv2d(t64(x, False), t64(W, False), groups=2).data
    halves = [F.conv2d(t64(x[:, 2 * g:2 * g + 2], False), t64(W[3 * g:3 * g + 3], False)).data
              for g in (0, 1)]
    np.testing.assert_allclose(y, np.concatenate(halves, axis=1), rtol=1e-12)


# --------------------------------------------------------------------------- conv_transpose2d
@few
@given(deconv_geometry(), st.booleans())
def test_conv_transpose2d_gradients(geometry, bias):
    x_shape, w_shape, stride, padding, extra, dilation, groups = geometry
    arrays = arrays_for(x_shape, w_shape, w_shape[1] * groups if bias else 0, 7)
    check(lambda *a: F.conv_transpose2d(*a, stride=stride, padding=padding,
                                        output_padding=extra, groups=groups,
                                        dilation=dilation), *[t64(a) for a in arrays])


@few
@given(deconv_geometry(), st.booleans())
def test_conv_transpose2d_matches_torch(geometry, bias):
    tf = pytest.importorskip("torch").nn.functional
    x_shape, w_shape, stride, padding, extra, dilation, groups = geometry
    arrays = arrays_for(x_shape, w_shape, w_shape[1] * groups if bias else 0, 8)
    options = {"stride": stride, "padding": padding, "output_padding": extra,
               "groups": groups, "dilation": dilation}
    parity(lambda *a: F.conv_transpose2d(*a, **options),
           lambda *a: tf.conv_transpose2d(*a, **options), arrays, 9)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)>, output_padding restoring x's size."""
    rng = np.random.default_rng(10)
    x, W = rng.normal(size=(2, 4, 8, 7)), rng.normal(size=(6, 2, 3, 2))  # noqa: N806
    options = {"stride": 2, "padding": 1, "dilation": (1, 2), "groups": 2}
    y = F.conv2d(t64(x, False), t64(W, False), **options).data
    v = rng.normal(size=y.shape)
    back = F.conv_transpose2d(t64(v, False), t64(W, False), output_padding=(1, 0),
                              **options).data
    assert back.shape == x.shape
    assert np.vdot(y, v) == pytest.approx(np.vdot(x, back), rel=1e-12)


# ------------------------------------------------------------ ceil_mode, count_include_pad
@few
@given(pool_geometry())
def test_pooling_options_gradients(geometry):
    x_shape, kernel, stride, padding, ceil_mode, include = geometry
    check(lambda x: F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode),
          t64(distinct(x_shape, 11)))
    check(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, include),
          t64(np.random.default_rng(12).normal(size=x_shape)))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(pool_geometry())
def test_pooling_options_match_torch(geometry):
    tf = pytest.importorskip("torch").nn.functional
    x_shape, kernel, stride, padding, ceil_mode, include = geometry
    x = [np.random.default_rng(13).normal(size=x_shape)]
    parity(lambda x: F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode),
           lambda x: tf.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode), x, 14)
    parity(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, include),
           lambda x: tf.avg_pool2d(x, kernel, stride, padding, ceil_mode, include), x, 15)


@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (5, 2, 2, 0, 3),  # 2.5 windows: the half window is kept
    (4, 2, 2, 0, 2),  # exact: nothing to round
    (5, 2, 2, 1, 3),  # ceil gives 4, but the 4th window would start in the right padding
    (6, 3, 2, 1, 4),
])
def test_ceil_mode_rule(size, kernel, stride, padding, expected):
    assert pool_output_size(size, kernel, stride, padding, ceil_mode=True) == expected


# --------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(np.zeros((1, 4, 6, 6)), mb.tensor(np.zeros((3, 2, 3, 3))), groups=2),
     r"conv2d: 3 output channels \(W \(3, 2, 3, 3\)\) do not split into 2 groups"),
    (lambda: F.conv2d(np.zeros((1, 4, 6, 6)), mb.tensor(np.zeros((4, 4, 3, 3))), groups=2),
     r"conv2d: input has 4 channels but weight expects 8 \(2 groups of 4\)"),
    (lambda: F.conv2d(np.zeros((1, 4, 6, 6)), mb.tensor(np.zeros((4, 4, 3, 3))), groups=0),
     r"conv2d: groups must be an int >= 1, got 0"),
    (lambda: F.conv2d(np.zeros((1, 1, 4, 4)), mb.tensor(np.zeros((1, 1, 3, 3))), dilation=2),
     r"conv2d: kernel \(3, 3\) dilated by \(2, 2\) \(spanning \(5, 5\)\) is larger than the "
     r"padded input \(4, 4\)"),
    (lambda: F.conv2d(np.zeros((1, 1, 4, 4)), mb.tensor(np.zeros((1, 1, 3, 3))), dilation=0),
     r"conv2d: dilation must be an int >= 1"),
    (lambda: F.conv_transpose2d(np.zeros((1, 3, 4, 4)), mb.tensor(np.zeros((2, 1, 3, 3)))),
     r"conv_transpose2d: input has 3 channels but weight expects 2"),
    (lambda: F.conv_transpose2d(np.zeros((1, 3, 4, 4)), mb.tensor(np.zeros((3, 1, 3, 3))),
                                groups=2),
     r"conv_transpose2d: 3 input channels do not split into 2 groups"),
    (lambda: F.conv_transpose2d(np.zeros((1, 2, 4, 4)), mb.tensor(np.zeros((2, 1, 3, 3))),
                                stride=2, output_padding=2),
     r"conv_transpose2d: output_padding \(2, 2\) must be smaller than the stride \(2, 2\) "
     r"or the dilation \(1, 1\)"),
    (lambda: F.conv_transpose2d(np.zeros((1, 2, 1, 1)), mb.tensor(np.zeros((2, 1, 1, 1))),
                                padding=1),
     r"conv_transpose2d: output size \(-1, -1\) is not positive"),
    (lambda: F.conv_transpose2d(np.zeros((1, 2, 4, 4)), mb.tensor(np.zeros((2, 1, 3, 3))),
                                mb.tensor(np.zeros(2))),
     r"conv_transpose2d: bias has shape \(2,\), expected \(1,\)"),
    (lambda: F.conv_transpose2d(np.zeros((2, 4, 4)), mb.tensor(np.zeros((2, 1, 3, 3)))),
     r"conv_transpose2d: expected input of shape \(N, C, H, W\), got \(2, 4, 4\)"),
    (lambda: F.conv_transpose2d(np.zeros((1, 2, 4, 4)), mb.tensor(np.zeros((2, 3, 3)))),
     r"conv_transpose2d: expected weight of shape \(C, OC/groups, KH, KW\), got \(2, 3, 3\)"),
])
def test_bad_arguments_one_clear_line(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_max_pool2d_ceil_mode_is_keyword_only():
    """PyTorch's fifth argument is dilation: a positional True must not mean ceil_mode."""
    with pytest.raises(TypeError):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 2, 2, 0, True)  # type: ignore[misc]


@pytest.mark.parametrize("x_shape, w_shape, padding, dilation, groups", [
    ((2, 3, 5, 6), (4, 3, 3, 3), 2, 1, 1),  # DeepConvNet's fourth layer: Q = 0
    ((2, 3, 5, 7), (4, 3, 3, 3), (2, 1), 1, 1),  # wider only in height: Q = (0, 1)
    ((2, 3, 4, 5), (2, 3, 3, 2), (2, 1), 1, 1),  # a 3x2 kernel
    ((2, 4, 5, 5), (4, 2, 3, 3), 2, 1, 2),  # two groups: each group's filters flipped apart
    ((1, 3, 6, 5), (2, 3, 3, 3), 3, 2, 1),  # dilated: Q = D*(K - 1) - P = 1
])
def test_conv2d_input_gradient_as_a_correlation(monkeypatch, x_shape, w_shape, padding,
                                                 dilation, groups):
    # where the output is larger than the input, dx is gy correlated with the flipped
    # filters: numerically right, and equal to the col2im path to round-off
    rng = np.random.default_rng(5)
    x, W = rng.normal(size=x_shape), rng.normal(size=w_shape)  # noqa: N806
    params = {"padding": padding, "dilation": dilation, "groups": groups}
    node = Convolution((1, 1), pair(padding, "", "", 0), pair(dilation, "", "", 1), groups)
    assert node._back_padding(w_shape[2:]) is not None  # the path under test is taken
    assert gradcheck(lambda a, b: F.conv2d(a, b, **params), (t64(x), t64(W)))
    grads = []
    for back in (Convolution._back_padding, lambda self, kernel: None):
        monkeypatch.setattr(Convolution, "_back_padding", back)
        xt, Wt = t64(x), t64(W)  # noqa: N806
        F.conv2d(xt, Wt, **params).sum().backward()
        grads.append((xt.grad, Wt.grad))
    for ours, col2im in zip(*grads):
        np.testing.assert_allclose(ours, col2im, rtol=1e-12, atol=1e-12)
