"""The suite-wide hypothesis profile of ``conftest.py`` reaches every module, even one
collected before any other test module is imported."""

from hypothesis import settings

AT_IMPORT = settings()  # what a ``@settings(...)`` in this module inherits when it is created


def test_hypothesis_profile_is_deterministic_everywhere():
    assert AT_IMPORT.derandomize and AT_IMPORT.deadline is None
    assert settings.default.derandomize
