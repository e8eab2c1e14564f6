"""nn.RNN / nn.LSTM / nn.GRU and their cells: gradients, PyTorch parity, truncated BPTT."""

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import functional as F
from mitbadak import nn
from mitbadak.autograd.function import Function
from mitbadak.numerical import gradcheck

MODES = ["RNN", "LSTM", "GRU"]


def f64(array, grad=True):
    return mb.tensor(array, dtype=np.float64, requires_grad=grad)


def initial_states(mode, shape, rng):
    """h0 (and c0 for the LSTM) as float64 tensors that require grad."""
    return [f64(rng.standard_normal(shape)) for _ in range(2 if mode == "LSTM" else 1)]


def call(model, mode, x, states):
    """The model's output and final states, as one list of tensors (states None: zeros)."""
    if mode == "LSTM":
        out, (h, c) = model(x, None if states is None else tuple(states))
        return [out, h, c]
    out, h = model(x, None if states is None else states[0])
    return [out, h]


def weighted_sum(tensors, rng_seed=1):
    """sum_k sum(t_k * v_k) with fixed random v_k: a loss that uses every output."""
    rng = np.random.default_rng(rng_seed)
    total = None
    for t in tensors:
        term = (t * rng.standard_normal(t.shape)).sum()
        total = term if total is None else total + term
    return total


@settings(max_examples=8)
@given(mode=st.sampled_from(MODES), layers=st.integers(1, 2), bidirectional=st.booleans(),
       batch_first=st.booleans(), t=st.integers(1, 3), n=st.integers(1, 2),
       seed=st.integers(0, 2**16))
def test_gradcheck_layers(mode, layers, bidirectional, batch_first, t, n, seed):
    rng = np.random.default_rng(seed)
    kwargs = {"nonlinearity": "relu"} if mode == "RNN" and seed % 2 else {}
    mb.manual_seed(seed)
    model = getattr(nn, mode)(2, 3, num_layers=layers, bidirectional=bidirectional,
                              batch_first=batch_first, **kwargs).to(np.float64)
    x = f64(rng.standard_normal((n, t, 2) if batch_first else (t, n, 2)))
    states = initial_states(mode, (layers * (2 if bidirectional else 1), n, 3), rng)
    inputs = [x, *states, *model.parameters()]
    gradcheck(lambda *_: weighted_sum(call(model, mode, x, states)), inputs)


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_two_bidirectional_layers_with_initial_state(mode):
    rng = np.random.default_rng(5)
    model = getattr(nn, mode)(2, 2, num_layers=2, bidirectional=True).to(np.float64)
    x = f64(rng.standard_normal((3, 2, 2)))
    states = initial_states(mode, (4, 2, 2), rng)
    gradcheck(lambda *_: weighted_sum(call(model, mode, x, states)),
              [x, *states, *model.parameters()])


@settings(max_examples=6)
@given(mode=st.sampled_from(MODES), n=st.integers(1, 3), bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_gradcheck_cells(mode, n, bias, seed):
    rng = np.random.default_rng(seed)
    cell = getattr(nn, mode + "Cell")(3, 2, bias=bias).to(np.float64)
    x = f64(rng.standard_normal((n, 3)))
    states = initial_states(mode, (n, 2), rng)

    def f(*_):
        out = cell(x, tuple(states)) if mode == "LSTM" else cell(x, states[0])
        return weighted_sum(out if mode == "LSTM" else [out])

    gradcheck(f, [x, *states, *cell.parameters()])


# ----------------------------------------------------------------------- torch parity
torch = None


def _torch():
    global torch
    torch = pytest.importorskip("torch")
    return torch


def to_torch(module, ours):
    """The PyTorch module with our weights: the state dicts share names and layouts."""
    module.load_state_dict({k: _torch().from_numpy(v) for k, v in ours.state_dict().items()})
    return module.double()


def assert_close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-6, atol=1e-12)


def backward_both_and_compare(outs, touts, inputs, tinputs, ours, theirs):
    """Backward the same random weighted sum of the outputs in both libraries, then compare
    the gradients of every input, state and parameter."""
    th = _torch()
    weighted_sum(outs).backward()
    rng_v = np.random.default_rng(1)
    sum((to * th.from_numpy(rng_v.standard_normal(tuple(to.shape)))).sum()
        for to in touts).backward()
    for ours_t, theirs_t in zip(inputs, tinputs):
        assert_close(ours_t.grad, theirs_t.grad)
    for p, tp in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(p.grad, tp.grad)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layers, bidirectional, batch_first, bias",
                         [(1, False, False, True), (2, True, True, True),
                          (3, False, True, False), (2, True, False, True)])
def test_layers_match_torch(mode, layers, bidirectional, batch_first, bias):
    th = _torch()
    rng = np.random.default_rng(7)
    kwargs = {"nonlinearity": "relu"} if mode == "RNN" and layers == 3 else {}
    ours = getattr(nn, mode)(4, 5, num_layers=layers, bias=bias, batch_first=batch_first,
                             bidirectional=bidirectional, **kwargs).to(np.float64)
    theirs = to_torch(getattr(th.nn, mode)(4, 5, num_layers=layers, bias=bias,
                                           batch_first=batch_first,
                                           bidirectional=bidirectional, **kwargs), ours)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    x = f64(rng.standard_normal((3, 6, 4)))
    states = initial_states(mode, (layers * (2 if bidirectional else 1), 3 if batch_first
                                   else 6, 5), rng)
    tx = th.tensor(x.data, requires_grad=True)
    tstates = [th.tensor(s.data, requires_grad=True) for s in states]
    outs = call(ours, mode, x, states)
    touts = call(theirs, mode, tx, tstates)
    for o, to in zip(outs, touts):
        assert o.shape == tuple(to.shape)
        assert_close(o.data, to)
    backward_both_and_compare(outs, touts, [x, *states], [tx, *tstates], ours, theirs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(mode, batched):
    th = _torch()
    rng = np.random.default_rng(3)
    ours = getattr(nn, mode + "Cell")(4, 3).to(np.float64)
    theirs = to_torch(getattr(th.nn, mode + "Cell")(4, 3), ours)
    x = f64(rng.standard_normal((2, 4) if batched else (4,)))
    states = initial_states(mode, (2, 3) if batched else (3,), rng)
    tx = th.tensor(x.data, requires_grad=True)
    tstates = [th.tensor(s.data, requires_grad=True) for s in states]
    if mode == "LSTM":
        outs, touts = list(ours(x, tuple(states))), list(theirs(tx, tuple(tstates)))
    else:
        outs, touts = [ours(x, states[0])], [theirs(tx, tstates[0])]
    for o, to in zip(outs, touts):
        assert_close(o.data, to)
    backward_both_and_compare(outs, touts, [x, *states], [tx, *tstates], ours, theirs)


@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input_and_zero_states_match_torch(mode):
    th = _torch()
    ours = getattr(nn, mode)(2, 3, num_layers=2).to(np.float64)
    theirs = to_torch(getattr(th.nn, mode)(2, 3, num_layers=2), ours)
    x = np.random.default_rng(0).standard_normal((4, 2))
    outs = call(ours, mode, f64(x, grad=False), None)
    touts = call(theirs, mode, th.from_numpy(x), None)
    for o, to in zip(outs, touts):
        assert o.shape == tuple(to.shape)
        assert_close(o.data, to)


def test_init_shapes_and_state_dict_names_follow_torch():
    mb.manual_seed(0)
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    shapes = {k: v.shape for k, v in lstm.state_dict().items()}
    assert shapes["weight_ih_l0"] == (80, 10) and shapes["weight_ih_l1_reverse"] == (80, 40)
    assert shapes["weight_hh_l1"] == (80, 20) and shapes["bias_hh_l0_reverse"] == (80,)
    assert len(shapes) == 16
    bound = 1 / np.sqrt(20)
    w = np.concatenate([v.ravel() for v in lstm.state_dict().values()])
    assert w.dtype == np.float32 and -bound <= w.min() < -0.9 * bound
    assert 0.9 * bound < w.max() <= bound
    assert list(nn.GRUCell(3, 4, bias=False).state_dict()) == ["weight_ih", "weight_hh"]
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"


def test_dropout_only_between_layers_and_only_in_training():
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    one = nn.GRU(3, 4, dropout=0.5)  # a single layer: nothing between layers to drop
    assert np.array_equal(one(x)[0].data, one.eval()(x)[0].data)
    two = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    mb.manual_seed(1)
    a = two(x)[0].data
    mb.manual_seed(1)
    assert np.array_equal(a, two(x)[0].data)  # seeded: reproducible
    assert not np.allclose(a, two.eval()(x)[0].data)


def test_bad_inputs_name_the_problem():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"expected input \(T, N, input_size\).*input_size=3"):
        lstm(np.zeros((5, 2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"c0 must have shape \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(np.zeros((5, 2, 3), dtype=np.float32),
             (np.zeros((2, 2, 4), dtype=np.float32), np.zeros((1, 2, 4), dtype=np.float32)))
    with pytest.raises(TypeError, match=r"tuple \(h0, c0\)"):
        lstm(np.zeros((5, 2, 3), dtype=np.float32), np.zeros((2, 2, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="floating-point"):
        lstm(np.zeros((5, 2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="empty"):
        lstm(np.zeros((0, 2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"hx must have shape \(2, 4\)"):
        nn.GRUCell(3, 4)(np.zeros((2, 3), dtype=np.float32), np.zeros((4,), dtype=np.float32))
    with pytest.raises(ValueError, match="dropout must be in"):
        nn.GRU(3, 4, dropout=1.0)


def _live_functions():
    gc.collect()
    return sum(issubclass(type(o), Function) for o in gc.get_objects())


def test_truncated_bptt_detach_cuts_the_graph():
    """Carrying (h, c) across 1,000 batches with detach keeps the graph one batch long;
    without detach it grows with every batch."""
    mb.manual_seed(0)
    model = nn.LSTM(3, 4)
    xs = np.random.default_rng(0).standard_normal((1000, 2, 2, 3)).astype(np.float32)
    state = None
    for k in range(1000):
        out, state = model(xs[k], state)
        loss = out.sum() + state[1].sum()
        model.zero_grad()
        loss.backward()
        assert np.isfinite(model.weight_hh_l0.grad).all()
        state = tuple(s.detach() for s in state)
        if k == 10:
            live = _live_functions()
    assert _live_functions() <= live
    chained, before = None, _live_functions()
    for k in range(20):  # the control: no detach, so each batch hangs on the previous one
        out, chained = model(xs[k], chained)
    assert _live_functions() > before + 20


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(0, 2))
def test_concatenate_gradcheck(sizes, axis):
    rng = np.random.default_rng(len(sizes))
    xs = [f64(rng.standard_normal(tuple(s if a == axis else 2 for a in range(3))))
          for s in sizes]
    y = F.concatenate(xs, axis=axis)
    np.testing.assert_array_equal(y.data, np.concatenate([x.data for x in xs], axis=axis))
    gradcheck(lambda *a: F.concatenate(a, axis=axis), xs)
    with pytest.raises(ValueError, match="differ outside axis"):
        F.concatenate([np.zeros((2, 2)), np.zeros((3, 3))], axis=0)
