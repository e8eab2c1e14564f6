"""Helpers shared by the test modules (imported as ``from helpers import ...``: pytest puts
this directory on sys.path)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak.autograd.tensor import Tensor
from mitbadak.cli import main
from mitbadak.numerical import gradcheck


def usage_error(capsys: pytest.CaptureFixture[str], argv: Sequence[str], expected: str,
                one_line: bool = True) -> str:
    """Run ``mitbadak argv``: it must exit with status 2 and print ``expected`` on stderr, on
    one line unless ``one_line=False`` (a report such as the places a dataset was looked for),
    with no traceback: the command line's contract for bad input."""
    try:
        status = main(list(argv))
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert expected in err and "Traceback" not in err, err
    assert not one_line or len(err.strip().splitlines()) == 1, err
    return err


def t64(array: Any, grad: bool = True) -> Tensor:
    """A float64 tensor (gradient checks need float64's precision), requiring a gradient."""
    return mb.tensor(array, dtype=np.float64, requires_grad=grad)


def uniform(shape: Any, seed: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape)


def away_from_zero(shape: Any, seed: int, low: float = 0.5, high: float = 2.0) -> np.ndarray:
    """Values with |x| in [low, high]: no kinks (relu, clip, abs) and no division by ~0."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def standard_normal(shape: Any, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def assert_gradcheck(f: Callable[..., Tensor], inputs: Sequence[Tensor], rtol: float) -> None:
    """Backprop against numerical gradients: passed, and each input's relative error <= rtol."""
    result = gradcheck(f, inputs, raise_exception=False)
    assert result.passed and max(result.max_rel_error) <= rtol, result


@st.composite
def broadcast_pair(draw: st.DrawFn, shapes: st.SearchStrategy[tuple[int, ...]]
                   ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast together: one drawn from ``shapes``, the other the same with
    some axes set to 1 or dropped."""
    shape = draw(shapes)
    other = [1 if draw(st.booleans()) else n for n in shape]
    drop = draw(st.integers(0, len(shape) - 1))
    return shape, tuple(other[drop:])
