"""Second (and third) derivatives of the convolution, pooling, batch-norm and BCE ops:
numerical differentiation of the analytic gradient in float64 on hypothesis-drawn shapes, and
parity with torch.autograd.grad(..., create_graph=True) twice."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mitbadak as mb
from helpers import t64
from mitbadak import functional as F
from mitbadak.numerical import gradgradcheck
from test_conv_options import conv_geometry, deconv_geometry, distinct, pool_geometry

few = settings(max_examples=8, deadline=None, derandomize=True)


def check(f, *arrays):
    result = gradgradcheck(f, [t64(a) for a in arrays], raise_exception=False)
    assert max(result.max_rel_error) <= 1e-5, result


# ------------------------------------------------------------------------ the ops, by name
def conv_case(geometry, seed):
    x_shape, w_shape, stride, padding, dilation, groups = geometry
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])]
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return arrays, options


def deconv_case(geometry, seed):
    x_shape, w_shape, stride, padding, extra, dilation, groups = geometry
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=x_shape), rng.normal(size=w_shape),
              rng.normal(size=w_shape[1] * groups)]
    options = {"stride": stride, "padding": padding, "output_padding": extra,
               "groups": groups, "dilation": dilation}
    return arrays, options


@few
@given(conv_geometry())
def test_conv2d_gradgradcheck(geometry):
    arrays, options = conv_case(geometry, 1)
    check(lambda x, W, b: F.tanh(F.conv2d(x, W, b, **options)), *arrays)  # noqa: N803


@few
@given(deconv_geometry())
def test_conv_transpose2d_gradgradcheck(geometry):
    arrays, options = deconv_case(geometry, 2)
    check(lambda x, W, b: F.tanh(F.conv_transpose2d(x, W, b, **options)), *arrays)  # noqa: N803


@few
@given(pool_geometry())
def test_pooling_gradgradcheck(geometry):
    x_shape, kernel, stride, padding, ceil_mode, include = geometry
    x = distinct(x_shape, 3)
    check(lambda x: F.max_pool2d(x * x, kernel, stride, padding, ceil_mode=ceil_mode), x)
    check(lambda x: F.tanh(F.avg_pool2d(F.tanh(x), kernel, stride, padding, ceil_mode,
                                        include)), x)


@few
@given(st.sampled_from([(6, 3), (3, 2, 3, 2)]), st.booleans(), st.integers(0, 99))
def test_batch_norm_gradgradcheck(shape, training, seed):
    rng = np.random.default_rng(seed)
    stats = rng.normal(size=shape[1]), rng.uniform(0.5, 2, size=shape[1])
    check(lambda x, g, b: F.tanh(F.batch_norm(x, stats[0].copy(), stats[1].copy(), g, b,
                                              training=training)),
          rng.normal(size=shape), rng.normal(size=shape[1]), rng.normal(size=shape[1]))


@few
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), st.integers(0, 99),
       st.sampled_from(["mean", "sum", "none"]), st.booleans())
def test_bce_gradgradcheck(shape, seed, reduction, weighted):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 2, size=shape[-1:]) if weighted else None
    t = rng.uniform(size=shape)
    check(lambda y, t: F.binary_cross_entropy(y, t, weight=w, reduction=reduction),
          rng.uniform(0.1, 0.9, size=shape), t)
    pos = None if w is None else 2 * w
    check(lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pos,
                                                          reduction=reduction),
          rng.normal(scale=3, size=shape), t)


# ---------------------------------------------------------------------------- torch parity
def torch_parity(ours, theirs, arrays, seed, order=2):
    """The first ``order`` derivatives of sum(f(inputs) * v) agree with torch's: each one is
    contracted with a fixed random tensor per input and differentiated again."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    mine, ref = [t64(a) for a in arrays], [torch.tensor(a, requires_grad=True) for a in arrays]
    y, y_ref = ours(*mine), theirs(*ref)
    v = rng.normal(size=y.shape)
    s, s_ref = (y * v).sum(), (y_ref * torch.tensor(v)).sum()
    for k in range(order):
        last = k == order - 1
        g = mb.autograd.grad(s, mine, create_graph=not last, allow_unused=True)
        g_ref = torch.autograd.grad(s_ref, ref, create_graph=not last, allow_unused=True)
        for a, b in zip(g, g_ref):
            if b is None:  # torch: no dependence; ours may say 0 explicitly
                assert a is None or not np.any(a.data)
                continue
            np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-7, atol=1e-10)
        if not last:
            ws = [rng.normal(size=a.shape) for a in arrays]
            s = sum(((a * w).sum() for a, w in zip(g, ws) if a is not None), mb.tensor(0.0))
            s_ref = sum((b * torch.tensor(w)).sum() for b, w in zip(g_ref, ws) if b is not None)


def torch_ops():
    return pytest.importorskip("torch"), pytest.importorskip("torch").nn.functional


@few
@given(conv_geometry())
def test_conv2d_double_backward_matches_torch(geometry):
    torch, tf = torch_ops()
    arrays, options = conv_case(geometry, 4)
    torch_parity(lambda x, W, b: F.tanh(F.conv2d(x, W, b, **options)),  # noqa: N803
                 lambda x, W, b: torch.tanh(tf.conv2d(x, W, b, **options)), arrays, 5)  # noqa: N803


@few
@given(deconv_geometry())
def test_conv_transpose2d_double_backward_matches_torch(geometry):
    torch, tf = torch_ops()
    arrays, options = deconv_case(geometry, 6)
    torch_parity(lambda x, W, b: F.tanh(F.conv_transpose2d(x, W, b, **options)),  # noqa: N803
                 lambda x, W, b: torch.tanh(tf.conv_transpose2d(x, W, b, **options)),  # noqa: N803
                 arrays, 7)


@few
@given(pool_geometry())
def test_pooling_double_backward_matches_torch(geometry):
    torch, tf = torch_ops()
    x_shape, kernel, stride, padding, ceil_mode, include = geometry
    x = [distinct(x_shape, 8)]
    torch_parity(lambda x: F.max_pool2d(x * x, kernel, stride, padding, ceil_mode=ceil_mode),
                 lambda x: tf.max_pool2d(x * x, kernel, stride, padding, ceil_mode=ceil_mode),
                 x, 9)
    torch_parity(lambda x: F.tanh(F.avg_pool2d(F.tanh(x), kernel, stride, padding, ceil_mode,
                                               include)),
                 lambda x: torch.tanh(tf.avg_pool2d(torch.tanh(x), kernel, stride, padding,
                                                    ceil_mode, include)), x, 10)


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_double_backward_matches_torch(shape, training):
    torch, tf = torch_ops()
    rng = np.random.default_rng(11)
    mean, var = rng.normal(size=shape[1]), rng.uniform(0.5, 2, size=shape[1])
    arrays = [rng.normal(size=shape), rng.normal(size=shape[1]), rng.normal(size=shape[1])]
    torch_parity(lambda x, g, b: F.tanh(F.batch_norm(x, mean.copy(), var.copy(), g, b,
                                                     training=training)),
                 lambda x, g, b: torch.tanh(tf.batch_norm(
                     x, torch.tensor(mean), torch.tensor(var), g, b, training=training)),
                 arrays, 12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_double_backward_matches_torch(reduction):
    torch, tf = torch_ops()
    rng = np.random.default_rng(13)
    w = rng.uniform(0.5, 2, size=4)
    y, x, t = rng.uniform(0.1, 0.9, size=(3, 4)), rng.normal(scale=3, size=(3, 4)), \
        rng.uniform(size=(3, 4))
    torch_parity(lambda y, t: F.binary_cross_entropy(y, t, weight=w, reduction=reduction),
                 lambda y, t: tf.binary_cross_entropy(y, t, weight=torch.tensor(w),
                                                      reduction=reduction), [y, t], 14)
    torch_parity(lambda x, t: F.binary_cross_entropy_with_logits(
                     x, t, weight=w, pos_weight=2 * w, reduction=reduction),
                 lambda x, t: tf.binary_cross_entropy_with_logits(
                     x, t, weight=torch.tensor(w), pos_weight=torch.tensor(2 * w),
                     reduction=reduction), [x, t], 15)


def test_third_derivatives_of_a_small_convnet_match_torch():
    """conv -> tanh -> max pool -> conv_transpose -> avg pool: any order, by induction."""
    torch, tf = torch_ops()
    rng = np.random.default_rng(16)
    arrays = [distinct((2, 2, 6, 6), 17), rng.normal(size=(3, 2, 3, 3)),
              rng.normal(size=(3, 2, 2, 2))]

    def ours(x, W, V):  # noqa: N803
        h = F.max_pool2d(F.tanh(F.conv2d(x, W, padding=1, dilation=(1, 2), groups=1)), 2,
                         ceil_mode=True)
        return F.avg_pool2d(F.tanh(F.conv_transpose2d(h, V, stride=2)), 3, 1, 1)

    def theirs(x, W, V):  # noqa: N803
        h = tf.max_pool2d(torch.tanh(tf.conv2d(x, W, padding=1, dilation=(1, 2))), 2,
                          ceil_mode=True)
        return tf.avg_pool2d(torch.tanh(tf.conv_transpose2d(h, V, stride=2)), 3, 1, 1)

    torch_parity(ours, theirs, arrays, 18, order=3)


def test_first_order_gradients_stay_arrays():
    """Without create_graph nothing changes: .grad is an ndarray, no node is recorded."""
    rng = np.random.default_rng(19)
    x, W = t64(rng.normal(size=(2, 2, 5, 5))), t64(rng.normal(size=(3, 2, 3, 3)))  # noqa: N806
    F.max_pool2d(F.conv2d(x, W), 2).sum().backward()
    assert type(x.grad) is np.ndarray and type(W.grad) is np.ndarray
