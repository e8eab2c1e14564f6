"""The fast sums of functional/_util.py equal NumPy's sums, for any 2-D shape and float dtype."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mitbadak.functional._util import _ones, sum_columns, sum_rows


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(0, 40), columns=st.integers(0, 40),
       dtype=st.sampled_from([np.float32, np.float64]), transposed=st.booleans())
def test_sums_match_numpy(rows, columns, dtype, transposed):
    a = np.random.default_rng(rows * 41 + columns).standard_normal((rows, columns)).astype(dtype)
    if transposed:  # a non-contiguous view
        a = np.ascontiguousarray(a.T).T
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for fast, axis in ((sum_rows, 0), (sum_columns, 1)):
        got = fast(a)
        assert got.dtype == dtype and got.shape == (a.shape[1 - axis],)
        np.testing.assert_allclose(got, a.sum(axis=axis), rtol=rtol, atol=rtol * rows * columns)


def test_the_shared_ones_cannot_be_changed():
    ones = _ones(3, np.dtype(np.float32))
    assert ones is _ones(3, np.dtype(np.float32))  # cached: one array for every call
    with pytest.raises(ValueError, match="read-only"):
        ones[0] = 5
