"""What an image shows: whole-frame descriptors, the shipped view model, its training and its registry feature.

``marsviz.features`` is imported first on purpose, as in :mod:`marsviz.terrain`: the registry imports
:mod:`marsviz.view.feature`, so importing it from here first makes every import order work.
"""

import marsviz.features  # noqa: F401  (see the module docstring)
