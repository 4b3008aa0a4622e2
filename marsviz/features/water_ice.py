"""Potential water/ice: bright, neutral-to-bluish pixels that stand out from the frame."""

import numpy as np

from marsviz.features._base import FeatureResult, check_image, luminance
from marsviz.features._stats import frame_median


def water_ice_ratio(image: np.ndarray, brightness_threshold: float = 0.6, relative_brightness: float = 1.3,
                    max_redness: float = 0.02) -> FeatureResult:
    """Fraction of pixels that are bright, brighter than the frame, and (in colour) not red.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    brightness_threshold : float, optional
        Minimum luminance (0-1) of a candidate pixel.
    relative_brightness : float, optional
        A candidate must also be this many times brighter than the frame's median luminance.
    max_redness : float, optional
        Colour images only: red minus blue (0-1 scale) must not exceed this, since frost and ice are white
        to bluish while Martian dust is red.  Grayscale images are judged on brightness alone.

    Returns
    -------
    FeatureResult
        `value` in [0, 1]: the candidate fraction; `map`: boolean (H, W) mask of candidate pixels.

    Examples
    --------
    >>> image = np.zeros((8, 8, 3), dtype=np.float32)
    >>> image[...] = (0.5, 0.3, 0.2)
    >>> image[:2] = 0.95
    >>> water_ice_ratio(image).value
    0.25
    """
    image = check_image(image)
    gray = luminance(image)
    return water_ice_of_luminance(image, gray, frame_median(gray), brightness_threshold, relative_brightness,
                                  max_redness)


def water_ice_of_luminance(image: np.ndarray, gray: np.ndarray, median: float, brightness_threshold: float = 0.6,
                           relative_brightness: float = 1.3, max_redness: float = 0.02) -> FeatureResult:
    """:func:`water_ice_ratio` from a luminance map and its median, computed once for several features.

    Parameters
    ----------
    image : ndarray
        The float image in [0, 1], (H, W) or (H, W, 3) (its red and blue channels judge redness).
    gray : ndarray
        Its (H, W) luminance.
    median : float
        The frame's median luminance (:func:`marsviz.features._stats.frame_median`).
    brightness_threshold, relative_brightness, max_redness : float, optional
        As in :func:`water_ice_ratio`.

    Returns
    -------
    FeatureResult
    """
    mask = gray >= max(brightness_threshold, relative_brightness * median)
    if image.ndim == 3:
        mask &= (image[..., 0] - image[..., 2]) <= max_redness
    return FeatureResult(float(np.count_nonzero(mask)) / mask.size, mask)
