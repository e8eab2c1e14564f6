"""Settings shared by the whole suite.

Hypothesis runs one deterministic profile everywhere (``derandomize``: the same examples on
every run and machine, so a failure reproduces), registered here so that every test module
gets it however pytest orders their collection. ``deadline=None``: a slow CI machine must not
turn a correct example into a flaky failure. A test may still lower ``max_examples`` with
its own ``@settings``.
"""

import os

from hypothesis import settings

settings.register_profile("mitbadak", max_examples=15, deadline=None, derandomize=True)
settings.load_profile("mitbadak")

# BLAS threads pinned for the whole suite (and the processes it starts): with the default
# ``auto``, mitbadak gives OpenBLAS fewer threads when the machine is busy, which changes the
# last bits of some float32 products; tests that compare runs bitwise need the same threads.
from mitbadak import blas  # noqa: E402

if blas.threads() is not None:
    blas.set_threads(blas.threads())
    os.environ["MITBADAK_BLAS_THREADS"] = str(blas.threads())
