"""The Optimizer machinery: param groups, skipping, zero_grad, state_dict round trips that
resume bit for bit, the subnormal flush, and clear errors on bad input."""

import io
import json

import numpy as np
import pytest

import mitbadak as mb
from mitbadak import optim

SETTINGS = {
    "sgd": dict(lr=0.1, weight_decay=0.01), "momentum": dict(lr=0.05, weight_decay=0.01),
    "nesterov": dict(lr=0.05), "adagrad": dict(lr=0.1), "rmsprop": dict(lr=0.01),
    "adam": dict(lr=0.01, weight_decay=0.01), "adamw": dict(lr=0.01),
}
SHAPES = [(3, 4), (4,), ()]


def make_params(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [mb.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in SHAPES]


def set_grads(params, step):
    """A gradient that depends on the weights and on the step (like a minibatch would)."""
    rng = np.random.default_rng(1000 + step)
    for p in params:
        p.grad = (0.5 * p.data + rng.standard_normal(p.shape)).astype(p.dtype)


def run(opt, params, steps, start=0):
    for step in range(start, start + steps):
        set_grads(params, step)
        opt.step()


def through_json_and_npz(tree):
    """Store a state dict as JSON plus an .npz (no pickle) and read it back."""
    arrays = {}

    def split(obj):
        if isinstance(obj, np.ndarray):
            arrays[f"a{len(arrays)}"] = obj
            return {"__array__": f"a{len(arrays) - 1}"}
        if isinstance(obj, dict):
            assert all(isinstance(k, str) for k in obj)
            return {k: split(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [split(v) for v in obj]
        assert isinstance(obj, (str, int, float, bool)), type(obj)
        return obj

    text = json.dumps(split(tree))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    loaded = np.load(buffer, allow_pickle=False)

    def join(obj):
        if isinstance(obj, dict):
            return loaded[obj["__array__"]] if "__array__" in obj else {
                k: join(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [join(v) for v in obj]
        return obj

    return join(json.loads(text))


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_save_and_restore_mid_run_continues_bit_for_bit(name):
    cls = optim.OPTIMIZERS[name]
    params = make_params()
    opt = cls(params, **SETTINGS[name])
    opt.flush_denormal_every = 4  # make a flush fall on both sides of the break
    run(opt, params, 30)

    first = make_params()
    opt1 = cls(first, **SETTINGS[name])
    opt1.flush_denormal_every = 4
    run(opt1, first, 13)
    saved = through_json_and_npz(opt1.state_dict())
    resumed = [mb.tensor(p.data.copy(), requires_grad=True) for p in first]
    opt2 = cls(resumed, lr=123.0)  # every setting comes from the state dict
    opt2.flush_denormal_every = 4
    opt2.load_state_dict(saved)
    run(opt2, resumed, 17, start=13)

    for p, q in zip(params, resumed):
        assert np.array_equal(p.data, q.data)
        assert p.dtype == q.dtype == np.float32
        for key, value in opt.state[p].items():
            assert np.array_equal(value, opt2.state[q][key])
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_state_dict_is_a_copy_and_load_copies():
    params = make_params()
    opt = optim.Adam(params, lr=0.01)
    run(opt, params, 2)
    saved = opt.state_dict()
    assert saved["state"][0]["step"] == 2 and saved["param_shapes"] == [[3, 4], [4], []]
    snapshot = saved["state"][0]["exp_avg"].copy()
    run(opt, params, 1)
    assert np.array_equal(saved["state"][0]["exp_avg"], snapshot)
    opt.load_state_dict(saved)
    opt.state[params[0]]["exp_avg"] += 1
    assert np.array_equal(saved["state"][0]["exp_avg"], snapshot)


def test_param_groups_have_their_own_settings_and_defaults():
    a, b = mb.tensor([1.0], requires_grad=True), mb.tensor([1.0], requires_grad=True)
    opt = optim.Momentum([{"params": [a]}, {"params": b, "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5]
    a.grad = b.grad = np.array([1.0], np.float32)
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0]], [0.9, 0.99], rtol=1e-6)
    c = mb.tensor([0.0], requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert opt.param_groups[2]["momentum"] == 0.9
    assert opt.state_dict()["param_groups"][2]["params"] == [2]


def test_parameters_without_grad_are_skipped():
    a, b = mb.tensor([1.0, 2.0], requires_grad=True), mb.tensor([3.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2, np.float32)
    opt.step()
    assert b.data[0] == 3.0 and b not in opt.state and opt.state[a]["step"] == 1
    assert opt.state_dict()["state"][1] == {}


def test_zero_grad_sets_none():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    set_grads(params, 0)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_subnormal_state_is_flushed_on_schedule_and_resumes_identically():
    tiny = np.finfo(np.float32).tiny

    def start():
        p = mb.tensor(np.ones(4), requires_grad=True)
        opt = optim.Adam([p], lr=0.01)
        p.grad = np.ones(4, np.float32)
        opt.step()
        opt.state[p]["exp_avg"][:2] = 1e-40  # subnormal, as after a unit died long ago
        opt.state[p]["exp_avg_sq"][:2] = 1e-41
        p.grad = np.array([0, 0, 1, 1], np.float32)  # the first two weights get no gradient
        return p, opt

    p, opt = start()
    for _ in range(98):
        opt.step()
    m = opt.state[p]["exp_avg"]
    assert opt.state[p]["step"] == 99
    assert np.all((0 < m[:2]) & (m[:2] < tiny))  # decay alone never reaches zero
    opt.step()
    assert np.all(m[:2] == 0) and np.all(opt.state[p]["exp_avg_sq"][:2] == 0)
    assert np.all(m[2:] > tiny)

    q, opt_off = start()
    opt_off.flush_denormal_every = 0
    for _ in range(99):
        opt_off.step()
    assert np.all(opt_off.state[q]["exp_avg"][:2] > 0)

    r, opt_r = start()
    for _ in range(49):
        opt_r.step()
    s = mb.tensor(r.data.copy(), requires_grad=True)
    s.grad = r.grad
    resumed = optim.Adam([s])
    resumed.load_state_dict(opt_r.state_dict())
    for _ in range(50):
        resumed.step()
    assert np.array_equal(s.data, p.data)
    assert np.array_equal(resumed.state[s]["exp_avg"], m)


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (optim.SGD, dict(lr=-1.0), r"lr: -1\.0"),
        (optim.SGD, dict(lr=0.1, weight_decay=-0.5), r"weight_decay: -0\.5"),
        (optim.Momentum, dict(lr=0.1, momentum=1.0), r"momentum: 1\.0"),
        (optim.Nesterov, dict(lr=0.1, momentum=-0.1), r"momentum: -0\.1"),
        (optim.AdaGrad, dict(eps=0.0), r"eps: 0\.0"),
        (optim.RMSProp, dict(alpha=1.5), r"alpha: 1\.5"),
        (optim.RMSProp, dict(eps=-1e-8), r"eps: -1e-08"),
        (optim.Adam, dict(betas=(0.9, 1.0)), r"betas\[1\]: 1\.0"),
        (optim.Adam, dict(betas=(-0.1, 0.999)), r"betas\[0\]: -0\.1"),
        (optim.AdamW, dict(eps=0), r"eps: 0"),
        (optim.Adam, dict(lr=float("nan")), r"lr: nan"),
        (optim.Adam, dict(lr="fast"), r"lr must be a number, got 'fast'"),
        (optim.Adam, dict(betas=0.9), r"betas must be a pair"),
    ],
)
def test_bad_settings_name_the_argument_and_value(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([mb.tensor([1.0], requires_grad=True)], **kwargs)


def test_bad_setting_in_a_param_group():
    with pytest.raises(ValueError, match=r"lr: -0\.1"):
        optim.SGD([{"params": [mb.tensor([1.0], requires_grad=True)], "lr": -0.1}], lr=0.1)
    with pytest.raises(ValueError, match="unknown setting.*momentum"):
        optim.Adam([{"params": [mb.tensor([1.0], requires_grad=True)], "momentum": 0.9}])


def test_bad_params():
    p = mb.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="ndarray.*mb.tensor"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([mb.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_loading_a_mismatched_state_dict_fails_clearly_and_changes_nothing():
    params = make_params()
    opt = optim.Adam(params, lr=0.01)
    run(opt, params, 2)
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="from Adam, not AdamW"):
        optim.AdamW(make_params()).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"sizes \[3\].*has \[2\]"):
        optim.Adam(make_params()[:2]).load_state_dict(saved)
    other = make_params()
    other[1] = mb.tensor(np.zeros(5), requires_grad=True)
    target = optim.Adam(other, lr=0.5)
    with pytest.raises(ValueError, match=r"parameter 1 has shape \(5,\).*\(4,\)"):
        target.load_state_dict(saved)
    assert target.param_groups[0]["lr"] == 0.5 and not target.state
    with pytest.raises(ValueError, match="missing"):
        target.load_state_dict({"state": []})
    broken = opt.state_dict()
    del broken["state"][0]["exp_avg_sq"]
    with pytest.raises(ValueError, match="parameter 0 has entries"):
        optim.Adam(make_params()).load_state_dict(broken)


def test_repr_lists_groups():
    text = repr(optim.Adam(make_params(), lr=0.01))
    assert text.startswith("Adam(") and "3 tensors" in text and "lr=0.01" in text
