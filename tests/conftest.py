"""Settings shared by the whole suite.

Hypothesis runs one deterministic profile everywhere (``derandomize``: the same examples on
every run and machine, so a failure reproduces), registered here so that every test module
gets it however pytest orders their collection. ``deadline=None``: a slow CI machine must not
turn a correct example into a flaky failure. A test may still lower ``max_examples`` with
its own ``@settings``.
"""

from hypothesis import settings

settings.register_profile("mitbadak", max_examples=15, deadline=None, derandomize=True)
settings.load_profile("mitbadak")
