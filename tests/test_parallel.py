"""mitbadak.parallel: shares of a loop in threads side by side, and attention cut by the batch.

Attention run in two shares must give the very numbers it gives in one thread (each
sequence's attention is independent of the others'), values and gradients, in every case the
batch may be cut in (masks, dropout, broadcast keys) and those where it may not."""

import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mitbadak as mb
from mitbadak import blas, parallel
from mitbadak import functional as F
from mitbadak.functional.conv import _Conv


@pytest.fixture
def two_workers(monkeypatch):
    """Two shares whatever the machine (the real count comes from mitbadak.blas)."""
    monkeypatch.setattr(parallel, "workers", lambda: 2)


def _alone_and_shared(compute, monkeypatch):
    """compute() with one worker, then with two, OpenBLAS on one thread for both, so that
    both runs use the same BLAS kernels (shares run with one thread)."""
    before = blas.threads()
    blas.set_threads(1)
    try:
        monkeypatch.setattr(parallel, "workers", lambda: 1)
        alone = compute()
        monkeypatch.setattr(parallel, "workers", lambda: 2)
        return alone, compute()
    finally:
        blas.set_threads(before)


@given(st.lists(st.integers(), max_size=40), st.integers(1, 5))
def test_shares_are_contiguous_nearly_equal_and_cover_everything(items, k):
    parts = parallel.shares(items, k)
    assert [x for part in parts for x in part] == items
    assert len(parts) == max(1, min(k, len(items)))
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= 1
    assert items == [] or min(sizes) >= 1


def test_run_takes_the_shares_in_other_threads_and_keeps_their_order(two_workers):
    seen = []
    out = parallel.run(lambda share: (seen.append(threading.get_ident()), list(share))[1],
                       parallel.split(range(7)))
    assert out == [[0, 1, 2, 3], [4, 5, 6]]
    assert len(set(seen)) == 2 and threading.get_ident() in seen


def test_one_worker_runs_everything_here(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    seen = []
    assert parallel.run(lambda share: seen.append(threading.get_ident()) or len(share),
                        parallel.split(range(5))) == [5]
    assert seen == [threading.get_ident()]


def test_a_share_that_splits_again_runs_its_parts_in_its_own_thread(two_workers):
    def outer(share):
        assert parallel.count() == 1
        inner = parallel.run(lambda s: threading.get_ident(), [share[:1], share[1:]])
        return set(inner) == {threading.get_ident()}

    assert parallel.run(outer, parallel.split(range(4))) == [True, True]


def test_other_threads_than_the_main_one_run_everything_themselves(two_workers):
    seen = []

    def elsewhere():
        seen.append(parallel.count())
        seen.append(parallel.run(lambda share: threading.get_ident(), [range(1), range(1, 2)]))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert seen == [1, [thread.ident, thread.ident]]


def test_an_error_in_a_share_is_raised_after_all_shares_finish(two_workers):
    finished = []

    def task(share):
        if share[0] == 0:
            raise ValueError("share 0 failed")
        finished.append(share)  # the other share, in the helper thread

    with pytest.raises(ValueError, match="share 0 failed"):
        parallel.run(task, parallel.split(range(4)))
    assert finished == [range(2, 4)]


def test_openblas_has_its_threads_back_after_the_shares(two_workers):
    before = blas.threads()
    inside = parallel.run(lambda share: blas.threads(), parallel.split(range(2)))
    assert blas.threads() == before
    if before is not None:  # OpenBLAS: one thread while the shares ran
        assert inside == [1, 1]


# ----------------------------------------------------------------------- attention in shares
def _attention(shapes, dtype, mask=None, is_causal=False, dropout_p=0.0):
    """Output and gradients of attention, and the nodes' shares of the batch."""
    rng = np.random.default_rng(0)
    q, k, v = (mb.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
               for s in shapes)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal,
                                         dropout_p=dropout_p,
                                         generator=np.random.default_rng(1))
    shares = len(out.creator.shares)
    (out * mb.tensor(rng.standard_normal(out.shape).astype(dtype))).sum().backward()
    return [out.data, q.grad, k.grad, v.grad], shares


CASES = {  # name: (q, k, v shapes, mask, is_causal, dropout_p, cut by the batch?)
    "causal": (((4, 2, 9, 3),) * 3, None, True, 0.0, True),
    "causal with dropout": (((4, 2, 9, 3),) * 3, None, True, 0.3, True),
    "no mask, 3-D": (((5, 6, 3), (5, 7, 3), (5, 7, 2)), None, False, 0.0, True),
    "keys shared by the heads": (((4, 3, 6, 3), (4, 1, 6, 3), (4, 1, 6, 2)), None, True, 0.0,
                                 True),
    "one mask for the batch": (((4, 2, 6, 3),) * 3,
                               np.tril(np.ones((6, 6), bool)), False, 0.0, True),
    "a mask per sample": (((4, 6, 3),) * 3,
                          np.random.default_rng(2).random((4, 6, 6)) < 0.7, False, 0.0, False),
    "queries broadcast over the batch": (((2, 5, 3), (4, 2, 5, 3), (4, 2, 5, 3)), None, False,
                                         0.0, False),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(CASES))
def test_attention_in_two_shares_equals_one_thread_bitwise(case, dtype, monkeypatch):
    shapes, mask, is_causal, dropout_p, cut = CASES[case]
    (alone, one), (shared, two) = _alone_and_shared(
        lambda: _attention(shapes, dtype, mask, is_causal, dropout_p), monkeypatch)
    assert (one, two) == (1, 2 if cut else 1)
    for a, b in zip(alone, shared):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_a_forked_child_makes_its_own_helper_threads():
    code = ("import os, sys\n"
            "from mitbadak import parallel\n"
            "parallel.workers = lambda: 2\n"
            "work = lambda: parallel.run(len, parallel.split(range(4)))\n"
            "assert work() == [2, 2]\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os._exit(0 if work() == [2, 2] else 1)\n"
            "sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------- convolution in shares
def _convolution(op, x_shape, w_shape, dtype, **options):
    """Output and gradients (x, W, b) of conv2d or conv_transpose2d."""
    rng = np.random.default_rng(0)
    x, w = (mb.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True)
            for s in (x_shape, w_shape))
    channels = w_shape[0] if op is F.conv2d else w_shape[1] * options.get("groups", 1)
    b = mb.tensor(rng.standard_normal(channels), dtype=dtype, requires_grad=True)
    out = op(x, w, b, **options)
    (out * mb.tensor(rng.standard_normal(out.shape), dtype=dtype)).sum().backward()
    return [out.data, x.grad, w.grad, b.grad]


CONV_CASES = {  # name: (op, x shape, weight shape, options)
    "3x3 same padding (run-on rows)": (F.conv2d, (6, 3, 7, 7), (4, 3, 3, 3), {"padding": 1}),
    "stride 2, groups 2": (F.conv2d, (5, 4, 8, 8), (6, 2, 3, 3), {"stride": 2, "groups": 2}),
    "dx as a correlation (padding 2)": (F.conv2d, (5, 2, 6, 6), (3, 2, 3, 3), {"padding": 2}),
    "transposed, stride 2": (F.conv_transpose2d, (5, 3, 4, 4), (3, 2, 3, 3), {"stride": 2}),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_convolution_chunks_in_two_shares_match_one_thread(case, dtype, monkeypatch):
    """Each share's samples are its own, so the output and dx are the same bits; dW adds the
    shares' sums, so its rounding may differ in the last bits."""
    op, x_shape, w_shape, options = CONV_CASES[case]
    monkeypatch.setattr(_Conv, "CHUNK_BYTES", 1)  # a chunk per sample: several per share
    calls = []
    run = parallel.run
    monkeypatch.setattr(parallel, "run", lambda task, parts: calls.append(len(parts)) or
                        run(task, parts))

    def compute():
        calls.clear()
        return _convolution(op, x_shape, w_shape, dtype, **options), set(calls)

    (alone, one), (shared, two) = _alone_and_shared(compute, monkeypatch)
    assert (one, two) == ({1}, {2})
    out, gx, gw, gb = alone
    np.testing.assert_array_equal(shared[0], out)
    np.testing.assert_array_equal(shared[1], gx)
    np.testing.assert_array_equal(shared[3], gb)
    tol = 1e-12 if dtype == np.float64 else 1e-5  # against the largest entry of dW
    np.testing.assert_allclose(shared[2], gw, rtol=0, atol=tol * np.abs(gw).max())
