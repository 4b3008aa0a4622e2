"""Edge ratio: how much of the frame lies on sharp intensity boundaries (Canny edges)."""

import numpy as np
from skimage.feature import canny

from marsviz.features._base import FeatureResult, check_image, luminance


def edge_ratio(image: np.ndarray, sigma: float = 2.0, low_threshold: float = 0.05,
               high_threshold: float = 0.1) -> FeatureResult:
    """Fraction of pixels on Canny edges.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    sigma : float, optional
        Gaussian smoothing before edge detection, in pixels of the analysis resolution.
    low_threshold, high_threshold : float, optional
        Hysteresis thresholds on the smoothed gradient magnitude, in luminance units per pixel (0-1 scale).

    Returns
    -------
    FeatureResult
        `value` in [0, 1]: the edge-pixel fraction; `map`: boolean (H, W) edge mask.

    Examples
    --------
    >>> edge_ratio(np.full((32, 32), 0.5, dtype=np.float32)).value
    0.0
    """
    if low_threshold > high_threshold:
        raise ValueError("low_threshold must not exceed high_threshold")
    gray = luminance(check_image(image))
    mask = canny(gray, sigma=sigma, low_threshold=low_threshold, high_threshold=high_threshold)
    return FeatureResult(float(mask.mean()), mask)
