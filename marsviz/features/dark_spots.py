"""Dark spot ratio: how much of the frame is markedly darker than the frame itself."""

import numpy as np

from marsviz.features._base import FeatureResult, check_image, luminance
from marsviz.features._stats import frame_median


def dark_spot_ratio(image: np.ndarray, relative_threshold: float = 0.5) -> FeatureResult:
    """Fraction of pixels darker than `relative_threshold` times the frame's median luminance.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    relative_threshold : float, optional
        A pixel is dark when its luminance is below this fraction of the median luminance (0-1).

    Returns
    -------
    FeatureResult
        `value` in [0, 1]: the dark fraction; `map`: boolean (H, W) mask of dark pixels.

    Notes
    -----
    The threshold is relative so that exposure and stretch do not decide the answer: a uniformly
    dim frame has no dark spots, while dark dunes, slope streaks or shadows on a bright plain do.

    Examples
    --------
    >>> image = np.full((8, 8), 0.6, dtype=np.float32)
    >>> image[:4, :4] = 0.0
    >>> dark_spot_ratio(image).value
    0.25
    """
    if not 0 < relative_threshold <= 1:
        raise ValueError("relative_threshold must be in (0, 1]")
    gray = luminance(check_image(image))
    return dark_spots_of_luminance(gray, frame_median(gray), relative_threshold)


def dark_spots_of_luminance(gray: np.ndarray, median: float, relative_threshold: float = 0.5) -> FeatureResult:
    """:func:`dark_spot_ratio` from a luminance map and its median, computed once for several features.

    Parameters
    ----------
    gray : ndarray
        float (H, W) luminance in [0, 1].
    median : float
        The frame's median luminance (:func:`marsviz.features._stats.frame_median`).
    relative_threshold : float, optional
        As in :func:`dark_spot_ratio`.

    Returns
    -------
    FeatureResult
    """
    mask = gray < relative_threshold * median
    return FeatureResult(float(np.count_nonzero(mask)) / mask.size, mask)
