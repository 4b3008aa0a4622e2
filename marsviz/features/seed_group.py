"""The seed's four features computed together, sharing one luminance map and its median."""

from __future__ import annotations

import numpy as np

from marsviz.features._base import FeatureResult, check_image, luminance
from marsviz.features._stats import frame_median
from marsviz.features.colour import colour_variation
from marsviz.features.dark_spots import dark_spots_of_luminance
from marsviz.features.edges import edges_of_luminance
from marsviz.features.water_ice import water_ice_of_luminance


def seed_features(image: np.ndarray) -> dict[str, FeatureResult]:
    """Dark spots, edges, colour variation and water/ice of `image`, each shared step run once.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).

    Returns
    -------
    dict of str to FeatureResult
        Keyed by feature name; equal to calling each feature function with its default parameters.

    Examples
    --------
    >>> from marsviz.features import dark_spot_ratio
    >>> image = np.random.default_rng(1).random((40, 30, 3), dtype=np.float32)
    >>> seed_features(image)["dark_spot_ratio"].value == dark_spot_ratio(image).value
    True
    """
    image = check_image(image)
    gray = luminance(image)
    median = frame_median(gray)
    return {"dark_spot_ratio": dark_spots_of_luminance(gray, median),
            "edge_ratio": edges_of_luminance(gray),
            "colour_variation": colour_variation(image),
            "water_ice_ratio": water_ice_of_luminance(image, gray, median)}
