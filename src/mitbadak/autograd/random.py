"""The library's default random generator, so that a whole run is reproducible from one seed.

Initialisers and dropout draw from ``default_generator()`` unless given a generator of their
own; ``mb.manual_seed(seed)`` replaces it with a fresh, seeded one (as ``torch.manual_seed``).
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    """The generator used when no other is given."""
    return _generator
