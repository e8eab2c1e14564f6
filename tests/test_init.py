"""Initialisers: standard deviations match their formulas, fans, names, seeding."""

import math

import numpy as np
import pytest

import mitbadak as mb
from mitbadak.nn import init

FAN_IN, FAN_OUT = 1000, 500
SHAPE = (FAN_IN, FAN_OUT)

EXPECTED_STD = {
    init.he_normal: math.sqrt(2 / FAN_IN),
    init.he_uniform: math.sqrt(2 / FAN_IN),
    init.xavier_normal: math.sqrt(2 / (FAN_IN + FAN_OUT)),
    init.xavier_uniform: math.sqrt(2 / (FAN_IN + FAN_OUT)),
    init.lecun_normal: math.sqrt(1 / FAN_IN),
    init.lecun_uniform: math.sqrt(1 / FAN_IN),
}


@pytest.mark.parametrize("initializer", list(EXPECTED_STD), ids=lambda f: f.__name__)
def test_standard_deviation_matches_formula(initializer):
    w = initializer(SHAPE, generator=np.random.default_rng(0))
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.mean()) < 0.01 * EXPECTED_STD[initializer]
    assert w.std() == pytest.approx(EXPECTED_STD[initializer], rel=0.02)


@pytest.mark.parametrize("initializer", [init.he_uniform, init.xavier_uniform,
                                         init.lecun_uniform], ids=lambda f: f.__name__)
def test_uniform_bound_is_sqrt3_std(initializer):
    w = initializer(SHAPE, generator=np.random.default_rng(0))
    bound = math.sqrt(3) * EXPECTED_STD[initializer]
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.999 * bound


def test_normal_with_given_std_and_dtype():
    w = init.normal((1000, 1000), 0.01, dtype=np.float64, generator=np.random.default_rng(1))
    assert w.dtype == np.float64
    assert w.std() == pytest.approx(0.01, rel=0.02)


def test_fans_of_linear_and_convolution_weights():
    assert init.fan_in_and_fan_out((784, 50)) == (784, 50)
    # (out_ch, in_ch, kh, kw): each output sees in_ch * kh * kw inputs
    assert init.fan_in_and_fan_out((16, 8, 3, 3)) == (72, 144)
    with pytest.raises(ValueError, match="at least 2 axes"):
        init.fan_in_and_fan_out((5,))


def test_conv_weight_std_uses_receptive_field():
    w = init.he_normal((64, 32, 5, 5), generator=np.random.default_rng(2))
    assert w.std() == pytest.approx(math.sqrt(2 / (32 * 25)), rel=0.03)


def test_manual_seed_makes_draws_reproducible():
    mb.manual_seed(7)
    a = init.he_normal((20, 30))
    mb.manual_seed(7)
    b = init.he_normal((20, 30))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init.he_normal((20, 30)))


@pytest.mark.parametrize("name, expected", [
    ("he", init.he_normal), ("He_Normal", init.he_normal), ("he-uniform", init.he_uniform),
    ("xavier", init.xavier_normal), ("xavier_uniform", init.xavier_uniform),
    ("lecun", init.lecun_normal), ("lecun-uniform", init.lecun_uniform),
    ("xavier-book", init.lecun_normal),
])
def test_get_initializer_by_name(name, expected):
    assert init.get_initializer(name) is expected


def test_get_initializer_auto_follows_activation():
    assert init.get_initializer("auto") is init.he_normal  # assumes a ReLU follows
    assert init.get_initializer("auto", "leaky-relu") is init.he_normal
    for activation in ("sigmoid", "tanh", "identity"):
        assert init.get_initializer("auto", activation) is init.xavier_normal


def test_every_nn_activation_has_an_auto_rule():
    from mitbadak import nn

    for name in nn.ACTIVATIONS:
        init.auto(name)


@pytest.mark.parametrize("std", [0.01, "0.01", np.float32(0.01), 1])
def test_get_initializer_with_std(std):
    w = init.get_initializer(std)((1000, 1000), generator=np.random.default_rng(3))
    assert w.std() == pytest.approx(float(std), rel=0.02)


def test_get_initializer_passes_functions_through():
    assert init.get_initializer(init.he_uniform) is init.he_uniform


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown init 'kaiming'.*he-uniform.*xavier-book"):
        init.get_initializer("kaiming")
    with pytest.raises(ValueError, match="unknown activation 'softplus'.*leaky_relu"):
        init.get_initializer("auto", "softplus")


@pytest.mark.parametrize("bad", [-0.1, float("nan"), "inf"])
def test_bad_standard_deviations(bad):
    with pytest.raises(ValueError, match="finite and >= 0"):
        init.get_initializer(bad)


def test_wrong_type():
    with pytest.raises(TypeError):
        init.get_initializer(True)
    with pytest.raises(TypeError):
        init.get_initializer([0.1])
