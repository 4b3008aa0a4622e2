"""Colour variation: how much of a colour frame departs from the frame's dominant colour."""

import numpy as np

from marsviz.features._base import FeatureResult, check_image
from marsviz.features._stats import frame_median


def chroma_deviation(image: np.ndarray) -> np.ndarray:
    """Per-pixel distance from the frame's median chromaticity, as a float32 (H, W) map.

    Chromaticity is taken in an opponent space (red-green, yellow-blue) on the 0-1 scale,
    so a pure red on pure green is about 1.1 apart.  The frame's median chromaticity is taken over a
    regular sample of its pixels (:func:`marsviz.features._stats.frame_median`).  A grayscale image has
    no chromaticity: its map is 0.
    """
    image = check_image(image)
    if image.ndim == 2:
        return np.zeros(image.shape, dtype=np.float32)
    rgb = image.astype(np.float32, copy=False)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red_green = red - green
    yellow_blue = red + green
    yellow_blue *= np.float32(0.5)
    yellow_blue -= blue
    red_green -= np.float32(frame_median(red_green))
    yellow_blue -= np.float32(frame_median(yellow_blue))
    # sqrt(a*a + b*b) in place: float32 np.hypot is several times slower, and chroma stays far from overflow.
    distance = np.square(red_green, out=red_green)
    distance += np.square(yellow_blue, out=yellow_blue)
    return np.sqrt(distance, out=distance)


def colour_variation(image: np.ndarray, chroma_threshold: float = 0.08) -> FeatureResult:
    """Fraction of pixels whose colour differs from the frame's median colour by more than `chroma_threshold`.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).  A grayscale image has no colour variation: 0.
    chroma_threshold : float, optional
        Opponent-space chroma distance (0-1 scale) beyond which a pixel counts as differently coloured.

    Returns
    -------
    FeatureResult
        `value` in [0, 1]; `map`: float (H, W) heat map of chroma distance, scaled so the threshold is 0.5
        and clipped to [0, 1].

    Examples
    --------
    >>> colour_variation(np.random.default_rng(0).random((16, 16), dtype=np.float32)).value
    0.0
    """
    if chroma_threshold <= 0:
        raise ValueError("chroma_threshold must be positive")
    deviation = chroma_deviation(image)
    value = float(np.count_nonzero(deviation > chroma_threshold)) / deviation.size
    heat = np.multiply(deviation, np.float32(1 / (2 * chroma_threshold)), out=deviation)
    return FeatureResult(value, np.minimum(heat, np.float32(1), out=heat))
