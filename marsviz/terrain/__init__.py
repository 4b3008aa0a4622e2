"""Trained terrain scores: texture descriptors, the shipped model and the two registry features.

``marsviz.features`` is imported first on purpose: the registry imports :mod:`marsviz.terrain.features`,
so importing it from here first makes both import orders work.
"""

import marsviz.features  # noqa: F401  (see the module docstring)
